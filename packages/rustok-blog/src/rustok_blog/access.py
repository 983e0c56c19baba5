"""Who may see and change what: the checks the GraphQL and REST layers share.

The schema's ``@requires`` guard checks that the caller holds a permission at all;
these checks decide per record. An ``own`` grant covers only records whose
``author_id`` is the caller — and never a record without an author.
"""

from __future__ import annotations

import uuid

from rustok_blog.permissions import COMMENTS_MODERATE, POSTS_READ
from rustok_blog.services import MODERATIONS
from rustok_content.access import authorize_on, is_author
from rustok_content.models import Node
from rustok_core.context import RequestContext
from rustok_core.errors import Forbidden, NotFound, Unauthenticated
from rustok_core.permissions import Scope

__all__ = [
    "authorize_on",
    "can_moderate",
    "comment_moderations",
    "missing_post",
    "post_statuses",
    "sees_post",
]


async def scope_of(ctx: RequestContext, permission: str) -> Scope | None:
    """The scope of ``permission`` the caller holds (``None``: not held), once per request."""
    key = f"blog.scope:{permission}"
    if key not in ctx.memo:
        try:
            ctx.memo[key] = await ctx.authorize(permission)
        except (Unauthenticated, Forbidden):
            ctx.memo[key] = None
    scope: Scope | None = ctx.memo[key]
    return scope


async def sees_post(ctx: RequestContext, post: Node) -> bool:
    """Published posts are public; others need ``blog_posts:read`` (``own``: one's own)."""
    if post.status == "published":
        return True
    scope = await scope_of(ctx, POSTS_READ)
    return scope == "all" or (scope == "own" and is_author(ctx, post))


async def post_statuses(ctx: RequestContext, wanted: str | None, author_id: uuid.UUID | None) -> list[str] | None:
    """The statuses a post listing may show (``None``: any).

    Without ``blog_posts:read`` only published posts; with an ``own`` grant, any
    status when listing one's own posts (``authorId`` = the caller).
    """
    scope = await scope_of(ctx, POSTS_READ)
    mine = author_id is not None and author_id == ctx.actor_id
    if scope == "all" or (scope == "own" and mine):
        return [wanted] if wanted else None
    return ["published"] if wanted in (None, "published") else []


async def can_moderate(ctx: RequestContext) -> bool:
    """Whether the caller moderates every comment (sees pending and spam, writes approved)."""
    return await scope_of(ctx, COMMENTS_MODERATE) == "all"


async def comment_moderations(ctx: RequestContext, wanted: str | None) -> list[str]:
    """The moderation states a comment listing may show: the public sees approved ones only."""
    if await can_moderate(ctx):
        return [wanted] if wanted else list(MODERATIONS)
    return ["approved"] if wanted in (None, "approved") else []


def missing_post() -> NotFound:
    return NotFound("no such post", resource="post")
