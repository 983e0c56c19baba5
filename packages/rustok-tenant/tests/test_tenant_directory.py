"""Creating, finding and updating tenants through the TenantDirectory service."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from rustok_core.errors import Conflict, NotFound, Validation
from rustok_core.ids import id_to_ulid
from rustok_core.interfaces import TenantDirectory
from rustok_tenant.models import Tenant, TenantModule


@pytest.fixture
def directory(rustok_platform: Any) -> TenantDirectory:
    return rustok_platform.ctx.services.get(TenantDirectory)


async def count_tenants(platform: Any) -> int:
    async with platform.ctx.db.system_session() as session:
        return int(await session.scalar(select(func.count()).select_from(Tenant)) or 0)


async def test_a_created_tenant_is_found_by_slug_uuid_and_ulid(directory: TenantDirectory) -> None:
    created = await directory.create(slug="found-me", name="  Found Me  ", default_locale="de", locales=["en", "de"])
    assert created.name == "Found Me"
    assert created.default_locale == "de"
    assert created.locales == ("de", "en")
    assert created.is_active
    assert "tenant" in created.enabled_modules
    for key in ("found-me", str(created.id), id_to_ulid(created.id), created.id):
        assert (await directory.get(key)).id == created.id


async def test_unknown_and_malformed_keys(directory: TenantDirectory) -> None:
    with pytest.raises(NotFound, match="tenant 'nobody' not found"):
        await directory.get("nobody")
    with pytest.raises(Validation, match="neither a tenant id nor a tenant slug"):
        await directory.get("Not A Slug!")


async def test_a_taken_slug_is_a_conflict_and_stores_nothing(directory: TenantDirectory, rustok_platform: Any) -> None:
    await directory.create(slug="taken", name="First")
    before = await count_tenants(rustok_platform)
    with pytest.raises(Conflict, match="already taken"):
        await directory.create(slug="taken", name="Second")
    assert await count_tenants(rustok_platform) == before
    assert (await directory.get("taken")).name == "First"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"slug": "Bad Slug", "name": "x"}, ("slug",)),
        ({"slug": "api", "name": "x"}, ("slug",)),
        ({"slug": "ok-slug", "name": "   "}, ("name",)),
        ({"slug": "ok-slug", "name": "x" * 256}, ("name",)),
        ({"slug": "ok-slug", "name": "x", "default_locale": "English"}, ("defaultLocale",)),
        ({"slug": "ok-slug", "name": "x", "locales": ["en", "bad locale"]}, ("locales", "1")),
    ],
)
async def test_invalid_input_is_refused_naming_the_field(
    directory: TenantDirectory, rustok_platform: Any, kwargs: dict[str, Any], field: tuple[str, ...]
) -> None:
    before = await count_tenants(rustok_platform)
    with pytest.raises(Validation) as excinfo:
        await directory.create(**kwargs)
    assert excinfo.value.field_errors[0].path == field
    assert await count_tenants(rustok_platform) == before


async def test_unknown_modules_are_refused_at_creation(directory: TenantDirectory, rustok_platform: Any) -> None:
    before = await count_tenants(rustok_platform)
    with pytest.raises(NotFound, match="unknown modules: nope"):
        await directory.create(slug="with-unknown", name="x", modules=["nope"])
    assert await count_tenants(rustok_platform) == before


async def test_update_changes_profile_and_activity(directory: TenantDirectory) -> None:
    created = await directory.create(slug="to-update", name="Before")
    updated = await directory.update("to-update", name="After", is_active=False, locales=["fr"])
    assert (updated.name, updated.is_active, updated.locales) == ("After", False, ("en", "fr"))
    assert (await directory.get(created.id)).name == "After"
    with pytest.raises(Validation):
        await directory.update("to-update", name="")


async def test_list_all_is_ordered_by_slug(directory: TenantDirectory) -> None:
    await directory.create(slug="zz-last", name="Z")
    await directory.create(slug="aa-first", name="A")
    slugs = [t.slug for t in await directory.list_all()]
    assert slugs == sorted(slugs)
    assert {"aa-first", "zz-last"} <= set(slugs)


async def test_deleting_a_tenant_cascades_to_its_module_rows(directory: TenantDirectory, rustok_platform: Any) -> None:
    created = await directory.create(slug="cascade", name="C")
    async with rustok_platform.ctx.db.system_session() as session, session.begin():
        session.add(TenantModule(tenant_id=created.id, module_slug="something", enabled=False, settings={}))
    async with rustok_platform.ctx.db.system_session() as session, session.begin():
        await session.delete(await session.get(Tenant, created.id))
    async with rustok_platform.ctx.db.system_session() as session:
        left = await session.scalar(
            select(func.count()).select_from(TenantModule).where(TenantModule.tenant_id == created.id)
        )
    assert left == 0
