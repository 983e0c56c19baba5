"""The outbox relay: claims with leases, several relays at once, wake-ups, retries, the DLQ.

Relays are driven directly (``run_once``) on platforms booted without a relay of
their own, so every claim in this module is one the test made.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from rustok_core.context import TenantContext
from rustok_core.events import EventEnvelope
from rustok_core.settings import EventSettings
from rustok_outbox.backoff import retry_delay
from rustok_outbox.dispatch import DeliveryResult
from rustok_outbox.relay import LocalTarget, OutboxRelay, RelayTarget, TargetUnavailable, outbox_status, relay_id
from rustok_outbox.runtime import runtime_of
from rustok_server.boot import Platform
from rustok_testing.events import effects, eventually, fetch, once_each, publish
from rustok_testing.queries import count_queries
from rustok_testing.samples import ThingHappened, ensure_recorder_table, recorder_plugins

HANDLERS = ("recorder.first", "recorder.second")
THING = "recorder.thing.happened"

Boot = Callable[..., Platform]


@pytest.fixture(scope="module")
async def base(boot_platform: Any) -> Platform:
    platform: Platform = boot_platform(plugins=recorder_plugins(), **{"rustok.events.relay": False})
    await ensure_recorder_table(platform.ctx.db)
    return platform


@pytest.fixture(autouse=True)
async def clean(base: Platform) -> None:
    async with base.ctx.db.system_session() as session, session.begin():
        await session.execute(text("TRUNCATE sys_events, sys_events_dlq, event_receipts, recorder_effects"))


@pytest.fixture
async def booted(boot_platform: Any) -> AsyncIterator[Boot]:
    """``booted(lease_seconds=1, ...)``: a recorder platform without a relay of its own."""
    made: list[Platform] = []

    def make(**events: Any) -> Platform:
        overrides = {"rustok.events.relay": False, **{f"rustok.events.{k}": v for k, v in events.items()}}
        platform: Platform = boot_platform(plugins=recorder_plugins(), **overrides)
        made.append(platform)
        return platform

    yield make
    for platform in made:
        await platform.ctx.db.dispose()


def relay(platform: Platform, name: str, target: RelayTarget | None = None) -> OutboxRelay:
    runtime = runtime_of(platform.ctx)
    return OutboxRelay(platform.ctx, target or LocalTarget(runtime.collect_handlers()), runtime.metrics, name=name)


async def outbox_row(platform: Platform, event_id: uuid.UUID) -> Any:
    rows = await fetch(platform, "SELECT *, now() AS db_now FROM sys_events WHERE id = :id", id=event_id)
    return rows[0] if rows else None


async def dead_row(platform: Platform, event_id: uuid.UUID) -> Any:
    rows = await fetch(platform, "SELECT * FROM sys_events_dlq WHERE id = :id", id=event_id)
    return rows[0] if rows else None


async def receipts(platform: Platform) -> set[tuple[str, uuid.UUID]]:
    rows = await fetch(platform, "SELECT handler, event_id FROM event_receipts")
    return {(row.handler, row.event_id) for row in rows}


def record_claims(relay: OutboxRelay, log: list[tuple[str, list[uuid.UUID]]]) -> OutboxRelay:
    claim = relay.claim_batch

    async def recording() -> list[EventEnvelope]:
        batch = await claim()
        log.append((relay.name, [e.id for e in batch]))
        return batch

    relay.claim_batch = recording  # type: ignore[method-assign]
    return relay


class GatedTarget:
    """Delivers (through ``inner``, or not at all) only once ``release`` is set."""

    name = "gated"

    def __init__(self, inner: RelayTarget | None = None, *, fail: bool = False) -> None:
        self.inner = inner
        self.fail = fail
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def deliver(self, envelopes: Sequence[EventEnvelope]) -> list[DeliveryResult]:
        self.entered.set()
        await self.release.wait()
        if self.inner is not None:
            return await self.inner.deliver(envelopes)
        if self.fail:
            return [DeliveryResult(failures={"recorder.first": "late failure"}) for _ in envelopes]
        return [DeliveryResult() for _ in envelopes]


class DownTarget:
    name = "broker"

    def __init__(self) -> None:
        self.calls = 0

    async def deliver(self, envelopes: Sequence[EventEnvelope]) -> list[DeliveryResult]:
        self.calls += 1
        raise TargetUnavailable("broker is down")


async def insert_raw(
    platform: Platform, tenant: TenantContext, event_type: str, payload: Any, version: int
) -> uuid.UUID:
    """An outbox row written behind the publisher's back (an old or foreign writer)."""
    event_id = uuid.uuid4()
    async with platform.ctx.db.system_session() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO sys_events (id, tenant_id, event_type, schema_version, payload, occurred_at) "
                "VALUES (:id, :tenant, :type, :version, CAST(:payload AS jsonb), :at)"
            ),
            {
                "id": event_id,
                "tenant": tenant.id,
                "type": event_type,
                "version": version,
                "payload": orjson.dumps(payload).decode(),
                "at": datetime.now(UTC),
            },
        )
    return event_id


