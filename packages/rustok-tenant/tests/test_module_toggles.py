"""Per-tenant module toggles: dependencies both ways, core modules, lifecycle hooks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from rustok_core.errors import Conflict, Internal, NotFound, Validation
from rustok_core.interfaces import TenantDirectory
from rustok_server.boot import Platform
from rustok_tenant.models import TenantModule
from rustok_testing.samples import SampleModule, core_plugins, make_alpha, make_beta


@pytest.fixture
def platform(boot_platform: Any) -> tuple[Platform, SampleModule, SampleModule]:
    alpha, beta = make_alpha(), make_beta()
    return boot_platform(plugins=[*core_plugins(), alpha, beta]), alpha, beta


async def module_rows(platform: Platform, tenant_id: Any) -> dict[str, TenantModule]:
    async with platform.ctx.db.session(tenant_id) as session:
        return {row.module_slug: row for row in (await session.scalars(select(TenantModule))).all()}


async def test_new_tenants_get_every_optional_module_in_dependency_order(platform: Any) -> None:
    booted, alpha, beta = platform
    tenant = await booted.ctx.services.get(TenantDirectory).create(slug="all-on", name="All")
    assert tenant.enabled_modules == {"events", "tenant", "rbac", "alpha", "beta"}
    assert alpha.enable_calls == [tenant.id]
    assert beta.enable_calls == [tenant.id]
    rows = await module_rows(booted, tenant.id)
    assert rows["alpha"].settings == {"initialized": True}
    assert rows["alpha"].enabled_at is not None


async def test_creating_with_a_module_but_not_its_dependency_is_refused(platform: Any) -> None:
    booted, _, _ = platform
    directory = booted.ctx.services.get(TenantDirectory)
    with pytest.raises(Conflict, match="cannot enable 'beta' without 'alpha'"):
        await directory.create(slug="half", name="Half", modules=["beta"])
    with pytest.raises(NotFound):
        await directory.get("half")


async def test_dependencies_are_enforced_in_both_directions(platform: Any) -> None:
    booted, _, _ = platform
    directory = booted.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug="deps", name="Deps", modules=[])
    assert tenant.enabled_modules == {"events", "tenant", "rbac"}

    with pytest.raises(Conflict) as refused:
        await directory.set_module_enabled(tenant.id, "beta", True)
    assert refused.value.details["missingDependencies"] == ["alpha"]

    await directory.set_module_enabled(tenant.id, "alpha", True)
    enabled = await directory.set_module_enabled(tenant.id, "beta", True)
    assert enabled.enabled_modules == {"events", "tenant", "rbac", "alpha", "beta"}

    with pytest.raises(Conflict) as blocked:
        await directory.set_module_enabled(tenant.id, "alpha", False)
    assert blocked.value.details["enabledDependents"] == ["beta"]
    assert (await directory.get(tenant.id)).enabled_modules == {"events", "tenant", "rbac", "alpha", "beta"}

    await directory.set_module_enabled(tenant.id, "beta", False)
    final = await directory.set_module_enabled(tenant.id, "alpha", False)
    assert final.enabled_modules == {"events", "tenant", "rbac"}


async def test_core_modules_cannot_be_disabled_and_unknown_modules_are_not_found(platform: Any) -> None:
    booted, _, _ = platform
    directory = booted.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug="core-stays", name="Core")
    with pytest.raises(Conflict, match="core module"):
        await directory.set_module_enabled(tenant.id, "tenant", False)
    assert (await directory.set_module_enabled(tenant.id, "tenant", True)).module_enabled("tenant")
    with pytest.raises(NotFound, match="unknown module 'gamma'"):
        await directory.set_module_enabled(tenant.id, "gamma", True)


async def test_toggling_to_the_current_state_runs_no_hook(platform: Any) -> None:
    booted, alpha, _ = platform
    directory = booted.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug="idempotent", name="Same")
    calls = len(alpha.enable_calls)
    await directory.set_module_enabled(tenant.id, "alpha", True)
    assert len(alpha.enable_calls) == calls


async def test_disable_hook_runs_and_data_stays(platform: Any) -> None:
    booted, _, beta = platform
    directory = booted.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug="disable-me", name="Off")
    await directory.set_module_enabled(tenant.id, "beta", False)
    assert beta.disable_calls == [tenant.id]
    rows = await module_rows(booted, tenant.id)
    assert rows["beta"].enabled is False
    assert rows["beta"].settings == {"initialized": True}


async def test_a_failing_enable_hook_rolls_the_toggle_back(platform: Any) -> None:
    booted, alpha, _ = platform
    directory = booted.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug="fragile", name="Fragile", modules=[])

    alpha.fail_on_enable = RuntimeError("cannot prepare storage")
    with pytest.raises(Internal, match="module 'alpha' failed to enable: cannot prepare storage"):
        await directory.set_module_enabled(tenant.id, "alpha", True)
    assert (await directory.get(tenant.id)).enabled_modules == {"events", "tenant", "rbac"}
    assert await module_rows(booted, tenant.id) == {}

    alpha.fail_on_enable = Validation("bad settings", field="settings")
    with pytest.raises(Validation, match="bad settings"):
        await directory.set_module_enabled(tenant.id, "alpha", True)
    assert await module_rows(booted, tenant.id) == {}

    alpha.fail_on_enable = None
    assert "alpha" in (await directory.set_module_enabled(tenant.id, "alpha", True)).enabled_modules


async def test_a_failing_hook_during_creation_stores_no_tenant(platform: Any) -> None:
    booted, _, beta = platform
    directory = booted.ctx.services.get(TenantDirectory)
    beta.fail_on_enable = RuntimeError("beta is broken")
    with pytest.raises(Internal):
        await directory.create(slug="never-born", name="Never")
    with pytest.raises(NotFound):
        await directory.get("never-born")
