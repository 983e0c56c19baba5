"""Forum categories: content categories of kind ``forum``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from rustok_content.models import Category
from rustok_content.services import KEEP, CategoryService, CategoryText, Keep
from rustok_content.services.text import Path, invalid
from rustok_core.context import AppContext, TenantContext
from rustok_core.errors import Conflict, NotFound
from rustok_forum.services.kinds import CATEGORY_KIND


class ForumCategoryService:
    """The forum's category tree, built on content's ``CategoryService``."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.categories = CategoryService(ctx)

    async def create(
        self,
        tenant: TenantContext,
        *,
        translations: Sequence[CategoryText],
        slug: str | None = None,
        parent_id: uuid.UUID | None = None,
        position: int = 0,
        actor_id: uuid.UUID | None,
    ) -> Category:
        return await self.categories.create(
            tenant,
            kind=CATEGORY_KIND,
            translations=translations,
            slug=slug,
            parent_id=parent_id,
            position=position,
            actor_id=actor_id,
        )

    async def update(
        self,
        tenant: TenantContext,
        category_id: uuid.UUID,
        *,
        expected_version: int | None,
        translations: Sequence[CategoryText] = (),
        slug: str | None = None,
        parent_id: uuid.UUID | Keep | None = KEEP,
        position: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> Category:
        return await self.categories.update(
            tenant,
            category_id,
            expected_version=expected_version,
            kind=CATEGORY_KIND,
            translations=translations,
            slug=slug,
            parent_id=parent_id,
            position=position,
            actor_id=actor_id,
        )

    async def delete(self, tenant: TenantContext, category_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> None:
        """Delete an empty category; one that still holds topics is a ``CONFLICT`` (``HAS_TOPICS``).

        Content would keep the topics and clear their category; a forum topic without
        one could no longer be listed anywhere, so the topics have to move first.
        """
        await self.get(tenant.id, category_id)
        try:
            await self.categories.delete(
                tenant, category_id, kind=CATEGORY_KIND, only_when_empty=True, actor_id=actor_id
            )
        except Conflict as refused:
            if refused.details.get("reason") != "HAS_NODES":
                raise
            raise Conflict("the category still holds topics; move or delete them first", reason="HAS_TOPICS") from None

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, category_id: uuid.UUID) -> Category:
        try:
            return await self.categories.get(tenant_id, category_id, kind=CATEGORY_KIND)
        except NotFound:
            raise NotFound("no such forum category", resource="forum_category") from None

    async def find_by_slug(self, tenant_id: uuid.UUID, slug: str) -> Category:
        try:
            return await self.categories.find_by_slug(tenant_id, CATEGORY_KIND, slug)
        except NotFound:
            raise NotFound("no such forum category", resource="forum_category") from None

    async def require(self, tenant_id: uuid.UUID, category_id: uuid.UUID, path: Path) -> Category:
        """The forum category a topic is put in; anything else is invalid input at ``path``."""
        try:
            return await self.get(tenant_id, category_id)
        except NotFound:
            raise invalid(path, "no such forum category") from None

    async def tree(self, tenant_id: uuid.UUID) -> list[Category]:
        """Every forum category, parents before children, siblings by position."""
        found: list[Category] = await self.categories.tree(tenant_id, kind=CATEGORY_KIND)
        return found

    async def topic_counts(self, tenant_id: uuid.UUID, category_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Published topics per category (one query for all of them)."""
        counts: dict[uuid.UUID, int] = await self.categories.node_counts(tenant_id, category_ids, status="published")
        return counts
