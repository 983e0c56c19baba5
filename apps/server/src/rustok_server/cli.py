"""The ``rustok`` command line.

``rustok serve`` boots and serves; ``rustok migrate`` applies migrations; ``rustok
modules`` and ``rustok tenant`` administer modules and tenants. Modules add their own
commands through the ``rustok_cli`` hook. Boot problems print one clear message and
exit with status 2.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from rustok_core.errors import BootError, RustokError
from rustok_core.interfaces import TenantDirectory
from rustok_core.migrations import MigrationRunner
from rustok_core.registry import ModuleRegistry, ModuleRegistryError
from rustok_core.settings import Settings, load_settings

T = TypeVar("T")


class CliError(click.ClickException):
    exit_code = 2


class CliState:
    def __init__(self, env: str | None, config_dir: str | None) -> None:
        self.env = env
        self.config_dir = config_dir
        self._settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(env=self.env, config_dir=self.config_dir)
        return self._settings

    def boot(self, **kwargs: Any):  # type: ignore[no-untyped-def]
        from rustok_server.boot import boot

        return boot(self.settings(), **kwargs)

    def run_with_context(self, work: Callable[[Any], Awaitable[T]], *, start: bool = False) -> T:
        """Boot, run ``work(ctx)`` (between startup and shutdown hooks if ``start``), clean up."""
        platform = self.boot()

        async def main() -> T:
            registry = platform.registry
            try:
                if start:
                    await platform.runtime.start()
                    await registry.call_async("rustok_startup", ctx=platform.ctx)
                try:
                    return await work(platform.ctx)
                finally:
                    if start:
                        await registry.call_async("rustok_shutdown", ctx=platform.ctx, reverse=True)
                        await platform.runtime.stop()
            finally:
                await platform.ctx.db.dispose()

        return asyncio.run(main())


def _run(state: CliState, work: Callable[[Any], Awaitable[T]], **boot_kwargs: Any) -> T:
    platform = state.boot(**boot_kwargs)

    async def main() -> T:
        try:
            return await work(platform)
        finally:
            await platform.ctx.db.dispose()

    return asyncio.run(main())


class RustokCli(click.Group):
    """The root group; the installed modules' commands join it on first lookup."""

    _modules_added = False

    def _ensure_module_commands(self) -> None:
        if not self._modules_added:
            self._modules_added = True
            _add_module_commands(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure_module_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._ensure_module_commands()
        return super().get_command(ctx, cmd_name)


@click.group(cls=RustokCli)
@click.option("--env", help="Settings environment (config/<env>.yaml); default RUSTOK_ENV or development.")
@click.option("--config-dir", type=click.Path(file_okay=False), help="Directory of the settings files.")
@click.pass_context
def cli(ctx: click.Context, env: str | None, config_dir: str | None) -> None:
    """RusToK: a modular, multi-tenant platform for content and commerce."""
    ctx.obj = CliState(env, config_dir)


# --- serve ---------------------------------------------------------------------------


@cli.command()
@click.option("--host", help="Interface to listen on (default from settings: 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default from settings: 5150).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.pass_obj
def serve(state: CliState, host: str | None, port: int | None, workers: int) -> None:
    """Boot the platform and serve HTTP (GraphQL, REST, health, metrics)."""
    import uvicorn

    from rustok_server.app import create_app, freeze_boot_heap

    settings = state.settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = host or settings.server.host
    port = port or settings.server.port
    started = time.perf_counter()
    if workers > 1:
        # Each worker boots on its own; migrations are serialized by an advisory lock.
        state.boot()
        uvicorn.run(
            "rustok_server.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level,
            timeout_graceful_shutdown=int(settings.server.graceful_timeout),
        )
        return
    platform = state.boot()
    app = create_app(platform)
    click.echo(
        f"rustok: {len(platform.registry)} modules ({', '.join(platform.registry.slugs)}), "
        f"database {_describe_url(platform.database_url)}, booted in {time.perf_counter() - started:.2f}s; "
        f"listening on http://{host}:{port}",
        err=True,
    )
    freeze_boot_heap()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=int(settings.server.graceful_timeout),
    )


def _describe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    where = parsed.host or parsed.query.get("host") or "localhost"
    return f"{parsed.database} on {where}"


# --- migrate ----------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply every module's pending migrations (or see `status`, create with `new`)."""
    if ctx.invoked_subcommand is not None:
        return
    runner = _runner(ctx.obj)
    before = runner.status()
    after = runner.upgrade()
    applied = sorted(set(before.pending) - set(after.pending))
    click.echo(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))


