"""Host, subdomain and proxy-aware tenant resolution, behind the tenant cache."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from rustok_core.errors import Conflict, NotFound, Validation
from rustok_core.interfaces import TenantDirectory
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.queries import QueryCounter

CURRENT = "{ currentTenant { slug } }"


@asynccontextmanager
async def serving(platform: Platform) -> AsyncIterator[RustokClient]:
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield client


async def current(client: RustokClient, **headers: str) -> dict[str, Any]:
    return await client.graphql(CURRENT, headers=headers, expect_status=None)


class StatementCounter(QueryCounter):
    """Statements the test's own code causes (not background work such as the index's)."""

    def tenant_lookups(self) -> int:
        return sum(1 for s in self.statements if "FROM tenants" in s)


@pytest.fixture
def counter(rustok_platform: Platform) -> Iterator[StatementCounter]:
    counting = StatementCounter(rustok_platform)
    with counting:
        yield counting


# --- host mode --------------------------------------------------------------------------


async def test_host_mode_serves_the_tenant_owning_the_domain(boot_platform: Any, make_tenant: Any) -> None:
    platform = boot_platform(**{"rustok.tenant.resolution": "host"})
    tenant = await make_tenant(platform=platform)
    directory = platform.ctx.services.get(TenantDirectory)
    updated = await directory.add_domain(tenant.id, "Shop.Example.COM")
    assert updated.domains == ("shop.example.com",)
    async with serving(platform) as client:
        assert (await current(client, host="shop.example.com:8443"))["data"]["currentTenant"]["slug"] == tenant.slug
        unknown = await current(client, host="nobody.example.com")
        assert error_codes(unknown) == ["NOT_FOUND"]
        # The header does not choose the tenant in host mode.
        ignored = await current(client, host="nobody.example.com", **{"X-Tenant-ID": tenant.slug})
        assert error_codes(ignored) == ["NOT_FOUND"]

        await directory.remove_domain(tenant.id, "shop.example.com")
        gone = await current(client, host="shop.example.com")
        assert error_codes(gone) == ["NOT_FOUND"]


async def test_forwarded_host_is_ignored_from_an_untrusted_peer(boot_platform: Any, make_tenant: Any) -> None:
    # The test client's peer is 127.0.0.1, outside the trusted network.
    platform = boot_platform(**{"rustok.tenant.resolution": "host", "rustok.tenant.trusted_proxies": ["10.0.0.0/8"]})
    tenant = await make_tenant(platform=platform)
    await platform.ctx.services.get(TenantDirectory).add_domain(tenant.id, "victim.example.com")
    async with serving(platform) as client:
        spoofed = await current(client, host="attacker.example.com", **{"X-Forwarded-Host": "victim.example.com"})
        assert error_codes(spoofed) == ["NOT_FOUND"]
        assert "victim" not in str(spoofed)


async def test_forwarded_host_is_believed_from_a_trusted_proxy(boot_platform: Any, make_tenant: Any) -> None:
    platform = boot_platform(**{"rustok.tenant.resolution": "host", "rustok.tenant.trusted_proxies": ["127.0.0.1/32"]})
    tenant = await make_tenant(platform=platform)
    await platform.ctx.services.get(TenantDirectory).add_domain(tenant.id, "behind-proxy.example.com")
    async with serving(platform) as client:
        body = await current(client, host="internal:8000", **{"X-Forwarded-Host": "behind-proxy.example.com"})
        assert body["data"]["currentTenant"]["slug"] == tenant.slug


async def test_domains_are_validated_and_unique_across_tenants(rustok_platform: Platform, make_tenant: Any) -> None:
    directory = rustok_platform.ctx.services.get(TenantDirectory)
    first = await make_tenant()
    second = await make_tenant()
    await directory.add_domain(first.id, "taken.example.com")
    with pytest.raises(Conflict, match="already in use"):
        await directory.add_domain(second.id, "TAKEN.example.com")
    for bad in ("localhost", "127.0.0.1", "bad_domain.com", "-x.example.com", "a" * 300 + ".com", ""):
        with pytest.raises(Validation):
            await directory.add_domain(second.id, bad)
    with pytest.raises(NotFound):
        await directory.remove_domain(second.id, "taken.example.com")
    assert (await directory.get(second.id)).domains == ()


# --- subdomain mode -------------------------------------------------------------------------


async def test_subdomain_mode_maps_the_first_label_to_a_slug(boot_platform: Any, make_tenant: Any) -> None:
    platform = boot_platform(**{"rustok.tenant.resolution": "subdomain", "rustok.tenant.base_domain": "Shops.Example"})
    tenant = await make_tenant(platform=platform)
    custom = await make_tenant(platform=platform)
    await platform.ctx.services.get(TenantDirectory).add_domain(custom.id, "custom-brand.com")
    async with serving(platform) as client:
        assert (await current(client, host=f"{tenant.slug}.shops.example"))["data"]["currentTenant"]["slug"] == (
            tenant.slug
        )
        assert (await current(client, host="shops.example"))["data"]["currentTenant"] is None
        nested = await current(client, host=f"a.{tenant.slug}.shops.example")
        assert error_codes(nested) == ["NOT_FOUND"]
        missing = await current(client, host="ghost.shops.example")
        assert error_codes(missing) == ["NOT_FOUND"]
        # Hosts outside the base domain fall back to tenant domains.
        assert (await current(client, host="custom-brand.com"))["data"]["currentTenant"]["slug"] == custom.slug


def test_subdomain_mode_needs_a_base_domain(boot_platform: Any) -> None:
    from rustok_core.errors import BootError

    with pytest.raises(BootError, match="base_domain is required"):
        boot_platform(**{"rustok.tenant.resolution": "subdomain"})


async def test_malformed_hosts_are_validation_errors(boot_platform: Any) -> None:
    platform = boot_platform(**{"rustok.tenant.resolution": "host"})
    async with serving(platform) as client:
        for host in ("bad host", "shop..example.com", "x" * 300):
            body = await current(client, host=host)
            assert error_codes(body) == ["VALIDATION"], host


# --- the cache ---------------------------------------------------------------------------------


async def test_a_warm_cache_resolves_without_the_database(
    rustok_client: RustokClient, make_tenant: Any, counter: StatementCounter
) -> None:
    tenant = await make_tenant()
    await current(rustok_client, **{"X-Tenant-ID": tenant.slug})
    counter.statements.clear()
    for _ in range(5):
        assert (await current(rustok_client, **{"X-Tenant-ID": tenant.slug}))["data"]["currentTenant"]
    assert counter.tenant_lookups() == 0


async def test_concurrent_cold_requests_make_one_database_query(
    rustok_platform: Platform, make_tenant: Any, counter: StatementCounter
) -> None:
    import asyncio

    from rustok_core.interfaces import TenantResolver

    tenant = await make_tenant()
    resolver = rustok_platform.ctx.services.get(TenantResolver)
    counter.statements.clear()
    resolved = await asyncio.gather(*(resolver.by_id(tenant.id) for _ in range(100)))
    assert {t.id for t in resolved} == {tenant.id}
    assert counter.tenant_lookups() == 1


async def test_unknown_tenants_are_cached_briefly_and_forgotten_on_creation(
    rustok_client: RustokClient, make_tenant: Any, counter: StatementCounter
) -> None:
    for _ in range(5):
        assert error_codes(await current(rustok_client, **{"X-Tenant-ID": "soon-to-exist"})) == ["NOT_FOUND"]
    assert counter.tenant_lookups() == 1
    created = await make_tenant(slug="soon-to-exist")
    body = await current(rustok_client, **{"X-Tenant-ID": "soon-to-exist"})
    assert body["data"]["currentTenant"]["slug"] == created.slug


async def test_changes_to_a_tenant_reach_resolution_at_once(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    assert (await current(rustok_client, **{"X-Tenant-ID": tenant.slug}))["data"]["currentTenant"]
    await rustok_platform.ctx.services.get(TenantDirectory).update(tenant.id, is_active=False)
    assert error_codes(await current(rustok_client, **{"X-Tenant-ID": str(tenant.id)})) == ["FORBIDDEN"]
    assert error_codes(await current(rustok_client, **{"X-Tenant-ID": tenant.slug})) == ["FORBIDDEN"]


async def test_warm_resolution_shares_one_tenant_value_until_the_tenant_changes(
    rustok_platform: Platform, make_tenant: Any
) -> None:
    from rustok_core.interfaces import TenantResolver

    tenant = await make_tenant(name="Before")
    resolver = rustok_platform.ctx.services.get(TenantResolver)
    await resolver.by_id(tenant.id)  # loads and caches
    warm = [await resolver.by_id(tenant.id) for _ in range(3)]
    assert all(value is warm[0] for value in warm)
    assert warm[0].name == "Before"

    await rustok_platform.ctx.services.get(TenantDirectory).update(tenant.id, name="After")
    changed = [await resolver.by_id(tenant.id) for _ in range(2)]
    assert [value.name for value in changed] == ["After", "After"]
    assert warm[0].name == "Before"  # the value handed out earlier did not change under its holder


async def test_cache_counters_are_exported_as_metrics(rustok_client: RustokClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    for _ in range(3):
        await current(rustok_client, **{"X-Tenant-ID": tenant.slug})
    await current(rustok_client, **{"X-Tenant-ID": "no-such-shop-here"})
    metrics = (await rustok_client.get("/metrics")).text
    lines = {line.split(" ")[0]: float(line.split(" ")[1]) for line in metrics.splitlines() if "cache_lookups{" in line}
    assert lines['rustok_cache_lookups{cache="tenant",result="hit"}'] >= 2
    assert lines['rustok_cache_lookups{cache="tenant",result="miss"}'] >= 2
    assert 'rustok_cache_lookups{cache="tenant",result="negative"}' in lines
