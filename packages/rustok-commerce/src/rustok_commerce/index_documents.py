"""Commerce's documents for the index (``rustok_index_documents`` for entity type ``product``).

One :class:`ProductDocument` per translation of every ``active`` product; a draft,
archived or deleted product has none, so it leaves the storefront. A document carries
what a listing, a product page or a search hit shows:

* the translation's text (handle, title, subtitle, description, SEO title and
  description);
* ``prices``: per currency, the lowest and highest unit price of the variants for one
  unit now, as :func:`services.pricing.resolve_prices_in_every_currency` resolves them
  (base price, ``override`` and ``sale`` lists, windows) — the same answer as the
  catalog's ``priceRange`` and a cart's line;
* stock: ``total_stock`` sums what each variant that manages inventory can take from
  stock now (available = stocked - reserved over all locations, divided by the units
  of each item one variant unit takes; a kit as its scarcest part, the rule checkout
  reserves by — :func:`services.inventory.variant_units`); ``has_stock`` says whether
  any variant can be bought now: it does not manage inventory, allows backorders, or
  has a unit in stock;
* ``categories``: the product's active, non-internal categories (a category under a
  hidden one is hidden too, as in the catalog's public tree) followed by their
  ancestors, so that a filter by a parent category finds the product; names in the
  document's locale, else the tenant's default, else any;
* ``tags``: commerce has no tag table; a product's ``metadata.tags``, when it is a list
  of strings, are its tags (trimmed, empty ones and repeats left out), else it has none;
* ``thumbnail``: the URL of its first image (by position), served by
  ``GET /api/v1/commerce/images/{id}/file`` (public for active products);
* ``published_at``, ``created_at``, and ``module="commerce"``;
* ``extra``: ``linked_categories`` (handles of the categories the product is directly
  in), ``variant_count``, ``original_prices`` (per currency where a sale applies: the
  range before the sale), ``thumbnail_alt`` (the image's alt text in that locale, else
  the default locale's, else any) and ``prices_change_at``.

**Prices that change by the clock.** A price list with a window starts or stops
applying without any write, so a document computed now goes stale at that moment.
``extra.prices_change_at`` is the next start or end of a window of an active list
that prices one of the product's variants (ISO-8601, absent when there is none), and
commerce itself announces every such moment: :mod:`rustok_commerce.services.price_windows`
publishes ``commerce.price_list.changed`` (action ``window``) for the lists whose
bound passed, with the products they price, and the index re-asks for those.

Batched: any number of ids costs the same seven queries (products with translations;
variants with their items' stock levels; prices in every currency; next window bounds;
category links; the categories with their ancestors and translations; first images),
plus the tenant's default locale from the cached tenant directory when a category or
alt text lacks the document's locale. Queries are skipped when nothing needs them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.models import (
    InventoryLevel,
    Product,
    ProductCategory,
    ProductCategoryLink,
    ProductCategoryTranslation,
    ProductImage,
    ProductTranslation,
    Variant,
    VariantInventoryItem,
)
from rustok_commerce.services.catalog_inputs import pick_locale
from rustok_commerce.services.images import image_url
from rustok_commerce.services.inventory import variant_units
from rustok_commerce.services.pricing import ResolvedPrice, next_price_change, resolve_prices_in_every_currency
from rustok_core.context import AppContext
from rustok_core.index import CategoryRef, PriceRange, ProductDocument
from rustok_core.interfaces import TenantDirectory

log = logging.getLogger("rustok.commerce.index")

MODULE = "commerce"
ACTIVE = "active"
TAGS_KEY = "tags"


async def entity_ids(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """Ids of the tenant's active products (the ones with documents), ascending, after ``after``."""
    statement = select(Product.id).where(Product.status == ACTIVE)
    if after is not None:
        statement = statement.where(Product.id > after)
    return list((await session.scalars(statement.order_by(Product.id).limit(limit))).all())


@dataclass
class _Stock:
    """One variant as stock sees it."""

    manage_inventory: bool
    allow_backorder: bool
    items: dict[uuid.UUID, list[int]] = field(default_factory=dict)
    """Inventory item → [available units over its locations, units one variant unit takes]."""

    @property
    def units(self) -> int:
        return variant_units((available, required) for available, required in self.items.values())

    @property
    def buyable(self) -> bool:
        return not self.manage_inventory or self.allow_backorder or self.units > 0


@dataclass(frozen=True)
class _Category:
    id: uuid.UUID
    parent_id: uuid.UUID | None
    handle: str
    shown: bool
    names: Mapping[str, str]


