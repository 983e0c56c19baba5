"""Broker outages: the platform keeps serving and writing; events wait and arrive once.

These tests run private nats-server processes (never the machine's shared one).
"""

from __future__ import annotations

import time
from typing import Any

from rustok_stream.module import stream_runtime
from rustok_testing.samples import ThingHappened

HANDLERS = ("recorder.first", "recorder.second")


async def module_check(client: Any, slug: str) -> dict[str, Any]:
    body = (await client.get("/health/modules")).json()
    (module,) = [m for m in body["modules"] if m["slug"] == slug]
    (check,) = [c for c in module["checks"] if c["name"] == slug]
    result: dict[str, Any] = check
    return result


async def test_d_an_outage_keeps_events_in_the_outbox_and_delivers_them_once_after_it(
    offline_streamtest: Any, private_nats: Any, make_tenant: Any
) -> None:
    streamtest = offline_streamtest
    private_nats.start()
    platform = streamtest.boot(url=private_nats.url)
    tenant = await make_tenant()
    async with streamtest.serve(platform) as client:
        (before,) = await streamtest.publish(platform, tenant.id, ThingHappened(n=0))
        await streamtest.wait_effects(platform, [before.id], 2)

        async def stream_ok() -> bool:
            return (await module_check(client, "stream"))["status"] == "ok"

        await streamtest.eventually(stream_ok)

        private_nats.stop()
        during = await streamtest.publish(platform, tenant.id, *(ThingHappened(n=i) for i in range(1, 6)))
        ids = [envelope.id for envelope in during]

        async def stream_degraded() -> dict[str, Any] | None:
            check = await module_check(client, "stream")
            return check if check["status"] == "degraded" else None

        check = await streamtest.eventually(stream_degraded)
        assert "unreachable" in check["detail"] and "events wait in the outbox" in check["detail"]
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert (await client.get("/health")).status_code == 200

        # The relay tried and released them: still in the outbox, not dispatched, no
        # attempt counted, nothing applied.
        async def relay_gave_up() -> bool:
            runtime = platform.ctx.state["events"]
            return runtime.relay is not None and not runtime.relay.target_available

        await streamtest.eventually(relay_gave_up)
        pending = await streamtest.rows(
            platform, "SELECT dispatched_at, attempts FROM sys_events WHERE id = ANY(:ids)", ids=ids
        )
        assert len(pending) == 5
        assert all(row.dispatched_at is None and row.attempts == 0 for row in pending)
        assert await streamtest.effects(platform, ids) == []
        events_check = await module_check(client, "events")
        assert events_check["status"] == "degraded"

        # Back on the same port and store: everything arrives, once per handler, on its own.
        private_nats.start()
        rows = await streamtest.wait_effects(platform, ids, 2 * len(ids), within=30)
        assert sorted((row.event_id, row.handler) for row in rows) == sorted(
            (event_id, handler) for event_id in ids for handler in HANDLERS
        )
        await streamtest.eventually(stream_ok)
        dispatched = await streamtest.rows(
            platform, "SELECT id FROM sys_events WHERE id = ANY(:ids) AND dispatched_at IS NOT NULL", ids=ids
        )
        assert len(dispatched) == 5
        runtime = stream_runtime(platform.ctx)
        assert runtime is not None and runtime.connection.generation >= 2  # it reconnected
    assert len(await streamtest.effects(platform, ids)) == 10


async def test_e_the_server_boots_and_serves_with_the_broker_down_and_connects_when_it_comes(
    offline_streamtest: Any, private_nats: Any, make_tenant: Any
) -> None:
    streamtest = offline_streamtest
    platform = streamtest.boot(url=private_nats.url)  # nothing listens there yet
    tenant = await make_tenant()
    started = time.monotonic()
    async with streamtest.serve(platform) as client:
        assert time.monotonic() - started < 5
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/health/ready")).status_code == 200
        check = await module_check(client, "stream")
        assert check["status"] == "degraded"
        assert f"127.0.0.1:{private_nats.port}" in check["detail"]
        (envelope,) = await streamtest.publish(platform, tenant.id, ThingHappened(n=1))

        private_nats.start()
        await streamtest.wait_effects(platform, [envelope.id], 2, within=30)

        async def stream_ok() -> bool:
            return (await module_check(client, "stream"))["status"] == "ok"

        await streamtest.eventually(stream_ok)


async def test_e_shutdown_is_prompt_while_the_broker_is_down(
    offline_streamtest: Any, private_nats: Any, make_tenant: Any
) -> None:
    streamtest = offline_streamtest
    platform = streamtest.boot(url=private_nats.url)
    tenant = await make_tenant()
    async with streamtest.serve(platform):
        await streamtest.publish(platform, tenant.id, ThingHappened(n=1))
        started = time.monotonic()
    assert time.monotonic() - started < 3
    runtime = stream_runtime(platform.ctx)
    assert runtime is not None and not runtime.connection.started
    # Leave nothing behind for the next test's relay.
    await streamtest.rows_exec(platform, "DELETE FROM sys_events WHERE dispatched_at IS NULL")
