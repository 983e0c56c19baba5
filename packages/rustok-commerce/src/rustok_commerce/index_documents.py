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

Batched: any number of ids costs the same four queries (products with their
translations, category links and first image; variants with their items' stock
levels; prices in every currency with their lists' windows; the linked categories
with their ancestors and translations — skipped when no product has one), plus the
tenant's default locale from the tenant directory when a category or alt text lacks
the document's locale. They are plain SQL naming the session's tenant on every table
(:mod:`rustok_commerce.services.scoped_sql`): the index asks for documents on every
write to a product, and through the ORM the same reads cost about three times the CPU.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.models import Product
from rustok_commerce.services.catalog_inputs import pick_locale
from rustok_commerce.services.images import image_file_url
from rustok_commerce.services.inventory import variant_units
from rustok_commerce.services.pricing import ResolvedPrice, prices_and_next_change
from rustok_commerce.services.scoped_sql import scoped_tenant
from rustok_core.context import AppContext
from rustok_core.index import CategoryRef, PriceRange, ProductDocument
from rustok_core.interfaces import TenantDirectory

log = logging.getLogger("rustok.commerce.index")

MODULE = "commerce"
ACTIVE = "active"
TAGS_KEY = "tags"

# Plain statements scoped explicitly to the session's tenant (services.scoped_sql): documents
# are built on every reindex (every price write, at the write rate), and the ORM's work per
# statement costs more than these queries.
PRODUCTS = text(
    """
    SELECT p.id, p.status, p.metadata, p.published_at, p.created_at,
           t.locale, t.handle, t.title, t.subtitle, t.description, t.seo_title, t.seo_description,
           ARRAY(SELECT l.category_id FROM commerce_product_categories l
                 WHERE l.tenant_id = :tenant AND l.product_id = p.id
                 ORDER BY l.position, l.category_id) AS category_ids,
           i.id AS image_id, i.alt AS image_alt
    FROM commerce_products p
    JOIN commerce_product_translations t ON t.product_id = p.id AND t.tenant_id = :tenant
    LEFT JOIN LATERAL (
        SELECT i.id, i.alt FROM commerce_product_images i
        WHERE i.tenant_id = :tenant AND i.product_id = p.id
        ORDER BY i.position, i.id LIMIT 1
    ) i ON TRUE
    WHERE p.tenant_id = :tenant AND p.id = ANY(CAST(:ids AS uuid[])) AND p.status = 'active'
    ORDER BY p.id, t.locale
    """
)
"""One row per translation of each active product, with its category ids (in order) and first image."""
VARIANT_STOCK = text(
    """
    SELECT v.id, v.product_id, v.manage_inventory, v.allow_backorder,
           vi.inventory_item_id, vi.required_quantity, l.stocked_quantity, l.reserved_quantity
    FROM commerce_variants v
    LEFT JOIN commerce_variant_inventory vi ON vi.variant_id = v.id AND vi.tenant_id = :tenant
    LEFT JOIN commerce_inventory_levels l ON l.inventory_item_id = vi.inventory_item_id AND l.tenant_id = :tenant
    WHERE v.tenant_id = :tenant AND v.product_id = ANY(CAST(:ids AS uuid[]))
    ORDER BY v.product_id, v.position, v.id
    """
)
"""Each variant of the products (by position) with its items' levels (a variant may have no item, an item no level)."""
CATEGORY_TREE = text(
    """
    WITH RECURSIVE up(id, parent_id) AS (
        SELECT c.id, c.parent_id FROM commerce_categories c
        WHERE c.tenant_id = :tenant AND c.id IN (
            SELECT l.category_id FROM commerce_product_categories l
            WHERE l.tenant_id = :tenant AND l.product_id = ANY(CAST(:ids AS uuid[])))
        UNION
        SELECT c.id, c.parent_id FROM commerce_categories c JOIN up ON c.id = up.parent_id
        WHERE c.tenant_id = :tenant
    )
    SELECT c.id, c.parent_id, c.handle, c.is_active, c.is_internal, ct.locale, ct.name
    FROM commerce_categories c
    LEFT JOIN commerce_category_translations ct ON ct.category_id = c.id AND ct.tenant_id = :tenant
    WHERE c.tenant_id = :tenant AND c.id IN (SELECT id FROM up)
    ORDER BY c.id, ct.locale
    """
)
"""The categories the products are linked to and all their ancestors, with their names."""


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
    if scoped_tenant(session) != tenant_id:
        raise ValueError("the session is scoped to another tenant")
    moment = at or datetime.now(UTC)
    rows = (await session.execute(PRODUCTS, {"tenant": tenant_id, "ids": list(dict.fromkeys(product_ids))})).all()
    if not rows:
        return []
    active = sorted({row.id for row in rows})

    variants_of, stock = await _stock(session, tenant_id, active)
    variant_ids = [variant_id for ids in variants_of.values() for variant_id in ids]
    prices, changes = await prices_and_next_change(session, variant_ids, at=moment)
    links = {row.id: list(row.category_ids) for row in rows}
    categories = await _categories(session, tenant_id, active) if any(links.values()) else {}

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
    for row in rows:
        locale = row.locale
        own_variants = variants_of.get(row.id, [])
        ranges, originals = _price_ranges(prices, own_variants)
        linked = links[row.id]
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
        alt = await text_in(row.image_alt, locale) if row.image_alt else None
        if alt:
            extra["thumbnail_alt"] = alt
        variant_stock = [stock[v] for v in own_variants]
        result.append(
            ProductDocument(
                product_id=row.id,
                locale=locale,
                handle=row.handle,
                title=row.title,
                status=row.status,
                subtitle=row.subtitle,
                description=row.description,
                prices=ranges,
                total_stock=sum(s.units for s in variant_stock if s.manage_inventory),
                has_stock=any(s.buyable for s in variant_stock),
                categories=tuple(refs),
                tags=metadata_tags(row.id, row.metadata),
                seo_title=row.seo_title,
                seo_description=row.seo_description,
                thumbnail=image_file_url(row.image_id) if row.image_id is not None else None,
                published_at=row.published_at,
                created_at=row.created_at,
                extra=extra,
                module=MODULE,
            )
        )
    return result


