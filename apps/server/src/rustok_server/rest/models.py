"""Tables of the REST layer (server-owned, migrated in the ``server`` branch)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, LargeBinary, SmallInteger, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column

from rustok_core.db import Base


class IdempotencyRecord(Base):
    """One ``Idempotency-Key`` of a tenant: the request it was first used for and its outcome.

    Tenant-owned (``tenant_id`` FK with ``ON DELETE CASCADE``; the primary key
    ``(tenant_id, key)`` is its tenant index). Only
    :class:`~rustok_server.rest.idempotency.IdempotencyStore` reads and writes it, with
    the tenant in every statement. ``status_code`` is ``NULL`` while the first request
    still runs; ``claim_id`` tells that request's writes from a later taker's.
    """

    __tablename__ = "sys_idempotency_keys"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        PG_UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    claim_id: Mapped[uuid.UUID] = mapped_column(PG_UUID(as_uuid=True), nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    body_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    principal: Mapped[str | None] = mapped_column(String(100))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response_headers: Mapped[list[Any] | None] = mapped_column(JSONB)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    locked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