@migrate.command("status")
@click.pass_obj
def migrate_status(state: CliState) -> None:
    """Show applied heads and pending migrations."""
    status = _runner(state).status()
    click.echo(f"heads:   {', '.join(sorted(status.heads)) or '-'}")
    click.echo(f"current: {', '.join(sorted(status.current)) or '-'}")
    click.echo(f"pending: {', '.join(status.pending) or 'none'}")
    if status.pending:
        sys.exit(1)


@migrate.command("new")
@click.argument("module")
@click.argument("message")
@click.option("--autogenerate", is_flag=True, help="Diff the models against the database.")
@click.pass_obj
def migrate_new(state: CliState, module: str, message: str, autogenerate: bool) -> None:
    """Create the next migration of MODULE's branch."""
    path = _runner(state).new_revision(module, message, autogenerate=autogenerate)
    click.echo(f"created {path}")


def _runner(state: CliState) -> MigrationRunner:
    from rustok_server.boot import migration_locations, resolve_database_url

    settings = state.settings()
    return MigrationRunner(resolve_database_url(settings), migration_locations(ModuleRegistry.from_entry_points()))


# --- modules ---------------------------------------------------------------------------


@cli.group()
def modules() -> None:
    """List installed modules; enable or disable them per tenant."""


@modules.command("list")
@click.option("--tenant", help="Show whether each module is enabled for this tenant (slug or id).")
@click.pass_obj
def modules_list(state: CliState, tenant: str | None) -> None:
    """List installed modules in dependency order."""

    async def work(platform: Any) -> None:
        enabled: frozenset[str] | None = None
        if tenant:
            enabled = (await platform.ctx.services.get(TenantDirectory).get(tenant)).enabled_modules
        rows: list[tuple[str, ...]] = [
            ("SLUG", "KIND", "VERSION", "DEPENDS ON", *(["ENABLED"] if enabled is not None else []))
        ]
        for module in platform.registry:
            row: tuple[str, ...] = (
                module.slug,
                str(module.info.kind),
                module.info.version,
                ",".join(module.info.dependencies) or "-",
            )
            if enabled is not None:
                row = (*row, "yes" if module.slug in enabled else "no")
            rows.append(row)
        _table(rows)

    _run(state, work)


@modules.command("enable")
@click.argument("slug")
@click.option("--tenant", required=True, help="Tenant slug or id.")
@click.pass_obj
def modules_enable(state: CliState, slug: str, tenant: str) -> None:
    """Enable module SLUG for a tenant (its dependencies must be enabled)."""
    _toggle(state, slug, tenant, True)


@modules.command("disable")
@click.argument("slug")
@click.option("--tenant", required=True, help="Tenant slug or id.")
@click.pass_obj
def modules_disable(state: CliState, slug: str, tenant: str) -> None:
    """Disable module SLUG for a tenant (no enabled module may depend on it)."""
    _toggle(state, slug, tenant, False)


def _toggle(state: CliState, slug: str, tenant: str, enabled: bool) -> None:
    async def work(platform: Any) -> None:
        result = await platform.ctx.services.get(TenantDirectory).set_module_enabled(tenant, slug, enabled)
        click.echo(f"module '{slug}' {'enabled' if enabled else 'disabled'} for tenant '{result.slug}'")

    _run(state, work)


# --- tenants ----------------------------------------------------------------------------


@cli.group()
def tenant() -> None:
    """Create and list tenants."""


@tenant.command("create")
@click.option("--slug", required=True, help="Lowercase letters, digits and hyphens.")
@click.option("--name", required=True)
@click.option("--default-locale", default="en", show_default=True)
@click.option("--locale", "locales", multiple=True, help="Additional locale (repeatable).")
@click.option("--module", "modules_", multiple=True, help="Optional module to enable (repeatable; default: all).")
@click.option("--no-modules", is_flag=True, help="Enable no optional module.")
@click.pass_obj
def tenant_create(
    state: CliState,
    slug: str,
    name: str,
    default_locale: str,
    locales: tuple[str, ...],
    modules_: tuple[str, ...],
    no_modules: bool,
) -> None:
    """Create a tenant."""

    async def work(platform: Any) -> None:
        chosen = () if no_modules else (modules_ or None)
        created = await platform.ctx.services.get(TenantDirectory).create(
            slug=slug, name=name, default_locale=default_locale, locales=list(locales), modules=chosen
        )
        click.echo(f"created tenant '{created.slug}' ({created.id})")
        click.echo(f"modules: {', '.join(sorted(created.enabled_modules))}")

    _run(state, work)


