"""The content module object: everything it contributes to the platform."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext
from rustok_core.events import DomainEvent
from rustok_core.graphql import GraphQLContribution
from rustok_core.index import CONTENT, ContentDocument
from rustok_core.permissions import Permission
from rustok_core.rest import RestRoute


class ContentModule:
    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug="content",
            name="Content",
            description=(
                "Content nodes with translations, rendered bodies, revisions, categories, tags, SEO meta and media."
            ),
            version=version("rustok-content"),
            kind=ModuleKind.OPTIONAL,
            dependencies=(),
        )

    @hookimpl
    def rustok_migrations(self) -> Path:
        return Path(__file__).parent / "migrations" / "versions"

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution:
        from rustok_content.graphql import contribution

        return contribution()

    @hookimpl
    def rustok_routes(self) -> Sequence[RestRoute]:
        from rustok_content.rest import routes

        return routes()

    @hookimpl
    def rustok_permissions(self) -> Sequence[Permission]:
        from rustok_content.permissions import PERMISSIONS

        return PERMISSIONS

    @hookimpl
    def rustok_event_types(self) -> Sequence[type[DomainEvent]]:
        from rustok_content.events import EVENT_TYPES

        return EVENT_TYPES

    @hookimpl
    async def rustok_index_documents(
        self,
        ctx: AppContext,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        entity_type: str,
        entity_ids: Sequence[uuid.UUID],
    ) -> list[ContentDocument] | None:
        if entity_type != CONTENT:
            return None
        from rustok_content.index_documents import documents

        return await documents(ctx, session, tenant_id, entity_ids)

    @hookimpl
    async def rustok_index_entity_ids(
        self, session: AsyncSession, entity_type: str, after: uuid.UUID | None, limit: int
    ) -> list[uuid.UUID] | None:
        if entity_type != CONTENT:
            return None
        from rustok_content.index_documents import entity_ids

        return await entity_ids(session, after, limit)

    @hookimpl
    async def rustok_demo_data(self, ctx: AppContext, tenant_id: uuid.UUID) -> None:
        from rustok_content.demo import seed

        await seed(ctx, tenant_id)


module = ContentModule()
