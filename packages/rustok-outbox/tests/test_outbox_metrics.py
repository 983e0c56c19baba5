"""The event system's metrics on ``/metrics`` after some traffic through a running relay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from starlette.applications import Starlette

from rustok_core.events import EventPublisher
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.samples import ThingHappened, ensure_recorder_table, recorder_plugins


@pytest.fixture(scope="module")
async def served(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform: Platform = boot_platform(
        plugins=recorder_plugins(), **{"rustok.events.max_attempts": 1, "rustok.events.poll_interval": 0.5}
    )
    await ensure_recorder_table(platform.ctx.db)
    app: Starlette = create_app(platform)  # its lifespan starts the relay
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield platform, client


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_count_publishing_delivery_lag_backlog_and_dead_letters(
    served: tuple[Platform, RustokClient], make_tenant: Any
) -> None:
    platform, client = served
    tenant = await make_tenant(platform=platform)
    publisher = platform.ctx.services.get(EventPublisher)
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        for n in range(3):
            await publisher.publish(session, ThingHappened(n=n), tenant_id=tenant.id)
        await publisher.publish(session, ThingHappened(n=9, fail_times=5), tenant_id=tenant.id)

    async def settled() -> bool:
        async with platform.ctx.db.system_session() as session:
            pending = await session.scalar(text("SELECT count(*) FROM sys_events WHERE dispatched_at IS NULL"))
            dead = await session.scalar(text("SELECT count(*) FROM sys_events_dlq"))
        return pending == 0 and dead == 1

    deadline = time.monotonic() + 10
    while not await settled():
        assert time.monotonic() < deadline, "the relay did not settle the events"
        await asyncio.sleep(0.05)

    # An event due only in an hour: the backlog gauge is read from the database.
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        late = await publisher.publish(session, ThingHappened(n=100), tenant_id=tenant.id)
        await session.execute(
            text("UPDATE sys_events SET next_attempt_at = now() + interval '1 hour' WHERE id = :id"), {"id": late.id}
        )

    response = await client.get("/metrics")
    assert response.status_code == 200
    found = samples(response.text)
    thing = (("event_type", "recorder.thing.happened"),)
    assert found[("rustok_events_published_total", thing)] == 5
    assert found[("rustok_events_published_total", (("event_type", "tenant.created"),))] == 1
    for handler in ("recorder.first", "recorder.second"):
        label = (("handler", handler),)
        assert found[("rustok_events_delivered_total", label)] == 3
        assert found[("rustok_events_failed_total", label)] >= 1
        assert found[("rustok_events_lag_seconds_count", label)] == 3
        assert found[("rustok_events_lag_seconds_sum", label)] >= 0
        assert found[("rustok_events_lag_seconds_bucket", (*label, ("le", "+Inf")))] == 3
        assert found[("rustok_events_lag_seconds_bucket", (*label, ("le", "60.0")))] == 3
    assert found[("rustok_events_outbox_backlog", ())] == 1
    assert found[("rustok_events_oldest_pending_seconds", ())] >= 0
    assert found[("rustok_events_dlq_size", ())] == 1
    assert found[("rustok_events_dead_lettered_total", ())] == 1
    assert found[("rustok_events_relayed_total", ())] >= 3 + 2  # the things, tenant.created, module.enabled
