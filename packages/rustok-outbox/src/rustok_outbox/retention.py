"""Pruning: dispatched events and old receipts go; the DLQ stays until handled."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text

from rustok_core.context import AppContext

log = logging.getLogger("rustok.events.retention")
BATCH = 5_000
INTERVAL = 3_600.0


async def prune(ctx: AppContext) -> tuple[int, int]:
    """Delete dispatched events older than ``retention_days`` and receipts older than
    twice that (receipts of dead-lettered events stay, their replay may come later).
    Returns (events, receipts) deleted."""
    days = ctx.settings.rustok.events.retention_days
    events = receipts = 0
    while True:
        async with ctx.db.system_session() as session, session.begin():
            deleted = await session.execute(
                text(
                    "DELETE FROM sys_events WHERE id IN (SELECT id FROM sys_events WHERE dispatched_at IS NOT NULL "
                    "AND dispatched_at < now() - make_interval(secs => :age) LIMIT :batch)"
                ),
                {"age": days * 86_400, "batch": BATCH},
            )
        count = int(deleted.rowcount or 0)  # type: ignore[attr-defined]
        events += count
        if count < BATCH:
            break
    while True:
        async with ctx.db.system_session() as session, session.begin():
            deleted = await session.execute(
                text(
                    "DELETE FROM event_receipts WHERE ctid IN (SELECT r.ctid FROM event_receipts r "
                    "WHERE r.processed_at < now() - make_interval(secs => :age) "
                    "AND NOT EXISTS (SELECT 1 FROM sys_events_dlq d WHERE d.id = r.event_id) LIMIT :batch)"
                ),
                {"age": days * 2 * 86_400, "batch": BATCH},
            )
        count = int(deleted.rowcount or 0)  # type: ignore[attr-defined]
        receipts += count
        if count < BATCH:
            break
    if events or receipts:
        log.info("pruned %d dispatched events and %d receipts", events, receipts)
    return events, receipts


async def run_pruning(ctx: AppContext, interval: float = INTERVAL) -> None:
    while True:
        try:
            await prune(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pruning the outbox failed; trying again in %.0fs", interval)
        await asyncio.sleep(interval)
