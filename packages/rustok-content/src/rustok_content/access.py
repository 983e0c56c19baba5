"""Access checks on one node, shared by content's APIs and the modules built on it."""

from __future__ import annotations

import uuid
from typing import cast

from rustok_content.kinds import refuse_claimed
from rustok_content.models import Node
from rustok_content.services import NodeService
from rustok_core.context import RequestContext
from rustok_core.errors import Forbidden, Unauthenticated
from rustok_core.permissions import Scope


async def authorize_on(ctx: RequestContext, permission: str, node: Node) -> Scope:
    """Check ``permission`` for this node; return the scope that allowed it.

    ``own`` grants pass only for the node's author. A node without an author
    (imported, seeded) is nobody's own: it needs an ``all`` grant.
    """
    scope = cast("Scope", await ctx.authorize(permission, owner_id=node.author_id))
    if scope == "own" and (node.author_id is None or not is_author(ctx, node)):
        raise Forbidden(f"'{permission}' is granted to you for your own records only", permission=permission)
    return scope


async def may_on(ctx: RequestContext, permission: str, node: Node) -> bool:
    """Whether :func:`authorize_on` would pass, without failing."""
    try:
        await authorize_on(ctx, permission, node)
    except (Unauthenticated, Forbidden):
        return False
    return True


def is_author(ctx: RequestContext, node: Node) -> bool:
    principal = ctx.principal
    return principal is not None and principal.user_id is not None and principal.user_id == node.author_id


async def node_to_write(ctx: RequestContext, node_id: uuid.UUID, permission: str) -> Node:
    """A node content's generic API may change: the caller's, of a kind no other module owns."""
    node = await NodeService(ctx.app).get(ctx.require_tenant().id, node_id)
    refuse_claimed(node.kind)
    await authorize_on(ctx, permission, node)
    return node
