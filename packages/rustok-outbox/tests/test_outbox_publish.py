"""Publishing, with both the ``outbox`` and the ``memory`` transport.

Nothing is delivered unless the writer's transaction commits; a committed event
reaches each handler once; invalid events are refused before anything is stored;
one NOTIFY wakes the relays per transaction, however many events it published.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import psycopg
import pytest
from sqlalchemy import event as sa_event

from rustok_core.context import TenantContext
from rustok_core.errors import ErrorCode, Validation
from rustok_core.events import EventEnvelope, EventPublisher
from rustok_outbox.publisher import NOTIFY_CHANNEL
from rustok_outbox.relay import LocalTarget, OutboxRelay
from rustok_outbox.runtime import EventsRuntime, runtime_of
from rustok_server.boot import Platform
from rustok_testing.events import effects, fetch, publish
from rustok_testing.postgres import libpq
from rustok_testing.samples import ThingHappened, ensure_recorder_table, recorder_plugins

HANDLERS = ("recorder.first", "recorder.second")


class Abort(Exception):
    """Raised to roll a transaction (or savepoint) back."""


@pytest.fixture(scope="module")
async def outbox(boot_platform: Any) -> Platform:
    platform: Platform = boot_platform(plugins=recorder_plugins(), **{"rustok.events.relay": False})
    await ensure_recorder_table(platform.ctx.db)
    return platform


@pytest.fixture(scope="module")
async def memory(boot_platform: Any, outbox: Platform) -> AsyncIterator[Platform]:
    # Only the in-process consumer runs (no relay: the outbox tests here drive their own).
    overrides = {"rustok.events.transport": "memory", "rustok.events.relay": False}
    platform: Platform = boot_platform(plugins=recorder_plugins(), **overrides)
    runtime = runtime_of(platform.ctx)
    assert runtime.memory is not None
    runtime.memory.start(runtime.collect_handlers(), runtime.dead_letter)
    yield platform
    await runtime.stop()


@pytest.fixture(params=["outbox", "memory"])
def platform(request: pytest.FixtureRequest) -> Platform:
    chosen: Platform = request.getfixturevalue(request.param)
    return chosen


async def outbox_rows(platform: Platform, tenant: TenantContext) -> list[Any]:
    return await fetch(
        platform,
        "SELECT id, event_type, schema_version, payload FROM sys_events "
        "WHERE tenant_id = :t AND event_type = 'recorder.thing.happened' ORDER BY id",
        t=tenant.id,
    )


async def deliver(platform: Platform) -> None:
    """Outbox: relay until nothing is left. Memory: wait until the bus is empty."""
    runtime = runtime_of(platform.ctx)
    if runtime.memory is not None:
        await runtime.memory.drain()
        return
    relay = OutboxRelay(platform.ctx, LocalTarget(runtime.collect_handlers()), runtime.metrics, name="publish-tests")
    while await relay.run_once():
        pass


async def test_the_publisher_is_the_events_runtime_of_the_platform(platform: Platform) -> None:
    runtime = runtime_of(platform.ctx)
    assert isinstance(runtime, EventsRuntime)
    assert platform.ctx.services.get(EventPublisher) is runtime.publisher
    assert isinstance(runtime.publisher, EventPublisher)


async def test_a_committed_event_is_delivered_once_to_each_handler(
    platform: Platform, make_tenant: Any, request: pytest.FixtureRequest
) -> None:
    tenant = await make_tenant(platform=platform)
    [envelope] = await publish(platform, tenant, ThingHappened(n=5))
    assert envelope.event_type == "recorder.thing.happened"
    assert envelope.schema_version == 2
    assert envelope.tenant_id == tenant.id
    assert envelope.payload == {"n": 5, "fail_times": 0, "fail_handler": None, "sleep": 0.0}

    stored = await outbox_rows(platform, tenant)
    if runtime_of(platform.ctx).memory is None:
        assert [(row.id, row.schema_version, row.payload) for row in stored] == [(envelope.id, 2, envelope.payload)]
    else:
        assert stored == []  # the memory transport does not use the outbox

    await deliver(platform)
    await deliver(platform)  # nothing is delivered twice
    assert await effects(platform, tenant) == {(handler, envelope.id): 1 for handler in HANDLERS}
    [n] = {row.n for row in await fetch(platform, "SELECT n FROM recorder_effects WHERE event_id = :e", e=envelope.id)}
    assert n == 5


async def test_a_rolled_back_transaction_publishes_nothing(platform: Platform, make_tenant: Any) -> None:
    tenant = await make_tenant(platform=platform)
    publisher = platform.ctx.services.get(EventPublisher)
    runtime = runtime_of(platform.ctx)
    published: list[EventEnvelope] = []
    with contextlib.suppress(Abort):
        async with platform.ctx.db.session(tenant.id) as session, session.begin():
            for n in range(3):
                published.append(await publisher.publish(session, ThingHappened(n=n), tenant_id=tenant.id))
            if runtime.memory is not None:
                assert runtime.memory.size == 3  # reserved while the transaction is open
            raise Abort
    assert len(published) == 3
    if runtime.memory is not None:
        assert runtime.memory.size == 0
    assert await outbox_rows(platform, tenant) == []

    # A later committed event goes through; the rolled-back ones never do.
    [kept] = await publish(platform, tenant, ThingHappened(n=9))
    await deliver(platform)
    assert set(await effects(platform, tenant)) == {(handler, kept.id) for handler in HANDLERS}
    if runtime.memory is not None:
        assert runtime.memory.size == 0


async def test_an_explicit_rollback_publishes_nothing(platform: Platform, make_tenant: Any) -> None:
    tenant = await make_tenant(platform=platform)
    publisher = platform.ctx.services.get(EventPublisher)
    async with platform.ctx.db.session(tenant.id) as session:
        await session.begin()
        await publisher.publish(session, ThingHappened(n=1), tenant_id=tenant.id)
        await session.rollback()
    await deliver(platform)
    assert await outbox_rows(platform, tenant) == []
    assert await effects(platform, tenant) == {}
    memory = runtime_of(platform.ctx).memory
    assert memory is None or memory.size == 0


def _negative(publisher: Any, session: Any, tenant: TenantContext) -> Awaitable[Any]:
    return publisher.publish_payload(session, "recorder.thing.happened", {"n": -1}, tenant_id=tenant.id)


def _missing(publisher: Any, session: Any, tenant: TenantContext) -> Awaitable[Any]:
    return publisher.publish_payload(session, "recorder.thing.happened", {"sleep": 1}, tenant_id=tenant.id)


def _unknown(publisher: Any, session: Any, tenant: TenantContext) -> Awaitable[Any]:
    return publisher.publish_payload(session, "ghost.thing.happened", {"n": 1}, tenant_id=tenant.id)


def _typed_invalid(publisher: Any, session: Any, tenant: TenantContext) -> Awaitable[Any]:
    return publisher.publish(session, ThingHappened(n=-3), tenant_id=tenant.id)


@pytest.mark.parametrize(
    ("attempt", "reason", "path"),
    [
        (_negative, None, ("payload", "n")),
        (_missing, "EVENT_INVALID", ("payload", "n")),
        (_unknown, "EVENT_UNKNOWN_TYPE", None),
        (_typed_invalid, None, ("payload", "n")),
    ],
    ids=["negative-n", "missing-field", "unknown-type", "typed-event-check"],
)
async def test_invalid_events_are_refused_at_publish_and_the_transaction_can_go_on(
    platform: Platform, make_tenant: Any, attempt: Any, reason: str | None, path: tuple[str, ...] | None
) -> None:
    tenant = await make_tenant(platform=platform)
    publisher = platform.ctx.services.get(EventPublisher)
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        before = await publisher.publish(session, ThingHappened(n=1), tenant_id=tenant.id)
        with pytest.raises(Validation) as refused:
            await attempt(publisher, session, tenant)
        # The refusal happened before any SQL: the session is still usable.
        after = await publisher.publish(session, ThingHappened(n=2), tenant_id=tenant.id)
    error = refused.value
    assert error.code is ErrorCode.VALIDATION
    if reason is not None:
        assert error.details["reason"] == reason
    if path is not None:
        assert path in {fe.path for fe in error.field_errors}
    if runtime_of(platform.ctx).memory is None:
        assert [row.id for row in await outbox_rows(platform, tenant)] == sorted([before.id, after.id])
        unknown = await fetch(platform, "SELECT 1 FROM sys_events WHERE event_type = 'ghost.thing.happened'")
        assert unknown == []
    await deliver(platform)
    assert {event_id for _, event_id in await effects(platform, tenant)} == {before.id, after.id}


async def test_publish_payload_upcasts_old_versions_before_storing(platform: Platform, make_tenant: Any) -> None:
    tenant = await make_tenant(platform=platform)
    publisher = platform.ctx.services.get(EventPublisher)
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        envelope = await publisher.publish_payload(
            session, "recorder.thing.happened", {"count": 4}, tenant_id=tenant.id, schema_version=1
        )
    assert envelope.schema_version == 2
    assert envelope.payload["n"] == 4
    assert "count" not in envelope.payload
    if runtime_of(platform.ctx).memory is None:
        [row] = await outbox_rows(platform, tenant)
        assert (row.schema_version, row.payload["n"]) == (2, 4)
    await deliver(platform)
    rows = await fetch(platform, "SELECT n FROM recorder_effects WHERE event_id = :e", e=envelope.id)
    assert [row.n for row in rows] == [4, 4]


async def test_envelopes_carry_actor_correlation_and_causation(outbox: Platform, make_tenant: Any) -> None:
    tenant = await make_tenant(platform=outbox)
    publisher = outbox.ctx.services.get(EventPublisher)
    actor, correlation, cause = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with outbox.ctx.db.session(tenant.id) as session, session.begin():
        envelope = await publisher.publish(
            session,
            ThingHappened(n=1),
            tenant_id=tenant.id,
            actor_id=actor,
            correlation_id=correlation,
            causation_id=cause,
        )
    [row] = await fetch(
        outbox,
        "SELECT actor_id, correlation_id, causation_id, occurred_at, attempts, dispatched_at FROM sys_events "
        "WHERE id = :id",
        id=envelope.id,
    )
    assert (row.actor_id, row.correlation_id, row.causation_id) == (actor, correlation, cause)
    assert row.occurred_at == envelope.occurred_at
    assert (row.attempts, row.dispatched_at) == (0, None)


# --- NOTIFY ------------------------------------------------------------------------------------


@pytest.fixture
async def listener(rustok_database_url: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    async with await psycopg.AsyncConnection.connect(libpq(rustok_database_url), autocommit=True) as conn:
        await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        yield conn


async def notifications(conn: psycopg.AsyncConnection[Any], within: float = 0.5) -> int:
    count = 0
    async for _ in conn.notifies(timeout=within):
        count += 1
    return count


async def test_one_notify_per_transaction_however_many_events(
    outbox: Platform, make_tenant: Any, listener: psycopg.AsyncConnection[Any]
) -> None:
    tenant = await make_tenant(platform=outbox)
    await notifications(listener, within=0.2)  # whatever the tenant creation sent

    statements: list[str] = []

    def count_notify(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "pg_notify" in statement:
            statements.append(statement)

    engine = outbox.ctx.db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count_notify)
    try:
        await publish(outbox, tenant, *(ThingHappened(n=n) for n in range(5)))
        assert len(statements) == 1
        assert await notifications(listener) == 1

        await publish(outbox, tenant, ThingHappened(n=10))
        await publish(outbox, tenant, ThingHappened(n=11), ThingHappened(n=12))
        assert len(statements) == 3
        assert await notifications(listener) == 2

        # Two transactions on one session: each commit notifies.
        publisher = outbox.ctx.services.get(EventPublisher)
        async with outbox.ctx.db.session(tenant.id) as session:
            for n in (20, 21):
                async with session.begin():
                    await publisher.publish(session, ThingHappened(n=n), tenant_id=tenant.id)
                    await publisher.publish(session, ThingHappened(n=n + 100), tenant_id=tenant.id)
        assert len(statements) == 5
        assert await notifications(listener) == 2

        # A rolled-back transaction wakes nobody.
        with contextlib.suppress(Abort):
            async with outbox.ctx.db.session(tenant.id) as session, session.begin():
                await publisher.publish(session, ThingHappened(n=30), tenant_id=tenant.id)
                raise Abort
        assert await notifications(listener) == 0
    finally:
        sa_event.remove(engine, "before_cursor_execute", count_notify)
    assert len(await outbox_rows(outbox, tenant)) == 5 + 3 + 4


async def test_a_publish_after_a_rolled_back_savepoint_still_notifies(
    outbox: Platform, make_tenant: Any, listener: psycopg.AsyncConnection[Any]
) -> None:
    tenant = await make_tenant(platform=outbox)
    await notifications(listener, within=0.2)
    publisher = outbox.ctx.services.get(EventPublisher)
    async with outbox.ctx.db.session(tenant.id) as session, session.begin():
        with contextlib.suppress(Abort):
            async with session.begin_nested():
                await publisher.publish(session, ThingHappened(n=1), tenant_id=tenant.id)
                raise Abort
        kept = await publisher.publish(session, ThingHappened(n=2), tenant_id=tenant.id)
    assert [row.id for row in await outbox_rows(outbox, tenant)] == [kept.id]
    assert await notifications(listener) == 1, "the commit woke no relay: its NOTIFY died with the savepoint"

    # A released savepoint keeps its events; the relays are woken once.
    async with outbox.ctx.db.session(tenant.id) as session, session.begin():
        await publisher.publish(session, ThingHappened(n=3), tenant_id=tenant.id)
        async with session.begin_nested():
            await publisher.publish(session, ThingHappened(n=4), tenant_id=tenant.id)
    assert len(await outbox_rows(outbox, tenant)) == 3
    assert await notifications(listener) == 1


async def test_a_session_that_begins_by_itself_notifies_for_each_of_its_transactions(
    outbox: Platform, make_tenant: Any, listener: psycopg.AsyncConnection[Any]
) -> None:
    tenant = await make_tenant(platform=outbox)
    await notifications(listener, within=0.2)
    publisher = outbox.ctx.services.get(EventPublisher)
    async with outbox.ctx.db.session(tenant.id) as session:
        # No session.begin(): the first statement starts the transaction.
        await publisher.publish(session, ThingHappened(n=1), tenant_id=tenant.id)
        await session.commit()
        assert await notifications(listener) == 1
        await publisher.publish(session, ThingHappened(n=2), tenant_id=tenant.id)
        await publisher.publish(session, ThingHappened(n=3), tenant_id=tenant.id)
        await session.commit()
        assert await notifications(listener) == 1
    assert len(await outbox_rows(outbox, tenant)) == 3


async def test_memory_events_of_a_rolled_back_savepoint_are_not_delivered(memory: Platform, make_tenant: Any) -> None:
    tenant = await make_tenant(platform=memory)
    publisher = memory.ctx.services.get(EventPublisher)
    async with memory.ctx.db.session(tenant.id) as session, session.begin():
        with contextlib.suppress(Abort):
            async with session.begin_nested():
                await publisher.publish(session, ThingHappened(n=1), tenant_id=tenant.id)
                raise Abort
        kept = await publisher.publish(session, ThingHappened(n=2), tenant_id=tenant.id)
    await deliver(memory)
    assert {event_id for _, event_id in await effects(memory, tenant)} == {kept.id}


async def test_the_memory_transport_neither_stores_nor_notifies(
    memory: Platform, make_tenant: Any, listener: psycopg.AsyncConnection[Any]
) -> None:
    tenant = await make_tenant(platform=memory)
    await notifications(listener, within=0.2)
    await publish(memory, tenant, ThingHappened(n=1), ThingHappened(n=2))
    assert await notifications(listener) == 0
    assert await outbox_rows(memory, tenant) == []
    await deliver(memory)
    assert len(await effects(memory, tenant)) == 4


async def test_memory_delivery_happens_only_after_commit(memory: Platform, make_tenant: Any) -> None:
    tenant = await make_tenant(platform=memory)
    publisher = memory.ctx.services.get(EventPublisher)
    runtime = runtime_of(memory.ctx)
    assert runtime.memory is not None
    async with memory.ctx.db.session(tenant.id) as session, session.begin():
        envelope = await publisher.publish(session, ThingHappened(n=1), tenant_id=tenant.id)
        await asyncio.sleep(0.2)  # the consumer is running: give it every chance to jump the gun
        assert runtime.memory.queue.qsize() == 0
        assert await effects(memory, tenant) == {}
    deadline = time.monotonic() + 5
    while True:
        applied = await effects(memory, tenant)
        if len(applied) == 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    assert applied == {(handler, envelope.id): 1 for handler in HANDLERS}