async def documents(
    ctx: AppContext,
    session: AsyncSession,
    tenant_id: uuid.UUID,
    product_ids: Sequence[uuid.UUID],
    *,
    at: datetime | None = None,
) -> list[ProductDocument]:
    """The documents of ``product_ids`` as they are at ``at`` (default now); ``session`` is scoped to the tenant."""
    if not product_ids:
        return []
    moment = at or datetime.now(UTC)
    rows = (
        await session.execute(
            select(Product, ProductTranslation)
            .join(ProductTranslation, ProductTranslation.product_id == Product.id)
            .where(_among(Product.id, dict.fromkeys(product_ids)), Product.status == ACTIVE)
            .order_by(Product.id, ProductTranslation.locale)
        )
    ).all()
    if not rows:
        return []
    active = sorted({product.id for product, _ in rows})

    variants_of, stock = await _stock(session, active)
    variant_ids = [variant_id for ids in variants_of.values() for variant_id in ids]
    prices = await resolve_prices_in_every_currency(session, variant_ids, at=moment)
    changes = await next_price_change(session, variant_ids, at=moment)
    links, categories = await _categories(session, active)
    thumbnails = await _thumbnails(session, active)

    default_locale: list[str] = []

    async def text_in(texts: Mapping[str, str], locale: str) -> str | None:
        """The text in ``locale``, else the tenant's default locale, else any (the catalog's rule)."""
        if texts.get(locale):
            return texts[locale]
        if not default_locale:
            # Asked once, and only when some text lacks the document's locale.
            default_locale.append((await ctx.services.get(TenantDirectory).get(tenant_id)).default_locale)
        chosen = pick_locale(sorted(k for k, v in texts.items() if v), locale, default_locale[0])
        return texts[chosen] if chosen is not None else None

    result = []
    for product, translation in rows:
        locale = translation.locale
        own_variants = variants_of.get(product.id, [])
        ranges, originals = _price_ranges(prices, own_variants)
        linked = links.get(product.id, [])
        shown = _shown_categories(linked, categories)
        refs = [CategoryRef(c.id, c.handle, await text_in(c.names, locale) or c.handle) for c in shown]
        extra: dict[str, Any] = {
            "linked_categories": [c.handle for c in shown if c.id in linked],
            "variant_count": len(own_variants),
        }
        if originals:
            extra["original_prices"] = {
                currency: {"min": r.min, "max": r.max} for currency, r in sorted(originals.items())
            }
        change = min((changes[v] for v in own_variants if v in changes), default=None)
        if change is not None:
            extra["prices_change_at"] = change.astimezone(UTC).isoformat()
        image = thumbnails.get(product.id)
        alt = await text_in(image.alt, locale) if image is not None and image.alt else None
        if alt:
            extra["thumbnail_alt"] = alt
        variant_stock = [stock[v] for v in own_variants]
        result.append(
            ProductDocument(
                product_id=product.id,
                locale=locale,
                handle=translation.handle,
                title=translation.title,
                status=product.status,
                subtitle=translation.subtitle,
                description=translation.description,
                prices=ranges,
                total_stock=sum(s.units for s in variant_stock if s.manage_inventory),
                has_stock=any(s.buyable for s in variant_stock),
                categories=tuple(refs),
                tags=tags_of(product),
                seo_title=translation.seo_title,
                seo_description=translation.seo_description,
                thumbnail=image_url(image) if image is not None else None,
                published_at=product.published_at,
                created_at=product.created_at,
                extra=extra,
                module=MODULE,
            )
        )
    return result


def _among(column: SQLColumnExpression[uuid.UUID], values: Iterable[uuid.UUID]) -> ColumnElement[bool]:
    """``column = ANY(:ids)``: one array parameter however many ids (``IN`` takes one per id)."""
    return column == any_(bindparam(None, list(values), type_=ARRAY(Uuid())))


def tags_of(product: Product) -> tuple[str, ...]:
    """The product's ``metadata.tags`` when they are a list of strings (trimmed, no empties or repeats), else none."""
    given = (product.product_metadata or {}).get(TAGS_KEY)
    if given is None:
        return ()
    if not isinstance(given, list) or not all(isinstance(tag, str) for tag in given):
        log.warning("product %s: metadata.tags is not a list of strings; it is indexed without tags", product.id)
        return ()
    return tuple(dict.fromkeys(tag.strip() for tag in given if tag.strip()))


async def _stock(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[uuid.UUID]], dict[uuid.UUID, _Stock]]:
    """Each product's variants (by position), and each variant's stock (one query)."""
    # Outer joins: a variant may have no item, an item no level (NULLs the column types do not say).
    rows: Sequence[Any] = (
        await session.execute(
            select(
                Variant.id,
                Variant.product_id,
                Variant.manage_inventory,
                Variant.allow_backorder,
                VariantInventoryItem.inventory_item_id,
                VariantInventoryItem.required_quantity,
                InventoryLevel.stocked_quantity,
                InventoryLevel.reserved_quantity,
            )
            .outerjoin(VariantInventoryItem, VariantInventoryItem.variant_id == Variant.id)
            .outerjoin(InventoryLevel, InventoryLevel.inventory_item_id == VariantInventoryItem.inventory_item_id)
            .where(_among(Variant.product_id, product_ids))
            .order_by(Variant.product_id, Variant.position, Variant.id)
        )
    ).all()
    variants_of: dict[uuid.UUID, list[uuid.UUID]] = {}
    stock: dict[uuid.UUID, _Stock] = {}
    for variant_id, product_id, managed, backorder, item_id, required, stocked, reserved in rows:
        if variant_id not in stock:
            stock[variant_id] = _Stock(managed, backorder)
            variants_of.setdefault(product_id, []).append(variant_id)
        if item_id is None:
            continue
        entry = stock[variant_id].items.setdefault(item_id, [0, required])
        if stocked is not None:
            entry[0] += max(0, stocked - reserved)
    return variants_of, stock


