"""The index module object: everything it contributes to the platform."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click

from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext
from rustok_core.events import EventHandler
from rustok_core.graphql import GraphQLContribution
from rustok_core.interfaces import GraphQLResponder
from rustok_core.permissions import Permission


class IndexModule:
    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug="index",
            name="Index",
            description=(
                "The read model: denormalized product and content documents, full-text search and "
                "storefront queries served from them."
            ),
            version=version("rustok-index"),
            kind=ModuleKind.CORE,
            dependencies=("events",),
        )

    @hookimpl
    def rustok_migrations(self) -> Path:
        return Path(__file__).parent / "migrations" / "versions"

    @hookimpl
    def rustok_provide(self, ctx: AppContext) -> Mapping[type[Any], object]:
        from rustok_index.runtime import runtime_of

        runtime = runtime_of(ctx)  # metrics and services exist from boot on
        # The server hands queries made of @storefrontCached fields to the responder.
        return {GraphQLResponder: runtime.responder} if runtime.responder is not None else {}

    @hookimpl
    async def rustok_shutdown(self, ctx: AppContext) -> None:
        from rustok_index.runtime import runtime_of

        invalidation = runtime_of(ctx).invalidation
        if invalidation is not None:
            await invalidation.flush()  # before the bus closes

    @hookimpl
    def rustok_event_handlers(self, ctx: AppContext) -> Sequence[EventHandler]:
        from rustok_index.handlers import IndexHandler
        from rustok_index.runtime import runtime_of

        return [IndexHandler(runtime_of(ctx))]

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution:
        from rustok_index.graphql import contribution

        return contribution()

    @hookimpl
    def rustok_permissions(self) -> Sequence[Permission]:
        from rustok_index.permissions import PERMISSIONS

        return PERMISSIONS

    @hookimpl
    def rustok_cli(self, cli: click.Group) -> None:
        from rustok_index.cli import add_commands

        add_commands(cli)


module = IndexModule()
