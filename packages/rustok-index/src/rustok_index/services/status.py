"""How complete and how fresh the index is, per entity type.

``documents`` and ``last_indexed_at`` come from the index tables; ``pending_events``
and ``lag_seconds`` from the events module's backlog (stored events of the types that
can change the type's documents that the index handler has not applied yet; the lag
is the age of the oldest). Used by ``indexStatus`` and the ``/metrics`` gauges.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from rustok_core.context import AppContext
from rustok_core.index import CONTENT, ENTITY_TYPES, PRODUCT
from rustok_core.interfaces import EventBacklog
from rustok_index.handlers import EVENTS_OF_TYPE, HANDLER_NAME

COUNTS = """
SELECT
  (SELECT count(*) FROM index_products WHERE TRUE {scope}) AS product_documents,
  (SELECT max(indexed_at) FROM index_products WHERE TRUE {scope}) AS product_indexed_at,
  (SELECT count(*) FROM index_content WHERE TRUE {scope}) AS content_documents,
  (SELECT max(indexed_at) FROM index_content WHERE TRUE {scope}) AS content_indexed_at
"""


@dataclass(frozen=True)
class TypeStatus:
    entity_type: str
    documents: int
    """Rows (one per entity and locale)."""
    last_indexed_at: datetime | None
    pending_events: int
    lag_seconds: float


class IndexStatusService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def status(self, tenant_id: uuid.UUID | None) -> list[TypeStatus]:
        """Per entity type, for one tenant or (``None``) the whole platform."""
        scope = "" if tenant_id is None else " AND tenant_id = :tenant"
        params = {} if tenant_id is None else {"tenant": tenant_id}
        async with self.ctx.db.system_session() as session:
            row = (await session.execute(text(COUNTS.format(scope=scope)), params)).one()
        documents = {PRODUCT: int(row.product_documents), CONTENT: int(row.content_documents)}
        indexed_at = {PRODUCT: row.product_indexed_at, CONTENT: row.content_indexed_at}
        backlog = self.ctx.services.find(EventBacklog)
        pending_by_event: dict[str, tuple[int, datetime | None]] = {}
        if backlog is not None:
            watched = sorted({t for types in EVENTS_OF_TYPE.values() for t in types})
            for entry in await backlog.pending(HANDLER_NAME, watched, tenant_id=tenant_id):
                pending_by_event[entry.event_type] = (entry.count, entry.oldest_occurred_at)
        now = datetime.now(UTC)
        result = []
        for entity_type in ENTITY_TYPES:
            relevant = [pending_by_event[t] for t in EVENTS_OF_TYPE[entity_type] if t in pending_by_event]
            oldest = min((at for _, at in relevant if at is not None), default=None)
            result.append(
                TypeStatus(
                    entity_type=entity_type,
                    documents=documents[entity_type],
                    last_indexed_at=indexed_at[entity_type],
                    pending_events=sum(count for count, _ in relevant),
                    lag_seconds=max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0,
                )
            )
        return result
