"""Helpers for tests of events: publish in one transaction, read what handlers did.

They work with the sample ``recorder`` module (:mod:`rustok_testing.samples`), whose
handlers write one ``recorder_effects`` row per application of an event.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar

from sqlalchemy import text

from rustok_core.context import AppContext
from rustok_core.events import DomainEvent, EventEnvelope, EventPublisher
from rustok_testing.samples import RecorderModule

T = TypeVar("T")
RECORDER_HANDLERS = RecorderModule.handler_names


class HasContext(Protocol):
    @property
    def ctx(self) -> AppContext: ...


class HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


async def publish(platform: HasContext, tenant: HasId, *events: DomainEvent) -> list[EventEnvelope]:
    """Publish ``events`` for ``tenant`` in one committed transaction."""
    publisher = platform.ctx.services.get(EventPublisher)
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        return [await publisher.publish(session, event, tenant_id=tenant.id) for event in events]


async def fetch(platform: HasContext, sql: str, **params: Any) -> list[Any]:
    """Rows of a raw query, read through a system session."""
    async with platform.ctx.db.system_session() as session:
        return list((await session.execute(text(sql), params)).all())


async def effects(platform: HasContext, *tenants: HasId) -> Counter[tuple[str, uuid.UUID]]:
    """``(handler, event id)`` → applications, for ``tenants`` (all tenants if none)."""
    if tenants:
        rows = await fetch(
            platform,
            "SELECT handler, event_id FROM recorder_effects WHERE tenant_id = ANY(:t)",
            t=[tenant.id for tenant in tenants],
        )
    else:
        rows = await fetch(platform, "SELECT handler, event_id FROM recorder_effects")
    return Counter((row.handler, row.event_id) for row in rows)


def once_each(*events: EventEnvelope, handlers: Iterable[str] = RECORDER_HANDLERS) -> Counter[tuple[str, uuid.UUID]]:
    """The effects of every event applied exactly once by every handler."""
    names = tuple(handlers)
    return Counter({(handler, e.id): 1 for e in events for handler in names})


async def eventually(check: Callable[[], Awaitable[T]], within: float = 5.0, every: float = 0.02) -> T:
    """Poll ``check`` until it returns something truthy or ``within`` seconds pass; return its last result."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(every)


IN_FLIGHT = text(
    "SELECT count(*) FROM sys_events WHERE dispatched_at IS NULL AND claimed_by IS NOT NULL "
    "AND claimed_by <> :relay AND claim_expires_at > now()"
)


async def deliver_events(platform: HasContext, *, within: float = 30.0) -> int:
    """Deliver every due event to ``platform``'s handlers now, in this task; return how many.

    Runs the platform's own relay steps (claim, deliver, settle) until no event is due,
    after draining the memory bus when that transport is in use, so a test reads the
    effects of its writes without sleeping. Boot the platform with
    ``rustok.events.relay=False`` to be the only deliverer; otherwise batches claimed
    by the platform's running relay are waited for (up to ``within`` seconds). A
    failed delivery (retry scheduled or dead-lettered) fails the test, naming the error.
    """
    from rustok_outbox.relay import LocalTarget, OutboxRelay
    from rustok_outbox.runtime import runtime_of

    runtime = runtime_of(platform.ctx)
    if runtime.memory is not None:
        await runtime.memory.drain(within)
    relay = OutboxRelay(
        platform.ctx, LocalTarget(runtime.collect_handlers()), runtime.metrics, name="rustok-testing-deliver"
    )
    deadline = time.monotonic() + within
    while True:
        while await relay.run_once():
            pass
        async with platform.ctx.db.engine.connect() as conn:
            in_flight = (await conn.execute(IN_FLIGHT, {"relay": relay.name})).scalar_one()
        if not in_flight:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{in_flight} event(s) still claimed by another relay after {within}s")
        await asyncio.sleep(0.01)  # another relay holds a batch: let it settle
    if relay.stats.retried or relay.stats.dead:
        async with platform.ctx.db.engine.connect() as conn:
            errors = (
                await conn.execute(
                    text(
                        "SELECT event_type, last_error FROM sys_events WHERE dispatched_at IS NULL "
                        "AND last_error IS NOT NULL UNION ALL SELECT event_type, last_error FROM sys_events_dlq"
                    )
                )
            ).all()
        raise AssertionError(f"event delivery failed: {[(row.event_type, row.last_error) for row in errors]}")
    return relay.stats.dispatched