async def relay_all(*relays: OutboxRelay, within: float = 10.0) -> None:
    """Run rounds until every event is dispatched or dead-lettered."""

    async def drained() -> bool:
        for r in relays:
            await r.run_once()
        return (await outbox_status(relays[0].ctx))["backlog"] == 0

    assert await eventually(drained, within=within, every=0.01), "the outbox did not drain"


# --- backoff -------------------------------------------------------------------------------------


def test_retry_delays_double_from_the_base_up_to_the_cap_with_jitter() -> None:
    settings = EventSettings(backoff_base=1.0, backoff_max=10.0)
    rng = random.Random(7)
    for attempts, nominal in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)]:
        delays = [retry_delay(attempts, settings, rng=rng) for _ in range(200)]
        assert min(delays) >= nominal * 0.8 - 1e-9
        assert max(delays) <= nominal * 1.2 + 1e-9
        assert max(delays) - min(delays) > nominal * 0.2, "no jitter"
    assert all(retry_delay(a, settings, rng=rng) <= 10.0 for a in range(5, 40))
    assert min(retry_delay(30, settings, rng=rng) for _ in range(100)) >= 8.0


def test_relay_ids_are_unique_and_fit_the_column() -> None:
    ids = {relay_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) <= 64 for i in ids)


# --- claims and leases ----------------------------------------------------------------------------


async def test_concurrent_relays_never_claim_the_same_event(booted: Boot, make_tenant: Any) -> None:
    one, two = booted(batch_size=7), booted(batch_size=7)
    tenant = await make_tenant(platform=one)
    published: list[EventEnvelope] = []
    for start in range(0, 200, 50):
        published += await publish(one, tenant, *(ThingHappened(n=n) for n in range(start, start + 50)))

    claims: list[tuple[str, list[uuid.UUID]]] = []
    relays = [
        record_claims(relay(one, "relay-a"), claims),
        record_claims(relay(one, "relay-b"), claims),
        record_claims(relay(two, "relay-c"), claims),
    ]

    async def rounds() -> bool:
        # Every relay runs two rounds at once: six claimers race for each batch.
        await asyncio.gather(*(r.run_once() for r in relays for _ in range(2)))
        return (await outbox_status(one.ctx))["backlog"] == 0

    assert await eventually(rounds, within=30, every=0)

    claimed = [event_id for _, ids in claims for event_id in ids]
    duplicates = [event_id for event_id, n in Counter(claimed).items() if n > 1]
    assert duplicates == [], f"{len(duplicates)} events were claimed twice"
    assert {e.id for e in published} <= set(claimed)
    by_relay = Counter(name for name, ids in claims if ids)
    assert set(by_relay) == {"relay-a", "relay-b", "relay-c"}, by_relay
    assert all(len(ids) <= 7 for _, ids in claims)

    assert await effects(one) == once_each(*published)
    assert await receipts(one) == set(once_each(*published))
    pending = await fetch(
        one, "SELECT count(*) AS n FROM sys_events WHERE dispatched_at IS NULL OR claimed_by IS NOT NULL"
    )
    assert pending[0].n == 0
    stats = [r.stats for r in relays]
    assert sum(s.dispatched for s in stats) == len(claimed)
    assert sum(s.retried + s.dead for s in stats) == 0


