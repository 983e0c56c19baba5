"""The ``memory`` transport: backpressure that refuses instead of dropping, retries, the DLQ."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from rustok_core.context import TenantContext
from rustok_core.errors import ErrorCode, RateLimited
from rustok_core.events import EventEnvelope, EventPublisher
from rustok_core.health import HealthStatus
from rustok_outbox.memory import MemoryBus
from rustok_outbox.runtime import EventsRuntime, runtime_of
from rustok_server.boot import Platform
from rustok_testing.events import effects, eventually, fetch, once_each, publish
from rustok_testing.samples import ThingHappened, ensure_recorder_table, recorder_plugins


@pytest.fixture(scope="module")
async def platform(boot_platform: Any) -> Platform:
    booted: Platform = boot_platform(
        plugins=recorder_plugins(),
        **{
            "rustok.events.transport": "memory",
            "rustok.events.relay": False,  # the tests start and stop delivery themselves
            "rustok.events.memory_capacity": 10,
            "rustok.events.max_attempts": 3,
            "rustok.events.backoff_base": 0.02,
            "rustok.events.backoff_max": 0.05,
        },
    )
    await ensure_recorder_table(booted.ctx.db)
    return booted


@pytest.fixture
async def runtime(platform: Platform) -> AsyncIterator[EventsRuntime]:
    events = runtime_of(platform.ctx)
    assert events.memory is not None and events.memory.size == 0
    yield events
    # Leave an empty, stopped bus to the next test (even after a failure).
    start_delivery(events)
    try:
        await bus(events).drain(within=10)
    finally:
        await bus(events).stop()


@pytest.fixture
async def tenant(platform: Platform, runtime: EventsRuntime, make_tenant: Any) -> TenantContext:
    """A tenant, its own events (tenant.created, module.enabled) delivered: the bus is empty."""
    created: TenantContext = await make_tenant(platform=platform)
    assert bus(runtime).size == 2
    start_delivery(runtime)
    await bus(runtime).drain()
    await bus(runtime).stop()
    return created


def bus(runtime: EventsRuntime) -> MemoryBus:
    assert runtime.memory is not None
    return runtime.memory


def start_delivery(runtime: EventsRuntime) -> None:
    bus(runtime).start(runtime.collect_handlers(), runtime.dead_letter)


async def test_backpressure_warns_at_70_percent_and_refuses_at_90_without_losing_anything(
    platform: Platform, runtime: EventsRuntime, tenant: TenantContext
) -> None:
    memory = bus(runtime)
    accepted: list[EventEnvelope] = []
    states = []
    for n in range(9):
        accepted += await publish(platform, tenant, ThingHappened(n=n))
        states.append(memory.state)
    assert memory.size == 9
    assert states == ["normal"] * 6 + ["warning"] * 2 + ["critical"]
    health = runtime.health()
    assert health.status is HealthStatus.DEGRADED
    assert "critical" in health.detail

    with pytest.raises(RateLimited) as refused:
        await publish(platform, tenant, ThingHappened(n=100))
    error = refused.value
    assert error.code is ErrorCode.RATE_LIMITED
    assert error.details["reason"] == "EVENT_BACKPRESSURE"
    assert error.details["retryAfter"] > 0
    assert "9/10" in error.message and "critical" in error.message
    assert memory.size == 9, "a refused event must not take a place on the bus"
    assert runtime.metrics.backpressure._value.get() == 2

    # A transaction that catches the refusal can still commit its other work.
    publisher = platform.ctx.services.get(EventPublisher)
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        with pytest.raises(RateLimited):
            await publisher.publish(session, ThingHappened(n=101), tenant_id=tenant.id)
        await session.execute(text("SELECT 1"))
    assert memory.size == 9

    assert await effects(platform, tenant) == Counter()  # nothing is delivered yet
    start_delivery(runtime)
    await memory.drain()
    assert await effects(platform, tenant) == once_each(*accepted)
    assert memory.state == "normal"
    assert runtime.health().status is HealthStatus.OK
    [later] = await publish(platform, tenant, ThingHappened(n=200))
    await memory.drain()
    assert (await effects(platform, tenant))[("recorder.first", later.id)] == 1


async def test_events_being_delivered_still_count_against_the_capacity(
    platform: Platform, runtime: EventsRuntime, tenant: TenantContext
) -> None:
    memory = bus(runtime)
    start_delivery(runtime)
    accepted = await publish(platform, tenant, *(ThingHappened(n=n, sleep=0.05) for n in range(9)))

    async def taken_off_the_queue() -> bool:
        return memory.queue.qsize() < len(accepted)

    assert await eventually(taken_off_the_queue), "delivery did not start"
    assert not await effects(platform, tenant) or memory.size > 0
    assert memory.size == 9, "events handed to the handlers must count until they are done"
    with pytest.raises(RateLimited):
        await publish(platform, tenant, ThingHappened(n=99))
    await memory.drain()
    assert await effects(platform, tenant) == once_each(*accepted)


async def test_failed_deliveries_are_retried_and_apply_once(
    platform: Platform, runtime: EventsRuntime, tenant: TenantContext
) -> None:
    start_delivery(runtime)
    both, one = await publish(
        platform,
        tenant,
        ThingHappened(n=1, fail_times=2),
        ThingHappened(n=2, fail_times=1, fail_handler="recorder.second"),
    )
    await bus(runtime).drain()
    assert await effects(platform, tenant) == once_each(both, one)
    rows = await fetch(
        platform,
        "SELECT handler, n, attempts FROM recorder_effects WHERE tenant_id = :t ORDER BY n, handler",
        t=tenant.id,
    )
    assert [(r.handler, r.n, r.attempts) for r in rows] == [
        ("recorder.first", 1, 2),
        ("recorder.second", 1, 2),
        ("recorder.first", 2, 0),
        ("recorder.second", 2, 1),
    ]
    assert await fetch(platform, "SELECT 1 FROM sys_events_dlq WHERE tenant_id = :t", t=tenant.id) == []


async def test_deliveries_failing_max_attempts_times_end_in_the_dlq(
    platform: Platform, runtime: EventsRuntime, tenant: TenantContext
) -> None:
    start_delivery(runtime)
    dead, fine = await publish(
        platform, tenant, ThingHappened(n=1, fail_times=99, fail_handler="recorder.first"), ThingHappened(n=2)
    )
    await bus(runtime).drain()
    [row] = await fetch(platform, "SELECT * FROM sys_events_dlq WHERE tenant_id = :t", t=tenant.id)
    assert row.id == dead.id
    assert row.attempts == 3
    assert row.failed_handlers == ["recorder.first"]
    assert "recorder.first fails on purpose (attempt 3)" in row.last_error
    assert (row.event_type, row.schema_version, row.payload) == (dead.event_type, 2, dead.payload)
    assert row.occurred_at == dead.occurred_at
    assert await effects(platform, tenant) == once_each(fine) + Counter({("recorder.second", dead.id): 1})
    assert (
        await fetch(
            platform, "SELECT 1 FROM sys_events WHERE tenant_id = :t AND event_type LIKE 'recorder%'", t=tenant.id
        )
        == []
    )


async def test_stopping_delivery_keeps_accepted_events_for_the_next_start(
    platform: Platform, runtime: EventsRuntime, tenant: TenantContext
) -> None:
    start_delivery(runtime)
    await bus(runtime).stop()
    accepted = await publish(platform, tenant, ThingHappened(n=1), ThingHappened(n=2))
    assert bus(runtime).size == 2
    start_delivery(runtime)
    await bus(runtime).drain()
    assert await effects(platform, tenant) == once_each(*accepted)


async def test_a_dead_memory_event_can_be_replayed(boot_platform: Any, platform: Platform, make_tenant: Any) -> None:
    # A server on the memory transport, running as usual (relay on): its DLQ must not be
    # a dead end. Replay moves the event to the outbox; that server delivers it from there.
    server: Platform = boot_platform(
        plugins=recorder_plugins(),
        **{"rustok.events.transport": "memory", "rustok.events.max_attempts": 1, "rustok.events.poll_interval": 0.5},
    )
    events = runtime_of(server.ctx)
    await events.start()
    try:
        tenant = await make_tenant(platform=server)
        [dead] = await publish(server, tenant, ThingHappened(n=1, fail_times=1, fail_handler="recorder.first"))
        await bus(events).drain()
        assert [
            row.id for row in await fetch(server, "SELECT id FROM sys_events_dlq WHERE tenant_id = :t", t=tenant.id)
        ] == [dead.id]
        async with server.ctx.db.system_session() as session, session.begin():  # the cause is fixed
            await session.execute(text("UPDATE sys_events_dlq SET payload = payload || '{\"fail_times\": 0}'"))
        await events.dead_letters.replay(dead.id, tenant_id=tenant.id)

        async def delivered() -> bool:
            return await effects(server, tenant) == once_each(dead)

        assert await eventually(delivered), "a replayed event of the memory transport is never delivered"
    finally:
        await events.stop()
