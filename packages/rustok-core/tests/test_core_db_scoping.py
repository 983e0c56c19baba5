"""Tenant isolation is enforced by the session, not by each query.

A session from ``Database.session(tenant_id)`` filters every ORM SELECT, UPDATE and
DELETE of a tenant-owned entity to its tenant and stamps (or checks) ``tenant_id`` on
every insert. Only ``Database.system_session()`` sees across tenants, and a session
that is neither refuses to run at all. Real PostgreSQL, no mocks.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import String, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from rustok_core import ErrorCode, Forbidden
from rustok_core.db import (
    Base,
    Database,
    TenantIsolationError,
    TenantOwned,
    Timestamped,
    Versioned,
    metadata,
    normalize_url,
)
from rustok_core.db.base import id_column
from rustok_core.db.scoping import RustokSession
from rustok_tenant.models import Tenant


class CoreScopingNote(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "core_scoping_notes"

    id: Mapped[uuid.UUID] = id_column()
    body: Mapped[str] = mapped_column(String(200), nullable=False)


@pytest.fixture(scope="module")
async def db(rustok_database_url: str) -> AsyncIterator[Database]:
    database = Database(rustok_database_url, pool_size=2)
    async with database.engine.begin() as conn:
        await conn.run_sync(CoreScopingNote.__table__.create)
    yield database
    await database.dispose()
    # Keep the shared metadata to real tables for whatever runs later in this session.
    metadata.remove(CoreScopingNote.__table__)


@dataclass(frozen=True)
class Tenants:
    a: uuid.UUID
    b: uuid.UUID


@pytest.fixture
async def tenants(db: Database) -> Tenants:
    """Two fresh tenants per test, so tests never see each other's rows."""
    pair = Tenants(uuid.uuid4(), uuid.uuid4())
    async with db.system_session() as session, session.begin():
        for tenant_id in (pair.a, pair.b):
            slug = f"core-{secrets.token_hex(4)}"
            session.add(Tenant(id=tenant_id, name=slug, slug=slug))
    return pair


async def add_notes(db: Database, tenant_id: uuid.UUID, *bodies: str) -> list[CoreScopingNote]:
    async with db.session(tenant_id) as session, session.begin():
        notes = [CoreScopingNote(body=body) for body in bodies]
        session.add_all(notes)
    return notes


async def stored_rows(db: Database, tenants: Tenants) -> set[tuple[uuid.UUID, str]]:
    """(tenant_id, body) of every note of both tenants, read through a system session."""
    async with db.system_session() as session:
        rows = await session.execute(
            select(CoreScopingNote.tenant_id, CoreScopingNote.body).where(
                CoreScopingNote.tenant_id.in_([tenants.a, tenants.b])
            )
        )
        return {(row.tenant_id, row.body) for row in rows}


async def visible_bodies(db: Database, tenant_id: uuid.UUID) -> set[str]:
    async with db.session(tenant_id) as session:
        return set((await session.scalars(select(CoreScopingNote.body))).all())


# --- stamping -----------------------------------------------------------------------------


async def test_rows_added_in_a_tenant_session_get_its_tenant_id(db: Database, tenants: Tenants) -> None:
    (note,) = await add_notes(db, tenants.a, "hello")
    assert note.tenant_id == tenants.a
    assert await stored_rows(db, tenants) == {(tenants.a, "hello")}


async def test_rows_may_carry_their_own_tenant_id_explicitly(db: Database, tenants: Tenants) -> None:
    async with db.session(tenants.a) as session, session.begin():
        session.add(CoreScopingNote(body="explicit", tenant_id=tenants.a))
    assert await stored_rows(db, tenants) == {(tenants.a, "explicit")}


async def test_adding_a_row_of_another_tenant_is_refused_and_nothing_is_stored(db: Database, tenants: Tenants) -> None:
    async with db.session(tenants.a) as session:
        session.add(CoreScopingNote(body="mine"))
        session.add(CoreScopingNote(body="smuggled", tenant_id=tenants.b))
        with pytest.raises(TenantIsolationError) as caught:
            await session.commit()
    error = caught.value
    assert isinstance(error, Forbidden)
    assert error.code is ErrorCode.FORBIDDEN
    assert error.http_status == 403
    assert error.details == {"reason": "TENANT_ISOLATION"}
    assert await stored_rows(db, tenants) == set()


async def test_bulk_insert_rows_are_stamped(db: Database, tenants: Tenants) -> None:
    async with db.session(tenants.a) as session, session.begin():
        await session.execute(insert(CoreScopingNote), [{"body": "bulk 1"}, {"body": "bulk 2"}])
        await session.execute(insert(CoreScopingNote), {"body": "single"})
    assert await stored_rows(db, tenants) == {(tenants.a, "bulk 1"), (tenants.a, "bulk 2"), (tenants.a, "single")}


