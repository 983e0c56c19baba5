"""For transports that dispatch downstream of the outbox (the ``stream`` module).

With the ``stream`` transport the relay only publishes: handlers run in stream
consumers, which settle failures themselves. They need two things from this module's
tables, and get them here rather than writing SQL against tables they do not own:

* :func:`publication_stamps` — the ``created_at`` of each event's outbox row. A DLQ
  replay inserts the row again, so the stamp tells a *replayed* publication (new
  stamp) from a *retried* one (same stamp): the stream deduplicates publishes by it.
* :func:`dead_letter` — move an event into ``sys_events_dlq`` for a failing handler,
  merging with the row another handler's consumer may already have written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import text

from rustok_core.context import AppContext
from rustok_core.events import EventEnvelope
from rustok_outbox.dlq import store_dead_letter

STAMPS = text("SELECT id, created_at FROM sys_events WHERE id = ANY(:ids)")
LOCK_ROW = text("SELECT created_at FROM sys_events WHERE id = :id FOR UPDATE")
DELETE_ROW = text("DELETE FROM sys_events WHERE id = :id")


async def publication_stamps(ctx: AppContext, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """``{event id: created_at}`` of the outbox rows of ``ids`` (missing rows are left out)."""
    wanted = list(ids)
    if not wanted:
        return {}
    async with ctx.db.system_session() as session:
        rows = (await session.execute(STAMPS, {"ids": wanted})).all()
    return {row.id: row.created_at for row in rows}


async def dead_letter(
    ctx: AppContext,
    envelope: EventEnvelope,
    *,
    attempts: int,
    error: str,
    handlers: Sequence[str] = (),
    published: datetime | None = None,
) -> bool:
    """Dead-letter ``envelope`` after a downstream delivery failed for good.

    In one transaction: the event's outbox row (if still there) is removed, as the
    relay does when it dead-letters, so a later replay can insert it again; the DLQ
    row is inserted, or — when another handler's consumer dead-lettered the event
    already — merged: ``handlers`` are added to ``failed_handlers``, the latest error
    and the highest attempt count are kept.

    ``published`` is the :func:`publication_stamps` stamp the failed delivery was
    published from. If the outbox now holds a *newer* publication (the event was
    replayed from the DLQ since), nothing is written and ``False`` is returned: that
    publication delivers the event to every handler again. Otherwise ``True``.
    """
    async with ctx.db.system_session() as session, session.begin():
        current = (await session.execute(LOCK_ROW, {"id": envelope.id})).scalar()
        if current is not None and published is not None and current != published:
            return False
        if current is not None:
            await session.execute(DELETE_ROW, {"id": envelope.id})
        await store_dead_letter(session, envelope, attempts=attempts, error=error, handlers=handlers)
    return True
