"""Core's events (tenants, users, module toggles) are stored in the transaction of the write."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from rustok_core.errors import Internal
from rustok_core.interfaces import TenantDirectory
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.events import fetch
from rustok_testing.samples import SampleModule, core_plugins, make_alpha, make_beta

SIGN_UP = """
mutation($input: SignUpInput!) { signUp(input: $input) { user { id email } } }
"""


@pytest.fixture(scope="module")
def modules() -> tuple[SampleModule, SampleModule]:
    return make_alpha(), make_beta()


@pytest.fixture(scope="module")
def platform(boot_platform: Any, modules: tuple[SampleModule, SampleModule]) -> Platform:
    booted: Platform = boot_platform(plugins=[*core_plugins(), *modules], **{"rustok.events.relay": False})
    return booted


@pytest.fixture(scope="module")
async def client(platform: Platform) -> AsyncIterator[RustokClient]:
    app: Starlette = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as http:
        yield http


async def events_of(platform: Platform, tenant_id: uuid.UUID) -> list[Any]:
    return await fetch(
        platform,
        "SELECT event_type, schema_version, payload, xmin::text AS tx, created_at FROM sys_events "
        "WHERE tenant_id = :t ORDER BY id",
        t=tenant_id,
    )


async def test_creating_a_tenant_stores_its_events_in_the_same_transaction(platform: Platform) -> None:
    directory = platform.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug="evt-shop", name="Event Shop", default_locale="de")
    stored = await events_of(platform, tenant.id)
    assert [(row.event_type, row.payload.get("module")) for row in stored] == [
        ("tenant.created", None),
        ("module.enabled", "alpha"),
        ("module.enabled", "beta"),
    ]
    created = stored[0]
    assert created.schema_version == 1
    assert created.payload == {
        "tenant_id": str(tenant.id),
        "slug": "evt-shop",
        "name": "Event Shop",
        "default_locale": "de",
    }
    [tenant_tx] = await fetch(platform, "SELECT xmin::text AS tx FROM tenants WHERE id = :t", t=tenant.id)
    assert {row.tx for row in stored} == {tenant_tx.tx}, "the events were not written by the tenant's transaction"


async def test_a_tenant_with_no_optional_modules_stores_only_tenant_created(platform: Platform) -> None:
    tenant = await platform.ctx.services.get(TenantDirectory).create(slug="evt-bare", name="Bare", modules=[])
    assert [row.event_type for row in await events_of(platform, tenant.id)] == ["tenant.created"]


async def test_a_tenant_creation_that_fails_stores_no_event(
    platform: Platform, modules: tuple[SampleModule, SampleModule]
) -> None:
    alpha, _ = modules
    before = await fetch(platform, "SELECT count(*) AS n FROM sys_events")
    alpha.fail_on_enable = RuntimeError("alpha cannot start")
    try:
        with pytest.raises(Internal, match="alpha cannot start"):
            await platform.ctx.services.get(TenantDirectory).create(slug="evt-broken", name="Broken")
    finally:
        alpha.fail_on_enable = None
    after = await fetch(platform, "SELECT count(*) AS n FROM sys_events")
    assert after[0].n == before[0].n
    leaked = await fetch(platform, "SELECT 1 FROM sys_events WHERE payload->>'slug' = 'evt-broken'")
    assert leaked == []


async def test_toggling_a_module_stores_enabled_and_disabled_events(platform: Platform) -> None:
    directory = platform.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug="evt-toggle", name="Toggle", modules=["alpha"])
    await directory.set_module_enabled(tenant.id, "alpha", True)  # no change: no event
    await directory.set_module_enabled(tenant.id, "beta", True)
    await directory.set_module_enabled(tenant.id, "beta", False)
    await directory.set_module_enabled(tenant.id, "alpha", False)
    stored = [(row.event_type, row.payload.get("module")) for row in await events_of(platform, tenant.id)]
    assert stored == [
        ("tenant.created", None),
        ("module.enabled", "alpha"),
        ("module.enabled", "beta"),
        ("module.disabled", "beta"),
        ("module.disabled", "alpha"),
    ]


async def test_updating_a_tenant_stores_tenant_updated_with_what_changed(platform: Platform) -> None:
    directory = platform.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug="evt-update", name="Before", modules=[])
    await directory.update(tenant.id, name="After", is_active=False)
    await directory.update(tenant.id, name="After")  # nothing changed: no event
    updates = [row.payload for row in await events_of(platform, tenant.id) if row.event_type == "tenant.updated"]
    assert updates == [
        {"tenant_id": str(tenant.id), "slug": "evt-update", "is_active": False, "changed": ["name", "isActive"]}
    ]


async def test_sign_up_stores_user_registered(platform: Platform, client: RustokClient) -> None:
    tenant = await platform.ctx.services.get(TenantDirectory).create(slug="evt-users", name="Users", modules=[])
    variables = {"input": {"email": "New.User@Example.com", "password": "a long enough passphrase"}}
    data = await client.graphql_data(SIGN_UP, variables, tenant=tenant)
    user = data["signUp"]["user"]
    registered = [row for row in await events_of(platform, tenant.id) if row.event_type == "user.registered"]
    assert [row.payload for row in registered] == [
        {"user_id": user["id"], "email": user["email"], "verification_required": False}
    ]
    # now() is the transaction's start: the same instant means the same transaction (the
    # user row itself is updated again when the session opens, so its xmin moves on).
    [created] = await fetch(platform, "SELECT created_at FROM users WHERE id = :u", u=uuid.UUID(user["id"]))
    assert registered[0].created_at == created.created_at

    # A refused sign-up (the email is taken) stores nothing.
    body = await client.graphql(SIGN_UP, variables, tenant=tenant)
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    again = [row for row in await events_of(platform, tenant.id) if row.event_type == "user.registered"]
    assert len(again) == 1
