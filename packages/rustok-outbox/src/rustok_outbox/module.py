"""The events module object (package rustok-outbox): the platform's event system."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click

from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext
from rustok_core.events import EventPublisher
from rustok_core.graphql import GraphQLContribution
from rustok_core.health import HealthCheck
from rustok_core.interfaces import EventBacklog
from rustok_core.permissions import Permission
from rustok_core.rest import RestRoute


class EventsModule:
    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug="events",
            name="Events",
            description="Transactional outbox, relay with leases, retries and DLQ, idempotent handler receipts.",
            version=version("rustok-outbox"),
            kind=ModuleKind.CORE,
        )

    @hookimpl
    def rustok_migrations(self) -> Path:
        return Path(__file__).parent / "migrations" / "versions"

    @hookimpl
    def rustok_provide(self, ctx: AppContext) -> Mapping[type[Any], object]:
        from rustok_outbox.backlog import OutboxBacklog
        from rustok_outbox.runtime import STATE_KEY, EventsRuntime

        runtime = EventsRuntime(ctx)
        ctx.state[STATE_KEY] = runtime
        return {EventPublisher: runtime.publisher, EventBacklog: OutboxBacklog(ctx, runtime.transport)}

    @hookimpl
    async def rustok_startup(self, ctx: AppContext) -> None:
        from rustok_outbox.runtime import runtime_of

        await runtime_of(ctx).start()

    @hookimpl
    async def rustok_shutdown(self, ctx: AppContext) -> None:
        from rustok_outbox.runtime import runtime_of

        await runtime_of(ctx).stop()

    @hookimpl
    def rustok_health(self, ctx: AppContext) -> HealthCheck:
        from rustok_outbox.runtime import runtime_of

        return runtime_of(ctx).health()

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution:
        from rustok_outbox.graphql import contribution

        return contribution()

    @hookimpl
    def rustok_routes(self) -> Sequence[RestRoute]:
        from rustok_outbox.rest import routes

        return routes()

    @hookimpl
    def rustok_permissions(self) -> Sequence[Permission]:
        from rustok_outbox.permissions import PERMISSIONS

        return PERMISSIONS

    @hookimpl
    def rustok_cli(self, cli: click.Group) -> None:
        from rustok_outbox.cli import add_commands

        add_commands(cli)


module = EventsModule()
