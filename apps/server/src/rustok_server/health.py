"""``/health`` (live), ``/health/ready`` (503 naming failing checks), ``/health/modules``, ``/metrics``."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Iterable
from typing import Any

from prometheus_client import generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from rustok_core.context import AppContext
from rustok_core.health import HealthCheck, HealthStatus
from rustok_core.migrations import MigrationStatus
from rustok_core.rest import json_response
from rustok_server.metrics import Metrics

log = logging.getLogger("rustok.health")
CHECK_TIMEOUT = 2.0


class Health:
    def __init__(self, ctx: AppContext, metrics: Metrics, migrations: MigrationStatus) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self.migrations = migrations

    async def live(self, _: Request) -> Response:
        return json_response({"status": "ok"})

    async def ready(self, _: Request) -> Response:
        checks = [await self._database_check()]
        checks.extend(c for c in await self._module_checks() if c.critical)
        failing = [c.name for c in checks if c.status is not HealthStatus.OK]
        body: dict[str, object] = {
            "status": "not_ready" if failing else "ready",
            "checks": [c.as_dict() for c in checks],
        }
        if failing:
            body["failing"] = failing
        return json_response(body, status_code=503 if failing else 200)

    async def modules(self, _: Request) -> Response:
        by_module: dict[str, list[HealthCheck]] = {}
        for slug, check in await self._module_checks_by_slug():
            by_module.setdefault(slug, []).append(check)
        out: list[dict[str, Any]] = []
        for module in self.ctx.registry:
            module_checks = by_module.get(module.slug, [])
            status = _worst(c.status for c in module_checks)
            out.append(
                {
                    "slug": module.slug,
                    "name": module.info.name,
                    "kind": str(module.info.kind),
                    "version": module.info.version,
                    "status": str(status),
                    "checks": [c.as_dict() for c in module_checks],
                }
            )
        return json_response({"status": str(_worst(HealthStatus(m["status"]) for m in out)), "modules": out})

    async def metrics_endpoint(self, _: Request) -> Response:
        for lookup in self.ctx.state.get("cache_lookups", ()):
            for result, count in (await lookup.stats()).items():
                self.metrics.cache_lookups.labels(lookup.name, result).set(count)
        for refresh in self.ctx.state.get("metrics_refreshers", ()):
            try:
                await refresh()
            except Exception:
                log.exception("a metrics refresher failed")
        body = self.metrics.render() + b"".join(
            generate_latest(registry) for registry in self.ctx.state.get("metrics_registries", ())
        )
        return Response(body, media_type=self.metrics.content_type)

    async def _database_check(self) -> HealthCheck:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                async with self.ctx.db.engine.connect() as conn:
                    heads = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        except Exception as exc:  # any failure means "not ready"; the detail says which
            return HealthCheck("database", HealthStatus.DOWN, f"{type(exc).__name__}: {exc}", critical=True)
        missing = self.migrations.missing(heads)
        if missing:
            return HealthCheck(
                "database",
                HealthStatus.DOWN,
                f"schema is behind (missing {', '.join(missing)}); run `rustok migrate`",
                critical=True,
            )
        return HealthCheck("database", HealthStatus.OK, critical=True)

    async def _module_checks(self) -> list[HealthCheck]:
        return [check for _, check in await self._module_checks_by_slug()]

    async def _module_checks_by_slug(self) -> list[tuple[str, HealthCheck]]:
        results: list[tuple[str, HealthCheck]] = []
        for module in self.ctx.registry:
            if not self.ctx.registry.implements(module.slug, "rustok_health"):
                continue
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    outcome: Any = self.ctx.registry.call_module(module.slug, "rustok_health", ctx=self.ctx)
                    if inspect.isawaitable(outcome):
                        outcome = await outcome
            except Exception as exc:
                log.warning("health check of module %s failed", module.slug, exc_info=exc)
                outcome = HealthCheck(module.slug, HealthStatus.DOWN, f"health check failed: {exc}")
            if outcome is None:
                continue
            for check in [outcome] if isinstance(outcome, HealthCheck) else list(outcome):
                results.append((module.slug, check))
        return results

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/health", self.live, methods=["GET"]),
            Route("/health/ready", self.ready, methods=["GET"]),
            Route("/health/modules", self.modules, methods=["GET"]),
            Route("/metrics", self.metrics_endpoint, methods=["GET"]),
        ]


def _worst(statuses: Iterable[HealthStatus]) -> HealthStatus:
    order = [HealthStatus.OK, HealthStatus.DEGRADED, HealthStatus.DOWN]
    worst = HealthStatus.OK
    for status in statuses:
        if order.index(status) > order.index(worst):
            worst = status
    return worst
