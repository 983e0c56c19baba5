"""Tables of the events module: the outbox, its dead letters, and handler receipts.

The relay works on these tables with plain SQL through system sessions (it serves
every tenant); rows still carry ``tenant_id`` with the cascading foreign key, so a
deleted tenant takes its events along.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, DateTime, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column

from rustok_core.db import Base, TenantOwned


class _EventColumns(TenantOwned):
    id: Mapped[uuid.UUID] = mapped_column(PG_UUID(as_uuid=True), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    schema_version: Mapped[int] = mapped_column(Integer, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(PG_UUID(as_uuid=True))
    correlation_id: Mapped[uuid.UUID | None] = mapped_column(PG_UUID(as_uuid=True))
    causation_id: Mapped[uuid.UUID | None] = mapped_column(PG_UUID(as_uuid=True))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxEvent(_EventColumns, Base):
    """An event waiting for (or done with) delivery."""

    __tablename__ = "sys_events"
    __table_args__ = (
        Index(
            "ix_sys_events_pending",
            "next_attempt_at",
            "id",
            postgresql_where=text("dispatched_at IS NULL"),
        ),
        Index("ix_sys_events_dispatched_at", "dispatched_at", postgresql_where=text("dispatched_at IS NOT NULL")),
    )

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeadEvent(_EventColumns, Base):
    """An event that could not be delivered: kept until replayed or discarded."""

    __tablename__ = "sys_events_dlq"

    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    failed_handlers: Mapped[list[str]] = mapped_column(ARRAY(String(100)), nullable=False, server_default="{}")


class EventReceipt(TenantOwned, Base):
    """Proof that a handler applied an event, written in the handler's transaction."""

    __tablename__ = "event_receipts"

    handler: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(PG_UUID(as_uuid=True), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()"), index=True
    )
