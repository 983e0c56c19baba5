"""How far behind a handler is: stored events it has no receipt for.

With the ``outbox`` transport an event stays undispatched until every local handler
applied it, so only undispatched events can be pending (the partial index on
``sys_events`` finds them). With ``stream`` the relay dispatches to NATS before
handlers apply, so dispatched events without the handler's receipt count too. The
``memory`` transport keeps events in process only; they are not counted here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text

from rustok_core.context import AppContext
from rustok_core.interfaces import PendingEvents

PENDING = """
SELECT e.event_type, count(*) AS pending, min(e.occurred_at) AS oldest
FROM sys_events e
WHERE e.event_type = ANY(:types) {scope}
  AND NOT EXISTS (SELECT 1 FROM event_receipts r WHERE r.handler = :handler AND r.event_id = e.id)
GROUP BY e.event_type
ORDER BY e.event_type
"""


class OutboxBacklog:
    """:class:`rustok_core.interfaces.EventBacklog` over the outbox and the receipts."""

    def __init__(self, ctx: AppContext, transport: str) -> None:
        self.ctx = ctx
        self.transport = transport

    async def pending(
        self, handler: str, event_types: Sequence[str], *, tenant_id: uuid.UUID | None = None
    ) -> Sequence[PendingEvents]:
        if not event_types:
            return []
        scope = "" if self.transport == "stream" else "AND e.dispatched_at IS NULL"
        params: dict[str, object] = {"types": list(event_types), "handler": handler}
        if tenant_id is not None:
            scope += " AND e.tenant_id = :tenant"
            params["tenant"] = tenant_id
        async with self.ctx.db.system_session() as session:
            rows = (await session.execute(text(PENDING.format(scope=scope)), params)).all()
        return [PendingEvents(row.event_type, int(row.pending), row.oldest) for row in rows]
