"""Publishing: validate, wrap in an envelope, and hand over in the writer's transaction.

* ``outbox`` and ``stream``: the envelope is inserted into ``sys_events`` with the
  caller's session (so it commits or rolls back with the write) and a ``NOTIFY`` wakes
  the relays when the transaction commits.
* ``memory``: the envelope is queued in process, but only once the transaction
  commits; a rolled-back write publishes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.db import after_commit
from rustok_core.events import DomainEvent, EventEnvelope, EventRegistry
from rustok_core.ids import generate_id
from rustok_outbox.memory import MemoryBus
from rustok_outbox.metrics import EventMetrics
from rustok_outbox.models import OutboxEvent

NOTIFY_CHANNEL = "rustok_events"
OUTBOX: Table = OutboxEvent.__table__  # type: ignore[assignment]
_NOTIFIED_KEY = "rustok.events.notified"
# Built once: publishing is on every write path, and building statements costs more
# than the round trip. The first event of a transaction also queues the NOTIFY, in the
# same statement.
_COLUMNS = "id, tenant_id, event_type, schema_version, payload, actor_id, correlation_id, causation_id, occurred_at"
_VALUES = (
    ":id, :tenant_id, :event_type, :schema_version, CAST(:payload AS jsonb), :actor_id, :correlation_id, "
    ":causation_id, :occurred_at"
)
INSERT_EVENT = text(f"INSERT INTO sys_events ({_COLUMNS}) VALUES ({_VALUES})")
INSERT_EVENT_AND_NOTIFY = text(
    f"WITH stored AS (INSERT INTO sys_events ({_COLUMNS}) VALUES ({_VALUES}) RETURNING 1) "
    f"SELECT pg_notify('{NOTIFY_CHANNEL}', '') FROM stored"
)


class Publisher:
    """Implements :class:`rustok_core.events.EventPublisher`."""

    def __init__(self, registry: EventRegistry, metrics: EventMetrics, *, memory: MemoryBus | None = None) -> None:
        self.registry = registry
        self.metrics = metrics
        self.memory = memory

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
        self.registry.check_event(event)
        envelope = EventEnvelope(
            id=generate_id(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            tenant_id=tenant_id,
            occurred_at=datetime.now(UTC),
            payload=event.payload(),
            actor_id=actor_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        await self._hand_over(session, envelope)
        return envelope

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
        event = self.registry.load(event_type, payload, schema_version)
        return await self.publish(
            session,
            event,
            tenant_id=tenant_id,
            actor_id=actor_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )

    async def _hand_over(self, session: AsyncSession, envelope: EventEnvelope) -> None:
        event_type = envelope.event_type
        if self.memory is not None:
            self.memory.stage(session, envelope)
        else:
            sync = session.sync_session
            info = sync.info
            # The innermost (sub)transaction: a NOTIFY sent in a savepoint that rolls back is
            # discarded with it, so the next publish in the outer transaction notifies again.
            # One NOTIFY per transaction; PostgreSQL delivers it only if the transaction commits.
            transaction = sync.get_nested_transaction() or sync.get_transaction()
            notify = transaction is None or info.get(_NOTIFIED_KEY) is not transaction
            await session.execute(
                INSERT_EVENT_AND_NOTIFY if notify else INSERT_EVENT,
                {
                    "id": envelope.id,
                    "tenant_id": envelope.tenant_id,
                    "event_type": envelope.event_type,
                    "schema_version": envelope.schema_version,
                    "payload": orjson.dumps(envelope.payload).decode(),
                    "actor_id": envelope.actor_id,
                    "correlation_id": envelope.correlation_id,
                    "causation_id": envelope.causation_id,
                    "occurred_at": envelope.occurred_at,
                },
            )
            if notify:
                info[_NOTIFIED_KEY] = sync.get_nested_transaction() or sync.get_transaction()
        after_commit(session, lambda: self.metrics.published.labels(event_type).inc())
