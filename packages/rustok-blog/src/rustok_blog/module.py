"""The blog module object: everything it contributes to the platform."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from importlib.metadata import version

from rustok_content.kinds import claim_kind
from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext
from rustok_core.events import DomainEvent
from rustok_core.graphql import GraphQLContribution
from rustok_core.permissions import Permission
from rustok_core.rest import RestRoute

# Posts and comments are written through the blog's API only (moderation, categories).
claim_kind("post", "blog")
claim_kind("comment", "blog")


class BlogModule:
    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug="blog",
            name="Blog",
            description="Posts and threaded comments with moderation, built on content nodes.",
            version=version("rustok-blog"),
            kind=ModuleKind.OPTIONAL,
            dependencies=("content",),
        )

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution:
        from rustok_blog.graphql import contribution

        return contribution()

    @hookimpl
    def rustok_routes(self) -> Sequence[RestRoute]:
        from rustok_blog.rest import routes

        return routes()

    @hookimpl
    def rustok_permissions(self) -> Sequence[Permission]:
        from rustok_blog.permissions import PERMISSIONS

        return PERMISSIONS

    @hookimpl
    def rustok_event_types(self) -> Sequence[type[DomainEvent]]:
        from rustok_blog.events import EVENT_TYPES

        return EVENT_TYPES

    @hookimpl
    async def rustok_demo_data(self, ctx: AppContext, tenant_id: uuid.UUID) -> None:
        from rustok_blog.demo import seed

        await seed(ctx, tenant_id)


module = BlogModule()
