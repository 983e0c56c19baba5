"""Event handlers: what modules subscribe through ``rustok_event_handlers``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.events.base import EventEnvelope


@runtime_checkable
class EventHandler(Protocol):
    """Reacts to events. Delivery is at least once; effects happen once.

    ``name`` is stable and unique: it keys the receipts that make redelivery harmless
    (``(name, event id)`` is written in the same transaction as the handler's effects)
    and names the handler's durable consumer on the stream. ``handle`` gets a session
    scoped to the event's tenant whose transaction commits after it returns; raising
    rolls everything back and the event is delivered again later.
    """

    name: str

    def handles(self, envelope: EventEnvelope) -> bool:
        """Whether this handler wants the event (cheap: type and payload checks only)."""
        ...

    async def handle(self, envelope: EventEnvelope, session: AsyncSession) -> None:
        """Apply the event's effects through ``session``."""
        ...