def metadata_tags(product_id: uuid.UUID, metadata: Mapping[str, Any] | None) -> tuple[str, ...]:
    """A product's ``metadata.tags`` when they are a list of strings (trimmed, no empties or repeats), else none."""
    given = (metadata or {}).get(TAGS_KEY)
    if given is None:
        return ()
    if not isinstance(given, list) or not all(isinstance(tag, str) for tag in given):
        log.warning("product %s: metadata.tags is not a list of strings; it is indexed without tags", product_id)
        return ()
    return tuple(dict.fromkeys(tag.strip() for tag in given if tag.strip()))


async def _stock(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[uuid.UUID]], dict[uuid.UUID, _Stock]]:
    """Each product's variants (by position), and each variant's stock (one query)."""
    rows = await session.execute(VARIANT_STOCK, {"tenant": tenant_id, "ids": list(product_ids)})
    variants_of: dict[uuid.UUID, list[uuid.UUID]] = {}
    stock: dict[uuid.UUID, _Stock] = {}
    for variant_id, product_id, managed, backorder, item_id, required, stocked, reserved in rows.all():
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
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, _Category]:
    """The categories the products are in, with their ancestors and names (one query)."""
    rows = await session.execute(CATEGORY_TREE, {"tenant": tenant_id, "ids": list(product_ids)})
    found: dict[uuid.UUID, tuple[uuid.UUID | None, str, bool, dict[str, str]]] = {}
    for category_id, parent_id, handle, is_active, is_internal, locale, name in rows.all():
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
    return categories


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
