"""Benchmark: event throughput and end-to-end lag for the memory, outbox and stream transports.

For each transport a platform with the sample ``recorder`` module is booted:

* **throughput** — N events, one transaction each, published as fast as 8 concurrent
  writers can commit; reported as events/s committed and events/s delivered (until
  both recorder handlers applied every event);
* **lag at a steady rate** — events published at ``--rate`` per second for
  ``--seconds``; lag = a handler's commit (``recorded_at``) minus the publisher's
  commit, reported as p50 / p99 / max.

``outbox`` and ``stream`` deliver in a separate relay process (``rustok events relay``
equivalent: the real relay, consumers and handlers), as a deployment with a worker
would; ``memory`` delivers in the publishing process by design.

    uv run python bench/events_throughput.py [--database-url URL] [--nats-url URL]
        [--rate 500] [--seconds 10] [--count 3000] [--transports memory,outbox,stream]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from rustok_core.embedded import ensure_database
from rustok_core.events import EventPublisher
from rustok_core.interfaces import TenantDirectory
from rustok_core.registry import ModuleRegistry
from rustok_server.app import create_app
from rustok_server.boot import Platform, boot
from rustok_testing.plugin import settings_for_tests
from rustok_testing.samples import ThingHappened, ensure_recorder_table, recorder_plugins

WRITERS = 8
HANDLERS = 2

RELAY_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from rustok_core.registry import ModuleRegistry
    from rustok_server.app import create_app
    from rustok_server.boot import boot
    from rustok_stream.module import module as stream_module
    from rustok_testing.plugin import settings_for_tests
    from rustok_testing.samples import recorder_plugins

    overrides = json.loads(sys.argv[2])
    plugins = [*recorder_plugins(), stream_module]
    platform = boot(settings_for_tests(**overrides), registry=ModuleRegistry.from_plugins(plugins),
                    manifest=None, database_url=sys.argv[1], migrate=False)

    async def main():
        app = create_app(platform)
        async with app.router.lifespan_context(app):
            print("ready", flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())
    """
)


def overrides_for(transport: str, nats_url: str | None, prefix: str, *, relay: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "rustok.events.transport": transport,
        "rustok.events.relay": relay,
        "rustok.events.batch_size": 200,
        "rustok.events.memory_capacity": 1_000_000,
        "rustok.rate_limit.enabled": False,
        "database.pool_size": 20,
    }
    if transport == "stream":
        values.update(
            {
                "rustok.events.nats_url": nats_url,
                "rustok.events.stream_name": f"BENCH_{prefix.upper()}",
                "rustok.events.subject_prefix": f"bench{prefix}",
            }
        )
    return values


async def publish(platform: Platform, tenant_id: Any, count: int, *, rate: float | None) -> dict[Any, float]:
    """Publish ``count`` events (one transaction each); return event id → commit time."""
    publisher = platform.ctx.services.get(EventPublisher)
    committed: dict[Any, float] = {}
    started = time.perf_counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def writer() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            if rate:
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            async with platform.ctx.db.session(tenant_id) as session, session.begin():
                envelope = await publisher.publish(session, ThingHappened(n=n), tenant_id=tenant_id)
            committed[envelope.id] = time.time()

    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    return committed


async def wait_applied(platform: Platform, tenant_id: Any, expected: int, patience: float = 300) -> float:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        async with platform.ctx.db.engine.connect() as conn:
            done = (
                await conn.execute(text("SELECT count(*) FROM recorder_effects WHERE tenant_id = :t"), {"t": tenant_id})
            ).scalar_one()
        if done >= expected:
            return time.perf_counter()
        await asyncio.sleep(0.02)
    raise SystemExit(f"only {done}/{expected} deliveries after {patience}s")


async def lags(platform: Platform, tenant_id: Any, committed: dict[Any, float]) -> list[float]:
    async with platform.ctx.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT event_id, EXTRACT(EPOCH FROM recorded_at) FROM recorder_effects WHERE tenant_id = :t"),
                {"t": tenant_id},
            )
        ).all()
    return [float(recorded) - committed[event_id] for event_id, recorded in rows if event_id in committed]


