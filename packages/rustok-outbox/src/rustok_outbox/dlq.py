"""The dead-letter queue: list, inspect, replay, discard.

Replaying moves the event back into the outbox with its original id and a fresh
attempt count; handlers that applied it before skip it thanks to their receipts, so
only the ones that failed run again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.context import AppContext
from rustok_core.errors import NotFound
from rustok_core.events import EventEnvelope
from rustok_outbox.publisher import NOTIFY_CHANNEL

COLUMNS = "id, tenant_id, event_type, schema_version, payload, actor_id, correlation_id, causation_id, occurred_at"
UPSERT_DEAD = text(
    """
    INSERT INTO sys_events_dlq (id, tenant_id, event_type, schema_version, payload, actor_id, correlation_id,
                                causation_id, occurred_at, attempts, last_error, failed_handlers, failed_at)
    VALUES (:id, :tenant, :type, :version, CAST(:payload AS jsonb), :actor, :correlation, :causation, :occurred,
            :attempts, :error, CAST(:handlers AS varchar(100)[]), now())
    ON CONFLICT (id) DO UPDATE SET
        attempts = GREATEST(sys_events_dlq.attempts, EXCLUDED.attempts),
        last_error = EXCLUDED.last_error,
        failed_at = EXCLUDED.failed_at,
        failed_handlers = ARRAY(
            SELECT DISTINCT h FROM unnest(sys_events_dlq.failed_handlers || EXCLUDED.failed_handlers) AS h ORDER BY h
        )
    """
)


async def store_dead_letter(
    session: AsyncSession, envelope: EventEnvelope, *, attempts: int, error: str, handlers: Sequence[str]
) -> None:
    """Insert ``envelope`` into the DLQ, or merge it with the row already there.

    Merging adds ``handlers`` to ``failed_handlers`` and keeps the latest error and the
    highest attempt count: handlers that fail separately (stream consumers) end up on
    one row, and one replay serves them all.
    """
    await session.execute(
        UPSERT_DEAD,
        {
            "id": envelope.id,
            "tenant": envelope.tenant_id,
            "type": envelope.event_type,
            "version": envelope.schema_version,
            "payload": orjson.dumps(envelope.payload).decode(),
            "actor": envelope.actor_id,
            "correlation": envelope.correlation_id,
            "causation": envelope.causation_id,
            "occurred": envelope.occurred_at,
            "attempts": attempts,
            "error": error[:4000],
            "handlers": sorted(set(handlers)),
        },
    )


@dataclass(frozen=True)
class DeadLetter:
    id: uuid.UUID
    tenant_id: uuid.UUID
    event_type: str
    schema_version: int
    payload: dict[str, Any]
    occurred_at: datetime
    failed_at: datetime
    attempts: int
    last_error: str | None
    failed_handlers: list[str]


class DeadLetters:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def page(
        self, *, tenant_id: uuid.UUID | None = None, limit: int = 50, after: uuid.UUID | None = None
    ) -> Sequence[DeadLetter]:
        where = ["TRUE"]
        params: dict[str, Any] = {"limit": limit}
        if tenant_id is not None:
            where.append("tenant_id = :tenant")
            params["tenant"] = tenant_id
        if after is not None:
            where.append("id > :after")
            params["after"] = after
        query = text(
            f"SELECT {COLUMNS}, failed_at, attempts, last_error, failed_handlers FROM sys_events_dlq "
            f"WHERE {' AND '.join(where)} ORDER BY id LIMIT :limit"
        )
        async with self.ctx.db.system_session() as session:
            rows = (await session.execute(query, params)).all()
        return [self._row(row) for row in rows]

    async def get(self, event_id: uuid.UUID, *, tenant_id: uuid.UUID | None = None) -> DeadLetter:
        async with self.ctx.db.system_session() as session:
            row = (
                await session.execute(
                    text(
                        f"SELECT {COLUMNS}, failed_at, attempts, last_error, failed_handlers FROM sys_events_dlq "
                        "WHERE id = :id AND (CAST(:tenant AS uuid) IS NULL OR tenant_id = :tenant)"
                    ),
                    {"id": event_id, "tenant": tenant_id},
                )
            ).first()
        if row is None:
            raise NotFound(f"no dead-lettered event {event_id}", eventId=str(event_id))
        return self._row(row)

    async def replay(self, event_id: uuid.UUID, *, tenant_id: uuid.UUID | None = None) -> None:
        moved = await self._replay(["id = :id"], {"id": event_id}, tenant_id)
        if not moved:
            raise NotFound(f"no dead-lettered event {event_id}", eventId=str(event_id))

    async def replay_all(self, *, tenant_id: uuid.UUID | None = None) -> int:
        return await self._replay([], {}, tenant_id)

    async def discard(self, event_id: uuid.UUID, *, tenant_id: uuid.UUID | None = None) -> None:
        async with self.ctx.db.system_session() as session, session.begin():
            deleted = await session.execute(
                text(
                    "DELETE FROM sys_events_dlq WHERE id = :id "
                    "AND (CAST(:tenant AS uuid) IS NULL OR tenant_id = :tenant) RETURNING id"
                ),
                {"id": event_id, "tenant": tenant_id},
            )
            if deleted.first() is None:
                raise NotFound(f"no dead-lettered event {event_id}", eventId=str(event_id))

    async def _replay(self, where: list[str], params: dict[str, Any], tenant_id: uuid.UUID | None) -> int:
        conditions = list(where)
        if tenant_id is not None:
            conditions.append("tenant_id = :tenant")
            params["tenant"] = tenant_id
        clause = " AND ".join(conditions) or "TRUE"
        async with self.ctx.db.system_session() as session, session.begin():
            moved = await session.execute(
                text(
                    f"""
                    WITH back AS (DELETE FROM sys_events_dlq WHERE {clause} RETURNING {COLUMNS})
                    INSERT INTO sys_events ({COLUMNS}, attempts, next_attempt_at)
                    SELECT {COLUMNS}, 0, now() FROM back
                    RETURNING id
                    """
                ),
                params,
            )
            count = len(moved.all())
            if count:
                await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        return count

    @staticmethod
    def _row(row: Any) -> DeadLetter:
        return DeadLetter(
            id=row.id,
            tenant_id=row.tenant_id,
            event_type=row.event_type,
            schema_version=row.schema_version,
            payload=row.payload,
            occurred_at=row.occurred_at,
            failed_at=row.failed_at,
            attempts=row.attempts,
            last_error=row.last_error,
            failed_handlers=list(row.failed_handlers or ()),
        )
