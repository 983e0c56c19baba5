"""Delivering an event to this process's handlers, each effect applied once.

For every handler that wants the event, one transaction scoped to the event's tenant
writes the receipt ``(handler, event id)`` and the handler's effects together. A
receipt that already exists means the handler applied the event before (a redelivery)
and it is skipped. A failing handler rolls its transaction back; the others are not
affected, and the failure is reported so the event is delivered again later.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.context import AppContext
from rustok_core.errors import Validation
from rustok_core.events import EventEnvelope, EventHandler, EventRegistry
from rustok_outbox.metrics import EventMetrics

log = logging.getLogger("rustok.events")
# One statement for any number of receipts, built once (a multi-row INSERT is compiled anew
# for every batch size); tenant_id is set explicitly, as the ORM would stamp it.
RECEIPTS = text(
    "INSERT INTO event_receipts (handler, event_id, tenant_id) "
    "SELECT :handler, e, :tenant FROM unnest(CAST(:ids AS uuid[])) AS e "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)


@dataclass
class DeliveryResult:
    """What happened to one event: nothing to redo, retry later, or dead at once."""

    failures: dict[str, str] = field(default_factory=dict)
    """Handler name → error, for handlers that failed."""
    invalid: str | None = None
    """The event cannot be delivered at all (unknown type, invalid payload)."""

    @property
    def ok(self) -> bool:
        return not self.failures and self.invalid is None

    def summary(self) -> str:
        if self.invalid is not None:
            return self.invalid
        return "; ".join(f"{name}: {error}" for name, error in sorted(self.failures.items()))


class Dispatcher:
    def __init__(
        self,
        ctx: AppContext,
        registry: EventRegistry,
        handlers: Sequence[EventHandler],
        metrics: EventMetrics,
        *,
        concurrency: int = 8,
    ) -> None:
        names = [handler.name for handler in handlers]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"event handlers must have unique names; repeated: {', '.join(duplicates)}")
        self.ctx = ctx
        self.registry = registry
        self.handlers = tuple(handlers)
        self.metrics = metrics
        self.concurrency = asyncio.Semaphore(concurrency)

    async def deliver(self, envelope: EventEnvelope, *, only: Sequence[EventHandler] | None = None) -> DeliveryResult:
        """Run the wanting handlers (``only`` restricts them, e.g. one stream group)."""
        return (await self.deliver_many([envelope], only=only))[0]

    async def deliver_many(
        self, envelopes: Sequence[EventEnvelope], *, only: Sequence[EventHandler] | None = None
    ) -> list[DeliveryResult]:
        """Deliver a batch; results in the same order.

        Each handler gets the events it wants, grouped by tenant, in ONE transaction per
        group (receipts for the group in one statement). If that transaction fails, the
        group is retried event by event so only the failing events are reported.
        Handlers run concurrently (bounded); each handler sees its events in id order.
        """
        results = [DeliveryResult() for _ in envelopes]
        valid: list[tuple[int, EventEnvelope]] = []
        first_of: dict[uuid.UUID, int] = {}
        repeats: list[tuple[int, int]] = []
        for index, envelope in enumerate(envelopes):
            if envelope.id in first_of:
                # The same event twice in one batch (a redelivery racing its original):
                # deliver once, report the same outcome for both.
                repeats.append((index, first_of[envelope.id]))
                continue
            first_of[envelope.id] = index
            try:
                event = self.registry.ingest(envelope)
            except Validation as exc:
                results[index].invalid = f"undeliverable event: {exc.message}"
                continue
            if envelope.schema_version != event.schema_version:
                # Handlers get the current shape: a stored older version arrives upcast.
                envelope = replace(envelope, schema_version=event.schema_version, payload=event.payload())
            valid.append((index, envelope))

        async def run(handler: EventHandler) -> None:
            groups: dict[uuid.UUID, list[tuple[int, EventEnvelope]]] = {}
            for index, envelope in valid:
                try:
                    if not handler.handles(envelope):
                        continue
                except Exception as exc:
                    results[index].failures[handler.name] = f"handles() raised {type(exc).__name__}: {exc}"
                    continue
                groups.setdefault(envelope.tenant_id, []).append((index, envelope))
            for tenant_id, members in groups.items():
                async with self.concurrency:
                    try:
                        await self._apply_group(handler, tenant_id, [envelope for _, envelope in members])
                        continue
                    except Exception as exc:
                        if len(members) == 1:
                            self._failed(handler, members[0][1], exc, results[members[0][0]])
                            continue
                    # Find the failing events: one transaction each (at-least-once: the
                    # handler may see an event again; only committed effects count).
                    for index, envelope in members:
                        try:
                            await self._apply(handler, envelope)
                        except Exception as exc:
                            self._failed(handler, envelope, exc, results[index])

        await asyncio.gather(*(run(handler) for handler in (only if only is not None else self.handlers)))
        for index, original in repeats:
            results[index] = results[original]
        return results

    def _failed(self, handler: EventHandler, envelope: EventEnvelope, exc: Exception, result: DeliveryResult) -> None:
        log.warning("handler %s failed on %s %s: %s", handler.name, envelope.event_type, envelope.id, exc)
        self.metrics.failed.labels(handler.name).inc()
        result.failures[handler.name] = f"{type(exc).__name__}: {exc}"

    async def _apply_group(self, handler: EventHandler, tenant_id: uuid.UUID, envelopes: list[EventEnvelope]) -> None:
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            fresh = await _receipts(session, handler, tenant_id, envelopes)
            todo = [envelope for envelope in envelopes if envelope.id in fresh]
            batch = getattr(handler, "handle_batch", None)
            if batch is not None and todo:
                await batch(todo, session)
            else:
                for envelope in todo:
                    await handler.handle(envelope, session)
        self._observe(handler, todo)

    async def _apply(self, handler: EventHandler, envelope: EventEnvelope) -> None:
        async with self.ctx.db.session(envelope.tenant_id) as session, session.begin():
            if not await _receipts(session, handler, envelope.tenant_id, [envelope]):
                return
            await handler.handle(envelope, session)
        self._observe(handler, [envelope])

    def _observe(self, handler: EventHandler, applied: Sequence[EventEnvelope]) -> None:
        if not applied:
            return
        self.metrics.delivered.labels(handler.name).inc(len(applied))
        now = time.time()
        histogram = self.metrics.lag.labels(handler.name)
        for envelope in applied:
            histogram.observe(max(now - envelope.occurred_at.timestamp(), 0.0))


async def _receipts(
    session: AsyncSession, handler: EventHandler, tenant_id: uuid.UUID, envelopes: Sequence[EventEnvelope]
) -> set[uuid.UUID]:
    """Write the handler's receipts for ``envelopes``; the ids of those it did not have yet."""
    found = await session.execute(
        RECEIPTS, {"handler": handler.name, "tenant": tenant_id, "ids": [e.id for e in envelopes]}
    )
    return set(found.scalars())
