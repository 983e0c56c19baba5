"""Boot: settings → modules → manifest check → database → migrations → services → schema.

Everything that can refuse the start happens here, before a port is opened, and
fails with a :class:`BootError` whose message says what is wrong and what to run.
Boot is synchronous on purpose: nothing in it needs the event loop, and the async
engine it creates opens its first connection inside the server's own loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from starlette.routing import BaseRoute

from rustok_core.context import AppContext
from rustok_core.db import Database
from rustok_core.embedded import start_embedded_postgres
from rustok_core.errors import BootError
from rustok_core.events import EventPublisher
from rustok_core.interfaces import Authorizer, RoleAssigner, TenantDirectory, TenantResolver
from rustok_core.mail import mailer_from_settings
from rustok_core.migrations import MigrationRunner, MigrationStatus
from rustok_core.permissions import PermissionCatalog
from rustok_core.registry import ModuleRegistry, ModuleRegistryError
from rustok_core.settings import Settings, load_settings
from rustok_core.storage import storage_from_settings
from rustok_server.auth.authenticate import Authenticator
from rustok_server.auth.permissions import SERVER_PERMISSIONS
from rustok_server.auth.setup import install_auth
from rustok_server.graphql.schema import SERVER, ComposedSchema, compose_schema
from rustok_server.manifest import REBUILD_HINT, ManifestEntry, check_manifest, expected_modules
from rustok_server.rest.idempotency import IdempotencyStore
from rustok_server.rest.mount import MountedRoute, module_routes
from rustok_server.runtime import Runtime, build_runtime

log = logging.getLogger("rustok.boot")

USE_GENERATED_MANIFEST: Sequence[ManifestEntry] = ()
"""Sentinel: check against the manifest generated from modules.toml."""


@dataclass
class Platform:
    """A booted platform: what the app, the CLI and tests work with."""

    settings: Settings
    registry: ModuleRegistry
    ctx: AppContext
    database_url: str
    migrations: MigrationStatus
    schema: ComposedSchema
    api_routes: list[BaseRoute]
    mounted_routes: list[MountedRoute]
    runtime: Runtime
    authenticator: Authenticator
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return version("rustok-server")


def resolve_database_url(settings: Settings) -> str:
    """The configured URL, or the embedded PostgreSQL's when none is set."""
    if settings.database.url:
        return settings.database.url
    if settings.env == "production":
        raise BootError("production needs a database: set DATABASE_URL (the embedded PostgreSQL is for development)")
    return start_embedded_postgres(settings.database.embedded_dir, database=settings.database.embedded_database)


def boot(
    settings: Settings | None = None,
    *,
    registry: ModuleRegistry | None = None,
    manifest: Sequence[ManifestEntry] | None = USE_GENERATED_MANIFEST,
    database_url: str | None = None,
    migrate: bool | None = None,
) -> Platform:
    """Boot the platform.

    ``registry`` defaults to every installed module; ``manifest=None`` skips the
    manifest check (tests that boot a chosen module set); ``migrate`` overrides the
    setting (development migrates at boot, production refuses a schema that is behind).
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        timings[name] = round(time.perf_counter() - started, 4)

    settings = settings or load_settings()
    if registry is None:
        try:
            registry = ModuleRegistry.from_entry_points()
        except ModuleRegistryError as exc:
            raise ModuleRegistryError(f"{exc}\n{REBUILD_HINT}") from exc
    if manifest is USE_GENERATED_MANIFEST:
        manifest = expected_modules()
    if manifest is not None:
        check_manifest(registry, manifest)
    lap("modules")

    url = database_url or resolve_database_url(settings)
    lap("database")

    runner = MigrationRunner(url, migration_locations(registry))
    should_migrate = settings.auto_migrate if migrate is None else migrate
    status = runner.upgrade() if should_migrate else runner.status()
    if not status.up_to_date:
        raise BootError(
            f"the database schema is behind: {len(status.pending)} migration(s) pending "
            f"({', '.join(status.pending[:10])}); run `rustok migrate`"
        )
    lap("migrations")

    db = Database(
        url,
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.max_overflow,
        echo=settings.database.echo,
        read_pool_size=settings.database.read_pool_size,
    )
    runtime = build_runtime(settings)
    ctx = AppContext(
        settings=settings,
        registry=registry,
        db=db,
        cache=runtime.cache,
        bus=runtime.bus,
        mailer=mailer_from_settings(settings.mail),
        storage=storage_from_settings(settings.media),
        permissions=permission_catalog(registry),
    )
    for module, provided in registry.call("rustok_provide", ctx=ctx):
        for interface, implementation in provided.items():
            ctx.services.register(interface, implementation, provider=module.slug)
    for required, package in REQUIRED_SERVICES:
        if ctx.services.find(required) is None:
            raise BootError(
                f"no installed module provides {required.__name__}; install {package} "
                "(it is a core module: list it in modules.toml with required = true)"
            )
    authenticator = install_auth(ctx)
    lap("services")

    schema = compose_schema(registry, ctx.permissions)
    idempotency = ctx.state["rest.idempotency"] = IdempotencyStore(db, settings.server)
    api_routes, mounted = module_routes(registry, ctx.permissions, idempotency=idempotency)
    lap("schema")

    return Platform(
        settings=settings,
        registry=registry,
        ctx=ctx,
        database_url=url,
        migrations=status,
        schema=schema,
        api_routes=api_routes,
        mounted_routes=mounted,
        runtime=runtime,
        authenticator=authenticator,
        timings=timings,
    )


REQUIRED_SERVICES = (
    (TenantResolver, "rustok-tenant"),
    (TenantDirectory, "rustok-tenant"),
    (Authorizer, "rustok-rbac"),
    (RoleAssigner, "rustok-rbac"),
    (EventPublisher, "rustok-outbox"),
)
SERVER_MIGRATIONS = Path(__file__).parent / "auth" / "migrations" / "versions"


def migration_locations(registry: ModuleRegistry) -> dict[str, Path]:
    """Alembic version directories: every module's plus the server's own branch."""
    locations = {m.slug: Path(str(p)) for m, p in registry.call("rustok_migrations")}
    locations[SERVER] = SERVER_MIGRATIONS
    return locations


def permission_catalog(registry: ModuleRegistry) -> PermissionCatalog:
    """Permissions declared by the server and every module; duplicates are boot errors."""
    catalog = PermissionCatalog()
    try:
        for permission in SERVER_PERMISSIONS:
            catalog.add(SERVER, permission)
        for module, permissions in registry.call("rustok_permissions"):
            for permission in permissions:
                catalog.add(module.slug, permission)
    except ValueError as exc:
        raise BootError(str(exc)) from exc
    return catalog
