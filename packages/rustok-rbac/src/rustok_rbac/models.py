"""Tables owned by the rbac module.

Built-in roles (``super_admin``, ``admin``, ``manager``, ``editor``, ``customer``) have
no rows: their grants come from the permissions modules declare. Tenants define
their own roles in ``roles`` with grants in ``role_permissions``. Assignments name a
role by slug; ``user_id`` refers to the server's users (no foreign key: the rbac
module does not depend on the server's tables).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column

from rustok_core.db import Base, TenantOwned, Timestamped, Versioned
from rustok_core.db.base import id_column


class Role(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[uuid.UUID] = id_column()
    slug: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False, server_default="")


class RolePermission(TenantOwned, Base):
    __tablename__ = "role_permissions"
    __table_args__ = (UniqueConstraint("role_id", "permission"),)

    id: Mapped[uuid.UUID] = id_column()
    role_id: Mapped[uuid.UUID] = mapped_column(
        PG_UUID(as_uuid=True), ForeignKey("roles.id", ondelete="CASCADE"), nullable=False
    )
    permission: Mapped[str] = mapped_column(String(100), nullable=False)
    scope: Mapped[str] = mapped_column(String(8), nullable=False, server_default="all")


class RoleAssignment(TenantOwned, Base):
    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "role_slug"),
        Index("ix_role_assignments_tenant_id_role_slug", "tenant_id", "role_slug"),
    )

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(PG_UUID(as_uuid=True), nullable=False)
    role_slug: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
