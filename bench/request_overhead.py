"""Benchmark: what tenant resolution + authentication add to a request (warm caches).

Two measurements:

1. **In process**, the exact work the request pipeline adds for an API request with a
   warm cache — resolve the tenant from ``X-Tenant-ID``, authenticate the bearer
   credential (JWT or API key), take a rate-limit token — timed over many iterations.
   Also the single-flight check: with a cold cache, 100 concurrent resolutions of one
   tenant must reach the database once.
2. **Over HTTP**, the real server (``rustok serve``, one worker pinned to core 0) under
   ``wrk`` (pinned to core 1): ``/health`` (no tenant, no auth) against
   ``/api/v1/tenant/current`` anonymous, with a JWT and with an API key.

    uv run python bench/request_overhead.py [--database-url URL] [--duration 10]

Without ``--database-url`` the embedded PostgreSQL is used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import event
from starlette.requests import HTTPConnection

from rustok_core.interfaces import TenantDirectory, TenantResolver
from rustok_core.ratelimit import per_minute
from rustok_server.boot import boot
from rustok_testing.server import environment_without_rustok, running_server

RUSTOK = str(Path(sys.executable).parent / "rustok")
ITERATIONS = 20_000
JWT_SECRET = "bench-only-signing-key-0123456789abcdefghijkl"
SIGN_IN = 'mutation { signIn(email: "bench@example.com", password: "bench password 2026") { accessToken } }'


def connection(headers: dict[str, str]) -> HTTPConnection:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return HTTPConnection(
        {"type": "http", "method": "GET", "path": "/api/v1/x", "headers": raw, "client": ("127.0.0.1", 1)}
    )


async def in_process(database_url: str | None) -> dict[str, float]:
    from rustok_core.settings import load_settings

    settings = load_settings(
        environ={"RUSTOK_JWT_SECRET": JWT_SECRET, **({"DATABASE_URL": database_url} if database_url else {})}
    )
    platform = boot(settings)
    ctx = platform.ctx
    directory = ctx.services.get(TenantDirectory)
    slug = f"bench-{int(time.time())}"
    tenant = await directory.create(slug=slug, name="Bench")
    auth = ctx.state["auth.service"]
    await auth.create_user(
        tenant.id, email="bench@example.com", password="bench password 2026", verified=True, role="admin"
    )
    signed = await auth.sign_in(
        tenant, email="bench@example.com", password="bench password 2026", ip=None, user_agent="bench"
    )
    grants = ctx.permissions.grants_of_builtin("admin")
    principal = (
        await platform.authenticator.authenticate(
            connection({"Authorization": f"Bearer {signed.access_token}", "X-Tenant-ID": slug}), tenant
        )
    )[0]
    key, _ = await ctx.state["auth.api_keys"].create(
        tenant.id, name="bench", permissions=["roles:read"], expires_at=None, actor=principal, actor_grants=grants
    )
    resolver = ctx.services.get(TenantResolver)
    limiter = platform.runtime.limiter
    capacity, refill = per_minute(10**9, 10**9)

    async def pipeline(headers: dict[str, str]) -> None:
        conn = connection(headers)
        found = await resolver.resolve(conn)
        who, found = await platform.authenticator.authenticate(conn, found)
        await limiter.hit(
            f"requests:{found.id if found else '-'}:{who.identity if who else 'ip'}",
            capacity=capacity,
            refill_per_second=refill,
        )

    cases = {
        "tenant only": {"X-Tenant-ID": slug},
        "tenant + JWT": {"X-Tenant-ID": slug, "Authorization": f"Bearer {signed.access_token}"},
        "tenant + API key": {"X-Tenant-ID": slug, "Authorization": f"Bearer {key}"},
    }
    results: dict[str, float] = {}
    for label, headers in cases.items():
        for _ in range(500):  # warm the caches
            await pipeline(headers)
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(ITERATIONS // 5):
                await pipeline(headers)
            samples.append((time.perf_counter() - started) / (ITERATIONS // 5) * 1e6)
        results[label] = statistics.median(samples)

    # Single flight: cold cache, 100 concurrent requests for one tenant.
    statements: list[str] = []
    engine = ctx.db.engine.sync_engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    platform.runtime.cache.clear_local()
    await asyncio.gather(*(resolver.resolve(connection({"X-Tenant-ID": slug})) for _ in range(100)))
    event.remove(engine, "before_cursor_execute", listener)
    results["cold_queries"] = float(sum(1 for s in statements if "FROM tenants" in s))
    await ctx.db.dispose()
    return results


def wrk(url: str, headers: dict[str, str], duration: int) -> tuple[float, float]:
    args = ["taskset", "-c", "1", "wrk", "-t1", "-c16", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url} answered errors under load:\n{out}")
    return rps, 1e6 / rps


def over_http(database_url: str | None, duration: int) -> dict[str, tuple[float, float]]:
    if not shutil.which("wrk") or not shutil.which("taskset"):
        raise SystemExit("needs wrk and taskset (apt-get install wrk util-linux)")
    with tempfile.TemporaryDirectory(prefix="rustok-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "config").mkdir()
        (workdir / "config" / "development.yaml").write_text(
            "log_level: warning\nrustok:\n  rate_limit:\n    requests_per_minute: 100000000\n    burst: 100000000\n"
        )
        env = environment_without_rustok(RUSTOK_CONFIG_DIR=str(workdir / "config"), RUSTOK_JWT_SECRET=JWT_SECRET)
        if database_url:
            env["DATABASE_URL"] = database_url
        slug = f"bench-http-{int(time.time())}"
        command = ["taskset", "-c", "0", RUSTOK, "serve"]
        with running_server(command, cwd=workdir, env=env, log=workdir / "server.log") as server:
            server.wait_for("/health/ready")
            for args in (
                ["tenant", "create", "--slug", slug, "--name", "Bench"],
                [
                    "user",
                    "create-admin",
                    "--tenant",
                    slug,
                    "--email",
                    "bench@example.com",
                    "--password",
                    "bench password 2026",
                ],
            ):
                subprocess.run([RUSTOK, *args], cwd=workdir, env=env, check=True, capture_output=True)
            signed = httpx.post(
                f"{server.base_url}/graphql",
                json={"query": SIGN_IN},
                headers={"X-Tenant-ID": slug},
            ).json()["data"]["signIn"]["accessToken"]
            key = httpx.post(
                f"{server.base_url}/graphql",
                json={
                    "query": 'mutation { createApiKey(input: {name: "bench", permissions: ["roles:read"]}) { key } }'
                },
                headers={"X-Tenant-ID": slug, "Authorization": f"Bearer {signed}"},
            ).json()["data"]["createApiKey"]["key"]
            current = f"{server.base_url}/api/v1/tenant/current"
            cases = {
                "/health (bare)": (f"{server.base_url}/health", {}),
                "tenant/current, tenant only": (current, {"X-Tenant-ID": slug}),
                "tenant/current + JWT": (current, {"X-Tenant-ID": slug, "Authorization": f"Bearer {signed}"}),
                "tenant/current + API key": (current, {"X-Tenant-ID": slug, "Authorization": f"Bearer {key}"}),
            }
            for url, headers in cases.values():
                wrk(url, headers, 2)  # warm-up
            return {label: wrk(url, headers, duration) for label, (url, headers) in cases.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)

    measured = asyncio.run(in_process(args.database_url))
    print("in process, warm caches, per request (median of 5 x 4000):")
    for label in ("tenant only", "tenant + JWT", "tenant + API key"):
        print(f"  {label:<18} {measured[label]:7.1f} µs")
    print(f"single flight: 100 concurrent cold resolutions -> {int(measured['cold_queries'])} database query")

    http = over_http(args.database_url, args.duration)
    bare_rps, bare_us = http["/health (bare)"]
    print(f"\nover HTTP (uvicorn on core 0, wrk -c16 on core 1, {args.duration}s each):")
    for label, (rps, us) in http.items():
        share = rps / bare_rps
        print(f"  {label:<30} {rps:8.0f} req/s  {us:7.1f} µs/req  (+{us - bare_us:6.1f} µs, {share:5.0%} of bare)")


if __name__ == "__main__":
    main()
