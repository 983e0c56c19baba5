"""Scenario: a committed write is delivered exactly once per handler, even when the
relay is killed (SIGKILL) in the middle of a batch and another one takes over.

The relays run in real processes (the same Python, a platform booted with the
recorder module, only the relay working). The test kills one while its handlers are
inside their transactions, starts another, and checks ``recorder_effects``: every
(handler, event) pair applied exactly once. A second test runs two relay processes
side by side and checks that their claims never overlap.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import textwrap
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from rustok_core.events import EventEnvelope
from rustok_server.boot import Platform
from rustok_testing.events import effects, fetch, once_each, publish
from rustok_testing.samples import ThingHappened, ensure_recorder_table, recorder_plugins

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2

RELAY_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, sys, time

    from rustok_core.registry import ModuleRegistry
    from rustok_outbox.relay import OutboxRelay
    from rustok_server.app import create_app
    from rustok_server.boot import boot
    from rustok_testing.plugin import settings_for_tests
    from rustok_testing.samples import recorder_plugins

    database_url, claims_log = sys.argv[1], sys.argv[2]
    overrides = json.loads(os.environ["RUSTOK_RELAY_OVERRIDES"])
    claim = OutboxRelay.claim_batch


    async def logged_claim(self):
        # Record every claim (flushed before delivery starts), so the test can
        # compare what each relay held.
        batch = await claim(self)
        if batch:
            with open(claims_log, "a") as log:
                entry = {"relay": self.name, "pid": os.getpid(), "at": time.time(), "ids": [str(e.id) for e in batch]}
                log.write(json.dumps(entry) + "\\n")
        return batch


    OutboxRelay.claim_batch = logged_claim


    async def main():
        platform = boot(
            settings_for_tests(**overrides),
            registry=ModuleRegistry.from_plugins(recorder_plugins()),
            manifest=None,
            database_url=database_url,
            # The database is migrated for every installed module; this subset must not migrate it.
            migrate=False,
        )
        app = create_app(platform)
        async with app.router.lifespan_context(app):
            print("relaying", flush=True)
            await asyncio.Event().wait()


    asyncio.run(main())
    """
)


class RelayProcess:
    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    async def ready(self, within: float = 30.0) -> None:
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), within)
        except TimeoutError:
            line = b""
        assert line.strip() == b"relaying", f"the relay process did not start:\n{self.output()}"

    def output(self) -> str:
        return self.log.read_text()[-4000:] if self.log.exists() else ""

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()


Spawn = Callable[[], Awaitable[RelayProcess]]


@pytest.fixture
async def spawn(rustok_database_url: str, tmp_path: Path) -> AsyncIterator[Spawn]:
    script = tmp_path / "relay.py"
    script.write_text(RELAY_SCRIPT)
    overrides = {
        "rustok.events.lease_seconds": LEASE_SECONDS,
        "rustok.events.batch_size": 5,
        "rustok.events.poll_interval": 1.0,
    }
    env = {**os.environ, "RUSTOK_RELAY_OVERRIDES": json.dumps(overrides)}
    started: list[RelayProcess] = []

    async def start() -> RelayProcess:
        log = tmp_path / f"relay-{len(started)}.log"
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(script),
                rustok_database_url,
                str(tmp_path / "claims.jsonl"),
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=env,
            )
        relay = RelayProcess(process, log)
        started.append(relay)
        return relay

    try:
        yield start
    finally:
        for relay in started:
            await relay.kill()


def claims(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "claims.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
async def platform(boot_platform: Any) -> Platform:
    """Publishes and inspects; runs no relay of its own."""
    booted: Platform = boot_platform(plugins=recorder_plugins(), **{"rustok.events.relay": False})
    await ensure_recorder_table(booted.ctx.db)
    return booted


async def undispatched(platform: Platform, events: list[EventEnvelope]) -> list[Any]:
    return await fetch(
        platform,
        "SELECT id, claimed_by FROM sys_events WHERE id = ANY(:ids) AND dispatched_at IS NULL",
        ids=[e.id for e in events],
    )


async def wait_for(check: Callable[[], Awaitable[bool]], within: float, what: str, *relays: RelayProcess) -> None:
    deadline = time.monotonic() + within
    while not await check():
        for relay in relays:
            assert relay.process.returncode is None, f"a relay process died:\n{relay.output()}"
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)


