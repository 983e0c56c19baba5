"""Pruning: dispatched events past retention go; pending events, the DLQ and its receipts stay."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from rustok_core.events import EventEnvelope, EventPublisher
from rustok_outbox.relay import LocalTarget, OutboxRelay
from rustok_outbox.retention import prune
from rustok_outbox.runtime import runtime_of
from rustok_server.boot import Platform
from rustok_testing.samples import ThingHappened, ensure_recorder_table, recorder_plugins

DAY = "interval '1 day'"


@pytest.fixture(scope="module")
async def platform(boot_platform: Any) -> Platform:
    booted: Platform = boot_platform(
        plugins=recorder_plugins(),
        **{"rustok.events.relay": False, "rustok.events.retention_days": 2, "rustok.events.max_attempts": 1},
    )
    await ensure_recorder_table(booted.ctx.db)
    return booted


async def execute(platform: Platform, sql: str, **params: Any) -> list[Any]:
    async with platform.ctx.db.system_session() as session, session.begin():
        result = await session.execute(text(sql), params)
        return list(result.all()) if result.returns_rows else []


async def ids(platform: Platform, table: str) -> set[uuid.UUID]:
    column = "event_id" if table == "event_receipts" else "id"
    return {row[0] for row in await execute(platform, f"SELECT {column} FROM {table}")}


async def relay_all(platform: Platform) -> None:
    runtime = runtime_of(platform.ctx)
    relay = OutboxRelay(platform.ctx, LocalTarget(runtime.collect_handlers()), runtime.metrics, name="retention")
    while await relay.run_once():
        pass


async def test_prune_deletes_only_dispatched_events_past_retention(platform: Platform, make_tenant: Any) -> None:
    tenant = await make_tenant(platform=platform)
    publisher = platform.ctx.services.get(EventPublisher)

    async def publish(event: ThingHappened) -> EventEnvelope:
        async with platform.ctx.db.session(tenant.id) as session, session.begin():
            return await publisher.publish(session, event, tenant_id=tenant.id)

    old = await publish(ThingHappened(n=1))
    recent = await publish(ThingHappened(n=2))
    dead = await publish(ThingHappened(n=3, fail_times=9, fail_handler="recorder.first"))
    await relay_all(platform)
    stuck = await publish(ThingHappened(n=4))  # never dispatched
    assert dead.id in await ids(platform, "sys_events_dlq")

    # Age: `old` was dispatched 3 days ago (retention is 2), `recent` 1 day ago; `stuck`
    # was published 10 days ago and is still pending. Receipts age with their events.
    await execute(platform, f"UPDATE sys_events SET dispatched_at = now() - 3 * {DAY} WHERE id = :id", id=old.id)
    await execute(platform, f"UPDATE sys_events SET dispatched_at = now() - 1 * {DAY} WHERE id = :id", id=recent.id)
    await execute(
        platform,
        f"UPDATE sys_events SET created_at = now() - 10 * {DAY}, occurred_at = now() - 10 * {DAY} WHERE id = :id",
        id=stuck.id,
    )
    await execute(
        platform, f"UPDATE event_receipts SET processed_at = now() - 5 * {DAY} WHERE event_id = :id", id=old.id
    )
    await execute(
        platform, f"UPDATE event_receipts SET processed_at = now() - 3 * {DAY} WHERE event_id = :id", id=recent.id
    )
    await execute(
        platform, f"UPDATE event_receipts SET processed_at = now() - 30 * {DAY} WHERE event_id = :id", id=dead.id
    )
    assert await ids(platform, "event_receipts") >= {old.id, recent.id, dead.id}

    events, receipts = await prune(platform.ctx)
    assert (events, receipts) == (1, 2)

    outbox = await ids(platform, "sys_events")
    assert old.id not in outbox
    assert {recent.id, stuck.id} <= outbox
    assert await ids(platform, "sys_events_dlq") == {dead.id}
    remaining = await ids(platform, "event_receipts")
    assert old.id not in remaining, "receipts older than twice the retention should go"
    assert recent.id in remaining, "receipts younger than twice the retention stay"
    assert dead.id in remaining, (
        "a dead-lettered event's receipts must stay: its replay skips the handlers that applied it"
    )

    assert await prune(platform.ctx) == (0, 0)

    # Replaying the dead event much later still applies it to the failed handler only.
    await runtime_of(platform.ctx).dead_letters.replay(dead.id)
    await execute(
        platform, "UPDATE sys_events SET payload = payload || '{\"fail_times\": 0}' WHERE id = :id", id=dead.id
    )
    await relay_all(platform)
    rows = await execute(
        platform, "SELECT handler FROM recorder_effects WHERE event_id = :id ORDER BY handler", id=dead.id
    )
    assert [row.handler for row in rows] == ["recorder.first", "recorder.second"]
