"""Categories: translated trees, one tree per ``kind`` (blog, forum, ...)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_content.events import CategoryCreated, CategoryDeleted, CategoryUpdated
from rustok_content.models import Category, CategoryTranslation, Node
from rustok_content.services.inputs import KEEP, Keep
from rustok_content.services.text import (
    check_kind,
    check_locale,
    check_optional_text,
    check_slug,
    check_title,
    check_unique_locales,
    invalid,
    make_slug,
)
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict, NotFound
from rustok_core.events import DomainEvent, EventPublisher

CATEGORIES: Table = Category.__table__  # type: ignore[assignment]
MAX_NAME = 200
MAX_DESCRIPTION = 5_000
MAX_DEPTH = 8


@dataclass(frozen=True)
class CategoryText:
    locale: str
    name: str
    description: str | None = None


class CategoryService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def _publish(
        self, session: AsyncSession, tenant_id: uuid.UUID, event: DomainEvent, actor_id: uuid.UUID | None
    ) -> None:
        await self.ctx.services.get(EventPublisher).publish(session, event, tenant_id=tenant_id, actor_id=actor_id)

    async def create(
        self,
        tenant: TenantContext,
        *,
        kind: str = "content",
        translations: Sequence[CategoryText],
        slug: str | None = None,
        parent_id: uuid.UUID | None = None,
        position: int = 0,
        actor_id: uuid.UUID | None,
    ) -> Category:
        check_kind(kind)
        texts = self._texts(tenant, translations)
        chosen = check_slug(slug, ("slug",)) if slug else make_slug(texts[0].name)
        if not chosen:
            raise invalid(("slug",), "cannot make a slug from the name; give one")
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            parent = await self._parent(session, parent_id, kind)
            await self._slug_free(session, kind, chosen, None)
            category = Category(
                kind=kind,
                slug=chosen,
                parent_id=parent.id if parent else None,
                depth=parent.depth + 1 if parent else 0,
                position=position,
            )
            session.add(category)
            await session.flush()
            for text in texts:
                session.add(
                    CategoryTranslation(
                        category_id=category.id, locale=text.locale, name=text.name, description=text.description
                    )
                )
            await self._publish(
                session, tenant.id, CategoryCreated(category_id=category.id, kind=kind, slug=chosen), actor_id
            )
        return category

    async def update(
        self,
        tenant: TenantContext,
        category_id: uuid.UUID,
        *,
        expected_version: int | None,
        kind: str | None = None,
        translations: Sequence[CategoryText] = (),
        slug: str | None = None,
        parent_id: uuid.UUID | Keep | None = KEEP,
        position: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> Category:
        texts = self._texts(tenant, translations) if translations else []
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            category = await self._get(session, category_id, kind, lock=True)
            expect_version(category, expected_version)
            if slug is not None and slug != category.slug:
                await self._slug_free(session, category.kind, check_slug(slug, ("slug",)), category.id)
                category.slug = slug
            if position is not None:
                category.position = position
            if not isinstance(parent_id, Keep) and parent_id != category.parent_id:
                await self._move(session, tenant.id, category, parent_id)
            if texts:
                existing = {
                    t.locale: t
                    for t in (
                        await session.scalars(
                            select(CategoryTranslation).where(CategoryTranslation.category_id == category.id)
                        )
                    ).all()
                }
                for text in texts:
                    current = existing.get(text.locale)
                    if current is None:
                        session.add(
                            CategoryTranslation(
                                category_id=category.id,
                                locale=text.locale,
                                name=text.name,
                                description=text.description,
                            )
                        )
                    else:
                        current.name, current.description = text.name, text.description
            category.updated_at = datetime.now(UTC)
            await session.flush()
            await self._publish(
                session,
                tenant.id,
                CategoryUpdated(category_id=category.id, kind=category.kind, slug=category.slug),
                actor_id,
            )
        return category

    async def delete(
        self,
        tenant: TenantContext,
        category_id: uuid.UUID,
        *,
        kind: str | None = None,
        only_when_empty: bool = False,
        actor_id: uuid.UUID | None,
    ) -> None:
        """Delete a category without subcategories; its nodes lose their category.

        With ``only_when_empty`` a category that still holds nodes is a ``CONFLICT``
        (``HAS_NODES``) instead. Checked under the category's row lock: nodes being
        put into it concurrently (which share-lock it) are either seen or wait.
        """
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            category = await self._get(session, category_id, kind, lock=True)
            if await session.scalar(select(Category.id).where(Category.parent_id == category.id).limit(1)):
                raise Conflict("the category has subcategories; move or delete them first", reason="HAS_CHILDREN")
            if only_when_empty and await session.scalar(
                select(Node.id).where(Node.category_id == category.id).limit(1)
            ):
                raise Conflict("the category still holds content; move or delete it first", reason="HAS_NODES")
            await session.delete(category)
            await self._publish(
                session,
                tenant.id,
                CategoryDeleted(category_id=category.id, kind=category.kind, slug=category.slug),
                actor_id,
            )

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, category_id: uuid.UUID, *, kind: str | None = None) -> Category:
        async with self.ctx.db.session(tenant_id) as session:
            return await self._get(session, category_id, kind, lock=False)

    async def find_by_slug(self, tenant_id: uuid.UUID, kind: str, slug: str) -> Category:
        async with self.ctx.db.session(tenant_id) as session:
            category = await session.scalar(select(Category).where(Category.kind == kind, Category.slug == slug))
        if category is None:
            raise NotFound("no such category", resource="category")
        return category

    async def tree(self, tenant_id: uuid.UUID, *, kind: str) -> list[Category]:
        """The whole tree of ``kind``, parents before children, siblings by position."""
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(Category).where(Category.kind == kind).order_by(Category.depth, Category.position, Category.slug)
            )
            return list(rows.all())

    async def by_ids(self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Category]:
        if not ids:
            return {}
        async with self.ctx.db.session(tenant_id) as session:
            return {c.id: c for c in (await session.scalars(select(Category).where(Category.id.in_(ids)))).all()}

    async def translations_of(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[CategoryTranslation]]:
        found: dict[uuid.UUID, list[CategoryTranslation]] = {category_id: [] for category_id in ids}
        if not ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(CategoryTranslation)
                .where(CategoryTranslation.category_id.in_(ids))
                .order_by(CategoryTranslation.locale)
            )
            for translation in rows.all():
                found[translation.category_id].append(translation)
        return found

    async def node_counts(self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID], *, status: str) -> dict[uuid.UUID, int]:
        """How many nodes in ``status`` each category holds (one query)."""
        counts = dict.fromkeys(ids, 0)
        if not ids:
            return counts
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.execute(
                select(Node.category_id, func.count())
                .where(Node.category_id.in_(ids), Node.status == status, Node.parent_id.is_(None))
                .group_by(Node.category_id)
            )
            for category_id, count in rows.all():
                if category_id is not None:
                    counts[category_id] = count
        return counts

    # -- helpers --------------------------------------------------------------------------

    def _texts(self, tenant: TenantContext, translations: Sequence[CategoryText]) -> list[CategoryText]:
        if not translations:
            raise invalid(("translations",), "give at least one translation")
        check_unique_locales([t.locale for t in translations], ("translations",))
        return [
            CategoryText(
                locale=check_locale(tenant, t.locale, ("translations", i, "locale")),
                name=check_title(t.name, ("translations", i, "name"), max_length=MAX_NAME),
                description=check_optional_text(
                    t.description, ("translations", i, "description"), max_length=MAX_DESCRIPTION
                ),
            )
            for i, t in enumerate(translations)
        ]

    async def _get(self, session: AsyncSession, category_id: uuid.UUID, kind: str | None, *, lock: bool) -> Category:
        query = select(Category).where(Category.id == category_id)
        if lock:
            query = query.with_for_update()
        category = await session.scalar(query)
        if category is None or (kind is not None and category.kind != kind):
            raise NotFound("no such category", resource="category")
        return category

    async def _parent(self, session: AsyncSession, parent_id: uuid.UUID | None, kind: str) -> Category | None:
        if parent_id is None:
            return None
        parent = await session.scalar(select(Category).where(Category.id == parent_id))
        if parent is None or parent.kind != kind:
            raise invalid(("parentId",), "the parent category does not exist")
        if parent.depth + 1 >= MAX_DEPTH:
            raise invalid(("parentId",), f"categories nest at most {MAX_DEPTH} levels deep")
        return parent

    async def _slug_free(self, session: AsyncSession, kind: str, slug: str, own_id: uuid.UUID | None) -> None:
        query = select(Category.id).where(Category.kind == kind, Category.slug == slug)
        if own_id is not None:
            query = query.where(Category.id != own_id)
        if await session.scalar(query) is not None:
            raise Conflict(f"another category already has the slug {slug!r}", reason="SLUG_TAKEN", field="slug")

    async def _move(
        self, session: AsyncSession, tenant_id: uuid.UUID, category: Category, parent_id: uuid.UUID | None
    ) -> None:
        parent = await self._parent(session, parent_id, category.kind)
        tree = select(Category.id).where(Category.id == category.id).cte("tree", recursive=True)
        tree = tree.union_all(select(Category.id).join(tree, Category.parent_id == tree.c.id))
        subtree = list((await session.scalars(select(tree.c.id))).all())
        if parent is not None and parent.id in subtree:
            raise invalid(("parentId",), "a category cannot move below itself")
        new_depth = parent.depth + 1 if parent else 0
        delta = new_depth - category.depth
        category.parent_id = parent.id if parent else None
        category.depth = new_depth
        below = [category_id for category_id in subtree if category_id != category.id]
        if below and delta:
            await session.execute(
                update(CATEGORIES)
                .where(CATEGORIES.c.tenant_id == tenant_id, CATEGORIES.c.id.in_(below))
                .values(depth=CATEGORIES.c.depth + delta)
            )
