"""Optimistic concurrency (``Versioned``) and the mapping of database errors to codes."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import String, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from rustok_core import Conflict, ErrorCode, Validation
from rustok_core.db import (
    Base,
    Database,
    TenantOwned,
    Timestamped,
    Versioned,
    expect_version,
    metadata,
    translate_db_error,
)
from rustok_core.db.base import id_column
from rustok_tenant.models import Tenant


class CoreVersionedDoc(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "core_versioned_docs"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(String(200), nullable=False, default="")


@pytest.fixture(scope="module")
async def db(rustok_database_url: str) -> AsyncIterator[Database]:
    database = Database(rustok_database_url, pool_size=2)
    async with database.engine.begin() as conn:
        await conn.run_sync(CoreVersionedDoc.__table__.create)
    yield database
    await database.dispose()
    # Keep the shared metadata to real tables for whatever runs later in this session.
    metadata.remove(CoreVersionedDoc.__table__)


@pytest.fixture
async def tenant_id(db: Database) -> uuid.UUID:
    tenant = uuid.uuid4()
    slug = f"core-v-{secrets.token_hex(4)}"
    async with db.system_session() as session, session.begin():
        session.add(Tenant(id=tenant, name=slug, slug=slug))
    return tenant


async def create_doc(db: Database, tenant_id: uuid.UUID, code: str = "doc") -> CoreVersionedDoc:
    async with db.session(tenant_id) as session, session.begin():
        doc = CoreVersionedDoc(code=code, body="v1")
        session.add(doc)
    return doc


# --- the version column -------------------------------------------------------------------------------


async def test_new_entities_start_at_version_1(db: Database, tenant_id: uuid.UUID) -> None:
    doc = await create_doc(db, tenant_id)
    assert doc.version == 1


async def test_each_update_bumps_the_version(db: Database, tenant_id: uuid.UUID) -> None:
    doc = await create_doc(db, tenant_id)
    async with db.session(tenant_id) as session:
        loaded = await session.get(CoreVersionedDoc, doc.id)
        assert loaded is not None
        loaded.body = "v2"
        await session.commit()
        assert loaded.version == 2
        loaded.body = "v3"
        await session.commit()
        assert loaded.version == 3
    async with db.system_session() as session:
        stored = await session.get(CoreVersionedDoc, doc.id)
        assert stored is not None
        assert (stored.version, stored.body) == (3, "v3")


async def test_concurrent_update_with_a_stale_version_fails_and_maps_to_conflict(
    db: Database, tenant_id: uuid.UUID
) -> None:
    doc = await create_doc(db, tenant_id)
    async with db.session(tenant_id) as first, db.session(tenant_id) as second:
        mine = await first.get(CoreVersionedDoc, doc.id)
        theirs = await second.get(CoreVersionedDoc, doc.id)
        assert mine is not None
        assert theirs is not None
        assert mine.version == theirs.version == 1

        theirs.body = "theirs"
        await second.commit()

        mine.body = "mine"
        with pytest.raises(StaleDataError) as caught:
            await first.commit()

    error = translate_db_error(caught.value)
    assert isinstance(error, Conflict)
    assert error.code is ErrorCode.CONFLICT
    assert error.http_status == 409
    async with db.system_session() as session:
        stored = await session.get(CoreVersionedDoc, doc.id)
        assert stored is not None
        assert (stored.version, stored.body) == (2, "theirs")


# --- expect_version ------------------------------------------------------------------------------------------


def test_expect_version_passes_when_versions_match() -> None:
    expect_version(CoreVersionedDoc(code="x", version=4), 4)


def test_expect_version_passes_when_the_client_sent_no_version() -> None:
    expect_version(CoreVersionedDoc(code="x", version=4), None)


def test_expect_version_raises_conflict_when_versions_differ() -> None:
    with pytest.raises(Conflict) as caught:
        expect_version(CoreVersionedDoc(code="x", version=4), 3)
    error = caught.value
    assert error.code is ErrorCode.CONFLICT
    assert error.details == {"expectedVersion": 3, "currentVersion": 4}
    assert "CoreVersionedDoc" in error.message
    assert "reload and retry" in error.message


# --- translate_db_error --------------------------------------------------------------------------------------


async def test_unique_violation_maps_to_conflict_naming_the_constraint(db: Database, tenant_id: uuid.UUID) -> None:
    await create_doc(db, tenant_id, code="same")
    async with db.session(tenant_id) as session:
        session.add(CoreVersionedDoc(code="same"))
        with pytest.raises(IntegrityError) as caught:
            await session.commit()
    error = translate_db_error(caught.value)
    assert isinstance(error, Conflict)
    assert error.code is ErrorCode.CONFLICT
    assert error.details == {"constraint": "uq_core_versioned_docs_tenant_id_code"}


async def test_the_same_unique_value_in_another_tenant_is_fine(db: Database, tenant_id: uuid.UUID) -> None:
    other = uuid.uuid4()
    async with db.system_session() as session, session.begin():
        session.add(Tenant(id=other, name="other", slug=f"core-v-{secrets.token_hex(4)}"))
    await create_doc(db, tenant_id, code="shared")
    assert (await create_doc(db, other, code="shared")).tenant_id == other


async def test_foreign_key_violation_maps_to_validation(db: Database) -> None:
    async with db.system_session() as session:
        session.add(CoreVersionedDoc(code="orphan", tenant_id=uuid.uuid4()))
        with pytest.raises(IntegrityError) as caught:
            await session.commit()
    error = translate_db_error(caught.value)
    assert isinstance(error, Validation)
    assert error.code is ErrorCode.VALIDATION
    assert error.details == {"constraint": "fk_core_versioned_docs_tenant_id_tenants"}


async def test_not_null_violation_maps_to_validation(db: Database) -> None:
    async with db.system_session() as session:
        session.add(CoreVersionedDoc(code="no tenant"))
        with pytest.raises(IntegrityError) as caught:
            await session.commit()
    assert isinstance(translate_db_error(caught.value), Validation)


def test_other_errors_are_not_translated() -> None:
    assert translate_db_error(ValueError("nope")) is None
    assert translate_db_error(RuntimeError("boom")) is None
