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
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Table, literal
from sqlalchemy.dialects.postgresql import insert

from rustok_core.context import AppContext
from rustok_core.errors import Validation
from rustok_core.events import EventEnvelope, EventHandler, EventRegistry
from rustok_outbox.metrics import EventMetrics
from rustok_outbox.models import EventReceipt

log = logging.getLogger("rustok.events")
# The Core table: inserting through it sets tenant_id explicitly instead of via the ORM.
RECEIPTS: Table = EventReceipt.__table__  # type: ignore[assignment]


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
        try:
            self.registry.ingest(envelope)
        except Validation as exc:
            return DeliveryResult(invalid=f"undeliverable event: {exc.message}")
        result = DeliveryResult()
        for handler in only if only is not None else self.handlers:
            try:
                wanted = handler.handles(envelope)
            except Exception as exc:
                result.failures[handler.name] = f"handles() raised {type(exc).__name__}: {exc}"
                continue
            if not wanted:
                continue
            try:
                await self._apply(handler, envelope)
            except Exception as exc:
                log.warning("handler %s failed on %s %s: %s", handler.name, envelope.event_type, envelope.id, exc)
                self.metrics.failed.labels(handler.name).inc()
                result.failures[handler.name] = f"{type(exc).__name__}: {exc}"
        return result

    async def deliver_many(self, envelopes: Sequence[EventEnvelope]) -> list[DeliveryResult]:
        """Deliver several events concurrently (bounded); results in the same order."""

        async def one(envelope: EventEnvelope) -> DeliveryResult:
            async with self.concurrency:
                return await self.deliver(envelope)

        return list(await asyncio.gather(*(one(envelope) for envelope in envelopes)))

    async def _apply(self, handler: EventHandler, envelope: EventEnvelope) -> None:
        async with self.ctx.db.session(envelope.tenant_id) as session, session.begin():
            receipt = (
                insert(RECEIPTS)
                .values(handler=handler.name, event_id=envelope.id, tenant_id=envelope.tenant_id)
                .on_conflict_do_nothing()
                .returning(literal(1))
            )
            first_time = (await session.execute(receipt)).first() is not None
            if not first_time:
                return
            await handler.handle(envelope, session)
        self.metrics.delivered.labels(handler.name).inc()
        lag = time.time() - envelope.occurred_at.timestamp()
        self.metrics.lag.labels(handler.name).observe(max(lag, 0.0))
