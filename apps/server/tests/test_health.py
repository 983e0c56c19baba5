"""Health and metrics: live, ready (503 naming the failing check), modules, Prometheus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from rustok_core.db import Database
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.samples import sample_plugins


@pytest.fixture
async def sample(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform = boot_platform(plugins=sample_plugins())
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield platform, client


async def test_live_and_ready_answer_200_with_a_database(sample: Any) -> None:
    _, client = sample
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == [{"name": "database", "status": "ok"}]


async def test_ready_is_503_and_names_the_database_when_it_is_unreachable(sample: Any) -> None:
    platform, client = sample
    working = platform.ctx.db
    platform.ctx.db = Database("postgresql://postgres@127.0.0.1:9/nowhere")
    try:
        ready = await client.get("/health/ready")
    finally:
        await platform.ctx.db.dispose()
        platform.ctx.db = working
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    assert body["failing"] == ["database"]
    assert body["checks"][0]["status"] == "down"
    assert (await client.get("/health")).status_code == 200


async def test_ready_is_503_when_the_schema_is_behind(sample: Any) -> None:
    platform, client = sample
    async with platform.ctx.db.engine.begin() as conn:
        heads = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        await conn.execute(text("DELETE FROM alembic_version"))
    try:
        ready = await client.get("/health/ready")
    finally:
        async with platform.ctx.db.engine.begin() as conn:
            for head in heads:
                await conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    assert ready.status_code == 503
    assert "schema is behind" in ready.json()["checks"][0]["detail"]
    assert (await client.get("/health/ready")).status_code == 200


async def test_module_health_lists_every_module_with_its_checks(sample: Any) -> None:
    _, client = sample
    body = (await client.get("/health/modules")).json()
    by_slug = {m["slug"]: m for m in body["modules"]}
    assert list(by_slug) == ["events", "rbac", "tenant", "alpha", "beta"]
    assert by_slug["alpha"]["status"] == "degraded"
    assert by_slug["alpha"]["checks"] == [{"name": "alpha-cache", "status": "degraded", "detail": "warming up"}]
    assert by_slug["tenant"]["kind"] == "core"
    assert body["status"] == "degraded"


async def test_metrics_are_prometheus_text_with_request_counts(sample: Any) -> None:
    _, client = sample
    await client.get("/health")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'rustok_http_requests_total{method="GET",route="/health",status="200"}' in response.text
    assert 'rustok_modules_installed{kind="optional"} 2.0' in response.text
    assert "rustok_build_info" in response.text


async def test_responses_carry_a_request_id_and_keep_a_sane_given_one(sample: Any) -> None:
    _, client = sample
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 26
    kept = await client.get("/health", headers={"X-Request-ID": "trace-123"})
    assert kept.headers["x-request-id"] == "trace-123"
    replaced = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert replaced.headers["x-request-id"] != "bad id with spaces"
