"""Collect module routes, guard them, and mount them under ``/api/v1/<slug>/``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute, Mount, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from rustok_core.context import REQUEST_CONTEXT_KEY, RequestContext
from rustok_core.errors import BootError, ModuleDisabled
from rustok_core.interfaces import Authorizer
from rustok_core.module import ModuleKind
from rustok_core.permissions import PermissionCatalog
from rustok_core.registry import ModuleRegistry
from rustok_core.rest import RestRoute
from rustok_core.settings import ServerSettings
from rustok_server.rest.idempotency import IdempotencyGuard, IdempotencyStore

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class MountedRoute:
    module: str
    prefix: str
    route: RestRoute


class RouteGuard:
    """Answers ``MODULE_DISABLED`` for tenants without the module and checks access."""

    def __init__(self, app: ASGIApp, *, module: str | None, permission: str | None) -> None:
        self.app = app
        self.module = module
        self.permission = permission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: RequestContext = scope[REQUEST_CONTEXT_KEY]
        if self.module is not None:
            tenant = ctx.require_tenant()
            if not tenant.module_enabled(self.module):
                raise ModuleDisabled(self.module)
        if self.permission is not None:
            await ctx.app.services.get(Authorizer).authorize(ctx, self.permission)
        await self.app(scope, receive, send)


def module_routes(
    registry: ModuleRegistry, catalog: PermissionCatalog | None, *, idempotency: IdempotencyStore
) -> tuple[list[BaseRoute], list[MountedRoute]]:
    """Return Starlette mounts for every module's routes and a flat list for OpenAPI.

    With ``catalog``, every route's permission must be declared. Routes declared
    ``idempotent=True`` honour ``Idempotency-Key`` through ``idempotency``.
    """
    mounts: list[BaseRoute] = []
    mounted: list[MountedRoute] = []
    for module, routes in registry.call("rustok_routes"):
        routes = list(routes)
        if not routes:
            continue
        guarded_module = module.slug if module.info.kind is ModuleKind.OPTIONAL else None
        for route in routes:
            if not isinstance(route, RestRoute):
                raise BootError(
                    f"module '{module.slug}': route {getattr(route, 'path', route)!r} is not a "
                    "rustok_core.rest.RestRoute; declare its models and access with RestRoute"
                )
            permission = route.spec.permission
            if catalog is not None and permission is not None and not catalog.is_known(permission):
                raise BootError(
                    f"module '{module.slug}': route {route.path} requires '{permission}', which nobody declares"
                )
            app = IdempotencyGuard(route.app, idempotency) if route.spec.idempotent else route.app
            route.app = RouteGuard(app, module=guarded_module, permission=permission)
        prefix = f"{API_PREFIX}/{module.slug}"
        mounts.append(Mount(prefix, routes=routes))
        mounted.extend(MountedRoute(module.slug, prefix, route) for route in routes)
    return mounts, mounted


@dataclass(frozen=True)
class RouteBodyLimit:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    limit: int


class BodyLimits:
    """The largest request body each API path accepts.

    ``server.max_body_bytes`` by default; routes that take file uploads get
    ``server.max_upload_bytes``. A route's own ``max_body_bytes`` can only lower its
    limit. The request middleware asks before reading a byte, so it needs paths, not routes.
    """

    def __init__(self, default: int, routes: Sequence[RouteBodyLimit] = ()) -> None:
        self.default = default
        self.routes = tuple(routes)

    def for_request(self, method: str, path: str) -> int:
        for route in self.routes:
            if method in route.methods and route.pattern.match(path):
                return route.limit
        return self.default

    @classmethod
    def of(cls, mounted: Sequence[MountedRoute], settings: ServerSettings) -> BodyLimits:
        routes = []
        for entry in mounted:
            spec = entry.route.spec
            ceiling = settings.max_upload_bytes if spec.takes_uploads else settings.max_body_bytes
            limit = min(spec.max_body_bytes or ceiling, ceiling)
            if limit != settings.max_body_bytes:
                pattern, _, _ = compile_path(entry.prefix + entry.route.path)
                routes.append(RouteBodyLimit(pattern, frozenset(entry.route.methods or ()), limit))
        return cls(settings.max_body_bytes, routes)
