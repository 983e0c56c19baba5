"""The dispatcher applies a batch of events once per handler, in few transactions.

``deliver_many`` groups a batch per handler and tenant into one transaction each; a
group that fails is retried event by event so only the failing events are reported;
receipts make redelivery harmless; the same event twice in a batch is applied once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text

from rustok_core.context import TenantContext
from rustok_core.events import EventEnvelope
from rustok_core.ids import generate_id
from rustok_outbox.dispatch import Dispatcher
from rustok_outbox.runtime import runtime_of
from rustok_server.boot import Platform
from rustok_testing.events import effects, once_each
from rustok_testing.samples import ThingHappened, ensure_recorder_table, recorder_plugins


@pytest.fixture(scope="module")
async def platform(boot_platform: Any) -> Platform:
    booted: Platform = boot_platform(plugins=recorder_plugins(), **{"rustok.events.relay": False})
    await ensure_recorder_table(booted.ctx.db)
    return booted


@pytest.fixture
def dispatcher(platform: Platform) -> Dispatcher:
    return runtime_of(platform.ctx).collect_handlers()


def envelope(tenant: TenantContext, n: int, **extra: Any) -> EventEnvelope:
    return EventEnvelope(
        id=generate_id(),
        event_type=ThingHappened.event_type,
        schema_version=ThingHappened.schema_version,
        tenant_id=tenant.id,
        occurred_at=datetime.now(UTC),
        payload=ThingHappened(n=n, **extra).payload(),
    )


@pytest.fixture
def transactions(platform: Platform) -> Iterator[list[str]]:
    """Counts COMMITs and ROLLBACKs on the platform's engine while a test runs."""
    seen: list[str] = []
    engine = platform.ctx.db.engine.sync_engine

    def on_commit(conn: Any) -> None:
        seen.append("commit")

    def on_rollback(conn: Any) -> None:
        seen.append("rollback")

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    yield seen
    event.remove(engine, "commit", on_commit)
    event.remove(engine, "rollback", on_rollback)


async def test_a_batch_is_one_transaction_per_handler_and_tenant(
    platform: Platform, dispatcher: Dispatcher, make_tenant: Any, transactions: list[str]
) -> None:
    a, b = await make_tenant(platform=platform), await make_tenant(platform=platform)
    batch = [envelope(a, n) for n in range(20)] + [envelope(b, n) for n in range(10)]
    transactions.clear()
    results = await dispatcher.deliver_many(batch)
    assert all(result.ok for result in results)
    # 2 handlers x 2 tenants, not 2 x 30.
    assert transactions.count("commit") == 4
    assert await effects(platform, a, b) == once_each(*batch)


async def test_a_failing_event_fails_alone_and_the_rest_of_its_group_is_applied(
    platform: Platform, dispatcher: Dispatcher, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    good = [envelope(tenant, n) for n in range(5)]
    bad = envelope(tenant, 99, fail_times=1, fail_handler="recorder.second")
    batch = [*good[:2], bad, *good[2:]]
    results = await dispatcher.deliver_many(batch)
    assert [result.ok for result in results] == [True, True, False, True, True, True]
    assert set(results[2].failures) == {"recorder.second"}
    assert "fails on purpose" in results[2].failures["recorder.second"]
    expected = once_each(*good) + Counter({("recorder.first", bad.id): 1})
    assert await effects(platform, tenant) == expected

    # The retry applies only what is missing: recorder.second for the failed event.
    retried = await dispatcher.deliver_many([bad.with_attempts(1), *good])
    assert all(result.ok for result in retried)
    assert await effects(platform, tenant) == expected + Counter({("recorder.second", bad.id): 1})


async def test_redelivering_a_batch_applies_nothing_twice(
    platform: Platform, dispatcher: Dispatcher, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    batch = [envelope(tenant, n) for n in range(8)]
    await dispatcher.deliver_many(batch)
    await dispatcher.deliver_many(list(reversed(batch)))
    assert await effects(platform, tenant) == once_each(*batch)


async def test_the_same_event_twice_in_one_batch_is_applied_once_and_reported_for_both(
    platform: Platform, dispatcher: Dispatcher, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    first, second = envelope(tenant, 1), envelope(tenant, 2)
    results = await dispatcher.deliver_many([first, second, first.with_attempts(3)])
    assert len(results) == 3 and all(result.ok for result in results)
    assert await effects(platform, tenant) == once_each(first, second)

    failing = envelope(tenant, 3, fail_times=1)
    results = await dispatcher.deliver_many([failing, failing])
    assert results[0].failures and results[1].failures == results[0].failures


async def test_invalid_events_are_marked_invalid_and_do_not_block_the_batch(
    platform: Platform, dispatcher: Dispatcher, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    ok = envelope(tenant, 1)
    negative = EventEnvelope(
        id=generate_id(),
        event_type=ThingHappened.event_type,
        schema_version=2,
        tenant_id=tenant.id,
        occurred_at=datetime.now(UTC),
        payload={"n": -1},
    )
    unknown = EventEnvelope(
        id=generate_id(),
        event_type="nobody.knows.this",
        schema_version=1,
        tenant_id=tenant.id,
        occurred_at=datetime.now(UTC),
        payload={},
    )
    results = await dispatcher.deliver_many([negative, ok, unknown])
    assert results[1].ok
    assert results[0].invalid is not None and "n must not be negative" in results[0].invalid
    assert results[2].invalid is not None and "nobody.knows.this" in results[2].invalid
    assert await effects(platform, tenant) == once_each(ok)


async def test_only_restricts_delivery_to_the_given_handlers(
    platform: Platform, dispatcher: Dispatcher, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    batch = [envelope(tenant, n) for n in range(3)]
    first = [h for h in dispatcher.handlers if h.name == "recorder.first"]
    await dispatcher.deliver_many(batch, only=first)
    assert await effects(platform, tenant) == Counter({("recorder.first", e.id): 1 for e in batch})


async def test_a_stored_older_version_reaches_handlers_upcast(
    platform: Platform, dispatcher: Dispatcher, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    old = EventEnvelope(
        id=generate_id(),
        event_type=ThingHappened.event_type,
        schema_version=1,
        tenant_id=tenant.id,
        occurred_at=datetime.now(UTC),
        payload={"count": 7},
    )
    assert (await dispatcher.deliver_many([old]))[0].ok
    async with platform.ctx.db.system_session() as session:
        ns = (
            await session.execute(text("SELECT n FROM recorder_effects WHERE event_id = :e"), {"e": old.id})
        ).scalars()
        assert list(ns) == [7, 7]
