"""Row locks on content nodes, so the forum decides on what the write will see.

A forum write checks state before it writes: a topic must be published and open to
take a reply; a moderation is a no-op when the reply already is hidden (or visible).
Reading that state in another session would leave a window in which a concurrent
lock, hide or delete changes it. So each such write first locks the topic row in its
own transaction, then (for moderation) the reply — the same order content uses for
every write in a tree (root, then node) — and reads the state under those locks.
Concurrent replies and moderations of one topic queue on its row; its
``reply_count`` and ``last_activity_at`` stay exact.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_content.models import Node
from rustok_content.services import NodeChanges, NodeService
from rustok_core.context import TenantContext


async def hold(
    nodes: NodeService,
    tenant: TenantContext,
    node_id: uuid.UUID,
    *,
    kind: str,
    session: AsyncSession,
    actor_id: uuid.UUID | None,
) -> Node:
    """Lock the node's row until ``session``'s transaction ends; return the node as it is now.

    Content offers no explicit lock: an update without changes locks the row
    (``SELECT … FOR UPDATE``), checks the kind (``NOT_FOUND`` otherwise) and writes
    nothing, publishing nothing.
    """
    return await nodes.update(
        tenant, node_id, NodeChanges(), expected_version=None, actor_id=actor_id, kind=kind, session=session
    )
