"""Who may do what with forum posts: the rules GraphQL and REST share.

Reads: everyone sees published topics and replies; moderators (and staff who read
any content) also see hidden replies and unpublished topics. Writes on one's own
post need the ``forum_topics:update`` / ``forum_replies:update`` grant (``own``
scope is enough); ``all`` scope or ``forum_moderation:manage`` reach everyone's.
Moderators are also the only ones who may change a post in a locked topic.
"""

from __future__ import annotations

from rustok_content.access import is_author
from rustok_content.models import Node
from rustok_content.permissions import NODES_READ
from rustok_core.context import RequestContext
from rustok_core.errors import Conflict, Forbidden, NotFound, Unauthenticated
from rustok_forum.permissions import MODERATION


async def is_moderator(ctx: RequestContext) -> bool:
    return bool(await ctx.may(MODERATION))


async def sees_hidden(ctx: RequestContext) -> bool:
    """Whether the caller sees hidden replies and unpublished topics."""
    return await is_moderator(ctx) or await ctx.may(NODES_READ)


async def visible_statuses(ctx: RequestContext) -> list[str] | None:
    """The statuses the caller may list (``None``: any)."""
    return None if await sees_hidden(ctx) else ["published"]


async def can_see(ctx: RequestContext, node: Node) -> bool:
    return node.status == "published" or await sees_hidden(ctx)


async def authorize_change(ctx: RequestContext, permission: str, node: Node, *, topic: Node | None = None) -> bool:
    """Allow a change of ``node`` (a topic or reply); return whether it is a moderator's.

    ``topic`` is the topic the post belongs to: when it is locked only moderators may
    change posts in it (``CONFLICT``, reason ``LOCKED``). A post the caller cannot
    see looks missing (``NOT_FOUND``), as it does to reads.
    """
    ctx.require_principal()
    if await is_moderator(ctx):
        return True
    if not await can_see(ctx, node):
        raise NotFound(f"no such {node.kind}", resource=node.kind)
    try:
        scope = await ctx.authorize(permission)
    except (Forbidden, Unauthenticated):
        raise Forbidden(f"you lack the permission '{permission}' (or '{MODERATION}')", permission=permission) from None
    if scope != "all" and not is_author(ctx, node):
        raise Forbidden(f"'{permission}' is granted to you for your own posts only", permission=permission)
    if topic is not None and topic.locked:
        raise Conflict("the topic is locked: only moderators can change posts in it", reason="LOCKED")
    return False