async def test_bulk_insert_row_of_another_tenant_is_refused(db: Database, tenants: Tenants) -> None:
    async with db.session(tenants.a) as session:
        with pytest.raises(TenantIsolationError, match="another tenant"):
            await session.execute(
                insert(CoreScopingNote),
                [{"body": "ok", "tenant_id": tenants.a}, {"body": "smuggled", "tenant_id": tenants.b}],
            )
        await session.commit()
    assert await stored_rows(db, tenants) == set()


async def test_bulk_insert_with_inline_values_is_refused_in_a_tenant_session(db: Database, tenants: Tenants) -> None:
    async with db.session(tenants.a) as session:
        with pytest.raises(TenantIsolationError, match="must pass its rows as parameters"):
            await session.execute(insert(CoreScopingNote).values(body="inline", tenant_id=tenants.b))
        await session.commit()
    assert await stored_rows(db, tenants) == set()


# --- reading ---------------------------------------------------------------------------------------


async def test_a_tenant_session_only_sees_its_own_rows(db: Database, tenants: Tenants) -> None:
    await add_notes(db, tenants.a, "a1", "a2")
    await add_notes(db, tenants.b, "b1")
    assert await visible_bodies(db, tenants.a) == {"a1", "a2"}
    assert await visible_bodies(db, tenants.b) == {"b1"}


async def test_a_system_session_sees_every_tenants_rows(db: Database, tenants: Tenants) -> None:
    await add_notes(db, tenants.a, "a1")
    await add_notes(db, tenants.b, "b1")
    assert await stored_rows(db, tenants) == {(tenants.a, "a1"), (tenants.b, "b1")}


async def test_another_tenant_cannot_load_a_row_by_primary_key(db: Database, tenants: Tenants) -> None:
    (note,) = await add_notes(db, tenants.a, "private")
    async with db.session(tenants.b) as session:
        assert await session.get(CoreScopingNote, note.id) is None
        assert (await session.scalars(select(CoreScopingNote).where(CoreScopingNote.id == note.id))).all() == []
    async with db.session(tenants.a) as session:
        loaded = await session.get(CoreScopingNote, note.id)
        assert loaded is not None
        assert loaded.body == "private"


async def test_filters_on_tenant_id_cannot_widen_the_scope(db: Database, tenants: Tenants) -> None:
    await add_notes(db, tenants.a, "a1")
    async with db.session(tenants.b) as session:
        query = select(CoreScopingNote.body).where(CoreScopingNote.tenant_id == tenants.a)
        assert (await session.scalars(query)).all() == []


async def test_aggregates_are_scoped(db: Database, tenants: Tenants) -> None:
    await add_notes(db, tenants.a, "a1", "a2", "a3")
    await add_notes(db, tenants.b, "b1")
    async with db.session(tenants.b) as session:
        assert await session.scalar(select(func.count(CoreScopingNote.id))) == 1
        assert await session.scalar(select(func.count()).select_from(CoreScopingNote)) == 1


async def test_aliases_and_self_joins_are_scoped_too(db: Database, tenants: Tenants) -> None:
    await add_notes(db, tenants.a, "a1")
    await add_notes(db, tenants.b, "b1")
    other = aliased(CoreScopingNote)
    # every pair of notes of different tenants
    cross_tenant = (
        select(CoreScopingNote.body, other.body)
        .join(other, other.tenant_id != CoreScopingNote.tenant_id)
        .where(CoreScopingNote.tenant_id.in_([tenants.a, tenants.b]), other.tenant_id.in_([tenants.a, tenants.b]))
    )
    async with db.system_session() as session:
        assert {tuple(row) for row in await session.execute(cross_tenant)} == {("a1", "b1"), ("b1", "a1")}
    async with db.session(tenants.a) as session:
        assert (await session.execute(cross_tenant)).all() == []
        assert set((await session.scalars(select(other.body))).all()) == {"a1"}


# --- updating and deleting ----------------------------------------------------------------------------


async def test_another_tenant_cannot_bulk_update_rows(db: Database, tenants: Tenants) -> None:
    (note,) = await add_notes(db, tenants.a, "original")
    await add_notes(db, tenants.b, "b1")
    async with db.session(tenants.b) as session, session.begin():
        targeted = await session.execute(
            update(CoreScopingNote).where(CoreScopingNote.id == note.id).values(body="hacked")
        )
        assert targeted.rowcount == 0
        everything = await session.execute(update(CoreScopingNote).values(body="b changed"))
        assert everything.rowcount == 1
    assert await stored_rows(db, tenants) == {(tenants.a, "original"), (tenants.b, "b changed")}


async def test_another_tenant_cannot_bulk_delete_rows(db: Database, tenants: Tenants) -> None:
    (note,) = await add_notes(db, tenants.a, "keep me")
    await add_notes(db, tenants.b, "b1", "b2")
    async with db.session(tenants.b) as session, session.begin():
        targeted = await session.execute(delete(CoreScopingNote).where(CoreScopingNote.id == note.id))
        assert targeted.rowcount == 0
        everything = await session.execute(delete(CoreScopingNote))
        assert everything.rowcount == 2
    assert await stored_rows(db, tenants) == {(tenants.a, "keep me")}


