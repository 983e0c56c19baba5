"""Which tenant a request is served for: header (id or slug) and default modes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from rustok_core.errors import BootError
from rustok_core.ids import id_to_ulid
from rustok_core.interfaces import TenantDirectory
from rustok_server.app import create_app
from rustok_testing.client import RustokClient, error_codes

CURRENT = "{ currentTenant { slug name } }"


async def test_the_header_names_a_tenant_by_slug_uuid_or_ulid(rustok_client: RustokClient, make_tenant: Any) -> None:
    tenant = await make_tenant(name="Header Shop")
    for key in (tenant.slug, str(tenant.id), id_to_ulid(tenant.id)):
        data = await rustok_client.graphql_data(CURRENT, tenant=key)
        assert data["currentTenant"] == {"slug": tenant.slug, "name": "Header Shop"}


async def test_without_the_header_there_is_no_current_tenant(rustok_client: RustokClient) -> None:
    assert (await rustok_client.graphql_data(CURRENT))["currentTenant"] is None


async def test_an_unknown_tenant_is_not_found(rustok_client: RustokClient) -> None:
    body = await rustok_client.graphql(CURRENT, tenant="ghost-shop", expect_status=404)
    assert error_codes(body) == ["NOT_FOUND"]
    assert "ghost-shop" in body["errors"][0]["message"]


async def test_a_malformed_tenant_header_is_a_validation_error(rustok_client: RustokClient) -> None:
    body = await rustok_client.graphql(CURRENT, tenant="Not A Tenant!", expect_status=422)
    assert error_codes(body) == ["VALIDATION"]


async def test_an_inactive_tenant_is_refused(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    await rustok_platform.ctx.services.get(TenantDirectory).update(tenant.id, is_active=False)
    body = await rustok_client.graphql(CURRENT, tenant=tenant, expect_status=403)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["reason"] == "TENANT_INACTIVE"
    rest = await rustok_client.get("/api/v1/tenant/current", headers={"X-Tenant-ID": tenant.slug})
    assert rest.status_code == 403
    assert rest.json()["code"] == "FORBIDDEN"


async def test_health_endpoints_do_not_resolve_tenants(rustok_client: RustokClient) -> None:
    response = await rustok_client.get("/health", headers={"X-Tenant-ID": "ghost-shop"})
    assert response.status_code == 200


@pytest.fixture
async def default_mode(boot_platform: Any, make_tenant: Any) -> AsyncIterator[tuple[Any, RustokClient]]:
    first = await make_tenant(name="The Only Shop")
    platform = boot_platform(**{"rustok.tenant.resolution": "default", "rustok.tenant.default_id": first.slug})
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield first, client


async def test_default_mode_serves_every_request_for_the_default_tenant(default_mode: Any) -> None:
    tenant, client = default_mode
    data = await client.graphql_data(CURRENT)
    assert data["currentTenant"]["slug"] == tenant.slug
    other = await client.graphql_data(CURRENT, tenant="someone-else")
    assert other["currentTenant"]["slug"] == tenant.slug


async def test_a_custom_header_name_is_honoured(boot_platform: Any, make_tenant: Any) -> None:
    tenant = await make_tenant()
    platform = boot_platform(**{"rustok.tenant.header_name": "X-Shop"})
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app, tenant_header="X-Shop") as client:
        data = await client.graphql_data(CURRENT, tenant=tenant)
        assert data["currentTenant"]["slug"] == tenant.slug
        ignored = await client.graphql_data(CURRENT, headers={"X-Tenant-ID": tenant.slug})
        assert ignored["currentTenant"] is None


def test_default_mode_needs_a_default_tenant(boot_platform: Any) -> None:
    with pytest.raises(BootError, match=r"rustok\.tenant\.default_id is required"):
        boot_platform(**{"rustok.tenant.resolution": "default"})
    with pytest.raises(BootError, match="default_id is required"):
        boot_platform(**{"rustok.tenant.enabled": False})