@tenant.command("list")
@click.pass_obj
def tenant_list(state: CliState) -> None:
    """List tenants."""

    async def work(platform: Any) -> None:
        rows: list[tuple[str, ...]] = [("SLUG", "ID", "NAME", "ACTIVE", "MODULES")]
        for item in await platform.ctx.services.get(TenantDirectory).list_all():
            rows.append(
                (
                    item.slug,
                    str(item.id),
                    item.name,
                    "yes" if item.is_active else "no",
                    ",".join(sorted(item.enabled_modules)),
                )
            )
        _table(rows)

    _run(state, work)


@tenant.command("deactivate")
@click.argument("key")
@click.pass_obj
def tenant_deactivate(state: CliState, key: str) -> None:
    """Stop serving a tenant (its data stays)."""
    _set_active(state, key, False)


@tenant.command("activate")
@click.argument("key")
@click.pass_obj
def tenant_activate(state: CliState, key: str) -> None:
    """Serve a deactivated tenant again."""
    _set_active(state, key, True)


def _set_active(state: CliState, key: str, active: bool) -> None:
    async def work(platform: Any) -> None:
        directory = platform.ctx.services.get(TenantDirectory)
        updated = await directory.update(key, is_active=active)
        click.echo(f"tenant '{updated.slug}' is now {'active' if active else 'inactive'}")

    _run(state, work)


# --- users ---------------------------------------------------------------------------------


@cli.group()
def user() -> None:
    """Manage user accounts."""


@user.command("create-admin")
@click.option("--tenant", "tenant_key", required=True, help="Tenant slug or id.")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 8 characters (prompting is safer: use --password -).")
@click.option("--name", "display_name", default=None, help="Display name (default: the email's local part).")
@click.option("--super-admin", is_flag=True, help="Platform-wide super admin instead of tenant admin.")
@click.pass_obj
def user_create_admin(
    state: CliState, tenant_key: str, email: str, password: str, display_name: str | None, super_admin: bool
) -> None:
    """Create a verified user with the admin (or super_admin) role in a tenant."""
    if password == "-":
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)

    async def work(platform: Any) -> None:
        tenant = await platform.ctx.services.get(TenantDirectory).get(tenant_key)
        auth = platform.ctx.state["auth.service"]
        role = "super_admin" if super_admin else "admin"
        created = await auth.create_user(
            tenant.id, email=email, password=password, display_name=display_name, verified=True, role=role
        )
        click.echo(f"created {role} {created.email} ({created.id}) in tenant '{tenant.slug}'")

    _run(state, work)


# --- demo data ------------------------------------------------------------------------------


@cli.group()
def seed() -> None:
    """Fill tenants with data."""


@seed.command("demo")
@click.option("--tenant", "tenant_key", required=True, help="Tenant slug or id.")
@click.option("--password", default=None, help="Password of the demo users (default: a fixed demo password).")
@click.pass_obj
def seed_demo_command(state: CliState, tenant_key: str, password: str | None) -> None:
    """Create demo users (admin, manager, editor, customer) and every module's demo records."""
    from rustok_server.seed import DEMO_PASSWORD, seed_demo

    async def work(platform: Any) -> None:
        tenant = await platform.ctx.services.get(TenantDirectory).get(tenant_key)
        data = await seed_demo(platform.ctx, tenant, password=password or DEMO_PASSWORD)
        for role, (_, email) in data.users.items():
            click.echo(f"{role:<9} {email}")
        click.echo(f"password: {data.password}")

    _run(state, work)


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _add_module_commands(group: click.Group) -> None:
    try:
        registry = ModuleRegistry.from_entry_points()
    except ModuleRegistryError:
        return  # `serve` and friends report the problem with its full message
    registry.call("rustok_cli", cli=group)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BootError as exc:
        click.secho(f"rustok: cannot start: {exc}", fg="red", err=True)
        sys.exit(2)
    except RustokError as exc:
        click.secho(f"rustok: {exc.code}: {exc.message}", fg="red", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
