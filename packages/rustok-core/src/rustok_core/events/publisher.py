"""The publishing side, provided by the events module (package ``rustok-outbox``)."""

from __future__ import annotations

import uuid
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.events.base import DomainEvent, EventEnvelope


@runtime_checkable
class EventPublisher(Protocol):
    async def publish(
        self,
        session: AsyncSession,
        event: DomainEvent,
        *,
        tenant_id: uuid.UUID,
        actor_id: uuid.UUID | None = None,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
    ) -> EventEnvelope:
        """Publish ``event`` as part of ``session``'s transaction.

        Nothing is delivered unless that transaction commits; an invalid event raises
        ``VALIDATION`` and is not stored.
        """
        ...

    async def publish_payload(
        self,
        session: AsyncSession,
        event_type: str,
        payload: dict[str, Any],
        *,
        tenant_id: uuid.UUID,
        schema_version: int | None = None,
        actor_id: uuid.UUID | None = None,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
    ) -> EventEnvelope:
        """Publish an untyped payload (scripts, integrations), validated by the registry."""
        ...
