"""Product categories: commerce's own translated tree, and which products sit in which category.

Handles are unique per tenant (made from the name when not given; a made handle that
is taken gets a ``-2``, ``-3``... suffix, a given one is a ``CONFLICT`` ``HANDLE_TAKEN``).
Siblings are ordered by ``rank``. ``is_active`` ``False`` or ``is_internal`` ``True``
hide a category (and its product links) from the storefront.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.events import CategoryCreated, CategoryDeleted, CategoryUpdated
from rustok_commerce.models import ProductCategory, ProductCategoryLink, ProductCategoryTranslation
from rustok_commerce.services.catalog_inputs import (
    KEEP,
    MAX_HANDLE,
    Keep,
    check_handle,
    check_locale,
    check_metadata,
    check_optional_text,
    check_position,
    check_text,
    check_unique_locales,
    invalid,
    make_handle,
)
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict, ErrorCode, FieldError, NotFound, RustokError
from rustok_core.events import DomainEvent, EventPublisher

MAX_NAME = 255
MAX_DESCRIPTION = 5_000
MAX_DEPTH = 8
MAX_CATEGORIES_PER_PRODUCT = 50
HANDLE_CONSTRAINT = "uq_commerce_categories_tenant_id_handle"


@dataclass(frozen=True)
class CategoryText:
    """A category's name and description in one locale (``description`` ``""`` clears it)."""

    locale: str
    name: str
    description: str | None = None


def handle_taken(path: tuple[str | int, ...] = ("handle",)) -> RustokError:
    message = "another category already has this handle"
    return RustokError(
        message, ErrorCode.CONFLICT, {"reason": "HANDLE_TAKEN", "field": "handle"}, [FieldError(path, message)]
    )


