"""The pages module object: everything it contributes to the platform."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from rustok_content.kinds import claim_kind
from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext
from rustok_core.events import DomainEvent, EventHandler
from rustok_core.graphql import GraphQLContribution
from rustok_core.permissions import Permission
from rustok_core.rest import RestRoute

# Pages are written through this module only (it keeps their paths and blocks);
# content's generic API refuses to write nodes of this kind.
claim_kind("page", "pages")


class PagesModule:
    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug="pages",
            name="Pages",
            description="Pages in a slug tree, menus and validated typed blocks, built on content nodes.",
            version=version("rustok-pages"),
            kind=ModuleKind.OPTIONAL,
            dependencies=("content",),
        )

    @hookimpl
    def rustok_migrations(self) -> Path:
        return Path(__file__).parent / "migrations" / "versions"

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution:
        from rustok_pages.graphql import contribution

        return contribution()

    @hookimpl
    def rustok_routes(self) -> Sequence[RestRoute]:
        from rustok_pages.rest import routes

        return routes()

    @hookimpl
    def rustok_permissions(self) -> Sequence[Permission]:
        from rustok_pages.permissions import PERMISSIONS

        return PERMISSIONS

    @hookimpl
    def rustok_event_types(self) -> Sequence[type[DomainEvent]]:
        from rustok_pages.events import EVENT_TYPES

        return EVENT_TYPES

    @hookimpl
    def rustok_event_handlers(self, ctx: AppContext) -> Sequence[EventHandler]:
        from rustok_pages.handlers import DeletedNodeCleanup

        return (DeletedNodeCleanup(ctx),)

    @hookimpl
    async def rustok_demo_data(self, ctx: AppContext, tenant_id: uuid.UUID) -> None:
        from rustok_pages.demo import seed

        await seed(ctx, tenant_id)


module = PagesModule()