async def test_a_relay_killed_mid_batch_loses_and_duplicates_nothing(
    platform: Platform, make_tenant: Any, spawn: Spawn, tmp_path: Path
) -> None:
    tenant = await make_tenant(platform=platform, modules=[])
    events = await publish(platform, tenant, *(ThingHappened(n=n, sleep=0.3) for n in range(20)))
    expected = once_each(*events)

    doomed = await spawn()
    await doomed.ready()

    async def mid_batch() -> bool:
        # Some effects are committed, and the relay holds a batch it has not settled.
        applied = sum((await effects(platform, tenant)).values())
        held = [row for row in await undispatched(platform, events) if row.claimed_by is not None]
        return 0 < applied < len(expected) and bool(held)

    await wait_for(mid_batch, 30, "the relay is in the middle of a batch", doomed)
    await doomed.kill()
    assert doomed.process.returncode == -signal.SIGKILL

    before = await effects(platform, tenant)
    assert 0 < sum(before.values()) < len(expected)
    orphaned = [row for row in await undispatched(platform, events) if row.claimed_by is not None]
    assert orphaned, "the killed relay left no claimed batch behind: it was not killed mid-batch"
    assert max(before.values()) == 1

    rescuer = await spawn()
    await rescuer.ready()

    async def all_dispatched() -> bool:
        return not await undispatched(platform, events)

    await wait_for(all_dispatched, 40, "every event is dispatched", rescuer)
    after = await effects(platform, tenant)
    duplicated = {pair: n for pair, n in after.items() if n > 1}
    assert duplicated == {}, f"applied more than once: {duplicated}"
    assert after == expected, "some (handler, event) pairs were never applied"
    receipts = await fetch(platform, "SELECT count(*) AS n FROM event_receipts WHERE tenant_id = :t", t=tenant.id)
    assert receipts[0].n == len(expected)
    leftovers = await fetch(platform, "SELECT count(*) AS n FROM sys_events WHERE dispatched_at IS NULL")
    assert leftovers[0].n == 0
    assert await fetch(platform, "SELECT 1 FROM sys_events_dlq") == []

    # The rescuer took over the dead relay's claims once their lease ran out.
    taken_over = {row.id for row in orphaned}
    by_pid: dict[int, set[str]] = {}
    for entry in claims(tmp_path):
        by_pid.setdefault(entry["pid"], set()).update(entry["ids"])
    assert {str(i) for i in taken_over} <= by_pid[rescuer.process.pid]


async def test_two_relay_processes_never_hold_the_same_event(
    platform: Platform, make_tenant: Any, spawn: Spawn, tmp_path: Path
) -> None:
    tenant = await make_tenant(platform=platform, modules=[])
    relays = [await spawn(), await spawn()]
    for relay in relays:
        await relay.ready()
    events = await publish(platform, tenant, *(ThingHappened(n=n, sleep=0.01) for n in range(100)))

    async def all_dispatched() -> bool:
        return not await undispatched(platform, events)

    await wait_for(all_dispatched, 40, "every event is dispatched", *relays)
    assert await effects(platform, tenant) == once_each(*events)

    log = [entry for entry in claims(tmp_path) if entry["pid"] in {r.process.pid for r in relays}]
    wanted = {str(e.id) for e in events}
    held = Counter(event_id for entry in log for event_id in entry["ids"] if event_id in wanted)
    assert set(held) == wanted
    twice = [event_id for event_id, n in held.items() if n > 1]
    assert twice == [], f"{len(twice)} events were claimed by two relays"
    assert all(len(entry["ids"]) <= 5 for entry in log)
    assert len({entry["pid"] for entry in log if wanted & set(entry["ids"])}) == 2, "only one relay did any work"
