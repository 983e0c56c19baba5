"""Event handlers of the pages module.

:class:`DeletedNodeCleanup` reacts to ``content.node.deleted``: menu items that link
to the deleted node go, and so do the blocks of a deleted page. Pages deleted through
the pages API lose their blocks in the deleting transaction already; this handler
covers nodes deleted any other way (content's API, other modules) and the pages and
nodes below a deleted one, which the event does not name (it counts them).

Delivery is at least once; the dispatcher records a receipt per event in the same
transaction, and every effect here is a delete, so a repeated delivery changes
nothing.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_content.services import NodeService
from rustok_core.context import AppContext
from rustok_core.events import EventEnvelope
from rustok_pages.services import PAGE, MenuService, PageBlocks

log = logging.getLogger("rustok.pages")
NODE_DELETED = "content.node.deleted"


class DeletedNodeCleanup:
    name = "pages.deleted_node_cleanup"

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def handles(self, envelope: EventEnvelope) -> bool:
        return envelope.event_type == NODE_DELETED

    async def handle(self, envelope: EventEnvelope, session: AsyncSession) -> None:
        payload = envelope.payload
        node_id = uuid.UUID(str(payload["node_id"]))
        with_descendants = int(payload.get("descendants") or 0) > 0
        menus = await MenuService(self.ctx).unlink(
            session, envelope.tenant_id, [node_id], sweep=with_descendants, cause=envelope
        )
        removed = 0
        if payload.get("kind") == PAGE:
            blocks = PageBlocks(self.ctx)
            gone = [node_id]
            if with_descendants:
                # The pages below it went too: drop blocks whose page no longer exists.
                holders = await blocks.page_ids(session)
                existing = await NodeService(self.ctx).nodes_by_ids(envelope.tenant_id, holders)
                gone += [page_id for page_id in holders if page_id not in existing]
            removed = await blocks.remove_pages(session, envelope.tenant_id, gone)
        if menus or removed:
            log.info("node %s deleted: unlinked from %d menu(s), %d block(s) removed", node_id, len(menus), removed)