class ProductCategoryService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def _publish(
        self, session: AsyncSession, tenant_id: uuid.UUID, event: DomainEvent, actor_id: uuid.UUID | None
    ) -> None:
        await self.ctx.services.get(EventPublisher).publish(session, event, tenant_id=tenant_id, actor_id=actor_id)

    # -- writes ---------------------------------------------------------------------------

    async def create(
        self,
        tenant: TenantContext,
        *,
        translations: Sequence[CategoryText],
        handle: str | None = None,
        parent_id: uuid.UUID | None = None,
        rank: int = 0,
        is_active: bool = True,
        is_internal: bool = False,
        metadata: Mapping[str, Any] | None = None,
        actor_id: uuid.UUID | None,
    ) -> ProductCategory:
        texts = self._texts(tenant, translations, required=True)
        chosen = check_handle(handle, ("handle",)) if handle is not None else None
        checked_rank = check_position(rank, ("rank",))
        checked_metadata = check_metadata(metadata or {})
        if chosen is None:
            named = next((t for t in texts if t.locale == tenant.default_locale), texts[0])
            base = make_handle(named.name)
            if not base:
                raise invalid(("handle",), "cannot make a handle from the name; give one")
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            parent = await self._parent(session, parent_id)
            if chosen is not None:
                await self._handle_free(session, chosen, None)
            else:
                chosen = await self._free_handle(session, base)
            now = datetime.now(UTC)
            category = ProductCategory(
                handle=chosen,
                parent_id=parent.id if parent else None,
                depth=parent.depth + 1 if parent else 0,
                rank=checked_rank,
                is_active=bool(is_active),
                is_internal=bool(is_internal),
                category_metadata=checked_metadata,
                created_at=now,
                updated_at=now,
            )
            session.add(category)
            await self._flush(session)
            for text in texts:
                session.add(
                    ProductCategoryTranslation(
                        category_id=category.id,
                        locale=text.locale,
                        name=text.name,
                        description=text.description or None,
                    )
                )
            await session.flush()
            await self._publish(session, tenant.id, CategoryCreated(category_id=category.id, handle=chosen), actor_id)
        return category

    async def update(
        self,
        tenant: TenantContext,
        category_id: uuid.UUID,
        *,
        expected_version: int | None,
        translations: Sequence[CategoryText] = (),
        remove_locales: Sequence[str] = (),
        handle: str | None = None,
        parent_id: uuid.UUID | Keep | None = KEEP,
        rank: int | None = None,
        is_active: bool | None = None,
        is_internal: bool | None = None,
        metadata: Mapping[str, Any] | None = None,
        actor_id: uuid.UUID | None,
    ) -> ProductCategory:
        """Change what is given; ``parent_id`` ``None`` makes it a root, ``KEEP`` leaves it."""
        texts = self._texts(tenant, translations, required=False)
        for index, locale in enumerate(remove_locales):
            check_locale(tenant, locale, ("removeLocales", index))
        new_handle = check_handle(handle, ("handle",)) if handle is not None else None
        checked_rank = check_position(rank, ("rank",)) if rank is not None else None
        checked_metadata = check_metadata(metadata) if metadata is not None else None
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            category = await self._locked(session, category_id)
            expect_version(category, expected_version)
            changed = False
            with session.no_autoflush:
                if new_handle is not None and new_handle != category.handle:
                    await self._handle_free(session, new_handle, category.id)
                    category.handle = new_handle
                    changed = True
                if not isinstance(parent_id, Keep) and parent_id != category.parent_id:
                    await self._move(session, tenant.id, category, parent_id)
                    changed = True
                for attribute, value in (
                    ("rank", checked_rank),
                    ("is_active", is_active),
                    ("is_internal", is_internal),
                    ("category_metadata", checked_metadata),
                ):
                    if value is not None and getattr(category, attribute) != value:
                        setattr(category, attribute, value)
                        changed = True
                if texts or remove_locales:
                    changed = await self._change_texts(session, category, texts, remove_locales) or changed
            if not changed:
                return category
            category.updated_at = datetime.now(UTC)
            await self._flush(session)
            await self._publish(
                session,
                tenant.id,
                CategoryUpdated(
                    category_id=category.id,
                    handle=category.handle,
                    product_ids=await self._product_ids(session, category.id),
                ),
                actor_id,
            )
        return category

    async def move(
        self,
        tenant: TenantContext,
        category_id: uuid.UUID,
        *,
        parent_id: uuid.UUID | None,
        rank: int | None = None,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
    ) -> ProductCategory:
        """Put the category (with everything below it) under ``parent_id`` (``None``: a root)."""
        return await self.update(
            tenant, category_id, expected_version=expected_version, parent_id=parent_id, rank=rank, actor_id=actor_id
        )

    async def delete(
        self,
        tenant: TenantContext,
        category_id: uuid.UUID,
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> None:
        """Delete a category without subcategories; its products leave it."""
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            category = await self._locked(session, category_id)
            expect_version(category, expected_version)
            if await session.scalar(
                select(ProductCategory.id).where(ProductCategory.parent_id == category.id).limit(1)
            ):
                raise Conflict("the category has subcategories; move or delete them first", reason="HAS_CHILDREN")
            product_ids = await self._product_ids(session, category.id)
            await session.delete(category)
            await self._publish(
                session,
                tenant.id,
                CategoryDeleted(category_id=category.id, handle=category.handle, product_ids=product_ids),
                actor_id,
            )

    async def set_links(
        self, session: AsyncSession, product_id: uuid.UUID, category_ids: Sequence[uuid.UUID], *, path: str
    ) -> bool:
        """Make ``category_ids`` (in order) the product's categories; whether anything changed.

        Runs in the caller's transaction. The categories are key-share locked, so none
        can be deleted while the product is being put into it.
        """
        wanted = list(category_ids)
        if len(wanted) != len(set(wanted)):
            raise invalid((path,), "a category is given twice")
        if len(wanted) > MAX_CATEGORIES_PER_PRODUCT:
            raise invalid((path,), f"a product is in at most {MAX_CATEGORIES_PER_PRODUCT} categories")
        if wanted:
            found = set(
                (
                    await session.scalars(
                        select(ProductCategory.id)
                        .where(ProductCategory.id.in_(wanted))
                        .with_for_update(read=True, key_share=True)
                    )
                ).all()
            )
            for index, category_id in enumerate(wanted):
                if category_id not in found:
                    raise invalid((path, index), "the category does not exist")
        current = list(
            (
                await session.scalars(
                    select(ProductCategoryLink.category_id)
                    .where(ProductCategoryLink.product_id == product_id)
                    .order_by(ProductCategoryLink.position, ProductCategoryLink.category_id)
                )
            ).all()
        )
        if current == wanted:
            return False
        await session.execute(delete(ProductCategoryLink).where(ProductCategoryLink.product_id == product_id))
        if wanted:
            session.add_all(
                [
                    ProductCategoryLink(product_id=product_id, category_id=category_id, position=position)
                    for position, category_id in enumerate(wanted)
                ]
            )
        await session.flush()
        return True

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, category_id: uuid.UUID) -> ProductCategory:
        async with self.ctx.db.session(tenant_id) as session:
            category = await session.get(ProductCategory, category_id)
        if category is None:
            raise NotFound("no such category", resource="product_category")
        return category

    async def find_by_handle(self, tenant_id: uuid.UUID, handle: str) -> ProductCategory:
        async with self.ctx.db.session(tenant_id) as session:
            category = await session.scalar(select(ProductCategory).where(ProductCategory.handle == handle))
        if category is None:
            raise NotFound("no such category", resource="product_category")
        return category

    async def tree(self, tenant_id: uuid.UUID, *, visible_only: bool = False) -> list[ProductCategory]:
        """The whole tree, parents before children, siblings by rank.

        ``visible_only`` leaves out inactive and internal categories and everything below them.
        """
        async with self.ctx.db.session(tenant_id) as session:
            rows = list(
                (
                    await session.scalars(
                        select(ProductCategory).order_by(
                            ProductCategory.depth, ProductCategory.rank, ProductCategory.handle
                        )
                    )
                ).all()
            )
        if not visible_only:
            return rows
        shown: set[uuid.UUID] = set()
        result = []
        for category in rows:
            if not category.is_active or category.is_internal:
                continue
            if category.parent_id is not None and category.parent_id not in shown:
                continue
            shown.add(category.id)
            result.append(category)
        return result

    async def by_ids(self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ProductCategory]:
        if not ids:
            return {}
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(select(ProductCategory).where(ProductCategory.id.in_(ids)))
            return {c.id: c for c in rows.all()}

    async def translations_of(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ProductCategoryTranslation]]:
        found: dict[uuid.UUID, list[ProductCategoryTranslation]] = {category_id: [] for category_id in ids}
        if not ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(ProductCategoryTranslation)
                .where(ProductCategoryTranslation.category_id.in_(ids))
                .order_by(ProductCategoryTranslation.locale)
            )
            for translation in rows.all():
                found[translation.category_id].append(translation)
        return found

    async def of_products(
        self, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID], *, visible_only: bool = False
    ) -> dict[uuid.UUID, list[ProductCategory]]:
        """The categories of each product, in the product's order (one query)."""
        found: dict[uuid.UUID, list[ProductCategory]] = {product_id: [] for product_id in product_ids}
        if not product_ids:
            return found
        query = (
            select(ProductCategoryLink.product_id, ProductCategory)
            .join(ProductCategory, ProductCategory.id == ProductCategoryLink.category_id)
            .where(ProductCategoryLink.product_id.in_(product_ids))
            .order_by(ProductCategoryLink.product_id, ProductCategoryLink.position)
        )
        if visible_only:
            query = query.where(ProductCategory.is_active.is_(True), ProductCategory.is_internal.is_(False))
        async with self.ctx.db.session(tenant_id) as session:
            for product_id, category in (await session.execute(query)).all():
                found[product_id].append(category)
        return found

    # -- helpers --------------------------------------------------------------------------

    def _texts(
        self, tenant: TenantContext, translations: Sequence[CategoryText], *, required: bool
    ) -> list[CategoryText]:
        if required and not translations:
            raise invalid(("translations",), "give at least one translation")
        check_unique_locales([t.locale for t in translations], ("translations",))
        return [
            CategoryText(
                locale=check_locale(tenant, t.locale, ("translations", i, "locale")),
                name=check_text(t.name, ("translations", i, "name"), max_length=MAX_NAME),
                description=check_optional_text(
                    t.description, ("translations", i, "description"), max_length=MAX_DESCRIPTION
                ),
            )
            for i, t in enumerate(translations)
        ]

    async def _change_texts(
        self,
        session: AsyncSession,
        category: ProductCategory,
        texts: Sequence[CategoryText],
        remove_locales: Sequence[str],
    ) -> bool:
        existing = {
            t.locale: t
            for t in (
                await session.scalars(
                    select(ProductCategoryTranslation).where(ProductCategoryTranslation.category_id == category.id)
                )
            ).all()
        }
        changed = False
        for text in texts:
            current = existing.get(text.locale)
            if current is None:
                session.add(
                    ProductCategoryTranslation(
                        category_id=category.id,
                        locale=text.locale,
                        name=text.name,
                        description=text.description or None,
                    )
                )
                changed = True
                continue
            description = current.description if text.description is None else (text.description or None)
            if (current.name, current.description) != (text.name, description):
                current.name, current.description = text.name, description
                changed = True
        removed = [locale for locale in remove_locales if locale in existing]
        remaining = (set(existing) | {t.locale for t in texts}) - set(removed)
        if removed and not remaining:
            raise invalid(("removeLocales",), "a category keeps at least one translation")
        for locale in removed:
            await session.delete(existing[locale])
            changed = True
        return changed

    async def _locked(self, session: AsyncSession, category_id: uuid.UUID) -> ProductCategory:
        category = await session.scalar(
            select(ProductCategory).where(ProductCategory.id == category_id).with_for_update()
        )
        if category is None:
            raise NotFound("no such category", resource="product_category")
        return category

    async def _parent(self, session: AsyncSession, parent_id: uuid.UUID | None) -> ProductCategory | None:
        if parent_id is None:
            return None
        parent = await session.scalar(
            select(ProductCategory).where(ProductCategory.id == parent_id).with_for_update(read=True, key_share=True)
        )
        if parent is None:
            raise invalid(("parentId",), "the parent category does not exist")
        if parent.depth + 1 >= MAX_DEPTH:
            raise invalid(("parentId",), f"categories nest at most {MAX_DEPTH} levels deep")
        return parent

    async def _handle_free(self, session: AsyncSession, handle: str, own_id: uuid.UUID | None) -> None:
        query = select(ProductCategory.id).where(ProductCategory.handle == handle)
        if own_id is not None:
            query = query.where(ProductCategory.id != own_id)
        if await session.scalar(query) is not None:
            raise handle_taken()

    async def _free_handle(self, session: AsyncSession, base: str) -> str:
        """``base``, or ``base-N`` with the smallest N from 2 that no category uses."""
        taken = set(
            (
                await session.scalars(
                    select(ProductCategory.handle).where(
                        or_(
                            ProductCategory.handle == base,
                            ProductCategory.handle.startswith(f"{base}-", autoescape=True),
                        )
                    )
                )
            ).all()
        )
        return first_free(base, taken)

    async def _flush(self, session: AsyncSession) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
            if constraint != HANDLE_CONSTRAINT:
                raise
            raise handle_taken() from None

    async def _product_ids(self, session: AsyncSession, category_id: uuid.UUID) -> list[uuid.UUID]:
        """Products in the category or any category below it.

        A product's index document lists its categories' ancestors too (a filter by a
        parent category finds it), so a change of a category concerns the whole subtree.
        """
        tree = select(ProductCategory.id).where(ProductCategory.id == category_id).cte("tree", recursive=True)
        tree = tree.union_all(select(ProductCategory.id).join(tree, ProductCategory.parent_id == tree.c.id))
        rows = await session.scalars(
            select(ProductCategoryLink.product_id)
            .where(ProductCategoryLink.category_id.in_(select(tree.c.id)))
            .distinct()
            .order_by(ProductCategoryLink.product_id)
        )
        return list(rows.all())

    async def _move(
        self, session: AsyncSession, tenant_id: uuid.UUID, category: ProductCategory, parent_id: uuid.UUID | None
    ) -> None:
        parent = await self._parent(session, parent_id)
        tree = select(ProductCategory.id).where(ProductCategory.id == category.id).cte("tree", recursive=True)
        tree = tree.union_all(select(ProductCategory.id).join(tree, ProductCategory.parent_id == tree.c.id))
        subtree = list((await session.scalars(select(tree.c.id))).all())
        if parent is not None and parent.id in subtree:
            raise invalid(("parentId",), "a category cannot move below itself")
        new_depth = parent.depth + 1 if parent else 0
        delta = new_depth - category.depth
        below = [category_id for category_id in subtree if category_id != category.id]
        if below:
            deepest = await session.scalar(
                select(ProductCategory.depth)
                .where(ProductCategory.id.in_(below))
                .order_by(ProductCategory.depth.desc())
                .limit(1)
            )
            if deepest is not None and deepest + delta >= MAX_DEPTH:
                raise invalid(("parentId",), f"categories nest at most {MAX_DEPTH} levels deep")
        category.parent_id = parent.id if parent else None
        category.depth = new_depth
        if below and delta:
            # Depth only: the categories below keep their versions (they did not change).
            await session.execute(
                update(ProductCategory)
                .where(ProductCategory.id.in_(below))
                .values(depth=ProductCategory.depth + delta)
                .execution_options(synchronize_session=False)
            )


def first_free(base: str, taken: set[str]) -> str:
    """``base`` if free, else ``base-2``, ``base-3``... (cut so that it stays a valid handle)."""
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = f"{base[: MAX_HANDLE - len(suffix)].rstrip('-')}{suffix}"
        if candidate not in taken:
            return candidate
        number += 1
