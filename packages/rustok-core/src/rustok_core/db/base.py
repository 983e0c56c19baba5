"""Declarative base, naming conventions and the mixins every module uses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, MetaData, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from rustok_core.errors import Conflict
from rustok_core.ids import generate_id

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""One metadata for every module, so foreign keys to ``tenants`` resolve."""


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {
        uuid.UUID: PG_UUID(as_uuid=True),
        dict[str, Any]: JSONB,
        datetime: DateTime(timezone=True),
    }


def id_column() -> Mapped[uuid.UUID]:
    """Primary key column holding a ULID-built UUID."""
    return mapped_column(PG_UUID(as_uuid=True), primary_key=True, default=generate_id)


class TenantOwned:
    """Mixin for tables owned by a tenant: ``tenant_id`` FK with ``ON DELETE CASCADE``.

    Sessions scoped to a tenant filter and stamp this column automatically.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(
            PG_UUID(as_uuid=True),
            ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class Versioned:
    """Optimistic concurrency: ``version`` is checked and bumped by every UPDATE.

    SQLAlchemy adds ``WHERE version = <read version>`` to each UPDATE and raises
    ``StaleDataError`` (mapped to ``CONFLICT``) when another writer got there first.
    Services compare the version a client read with :func:`expect_version` first.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default=text("1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def expect_version(entity: Versioned, expected: int | None) -> None:
    """Raise ``CONFLICT`` unless ``entity`` is still at the version the client read."""
    if expected is not None and entity.version != expected:
        raise Conflict(
            f"{type(entity).__name__} was changed by someone else "
            f"(you have version {expected}, current is {entity.version}); reload and retry",
            expectedVersion=expected,
            currentVersion=entity.version,
        )