def _price_ranges(
    prices: Mapping[str, Mapping[uuid.UUID, ResolvedPrice]], variant_ids: Iterable[uuid.UUID]
) -> tuple[dict[str, PriceRange], dict[str, PriceRange]]:
    """Per currency: the range of the variants' unit prices, and (where a sale applies) of the prices before it."""
    wanted = list(variant_ids)
    ranges: dict[str, PriceRange] = {}
    originals: dict[str, PriceRange] = {}
    for currency, by_variant in prices.items():
        found = [by_variant[v] for v in wanted if v in by_variant]
        if not found:
            continue
        ranges[currency] = PriceRange(min(p.amount for p in found), max(p.amount for p in found))
        if any(p.on_sale for p in found):
            originals[currency] = PriceRange(
                min(p.original_amount for p in found), max(p.original_amount for p in found)
            )
    return ranges, originals


async def _categories(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[uuid.UUID]], dict[uuid.UUID, _Category]]:
    """Each product's category ids (in its order), and those categories with their ancestors (two queries)."""
    links: dict[uuid.UUID, list[uuid.UUID]] = {}
    for product_id, category_id in (
        await session.execute(
            select(ProductCategoryLink.product_id, ProductCategoryLink.category_id)
            .where(_among(ProductCategoryLink.product_id, product_ids))
            .order_by(ProductCategoryLink.product_id, ProductCategoryLink.position, ProductCategoryLink.category_id)
        )
    ).all():
        links.setdefault(product_id, []).append(category_id)
    linked = sorted({category_id for ids in links.values() for category_id in ids})
    if not linked:
        return links, {}
    up = (
        select(ProductCategory.id, ProductCategory.parent_id)
        .where(_among(ProductCategory.id, linked))
        .cte("up", recursive=True)
    )
    up = up.union(select(ProductCategory.id, ProductCategory.parent_id).join(up, ProductCategory.id == up.c.parent_id))
    rows = (
        await session.execute(
            select(
                ProductCategory.id,
                ProductCategory.parent_id,
                ProductCategory.handle,
                ProductCategory.is_active,
                ProductCategory.is_internal,
                ProductCategoryTranslation.locale,
                ProductCategoryTranslation.name,
            )
            .outerjoin(ProductCategoryTranslation, ProductCategoryTranslation.category_id == ProductCategory.id)
            .where(ProductCategory.id.in_(select(up.c.id)))
            .order_by(ProductCategory.id, ProductCategoryTranslation.locale)
        )
    ).all()
    found: dict[uuid.UUID, tuple[uuid.UUID | None, str, bool, dict[str, str]]] = {}
    for category_id, parent_id, handle, is_active, is_internal, locale, name in rows:
        entry = found.setdefault(category_id, (parent_id, handle, is_active and not is_internal, {}))
        if locale is not None:
            entry[3][locale] = name
    categories: dict[uuid.UUID, _Category] = {}

    def resolve(category_id: uuid.UUID) -> _Category:
        # Shown only when it and every ancestor are active and public (the public tree's rule).
        if category_id not in categories:
            parent_id, handle, own, names = found[category_id]
            parent = resolve(parent_id) if parent_id is not None and parent_id in found else None
            shown = own and (parent_id is None or (parent is not None and parent.shown))
            categories[category_id] = _Category(category_id, parent_id, handle, shown, names)
        return categories[category_id]

    for category_id in found:
        resolve(category_id)
    return links, categories


def _shown_categories(linked: Sequence[uuid.UUID], categories: Mapping[uuid.UUID, _Category]) -> list[_Category]:
    """The shown categories of ``linked`` (in order), then their ancestors (nearest first), each once."""
    direct = [categories[c] for c in linked if c in categories and categories[c].shown]
    result = list(direct)
    seen = {c.id for c in direct}
    for category in direct:
        parent_id = category.parent_id
        while parent_id is not None and parent_id in categories:
            parent = categories[parent_id]
            if parent.id not in seen:
                seen.add(parent.id)
                result.append(parent)
            parent_id = parent.parent_id
    return result


async def _thumbnails(session: AsyncSession, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ProductImage]:
    """Each product's first image (one query)."""
    images = await session.scalars(
        select(ProductImage)
        .where(_among(ProductImage.product_id, product_ids))
        .ext(distinct_on(ProductImage.product_id))
        .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
    )
    return {image.product_id: image for image in images.all()}
