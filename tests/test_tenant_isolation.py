"""Tenant isolation is enforced by the data layer: tenant B's session cannot see or
touch tenant A's rows, whatever the query looks like."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import aliased

from rustok_core.db import TenantIsolationError
from rustok_tenant.models import TenantModule


async def rows_of(platform: Any, tenant_id: Any) -> list[TenantModule]:
    async with platform.ctx.db.system_session() as session:
        stmt = select(TenantModule).where(TenantModule.tenant_id == tenant_id).order_by(TenantModule.module_slug)
        return list((await session.scalars(stmt)).all())


async def test_rows_of_one_tenant_are_invisible_and_untouchable_from_another(
    rustok_platform: Any, make_tenant: Any
) -> None:
    db = rustok_platform.ctx.db
    a = await make_tenant(name="A", modules=[])
    b = await make_tenant(name="B", modules=[])

    # A writes through its own scoped session; tenant_id is stamped, not passed.
    async with db.session(a.id) as session, session.begin():
        session.add(TenantModule(module_slug="a-private", enabled=True, settings={"secret": "a"}))
    [row] = await rows_of(rustok_platform, a.id)
    assert row.settings == {"secret": "a"}

    async with db.session(b.id) as session:
        assert (await session.scalars(select(TenantModule))).all() == []
        assert await session.get(TenantModule, row.id) is None
        where_a = select(TenantModule).where(TenantModule.tenant_id == a.id)
        assert (await session.scalars(where_a)).all() == []
        alias = aliased(TenantModule)
        assert (await session.scalars(select(alias).where(alias.id == row.id))).all() == []
        count = await session.scalar(select(func.count()).select_from(TenantModule).where(TenantModule.id == row.id))
        assert count == 0

    async with db.session(b.id) as session, session.begin():
        updated = await session.execute(update(TenantModule).where(TenantModule.id == row.id).values(enabled=False))
        deleted = await session.execute(delete(TenantModule).where(TenantModule.id == row.id))
        assert updated.rowcount == 0
        assert deleted.rowcount == 0

    [after] = await rows_of(rustok_platform, a.id)
    assert (after.enabled, after.settings) == (True, {"secret": "a"})


async def test_writing_rows_for_another_tenant_is_refused_and_stores_nothing(
    rustok_platform: Any, make_tenant: Any
) -> None:
    db = rustok_platform.ctx.db
    a = await make_tenant(modules=[])
    b = await make_tenant(modules=[])

    with pytest.raises(TenantIsolationError):
        async with db.session(b.id) as session, session.begin():
            session.add(TenantModule(tenant_id=a.id, module_slug="smuggled", enabled=True, settings={}))
    with pytest.raises(TenantIsolationError):
        async with db.session(b.id) as session, session.begin():
            await session.execute(
                insert(TenantModule), [{"tenant_id": a.id, "module_slug": "bulk", "enabled": True, "settings": {}}]
            )
    assert await rows_of(rustok_platform, a.id) == []

    async with db.session(b.id) as session, session.begin():
        await session.execute(insert(TenantModule), [{"module_slug": "stamped", "enabled": True, "settings": {}}])
    assert [r.module_slug for r in await rows_of(rustok_platform, b.id)] == ["stamped"]


async def test_objects_loaded_for_one_tenant_cannot_be_moved_to_another(rustok_platform: Any, make_tenant: Any) -> None:
    db = rustok_platform.ctx.db
    a = await make_tenant(modules=[])
    b = await make_tenant(modules=[])
    async with db.session(a.id) as session, session.begin():
        session.add(TenantModule(module_slug="mine", enabled=True, settings={}))
    async with db.session(a.id) as session:
        row = (await session.scalars(select(TenantModule))).one()
        row.tenant_id = b.id
        with pytest.raises(TenantIsolationError):
            await session.commit()
    assert [r.module_slug for r in await rows_of(rustok_platform, a.id)] == ["mine"]
    assert await rows_of(rustok_platform, b.id) == []