async def test_a_tenant_updates_and_deletes_its_own_rows(db: Database, tenants: Tenants) -> None:
    first, second = await add_notes(db, tenants.a, "first", "second")
    async with db.session(tenants.a) as session, session.begin():
        loaded = await session.get(CoreScopingNote, first.id)
        assert loaded is not None
        loaded.body = "first, edited"
        doomed = await session.get(CoreScopingNote, second.id)
        await session.delete(doomed)
    assert await stored_rows(db, tenants) == {(tenants.a, "first, edited")}


async def test_an_object_of_another_tenant_cannot_be_changed_through_a_tenant_session(
    db: Database, tenants: Tenants
) -> None:
    (note,) = await add_notes(db, tenants.a, "original")
    async with db.system_session() as system:
        foreign = await system.get(CoreScopingNote, note.id)
    assert foreign is not None
    async with db.session(tenants.b) as session:
        session.add(foreign)  # detached object loaded elsewhere
        foreign.body = "hacked"
        with pytest.raises(TenantIsolationError, match="belongs to another tenant"):
            await session.commit()
    assert await stored_rows(db, tenants) == {(tenants.a, "original")}


async def test_an_object_of_another_tenant_cannot_be_deleted_through_a_tenant_session(
    db: Database, tenants: Tenants
) -> None:
    (note,) = await add_notes(db, tenants.a, "original")
    async with db.system_session() as system:
        foreign = await system.get(CoreScopingNote, note.id)
    async with db.session(tenants.b) as session:
        session.add(foreign)
        await session.delete(foreign)
        with pytest.raises(TenantIsolationError, match="belongs to another tenant"):
            await session.commit()
    assert await stored_rows(db, tenants) == {(tenants.a, "original")}


async def test_a_row_cannot_be_moved_to_another_tenant(db: Database, tenants: Tenants) -> None:
    (note,) = await add_notes(db, tenants.a, "stay")
    async with db.session(tenants.a) as session:
        loaded = await session.get(CoreScopingNote, note.id)
        assert loaded is not None
        loaded.tenant_id = tenants.b
        with pytest.raises(TenantIsolationError):
            await session.commit()
    assert await stored_rows(db, tenants) == {(tenants.a, "stay")}


# --- unscoped sessions ---------------------------------------------------------------------------------


async def test_a_session_that_is_neither_tenant_nor_system_refuses_to_query(db: Database, tenants: Tenants) -> None:
    await add_notes(db, tenants.a, "a1")
    async with db._sessions() as session:
        with pytest.raises(RuntimeError, match="neither tenant-scoped nor a system session"):
            await session.execute(select(CoreScopingNote))
        with pytest.raises(RuntimeError, match="neither tenant-scoped nor a system session"):
            await session.execute(text("SELECT 1"))


async def test_a_session_that_is_neither_tenant_nor_system_refuses_to_write(db: Database, tenants: Tenants) -> None:
    async with AsyncSession(db.engine, sync_session_class=RustokSession) as session:
        session.add(CoreScopingNote(body="orphan", tenant_id=tenants.a))
        with pytest.raises(RuntimeError, match="neither tenant-scoped nor a system session"):
            await session.commit()
    assert await stored_rows(db, tenants) == set()


async def test_sessions_know_their_scope(db: Database, tenants: Tenants) -> None:
    async with db.session(tenants.a) as scoped, db.system_session() as system:
        assert isinstance(scoped.sync_session, RustokSession)
        assert scoped.sync_session.tenant_id == tenants.a
        assert system.sync_session.tenant_id is None


async def test_session_needs_a_uuid(db: Database) -> None:
    with pytest.raises(TypeError, match="tenant's UUID"):
        db.session(str(uuid.uuid4()))  # type: ignore[arg-type]


async def test_a_session_bound_to_a_connection_joins_its_transaction(db: Database, tenants: Tenants) -> None:
    async with db.engine.connect() as conn:
        transaction = await conn.begin()
        session = db.session(tenants.a, bind=conn)
        session.add(CoreScopingNote(body="rolled back"))
        await session.flush()
        assert await visible_bodies_on(session) == {"rolled back"}
        await session.close()
        await transaction.rollback()
    assert await stored_rows(db, tenants) == set()


async def visible_bodies_on(session: AsyncSession) -> set[str]:
    return set((await session.scalars(select(CoreScopingNote.body))).all())


async def test_ping_reaches_the_database(db: Database) -> None:
    await db.ping()


# --- urls ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u:p@db.example:5432/shop",
        "postgresql://u:p@db.example:5432/shop",
        "postgresql+psycopg://u:p@db.example:5432/shop",
    ],
)
def test_normalize_url_uses_psycopg_and_keeps_the_password(url: str) -> None:
    assert normalize_url(url) == "postgresql+psycopg://u:p@db.example:5432/shop"


def test_normalize_url_refuses_other_databases() -> None:
    with pytest.raises(ValueError, match="only PostgreSQL is supported"):
        normalize_url("mysql://u:p@db.example/shop")
