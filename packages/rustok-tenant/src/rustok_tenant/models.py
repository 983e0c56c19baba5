"""Tables owned by the tenant module: ``tenants`` and ``tenant_modules``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Boolean, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from rustok_core.db import Base, TenantOwned, Timestamped
from rustok_core.db.base import id_column


class Tenant(Timestamped, Base):
    """A shop or site. Every tenant-owned row in the platform points here."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    slug: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
    default_locale: Mapped[str] = mapped_column(String(16), nullable=False, server_default="en")
    locales: Mapped[list[str]] = mapped_column(
        ARRAY(String(16)), nullable=False, server_default=text("ARRAY['en']::varchar[]")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"), default=True)


class TenantModule(TenantOwned, Timestamped, Base):
    """Whether an optional module is enabled for a tenant, and its settings there."""

    __tablename__ = "tenant_modules"
    __table_args__ = (UniqueConstraint("tenant_id", "module_slug"),)

    id: Mapped[uuid.UUID] = id_column()
    module_slug: Mapped[str] = mapped_column(String(64), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"), default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
    enabled_at: Mapped[datetime | None] = mapped_column(nullable=True)


class TenantDomain(TenantOwned, Timestamped, Base):
    """A host name that serves the tenant (``resolution: host``); unique platform-wide."""

    __tablename__ = "tenant_domains"

    id: Mapped[uuid.UUID] = id_column()
    domain: Mapped[str] = mapped_column(String(253), nullable=False, unique=True)
