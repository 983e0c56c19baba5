"""Benchmark: CPU per cold storefront request in process — the server's own work, without HTTP noise.

    uv run python bench/cold_path.py [--database-url URL] [--queries catalog,product,feed]
        [--requests 4800] [--rounds 6] [--concurrency 16] [--profile]

Reads the database ``bench/storefront.py`` leaves behind (``rustok_bench_storefront``, its
last clone of the seeded template: run that first). Boots the platform with the response
cache off, like the storefront benchmark's cold phase, and calls the ASGI application
directly — middleware, tenant, GraphQL document, fast path, the read on the read pool,
completion, serialization; no socket, no HTTP parser — with ``--concurrency`` requests in
flight, pinned to core 0, with PostgreSQL pinned to core 1 for the run as the storefront
benchmark does (``--postgres-core none`` leaves it on both cores; with PostgreSQL on the
server's core the numbers move with the scheduler). Reports the process's CPU time per request for
each round, then the minimum and the median over ``--rounds``.

Why in process: over HTTP on a two-core machine, the bare app the storefront benchmark
compares against moves by a third within one run, more than most changes to the cold
path weigh. CPU per request, compared over interleaved runs of two revisions (the
script once per revision, alternately), separates a 5% change from that noise.
``--profile`` prints cProfile's top functions for one round instead (it inflates small
calls; use it to find where time goes, not to measure it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import orjson
import uvloop
from starlette.applications import Starlette

from rustok_testing.postgres import with_database

sys.path.insert(0, str(Path(__file__).parent))
from storefront import (
    LOAD_CORE,
    RUN_DATABASE,
    SERVER_CORE,
    TENANT,
    Case,
    PostgresPinning,
    cases,
    product_handle,
    server_environment,
)


def chosen_cases(database_url: str, names: list[str]) -> list[Case]:
    known = {case.name: case for case in cases(product_handle(database_url))}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"--queries takes {', '.join(known)}; not {', '.join(unknown)}")
    return [known[name] for name in names]


async def measure(args: argparse.Namespace, database_url: str, chosen: list[Case]) -> None:
    from rustok_server.app import create_app, freeze_boot_heap
    from rustok_server.boot import boot

    app = create_app(boot())
    freeze_boot_heap()
    async with app.router.lifespan_context(app):  # as the storefront bench runs the platform in process
        for case in chosen:
            await run_case(args, app, case)


async def run_case(args: argparse.Namespace, app: Starlette, case: Case) -> None:
    body = case.body()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"x-tenant-id", TENANT.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 5150),
    }
    answers: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            answers.append(message["body"])

    async def worker(count: int) -> None:
        for _ in range(count):
            await app(dict(scope), receive, send)

    async def run(total: int) -> float:
        """CPU µs per request over ``total`` requests, ``--concurrency`` at a time."""
        answers.clear()
        each = total // args.concurrency
        cpu = time.process_time()
        await asyncio.gather(*(worker(each) for _ in range(args.concurrency)))
        spent = (time.process_time() - cpu) / (each * args.concurrency)
        if orjson.loads(answers[-1]).get("errors") or len(set(answers)) != 1:
            raise SystemExit(f"{case.label}: unexpected answers: {answers[-1][:300]!r}")
        return float(spent * 1e6)

    await run(max(args.concurrency, 300))  # warm: document cache, plan, prepared statements
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        await run(args.requests)
        profile.disable()
        print(f"== {case.label}")
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        return
    rounds = [await run(args.requests) for _ in range(args.rounds)]
    print(
        f"{case.label:28s} CPU per request: min {min(rounds):6.1f} µs, median {statistics.median(rounds):6.1f} µs"
        f"  ({', '.join(f'{r:.0f}' for r in rounds)}; {len(answers[-1]):,} bytes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("RUSTOK_BENCH_DATABASE_URL"))
    parser.add_argument("--queries", default="catalog,product,feed", help="of: catalog, product, search, feed")
    parser.add_argument("--requests", type=int, default=4800, help="requests per round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--postgres-core", default=str(LOAD_CORE), choices=(str(LOAD_CORE), "none"))
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("give --database-url (the server bench/storefront.py used) or RUSTOK_BENCH_DATABASE_URL")
    if args.requests < args.concurrency or args.rounds < 1:
        raise SystemExit("--requests must be at least --concurrency, --rounds at least 1")
    database_url = with_database(args.database_url, RUN_DATABASE)
    postgres = PostgresPinning.find(
        with_database(args.database_url, "postgres"), None if args.postgres_core == "none" else LOAD_CORE
    )
    chosen = chosen_cases(database_url, [name.strip() for name in args.queries.split(",") if name.strip()])
    workdir = Path(tempfile.mkdtemp(prefix="rustok-cold-path-"))
    os.environ.clear()
    os.environ.update(server_environment(workdir, {"graphql.response_cache": False}, database_url, None))
    os.sched_setaffinity(0, {SERVER_CORE})
    with postgres.pinned():
        where = f"pinned to core {LOAD_CORE}" if postgres.postmaster is not None else postgres.describe()
        print(f"PostgreSQL: {where}", file=sys.stderr)
        uvloop.run(measure(args, database_url, chosen))


if __name__ == "__main__":
    main()
