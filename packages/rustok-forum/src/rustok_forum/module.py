"""The forum module object: everything it contributes to the platform.

It owns no tables (no migrations): topics and replies are content nodes, forum
categories are content categories.
"""

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
from rustok_forum.services.kinds import REPLY, TOPIC

# Topics and replies are written through the forum's API only (locks, moderation).
claim_kind(TOPIC, "forum")
claim_kind(REPLY, "forum")


class ForumModule:
    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug="forum",
            name="Forum",
            description=(
                "Forum categories, topics and replies with counts, pinning, locking and moderation, "
                "built on content nodes."
            ),
            version=version("rustok-forum"),
            kind=ModuleKind.OPTIONAL,
            dependencies=("content",),
        )

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution:
        from rustok_forum.graphql import contribution

        return contribution()

    @hookimpl
    def rustok_routes(self) -> Sequence[RestRoute]:
        from rustok_forum.rest import routes

        return routes()

    @hookimpl
    def rustok_permissions(self) -> Sequence[Permission]:
        from rustok_forum.permissions import PERMISSIONS

        return PERMISSIONS

    @hookimpl
    def rustok_event_types(self) -> Sequence[type[DomainEvent]]:
        from rustok_forum.events import EVENT_TYPES

        return EVENT_TYPES

    @hookimpl
    async def rustok_demo_data(self, ctx: AppContext, tenant_id: uuid.UUID) -> None:
        from rustok_forum.demo import seed

        await seed(ctx, tenant_id)


module = ForumModule()