async def test_an_expired_claim_is_taken_over_by_another_relay(booted: Boot, make_tenant: Any) -> None:
    platform = booted(lease_seconds=0.5)
    tenant = await make_tenant(platform=platform)
    events = await publish(platform, tenant, ThingHappened(n=1), ThingHappened(n=2))
    crashed, rescuer = relay(platform, "crashed"), relay(platform, "rescuer")

    held = await crashed.claim_batch()  # ... and the relay dies before settling
    assert {e.id for e in events} <= {e.id for e in held}
    row = await outbox_row(platform, events[0].id)
    assert row.claimed_by == "crashed"
    assert row.claim_expires_at > row.db_now
    assert await rescuer.claim_batch() == [], "a valid lease was ignored"

    taken = await eventually(rescuer.run_once, within=5)
    assert taken == len(held)
    assert await effects(platform) == once_each(*events)
    for event in events:
        row = await outbox_row(platform, event.id)
        assert row.dispatched_at is not None
        assert row.claimed_by is None
        assert row.attempts == 0, "a crashed relay's claim is not a failed attempt"


@pytest.mark.parametrize(
    ("late_outcome", "max_attempts"),
    [("success", 5), ("failure", 5), ("failure", 1)],
    ids=["mark-dispatched", "reschedule", "dead-letter"],
)
async def test_settling_only_touches_claims_the_relay_still_holds(
    booted: Boot, make_tenant: Any, late_outcome: str, max_attempts: int
) -> None:
    platform = booted(lease_seconds=0.5, max_attempts=max_attempts)
    tenant = await make_tenant(platform=platform)
    [event] = await publish(platform, tenant, ThingHappened(n=1))
    slow_target = GatedTarget(fail=late_outcome == "failure")
    slow = relay(platform, "slow", slow_target)
    runtime = runtime_of(platform.ctx)
    fast_target = GatedTarget(LocalTarget(runtime.collect_handlers()))
    fast = relay(platform, "fast", fast_target)

    slow_round = asyncio.create_task(slow.run_once())
    await asyncio.wait_for(slow_target.entered.wait(), 5)
    fast_round = asyncio.create_task(eventually(fast.run_once, within=5))  # claims once the lease expired
    await asyncio.wait_for(fast_target.entered.wait(), 5)
    assert (await outbox_row(platform, event.id)).claimed_by == "fast"

    slow_target.release.set()
    await slow_round  # settles a claim it lost: nothing may change
    row = await outbox_row(platform, event.id)
    assert row is not None, "the overtaken relay dead-lettered an event it no longer held"
    assert (row.claimed_by, row.dispatched_at, row.attempts, row.last_error) == ("fast", None, 0, None)
    assert await dead_row(platform, event.id) is None

    fast_target.release.set()
    assert await fast_round
    row = await outbox_row(platform, event.id)
    assert row.dispatched_at is not None and row.claimed_by is None
    assert await effects(platform) == once_each(event)


async def test_a_target_that_is_down_releases_the_claims_without_counting_attempts(
    booted: Boot, make_tenant: Any
) -> None:
    platform = booted(poll_interval=0.3, max_attempts=1)
    tenant = await make_tenant(platform=platform)
    [event] = await publish(platform, tenant, ThingHappened(n=1))
    down = DownTarget()
    broken = relay(platform, "broken", down)
    held = await broken.run_once()
    assert held >= 1 and down.calls == 1
    assert broken.target_available is False
    assert broken.stats.released == held
    row = await outbox_row(platform, event.id)
    assert (row.claimed_by, row.claim_expires_at, row.attempts, row.dispatched_at) == (None, None, 0, None)
    assert row.next_attempt_at > row.db_now, "released events should wait a moment before the next try"
    assert await dead_row(platform, event.id) is None  # max_attempts=1, yet not dead: no attempt counted

    healthy = relay(platform, "healthy")
    assert await eventually(healthy.run_once, within=5)
    assert await effects(platform) == once_each(event)
    assert (await outbox_row(platform, event.id)).attempts == 0


