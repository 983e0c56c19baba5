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
