"""Scenario: two server instances share Redis.

A tenant resolved on instance A is cached there; an admin deactivates it through
instance B; A refuses the tenant's next request at once (the invalidation crossed
over Redis pub/sub), and the cache counters on /metrics count for the cluster.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from rustok_core.interfaces import TenantDirectory
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing import require_service
from rustok_testing.client import RustokClient, error_codes

CURRENT = "{ currentTenant { slug } }"


@pytest.fixture
def redis_url() -> str:
    return require_service("Redis", "REDIS_URL", 6379)


@pytest.fixture
async def cluster(boot_platform: Any, redis_url: str) -> AsyncIterator[list[tuple[Platform, RustokClient]]]:
    shared = {"cache.redis_url": redis_url, "cache.key_prefix": f"rustok-cluster-{secrets.token_hex(4)}"}
    instances = []
    async with AsyncExitStack() as stack:
        for _ in range(2):
            platform = boot_platform(**shared)
            app = create_app(platform)
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(RustokClient(app))
            instances.append((platform, client))
        yield instances


async def eventually(check: Any, within: float = 5.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.02)


async def test_a_change_on_one_instance_reaches_the_other_at_once(cluster: Any, make_tenant: Any) -> None:
    (a, client_a), (b, client_b) = cluster
    tenant = await make_tenant(platform=a)
    assert (await client_a.graphql_data(CURRENT, tenant=tenant))["currentTenant"]["slug"] == tenant.slug
    assert (await client_b.graphql_data(CURRENT, tenant=tenant))["currentTenant"]["slug"] == tenant.slug
    # A now holds the tenant in its own memory: only an invalidation can drop it.
    assert a.runtime.cache.get_local(f"tenant:slug:{tenant.slug}") is not None

    await b.ctx.services.get(TenantDirectory).update(tenant.id, is_active=False)

    async def refused_on_a() -> bool:
        body = await client_a.graphql(CURRENT, tenant=tenant, expect_status=None)
        return error_codes(body) == ["FORBIDDEN"]

    assert await eventually(refused_on_a), "instance A still serves the deactivated tenant"


async def test_cache_counters_add_up_across_instances(cluster: Any, make_tenant: Any) -> None:
    (a, client_a), (_, client_b) = cluster
    tenant = await make_tenant(platform=a)
    for client in (client_a, client_b, client_a, client_b):
        await client.graphql_data(CURRENT, tenant=tenant)

    def hits(text: str) -> float:
        for line in text.splitlines():
            if line.startswith('rustok_cache_lookups{cache="tenant",result="hit"}'):
                return float(line.split(" ")[1])
        return 0.0

    # Each instance reports the cluster's totals, read from Redis (an instance sends
    # its own recent counts when its metrics are read, so read A, B, then A again).
    await client_a.get("/metrics")
    metrics_b = (await client_b.get("/metrics")).text
    metrics_a = (await client_a.get("/metrics")).text
    assert hits(metrics_a) == hits(metrics_b)
    assert hits(metrics_a) >= 2  # the 4 requests: at most one miss per instance


async def test_rate_limits_count_for_the_cluster(boot_platform: Any, redis_url: str, make_tenant: Any) -> None:
    shared = {
        "cache.redis_url": redis_url,
        "cache.key_prefix": f"rustok-cluster-{secrets.token_hex(4)}",
        "rustok.rate_limit.requests_per_minute": 1,
        "rustok.rate_limit.burst": 3,
    }
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            platform = boot_platform(**shared)
            app = create_app(platform)
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients.append(await stack.enter_async_context(RustokClient(app)))
        tenant = await make_tenant(platform=platform)
        headers = {"X-Tenant-ID": tenant.slug}
        statuses = [
            (await client.get("/api/v1/tenant/current", headers=headers)).status_code
            for client in (clients[0], clients[1], clients[0], clients[1])
        ]
    assert statuses == [200, 200, 200, 429]