# --- wake-ups ------------------------------------------------------------------------------------


async def listening(platform: Platform) -> bool:
    rows = await fetch(
        platform,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'",
    )
    return bool(rows[0].n)


async def test_a_relay_wakes_on_notify_long_before_its_poll_interval(booted: Boot, make_tenant: Any) -> None:
    platform = booted(poll_interval=30)
    tenant = await make_tenant(platform=platform)
    waker = relay(platform, "waker")
    task = asyncio.create_task(waker.run())
    try:
        assert await eventually(lambda: listening(platform)), "the relay never listened"
        assert await eventually(lambda: _backlog_is(platform, 0)), "the relay did not take the startup backlog"
        started = time.monotonic()
        [event] = await publish(platform, tenant, ThingHappened(n=1))

        async def delivered() -> bool:
            return await effects(platform) == once_each(event)

        assert await eventually(delivered, within=10), "not delivered: the relay slept through the NOTIFY"
        assert time.monotonic() - started < 10 < waker.settings.poll_interval
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_running_relay_claims_on_a_connection_of_its_own_and_replaces_it_when_lost(
    booted: Boot, make_tenant: Any
) -> None:
    platform = booted(poll_interval=30)
    tenant = await make_tenant(platform=platform)
    worker = relay(platform, "own-connection")

    async def own_connections() -> list[int]:
        rows = await fetch(
            platform,
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = :name",
            name=worker.connection_name,
        )
        return [row.pid for row in rows]

    task = asyncio.create_task(worker.run())
    try:
        assert await eventually(lambda: listening(platform)), "the relay never listened"
        assert await eventually(lambda: _backlog_is(platform, 0))
        async with count_queries(platform, everywhere=True) as counted:
            [first] = await publish(platform, tenant, ThingHappened(n=1))
            assert await eventually(lambda: _dispatched(platform, first.id)), "not delivered"
        # Handlers wrote through the engine's pool; the claim and the settlement did not.
        assert not [s for s in counted.statements if "claimed_by" in s], str(counted)
        [pid] = await own_connections()

        await fetch(platform, "SELECT pg_terminate_backend(:pid) AS done", pid=pid)
        [second] = await publish(platform, tenant, ThingHappened(n=2))
        assert await eventually(lambda: _dispatched(platform, second.id), within=10), "the relay did not recover"
        assert await effects(platform) == once_each(first, second)
        replaced = await own_connections()
        assert len(replaced) == 1 and replaced != [pid]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await eventually(lambda: _none(own_connections)), "the relay left its connection open"


async def _dispatched(platform: Platform, event_id: uuid.UUID) -> bool:
    row = await outbox_row(platform, event_id)
    return row is not None and row.dispatched_at is not None


async def _none(found: Callable[[], Awaitable[list[int]]]) -> bool:
    return not await found()


async def _backlog_is(platform: Platform, n: int) -> bool:
    return bool((await outbox_status(platform.ctx))["backlog"] == n)


class RacingRelay(OutboxRelay):
    """Publishes right after computing when the next event is due, before it sleeps."""

    race: Callable[[], Awaitable[None]] | None = None

    async def seconds_until_due(self) -> float | None:
        due = await super().seconds_until_due()
        race, self.race = self.race, None
        if race is not None:
            self._wake.clear()
            await race()
            await asyncio.wait_for(self._wake.wait(), 5)  # the NOTIFY arrived, before the relay sleeps
        return due