async def relay_lags(platform: Platform, committed: dict[Any, float]) -> list[float]:
    """Publisher commit → the relay marking the event dispatched (outbox and stream)."""
    async with platform.ctx.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT id, EXTRACT(EPOCH FROM dispatched_at) FROM sys_events WHERE id = ANY(:ids)"),
                {"ids": list(committed)},
            )
        ).all()
    return [float(at) - committed[event_id] for event_id, at in rows if at is not None]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_transport(
    transport: str, database_url: str, nats_url: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    prefix = secrets.token_hex(3)
    separate_relay = transport != "memory"
    settings = settings_for_tests(**overrides_for(transport, nats_url, prefix, relay=not separate_relay))
    plugins = recorder_plugins()
    if transport == "stream":
        from rustok_stream.module import module as stream_module

        plugins.append(stream_module)
    platform = boot(settings, registry=ModuleRegistry.from_plugins(plugins), manifest=None, database_url=database_url)
    await ensure_recorder_table(platform.ctx.db)
    app = create_app(platform)
    relay: asyncio.subprocess.Process | None = None
    async with app.router.lifespan_context(app):
        if separate_relay:
            script = Path(tempfile.mkdtemp()) / "relay.py"
            script.write_text(RELAY_SCRIPT)
            relay_overrides = overrides_for(transport, nats_url, prefix, relay=True)
            relay_overrides["cache.key_prefix"] = settings.cache.key_prefix
            relay = await asyncio.create_subprocess_exec(
                sys.executable,
                str(script),
                database_url,
                json.dumps(relay_overrides),
                stdout=asyncio.subprocess.PIPE,
            )
            assert relay.stdout is not None
            if (await relay.stdout.readline()).strip() != b"ready":
                raise SystemExit("the relay process did not start")
        try:
            directory = platform.ctx.services.get(TenantDirectory)
            burst_tenant = await directory.create(slug=f"bench-burst-{prefix}", name="Burst", modules=["recorder"])
            started = time.perf_counter()
            committed = await publish(platform, burst_tenant.id, args.count, rate=None)
            published_at = time.perf_counter()
            delivered_at = await wait_applied(platform, burst_tenant.id, args.count * HANDLERS)

            steady_tenant = await directory.create(slug=f"bench-steady-{prefix}", name="Steady", modules=["recorder"])
            steady_count = int(args.rate * args.seconds)
            steady = await publish(platform, steady_tenant.id, steady_count, rate=args.rate)
            await wait_applied(platform, steady_tenant.id, steady_count * HANDLERS)
            measured = await lags(platform, steady_tenant.id, steady)
            relayed = await relay_lags(platform, steady) if separate_relay else []
        finally:
            if relay is not None:
                relay.terminate()
                await asyncio.wait_for(relay.wait(), 30)
    await platform.ctx.db.dispose()
    del committed
    return {
        "committed_per_s": args.count / (published_at - started),
        "delivered_per_s": args.count / (delivered_at - started),
        "p50_ms": percentile(measured, 0.50) * 1000,
        "p99_ms": percentile(measured, 0.99) * 1000,
        "max_ms": max(measured) * 1000,
        "mean_ms": statistics.mean(measured) * 1000,
        "steady_events": steady_count,
        "relay_p50_ms": percentile(relayed, 0.50) * 1000 if relayed else None,
        "relay_p99_ms": percentile(relayed, 0.99) * 1000 if relayed else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("RUSTOK_BENCH_DATABASE_URL"))
    parser.add_argument("--nats-url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--transports", default="memory,outbox,stream")
    args = parser.parse_args()

    if args.database_url:
        base = args.database_url
    else:
        from rustok_core.embedded import start_embedded_postgres

        base = start_embedded_postgres(Path("var") / "bench-pg", database="postgres")
    name = f"rustok_bench_events_{secrets.token_hex(3)}"
    url = make_url(base)
    ensure_database(url.set(database="postgres").render_as_string(hide_password=False), name)
    database_url = url.set(database=name).render_as_string(hide_password=False)

    print(
        f"events: {args.count} for throughput (8 writers), {args.rate:.0f}/s for {args.seconds:.0f}s for lag; "
        f"{HANDLERS} handlers, each writing a row with its receipt"
    )
    print(
        f"{'transport':<10} {'committed/s':>12} {'delivered/s':>12} {'lag p50':>9} {'p99':>9} {'max':>9}"
        f" {'relayed p50':>12} {'p99':>9}"
    )
    for transport in args.transports.split(","):
        result = asyncio.run(run_transport(transport, database_url, args.nats_url, args))
        print(
            f"{transport:<10} {result['committed_per_s']:12.0f} {result['delivered_per_s']:12.0f} "
            f"{result['p50_ms']:7.1f}ms {result['p99_ms']:7.1f}ms {result['max_ms']:7.1f}ms"
            + (
                f" {result['relay_p50_ms']:10.1f}ms {result['relay_p99_ms']:7.1f}ms"
                if result["relay_p50_ms"] is not None
                else ""
            )
        )


if __name__ == "__main__":
    main()
