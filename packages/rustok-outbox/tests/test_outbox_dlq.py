"""The dead-letter queue: the service, the CLI, admin GraphQL and REST.

Dead events are made by a relay whose ``recorder.first`` handler is broken (and
``max_attempts=1``); "fixing" the handler and replaying delivers them to it, while
``recorder.second``, which applied them before, does not apply them again.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from starlette.applications import Starlette

from rustok_core.context import TenantContext
from rustok_core.errors import NotFound
from rustok_core.events import EventEnvelope, EventPublisher
from rustok_outbox.dispatch import Dispatcher
from rustok_outbox.dlq import DeadLetters
from rustok_outbox.relay import LocalTarget, OutboxRelay, outbox_status
from rustok_outbox.runtime import runtime_of
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_server.cli import cli
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.plugin import TEST_JWT_SECRET
from rustok_testing.samples import RecordingHandler, ThingHappened, ensure_recorder_table, recorder_plugins

FIRST, SECOND = "recorder.first", "recorder.second"


class Switchable(RecordingHandler):
    """A recorder handler that can be broken (and fixed again)."""

    broken = False

    async def handle(self, envelope: EventEnvelope, session: Any) -> None:
        self._check()
        await super().handle(envelope, session)

    async def handle_batch(self, envelopes: Any, session: Any) -> None:
        self._check()
        await super().handle_batch(envelopes, session)

    def _check(self) -> None:
        if self.broken:
            raise RuntimeError(f"{self.name} is broken")


@dataclass
class World:
    platform: Platform
    client: RustokClient
    first: Switchable
    relay: OutboxRelay

    @property
    def letters(self) -> DeadLetters:
        return runtime_of(self.platform.ctx).dead_letters


@pytest.fixture(scope="module")
async def world(boot_platform: Any) -> AsyncIterator[World]:
    platform: Platform = boot_platform(
        plugins=recorder_plugins(), **{"rustok.events.relay": False, "rustok.events.max_attempts": 1}
    )
    await ensure_recorder_table(platform.ctx.db)
    runtime = runtime_of(platform.ctx)
    first = Switchable(FIRST)
    dispatcher = Dispatcher(platform.ctx, runtime.registry, [first, RecordingHandler(SECOND)], runtime.metrics)
    relay = OutboxRelay(platform.ctx, LocalTarget(dispatcher), runtime.metrics, name="dlq-tests")
    app: Starlette = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield World(platform, client, first, relay)


async def drain(world: World) -> None:
    while await world.relay.run_once():
        pass


async def dead_events(world: World, tenant: TenantContext, count: int = 1) -> list[EventEnvelope]:
    """Publish ``count`` events and let them die (recorder.first is broken)."""
    publisher = world.platform.ctx.services.get(EventPublisher)
    async with world.platform.ctx.db.session(tenant.id) as session, session.begin():
        published = [await publisher.publish(session, ThingHappened(n=n), tenant_id=tenant.id) for n in range(count)]
    world.first.broken = True
    try:
        await drain(world)
    finally:
        world.first.broken = False
    return published


async def fetch(world: World, sql: str, **params: Any) -> list[Any]:
    async with world.platform.ctx.db.system_session() as session:
        return list((await session.execute(text(sql), params)).all())


async def effects(world: World, *events: EventEnvelope) -> Counter[tuple[str, uuid.UUID]]:
    rows = await fetch(
        world, "SELECT handler, event_id FROM recorder_effects WHERE event_id = ANY(:ids)", ids=[e.id for e in events]
    )
    return Counter((row.handler, row.event_id) for row in rows)


async def in_dlq(world: World, event_id: uuid.UUID) -> bool:
    return bool(await fetch(world, "SELECT 1 FROM sys_events_dlq WHERE id = :id", id=event_id))


def once_each(*events: EventEnvelope) -> Counter[tuple[str, uuid.UUID]]:
    return Counter({(handler, e.id): 1 for e in events for handler in (FIRST, SECOND)})


# --- the service -------------------------------------------------------------------------------


async def test_a_dead_event_keeps_what_failed_and_replay_delivers_only_to_the_failed_handler(
    world: World, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=world.platform)
    [event] = await dead_events(world, tenant)
    dead = await world.letters.get(event.id, tenant_id=tenant.id)
    assert (dead.id, dead.tenant_id, dead.event_type, dead.schema_version) == (event.id, tenant.id, event.event_type, 2)
    assert dead.payload == event.payload
    assert dead.occurred_at == event.occurred_at
    assert (dead.attempts, dead.failed_handlers) == (1, [FIRST])
    assert dead.last_error == f"{FIRST}: RuntimeError: {FIRST} is broken"
    assert await effects(world, event) == Counter({(SECOND, event.id): 1})

    await world.letters.replay(event.id, tenant_id=tenant.id)
    assert not await in_dlq(world, event.id)
    [row] = await fetch(
        world, "SELECT attempts, claimed_by, dispatched_at, last_error FROM sys_events WHERE id = :id", id=event.id
    )
    assert (row.attempts, row.claimed_by, row.dispatched_at) == (0, None, None)
    await drain(world)
    assert await effects(world, event) == once_each(event)
    rows = await fetch(world, "SELECT dispatched_at FROM sys_events WHERE id = :id", id=event.id)
    assert rows[0].dispatched_at is not None


async def test_listing_is_per_tenant_in_id_order_with_paging(world: World, make_tenant: Any) -> None:
    mine, theirs = await make_tenant(platform=world.platform), await make_tenant(platform=world.platform)
    my_events = await dead_events(world, mine, 3)
    their_events = await dead_events(world, theirs, 1)
    page = await world.letters.page(tenant_id=mine.id)
    assert [d.id for d in page] == sorted(e.id for e in my_events)
    first_two = await world.letters.page(tenant_id=mine.id, limit=2)
    rest = await world.letters.page(tenant_id=mine.id, after=first_two[-1].id)
    assert [d.id for d in first_two + list(rest)] == [d.id for d in page]
    everything = {d.id for d in await world.letters.page(limit=1000)}
    assert {e.id for e in my_events + their_events} <= everything

    with pytest.raises(NotFound):
        await world.letters.get(their_events[0].id, tenant_id=mine.id)
    with pytest.raises(NotFound):
        await world.letters.replay(their_events[0].id, tenant_id=mine.id)
    with pytest.raises(NotFound):
        await world.letters.discard(their_events[0].id, tenant_id=mine.id)
    assert await in_dlq(world, their_events[0].id)
    with pytest.raises(NotFound):
        await world.letters.replay(uuid.uuid4())


async def test_replay_all_and_discard(world: World, make_tenant: Any) -> None:
    mine, theirs = await make_tenant(platform=world.platform), await make_tenant(platform=world.platform)
    kept, dropped = await dead_events(world, mine, 2)
    [other] = await dead_events(world, theirs)

    await world.letters.discard(dropped.id, tenant_id=mine.id)
    assert not await in_dlq(world, dropped.id)
    with pytest.raises(NotFound):
        await world.letters.discard(dropped.id)

    assert await world.letters.replay_all(tenant_id=mine.id) == 1
    assert await in_dlq(world, other.id), "replaying one tenant's DLQ touched another tenant's"
    assert await world.letters.replay_all(tenant_id=mine.id) == 0
    await drain(world)
    assert await effects(world, kept, dropped) == once_each(kept) + Counter({(SECOND, dropped.id): 1})


# --- the command line ----------------------------------------------------------------------------

Run = Callable[..., Awaitable[Result]]


@pytest.fixture
def run(rustok_database_url: str, tmp_path: Path, installed_manifest: None) -> Run:
    (tmp_path / "test.yaml").write_text("{}\n")
    env = {
        "DATABASE_URL": rustok_database_url,
        "RUSTOK_ENV": "test",
        "RUSTOK_CONFIG_DIR": str(tmp_path),
        "RUSTOK__AUTH__JWT_SECRET": TEST_JWT_SECRET,
        "RUSTOK__RUSTOK__EVENTS__RELAY": "false",
    }

    async def invoke(*args: str) -> Result:
        # The CLI runs its own event loop (asyncio.run): give it a thread.
        return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env, catch_exceptions=True)

    return invoke


def stat_line(output: str, key: str) -> str:
    return next(line.split(None, 1)[1].strip() for line in output.splitlines() if line.split()[:1] == [key])


async def test_cli_stats_list_show_replay_and_discard(world: World, make_tenant: Any, run: Run) -> None:
    tenant = await make_tenant(platform=world.platform, modules=[])
    await drain(world)  # nothing pending but what this test makes
    one, two, three = await dead_events(world, tenant, 3)
    async with world.platform.ctx.db.session(tenant.id) as session, session.begin():
        await world.platform.ctx.services.get(EventPublisher).publish(session, ThingHappened(n=9), tenant_id=tenant.id)
    status = await outbox_status(world.platform.ctx)

    stats = await run("events", "stats")
    assert stats.exit_code == 0, stats.output
    assert stat_line(stats.output, "backlog") == str(status["backlog"])
    assert stat_line(stats.output, "dlq") == str(status["dlq"])
    assert status["backlog"] >= 1 and status["dlq"] >= 3
    as_json = await run("events", "stats", "--json")
    assert json.loads(as_json.output)["dlq"] == status["dlq"]
    pruned = await run("events", "prune")  # nothing is past retention yet
    assert pruned.exit_code == 0, pruned.output
    assert "pruned 0 events and 0 receipts" in pruned.output

    listed = await run("events", "dlq", "list", "--tenant", tenant.slug)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == sorted(str(e.id) for e in (one, two, three))
    assert all(f"handlers={FIRST}" in line and "attempts=1" in line for line in lines)

    shown = await run("events", "dlq", "show", str(one.id))
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    assert (detail["id"], detail["failed_handlers"], detail["payload"]) == (str(one.id), [FIRST], one.payload)
    missing = await run("events", "dlq", "show", str(uuid.uuid4()))
    assert missing.exit_code != 0

    replayed = await run("events", "dlq", "replay", str(one.id))
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1 event(s)" in replayed.output
    assert not await in_dlq(world, one.id)

    discarded = await run("events", "dlq", "discard", str(two.id))
    assert discarded.exit_code == 0, discarded.output
    assert not await in_dlq(world, two.id)

    assert (await run("events", "dlq", "replay")).exit_code == 2  # neither an id nor --all
    everything = await run("events", "dlq", "replay", "--all", "--tenant", tenant.slug)
    assert everything.exit_code == 0, everything.output
    assert "replayed 1 event(s)" in everything.output
    assert not await in_dlq(world, three.id)

    await drain(world)
    assert await effects(world, one, two, three) == once_each(one, three) + Counter({(SECOND, two.id): 1})
    empty = await run("events", "dlq", "list", "--tenant", tenant.slug)
    assert "the DLQ is empty" in empty.output

    # Without --tenant, --all replays the whole platform's DLQ.
    others = await dead_events(world, await make_tenant(platform=world.platform, modules=[]), 2)
    total = (await outbox_status(world.platform.ctx))["dlq"]
    assert total >= 2
    platform_wide = await run("events", "dlq", "replay", "--all")
    assert platform_wide.exit_code == 0, platform_wide.output
    assert f"replayed {total} event(s)" in platform_wide.output
    assert (await outbox_status(world.platform.ctx))["dlq"] == 0
    await drain(world)
    assert await effects(world, *others) == once_each(*others)


# --- GraphQL ------------------------------------------------------------------------------------------

DEAD_EVENTS = """
query($first: Int, $after: UUID) {
  deadEvents(first: $first, after: $after) {
    id eventType schemaVersion payload occurredAt failedAt attempts lastError failedHandlers
  }
}"""
EVENT_STATS = "{ eventStats { transport backlog oldestPendingSeconds deadLettered dispatched } }"
REPLAY = "mutation($id: UUID!) { replayDeadEvent(id: $id) }"
REPLAY_ALL = "mutation { replayDeadEvents }"
DISCARD = "mutation($id: UUID!) { discardDeadEvent(id: $id) }"


@pytest.fixture
async def tenants(world: World, make_tenant: Any, make_user: Any) -> Iterator[Any]:
    a = await make_tenant(platform=world.platform, modules=[])
    b = await make_tenant(platform=world.platform, modules=[])
    admin_a = await make_user(a, role="admin", platform=world.platform)
    admin_b = await make_user(b, role="admin", platform=world.platform)
    customer_a = await make_user(a, role="customer", platform=world.platform)
    await drain(world)
    return a, b, admin_a, admin_b, customer_a


async def test_graphql_lists_replays_and_discards_dead_events(world: World, tenants: Any) -> None:
    a, _, admin, _, _ = tenants
    first, second = await dead_events(world, a, 2)
    gql = world.client.graphql_data

    listed = (await gql(DEAD_EVENTS, headers=admin.headers))["deadEvents"]
    assert [d["id"] for d in listed] == sorted(str(e.id) for e in (first, second))
    dead = next(d for d in listed if d["id"] == str(first.id))
    assert dead["eventType"] == "recorder.thing.happened"
    assert (dead["schemaVersion"], dead["attempts"], dead["failedHandlers"]) == (2, 1, [FIRST])
    assert dead["payload"] == first.payload
    assert FIRST in dead["lastError"]
    assert dead["occurredAt"] and dead["failedAt"]
    paged = (await gql(DEAD_EVENTS, {"first": 1, "after": listed[0]["id"]}, headers=admin.headers))["deadEvents"]
    assert [d["id"] for d in paged] == [listed[1]["id"]]

    stats = (await gql(EVENT_STATS, headers=admin.headers))["eventStats"]
    dispatched = await fetch(
        world, "SELECT count(*) AS n FROM sys_events WHERE tenant_id = :t AND dispatched_at IS NOT NULL", t=a.id
    )
    assert dispatched[0].n >= 3  # tenant.created and two user.registered
    assert stats == {
        "transport": "outbox",
        "backlog": 0,
        "oldestPendingSeconds": 0.0,
        "deadLettered": 2,
        "dispatched": dispatched[0].n,
    }

    assert (await gql(REPLAY, {"id": str(first.id)}, headers=admin.headers))["replayDeadEvent"] is True
    assert (await gql(DISCARD, {"id": str(second.id)}, headers=admin.headers))["discardDeadEvent"] is True
    assert (await gql(EVENT_STATS, headers=admin.headers))["eventStats"]["deadLettered"] == 0
    assert (await gql(EVENT_STATS, headers=admin.headers))["eventStats"]["backlog"] == 1
    await drain(world)
    assert await effects(world, first, second) == once_each(first) + Counter({(SECOND, second.id): 1})

    more = await dead_events(world, a, 2)
    assert (await gql(REPLAY_ALL, headers=admin.headers))["replayDeadEvents"] == 2
    await drain(world)
    assert await effects(world, *more) == once_each(*more)


async def test_graphql_dlq_is_for_admins_of_the_tenant_only(world: World, tenants: Any) -> None:
    a, b, admin_a, admin_b, customer_a = tenants
    [theirs] = await dead_events(world, b)
    [mine] = await dead_events(world, a)
    client = world.client

    for document, variables in [
        (DEAD_EVENTS, None),
        (EVENT_STATS, None),
        (REPLAY, {"id": str(mine.id)}),
        (REPLAY_ALL, None),
        (DISCARD, {"id": str(mine.id)}),
    ]:
        forbidden = await client.graphql(document, variables, headers=customer_a.headers)
        assert error_codes(forbidden) == ["FORBIDDEN"], document
        anonymous = await client.graphql(document, variables, tenant=a)
        assert error_codes(anonymous) == ["UNAUTHENTICATED"], document
    assert await in_dlq(world, mine.id)

    listed = (await client.graphql_data(DEAD_EVENTS, headers=admin_a.headers))["deadEvents"]
    assert [d["id"] for d in listed] == [str(mine.id)]
    assert (await client.graphql_data(EVENT_STATS, headers=admin_a.headers))["eventStats"]["deadLettered"] == 1
    for document in (REPLAY, DISCARD):
        refused = await client.graphql(document, {"id": str(theirs.id)}, headers=admin_a.headers)
        assert error_codes(refused) == ["NOT_FOUND"], document
    assert (await client.graphql_data(REPLAY_ALL, headers=admin_a.headers))["replayDeadEvents"] == 1
    assert await in_dlq(world, theirs.id), "tenant A's admin touched tenant B's dead event"
    assert not await in_dlq(world, mine.id)

    # An admin's token is bound to its tenant: B's token does not open A's DLQ.
    crossed = await client.graphql(
        DEAD_EVENTS, headers={**admin_b.headers, client.tenant_header: a.slug}, expect_status=None
    )
    assert error_codes(crossed) == ["UNAUTHENTICATED"]
    assert not (crossed.get("data") or {}).get("deadEvents")
    assert [d["id"] for d in (await client.graphql_data(DEAD_EVENTS, headers=admin_b.headers))["deadEvents"]] == [
        str(theirs.id)
    ]


# --- REST ---------------------------------------------------------------------------------------------------

API = "/api/v1/events/dlq"


async def test_rest_lists_shows_replays_and_discards(world: World, tenants: Any) -> None:
    a, b, admin, admin_b, customer = tenants
    first, second, third = await dead_events(world, a, 3)
    [theirs] = await dead_events(world, b)
    http = world.client

    listed = await http.get(API, headers=admin.headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [d["id"] for d in body] == sorted(str(e.id) for e in (first, second, third))
    assert body[0]["eventType"] == "recorder.thing.happened"
    assert body[0]["failedHandlers"] == [FIRST]
    assert body[0]["attempts"] == 1
    limited = (await http.get(API, params={"limit": 1, "after": body[0]["id"]}, headers=admin.headers)).json()
    assert [d["id"] for d in limited] == [body[1]["id"]]
    assert (await http.get(API, params={"limit": 0}, headers=admin.headers)).status_code == 422

    shown = await http.get(f"{API}/{first.id}", headers=admin.headers)
    assert shown.status_code == 200
    assert (shown.json()["id"], shown.json()["payload"]) == (str(first.id), first.payload)

    for method, path in [
        ("GET", f"{API}/{theirs.id}"),
        ("POST", f"{API}/{theirs.id}/replay"),
        ("DELETE", f"{API}/{theirs.id}"),
        ("GET", f"{API}/{uuid.uuid4()}"),
    ]:
        response = await http.request(method, path, headers=admin.headers)
        assert response.status_code == 404, (method, path, response.text)
    assert await in_dlq(world, theirs.id)

    assert (await http.get(API, headers=customer.headers)).status_code == 403
    assert (await http.post(f"{API}/{first.id}/replay", headers=customer.headers)).status_code == 403
    assert (await http.get(API, headers=http.tenant_headers(a))).status_code == 401
    assert await in_dlq(world, first.id)

    replayed = await http.post(f"{API}/{first.id}/replay", headers=admin.headers)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == {"replayed": 1}
    discarded = await http.delete(f"{API}/{second.id}", headers=admin.headers)
    assert discarded.status_code == 204, discarded.text
    assert (await http.delete(f"{API}/{second.id}", headers=admin.headers)).status_code == 404
    everything = await http.post(f"{API}/replay", headers=admin.headers)
    assert everything.json() == {"replayed": 1}
    assert (await http.get(API, headers=admin.headers)).json() == []
    assert [d["id"] for d in (await http.get(API, headers=admin_b.headers)).json()] == [str(theirs.id)]

    await drain(world)
    assert await effects(world, first, second, third) == once_each(first, third) + Counter({(SECOND, second.id): 1})