async def test_a_notify_arriving_while_the_relay_goes_to_sleep_is_not_lost(booted: Boot, make_tenant: Any) -> None:
    platform = booted(poll_interval=30)
    tenant = await make_tenant(platform=platform)
    runtime = runtime_of(platform.ctx)
    racer = RacingRelay(platform.ctx, LocalTarget(runtime.collect_handlers()), runtime.metrics, name="racer")
    task = asyncio.create_task(racer.run())
    published: list[EventEnvelope] = []
    try:
        assert await eventually(lambda: listening(platform))
        assert await eventually(lambda: _backlog_is(platform, 0))

        async def publish_now() -> None:
            published.extend(await publish(platform, tenant, ThingHappened(n=1)))

        racer.race = publish_now
        racer.wake()

        async def delivered() -> bool:
            return bool(published) and await effects(platform) == once_each(*published)

        assert await eventually(delivered, within=8), "the wake-up was lost: the relay waits for its poll interval"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


# --- retries and the DLQ -------------------------------------------------------------------------------


async def test_a_failing_handler_is_retried_with_backoff_and_applies_once(booted: Boot, make_tenant: Any) -> None:
    # The first delay (0.4-0.6 s with jitter) is far above how late a busy machine runs the
    # checks right after the failure, so "not retried yet" does not depend on the clock.
    base = 0.5
    platform = booted(backoff_base=base, backoff_max=1.0, max_attempts=5)
    tenant = await make_tenant(platform=platform)
    [event] = await publish(platform, tenant, ThingHappened(n=3, fail_times=2, fail_handler="recorder.first"))
    worker = relay(platform, "retrier")

    [before] = await fetch(platform, "SELECT now() AS at")
    await worker.run_once()
    first = await outbox_row(platform, event.id)
    assert (first.attempts, first.dispatched_at, first.claimed_by) == (1, None, None)
    assert "recorder.first" in first.last_error and "attempt 1" in first.last_error
    assert "recorder.second" not in first.last_error
    # Rescheduled at least the jittered base after the failure (which came after `before`).
    assert (first.next_attempt_at - before.at).total_seconds() >= 0.8 * base
    assert await effects(platform) == Counter({("recorder.second", event.id): 1})
    assert await receipts(platform) == {("recorder.second", event.id)}
    assert await worker.run_once() == 0, "retried before its backoff"

    async def attempts_are(n: int) -> Any:
        await worker.run_once()
        row = await outbox_row(platform, event.id)
        return row if row.attempts == n else None

    second = await eventually(lambda: attempts_are(2))
    assert second, "no second attempt"
    assert second.next_attempt_at > first.next_attempt_at
    assert "attempt 2" in second.last_error

    async def dispatched() -> Any:
        await worker.run_once()
        row = await outbox_row(platform, event.id)
        return row if row.dispatched_at is not None else None

    done = await eventually(dispatched)
    assert done, "never delivered"
    assert (done.attempts, done.last_error) == (2, None)
    assert await effects(platform) == once_each(event)
    rows = await fetch(platform, "SELECT handler, attempts FROM recorder_effects ORDER BY handler")
    assert [(r.handler, r.attempts) for r in rows] == [("recorder.first", 2), ("recorder.second", 0)]
    assert await receipts(platform) == set(once_each(event))
    assert (worker.stats.retried, worker.stats.dead) == (2, 0)


async def test_after_max_attempts_the_event_moves_to_the_dlq(booted: Boot, make_tenant: Any) -> None:
    platform = booted(backoff_base=0.02, backoff_max=0.05, max_attempts=3)
    tenant = await make_tenant(platform=platform)
    both, only_second = await publish(
        platform,
        tenant,
        ThingHappened(n=1, fail_times=99),
        ThingHappened(n=2, fail_times=99, fail_handler="recorder.second"),
    )
    worker = relay(platform, "dlq")
    await relay_all(worker)

    assert await outbox_row(platform, both.id) is None
    assert await outbox_row(platform, only_second.id) is None
    dead = await dead_row(platform, both.id)
    assert dead.attempts == 3
    assert dead.failed_handlers == ["recorder.first", "recorder.second"]
    assert "recorder.first" in dead.last_error and "recorder.second" in dead.last_error
    assert (dead.event_type, dead.schema_version, dead.payload, dead.tenant_id) == (
        THING,
        2,
        both.payload,
        tenant.id,
    )
    assert dead.occurred_at == both.occurred_at
    other = await dead_row(platform, only_second.id)
    assert (other.attempts, other.failed_handlers) == (3, ["recorder.second"])
    assert await effects(platform) == Counter({("recorder.first", only_second.id): 1})
    assert await receipts(platform) == {("recorder.first", only_second.id)}
    assert worker.stats.dead == 2
    status = await outbox_status(platform.ctx, tenant.id)
    assert (status["backlog"], status["dlq"]) == (0, 2)


