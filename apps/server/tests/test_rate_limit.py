"""Rate limiting: a token bucket per (tenant, caller); 429 + Retry-After, RATE_LIMITED."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes

LIMITS = {"rustok.rate_limit.requests_per_minute": 6, "rustok.rate_limit.burst": 3}


@pytest.fixture
async def limited(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform = boot_platform(**LIMITS)
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield platform, client


async def test_rest_answers_429_with_retry_after_past_the_burst(limited: Any, make_tenant: Any) -> None:
    platform, client = limited
    tenant = await make_tenant(platform=platform)
    headers = {"X-Tenant-ID": tenant.slug}
    answers = [await client.get("/api/v1/tenant/current", headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers.get("x-ratelimit-remaining") for a in answers[:3]] == ["2", "1", "0"]
    refused = answers[3]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "RATE_LIMITED"
    # 6 per minute = one token every 10 s.
    assert 1 <= int(refused.headers["retry-after"]) <= 10


async def test_graphql_answers_rate_limited(limited: Any, make_tenant: Any) -> None:
    platform, client = limited
    tenant = await make_tenant(platform=platform)
    for _ in range(3):
        await client.graphql_data("{ currentTenant { slug } }", tenant=tenant)
    body = await client.graphql("{ currentTenant { slug } }", tenant=tenant, expect_status=429)
    assert error_codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"]["retryAfter"] > 0


async def test_buckets_are_per_tenant_and_per_caller(limited: Any, make_tenant: Any, make_user: Any) -> None:
    platform, client = limited
    first = await make_tenant(platform=platform)
    second = await make_tenant(platform=platform)
    signed_in = await make_user(first, platform=platform)
    for _ in range(3):
        await client.get("/api/v1/tenant/current", headers={"X-Tenant-ID": first.slug})
    assert (await client.get("/api/v1/tenant/current", headers={"X-Tenant-ID": first.slug})).status_code == 429
    # Another tenant, and a signed-in caller of the same tenant, have buckets of their own.
    assert (await client.get("/api/v1/tenant/current", headers={"X-Tenant-ID": second.slug})).status_code == 200
    assert (await client.get("/api/v1/tenant/current", headers=signed_in.headers)).status_code == 200


async def test_health_and_metrics_are_never_limited(limited: Any) -> None:
    _, client = limited
    for _ in range(10):
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
    assert "rustok_rate_limited_requests_total" in (await client.get("/metrics")).text


async def test_limits_can_be_switched_off(boot_platform: Any, make_tenant: Any) -> None:
    platform = boot_platform(**LIMITS, **{"rustok.rate_limit.enabled": False})
    app = create_app(platform)
    tenant = await make_tenant(platform=platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        statuses = {
            (await client.get("/api/v1/tenant/current", headers={"X-Tenant-ID": tenant.slug})).status_code
            for _ in range(6)
        }
    assert statuses == {200}


async def test_oversized_bodies_are_refused_before_they_are_read(boot_platform: Any, make_tenant: Any) -> None:
    platform = boot_platform(**{"server.max_body_bytes": 2048})
    app = create_app(platform)
    tenant = await make_tenant(platform=platform)
    big_query = "{ currentTenant { slug } }" + " " * 4096
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        declared = await client.post("/graphql", json={"query": big_query}, headers={"X-Tenant-ID": tenant.slug})
        assert declared.status_code == 413
        assert error_codes(declared.json()) == ["VALIDATION"]
        assert declared.json()["errors"][0]["extensions"]["reason"] == "BODY_TOO_LARGE"

        async def chunks():  # no Content-Length: the body is counted while it streams
            for _ in range(4):
                yield b" " * 1024

        headers = {"X-Tenant-ID": tenant.slug, "content-type": "application/json"}
        streamed = await client.post("/graphql", content=chunks(), headers=headers)
        assert streamed.status_code == 413
        assert streamed.json()["reason"] == "BODY_TOO_LARGE"
        small = await client.post(
            "/graphql", json={"query": "{ currentTenant { slug } }"}, headers={"X-Tenant-ID": tenant.slug}
        )
        assert small.status_code == 200