async def test_an_unknown_event_type_goes_to_the_dlq_without_retries(booted: Boot, make_tenant: Any) -> None:
    platform = booted(max_attempts=5)
    tenant = await make_tenant(platform=platform)
    ghost = await insert_raw(platform, tenant, "ghost.thing.happened", {"n": 1}, 1)
    worker = relay(platform, "ghostbuster")
    await worker.run_once()
    assert await outbox_row(platform, ghost) is None
    dead = await dead_row(platform, ghost)
    assert dead.attempts == 1
    assert dead.failed_handlers == []
    assert "unknown event type 'ghost.thing.happened'" in dead.last_error
    assert await effects(platform) == Counter()


async def test_an_invalid_stored_payload_goes_to_the_dlq_without_retries(booted: Boot, make_tenant: Any) -> None:
    platform = booted(max_attempts=5)
    tenant = await make_tenant(platform=platform)
    bad = await insert_raw(platform, tenant, THING, {"n": "lots"}, 2)
    future = await insert_raw(platform, tenant, THING, {"n": 1}, 9)
    unreadable_v1 = await insert_raw(platform, tenant, THING, {"n": 1}, 1)  # v1 had "count"
    good = (await publish(platform, tenant, ThingHappened(n=5)))[0]
    worker = relay(platform, "validator")
    await worker.run_once()
    for event_id, fragment in [(bad, "payload.n"), (future, "no schema version 9"), (unreadable_v1, "upcast")]:
        dead = await dead_row(platform, event_id)
        assert dead is not None, fragment
        assert dead.attempts == 1
        assert fragment in dead.last_error
    # The valid event of the same batch is not held back by the broken ones.
    assert await effects(platform) == once_each(good)
    assert (await outbox_row(platform, good.id)).dispatched_at is not None


async def test_stored_version_1_events_reach_handlers_upcast(booted: Boot, make_tenant: Any) -> None:
    platform = booted()
    tenant = await make_tenant(platform=platform)
    old = await insert_raw(platform, tenant, THING, {"count": 11}, 1)
    worker = relay(platform, "upcaster")
    await worker.run_once()
    assert await dead_row(platform, old) is None
    rows = await fetch(platform, "SELECT handler, n FROM recorder_effects WHERE event_id = :e ORDER BY handler", e=old)
    assert [(r.handler, r.n) for r in rows] == [("recorder.first", 11), ("recorder.second", 11)]
    assert (await outbox_row(platform, old)).dispatched_at is not None


async def test_outbox_status_counts_backlog_dlq_and_dispatched_per_tenant(booted: Boot, make_tenant: Any) -> None:
    platform = booted(max_attempts=1)
    mine, other = await make_tenant(platform=platform, modules=[]), await make_tenant(platform=platform, modules=[])
    await relay(platform, "setup").run_once()  # dispatch the tenants' own events
    await publish(platform, mine, ThingHappened(n=1), ThingHappened(n=2, fail_times=1))
    await publish(platform, other, ThingHappened(n=3))
    status = await outbox_status(platform.ctx, mine.id)
    assert (status["backlog"], status["dlq"], status["dispatched"]) == (2, 0, 1)
    assert status["oldest_pending_seconds"] >= 0
    await relay(platform, "counter").run_once()
    assert await outbox_status(platform.ctx, mine.id) == {
        "backlog": 0,
        "oldest_pending_seconds": 0.0,
        "dlq": 1,
        "dispatched": 2,
    }
    everyone = await outbox_status(platform.ctx)
    assert (everyone["backlog"], everyone["dlq"], everyone["dispatched"]) == (0, 1, 4)
