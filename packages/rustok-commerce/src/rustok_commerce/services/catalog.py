"""The catalog: products with translations, options, variants and the values they pick.

Every write runs in one transaction with its domain events. Products and variants
carry a version: an update with a stale one is a ``CONFLICT`` and changes nothing.
Options, option values, images and category links belong to the product: changing
them bumps the product's version and publishes ``commerce.product.updated``.

Rules kept here:

* a variant picks exactly one value of each option of its product, and no two
  variants of a product pick the same combination;
* SKUs are unique per tenant (``CONFLICT`` ``SKU_TAKEN``, naming the field);
* handles are unique per tenant and locale (``CONFLICT`` ``HANDLE_TAKEN``); a handle
  not given is made from the title, with a ``-2``, ``-3``... suffix when taken;
* text exists only in the tenant's locales; reads fall back to the tenant's default.

:func:`variant_snapshots` is what carts and checkout copy from a variant.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.events import (
    ProductArchived,
    ProductCreated,
    ProductDeleted,
    ProductPublished,
    ProductUpdated,
    VariantCreated,
    VariantDeleted,
    VariantUpdated,
)
from rustok_commerce.models import (
    PRODUCT_STATUSES,
    Product,
    ProductCategory,
    ProductCategoryLink,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductTranslation,
    Variant,
    VariantOptionValue,
)
from rustok_commerce.services.catalog_inputs import (
    MAX_DESCRIPTION,
    MAX_OPTION_TITLE,
    MAX_OPTION_VALUE,
    MAX_OPTIONS,
    MAX_SEO_DESCRIPTION,
    MAX_SEO_TITLE,
    MAX_SUBTITLE,
    MAX_TITLE,
    MAX_VALUES_PER_OPTION,
    MAX_VARIANTS,
    Keep,
    NewProduct,
    OptionInput,
    Path,
    PriceInput,
    ProductChanges,
    ProductQuery,
    ProductText,
    VariantChanges,
    VariantInput,
    check_handle,
    check_locale,
    check_measure,
    check_metadata,
    check_optional_text,
    check_position,
    check_sku,
    check_text,
    check_unique_locales,
    invalid,
    make_handle,
    pick_locale,
)
from rustok_commerce.services.categories import ProductCategoryService, first_free
from rustok_commerce.services.images import remove_files_after_commit
from rustok_commerce.services.money import check_amount, check_currency
from rustok_commerce.services.prices import PriceService, Tier, check_min_quantity
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict, ErrorCode, FieldError, NotFound, RustokError
from rustok_core.events import DomainEvent, EventPublisher
from rustok_core.ids import generate_id
from rustok_core.pagination import connection, decode_cursor, page_size

HANDLE_CONSTRAINT = "uq_commerce_product_translations_tenant_id_locale_handle"
SKU_CONSTRAINT = "uq_commerce_variants_tenant_id_sku"
OPTION_CONSTRAINT = "uq_commerce_options_product_id_title"
VALUE_CONSTRAINT = "uq_commerce_option_values_option_id_value"
DEFAULT_VARIANT_TITLE = "Default"
MAX_BARCODE = 64
MAX_SEARCH = 200


# -- conflicts -----------------------------------------------------------------------------


def sku_taken(paths: Sequence[Path]) -> RustokError:
    message = "another variant already uses this SKU"
    return RustokError(
        message,
        ErrorCode.CONFLICT,
        {"reason": "SKU_TAKEN", "field": "sku"},
        [FieldError(path, message) for path in paths] or [FieldError(("sku",), message)],
    )


def handle_taken(paths: Sequence[Path]) -> RustokError:
    message = "another product already uses this handle in this locale"
    return RustokError(
        message,
        ErrorCode.CONFLICT,
        {"reason": "HANDLE_TAKEN", "field": "handle"},
        [FieldError(path, message) for path in paths] or [FieldError(("handle",), message)],
    )


# -- prepared input ------------------------------------------------------------------------


@dataclass
class _Text:
    """A checked translation; ``handle`` ``None`` on creation means "make one from the title"."""

    path: Path
    locale: str
    title: str | None
    subtitle: str | None
    handle: str | None
    description: str | None
    seo_title: str | None
    seo_description: str | None
    made_handle: str | None = None
    """The base of a handle to make (from the title), when none was given."""


@dataclass(frozen=True)
class Axis:
    """An option of a product as variants see it: its values by text."""

    option_id: uuid.UUID
    title: str
    values: Mapping[str, uuid.UUID]


@dataclass
class _Variant:
    path: Path
    picks: dict[str, str]
    title: str | None
    sku: str | None
    barcode: str | None
    manage_inventory: bool
    allow_backorder: bool
    weight: int | None
    length: int | None
    height: int | None
    width: int | None
    position: int | None
    metadata: dict[str, Any]
    prices: dict[str, list[Tier]] = field(default_factory=dict)


@dataclass(frozen=True)
class VariantOption:
    """The value a variant picks for one option."""

    variant_id: uuid.UUID
    option_id: uuid.UUID
    option_title: str
    option_position: int
    value_id: uuid.UUID
    value: str


def _prepare_text(tenant: TenantContext, given: ProductText, path: Path, *, creating: bool) -> _Text:
    locale = check_locale(tenant, given.locale, (*path, "locale"))
    title = check_text(given.title, (*path, "title"), max_length=MAX_TITLE) if given.title is not None else None
    if creating and title is None:
        raise invalid((*path, "title"), "a translation needs a title")
    handle = None
    if given.handle is not None and given.handle.strip():
        handle = check_handle(given.handle, (*path, "handle"))
    return _Text(
        path=path,
        locale=locale,
        title=title,
        subtitle=check_optional_text(given.subtitle, (*path, "subtitle"), max_length=MAX_SUBTITLE),
        handle=handle,
        description=check_optional_text(given.description, (*path, "description"), max_length=MAX_DESCRIPTION),
        seo_title=check_optional_text(given.seo_title, (*path, "seoTitle"), max_length=MAX_SEO_TITLE),
        seo_description=check_optional_text(
            given.seo_description, (*path, "seoDescription"), max_length=MAX_SEO_DESCRIPTION
        ),
    )


def _made_handle(text: _Text) -> str:
    base = make_handle(text.title or "")
    if not base:
        raise invalid((*text.path, "handle"), "cannot make a handle from this title; give one")
    return base


def _prepare_option(given: OptionInput, path: Path) -> tuple[str, list[str]]:
    title = check_text(given.title, (*path, "title"), max_length=MAX_OPTION_TITLE)
    if not given.values:
        raise invalid((*path, "values"), "an option needs at least one value")
    if len(given.values) > MAX_VALUES_PER_OPTION:
        raise invalid((*path, "values"), f"an option has at most {MAX_VALUES_PER_OPTION} values")
    values: list[str] = []
    for index, value in enumerate(given.values):
        checked = check_text(value, (*path, "values", index), max_length=MAX_OPTION_VALUE)
        if checked in values:
            raise invalid((*path, "values", index), "this value is given twice", reason="DUPLICATE_VALUE")
        values.append(checked)
    return title, values


def _prepare_prices(prices: Sequence[PriceInput], path: Path) -> dict[str, list[Tier]]:
    """Base prices by currency, each currency's tiers ascending and starting at quantity 1."""
    field_path = ".".join(str(p) for p in path)
    grouped: dict[str, dict[int, Tier]] = {}
    for index, price in enumerate(prices):
        prefix = f"{field_path}.{index}" if field_path else str(index)
        currency = check_currency(price.currency_code, f"{prefix}.currencyCode")
        amount = check_amount(price.amount, f"{prefix}.amount")
        quantity = check_min_quantity(price.min_quantity, f"{prefix}.minQuantity")
        tiers = grouped.setdefault(currency, {})
        if quantity in tiers:
            raise invalid(
                (*path, index, "minQuantity"),
                "each minQuantity may appear once per currency",
                reason="DUPLICATE_TIER",
            )
        tiers[quantity] = Tier(amount, quantity)
    for currency, tiers in grouped.items():
        if 1 not in tiers:
            raise invalid(path, "base prices start at minQuantity 1 in every currency", reason="MISSING_FIRST_TIER")
        grouped[currency] = tiers
    return {currency: sorted(tiers.values(), key=lambda t: t.min_quantity) for currency, tiers in grouped.items()}


def _prepare_variant(given: VariantInput, path: Path) -> _Variant:
    picks: dict[str, str] = {}
    for name, value in (given.options or {}).items():
        option = check_text(name, (*path, "options"), max_length=MAX_OPTION_TITLE)
        picks[option] = check_text(value, (*path, "options"), max_length=MAX_OPTION_VALUE)
    title = check_text(given.title, (*path, "title"), max_length=MAX_TITLE) if given.title is not None else None
    return _Variant(
        path=path,
        picks=picks,
        title=title,
        sku=check_sku(given.sku, (*path, "sku")),
        barcode=check_optional_text(given.barcode, (*path, "barcode"), max_length=MAX_BARCODE) or None,
        manage_inventory=bool(given.manage_inventory),
        allow_backorder=bool(given.allow_backorder),
        weight=check_measure(given.weight, (*path, "weight")),
        length=check_measure(given.length, (*path, "length")),
        height=check_measure(given.height, (*path, "height")),
        width=check_measure(given.width, (*path, "width")),
        position=check_position(given.position, (*path, "position")) if given.position is not None else None,
        metadata=check_metadata(given.metadata, (*path, "metadata")),
        prices=_prepare_prices(given.prices, (*path, "prices")),
    )


def _pick(axes: Sequence[Axis], picks: Mapping[str, str], path: Path) -> tuple[uuid.UUID, ...]:
    """The value ids ``picks`` names, one per axis in order; ``VALIDATION`` unless it picks exactly one of each."""
    known = {axis.title for axis in axes}
    if any(name not in known for name in picks):
        raise invalid((*path, "options"), "the product has no option of this name", reason="UNKNOWN_OPTION")
    chosen: list[uuid.UUID] = []
    for axis in axes:
        value = picks.get(axis.title)
        if value is None:
            raise invalid((*path, "options"), "pick a value of every option of the product", reason="MISSING_OPTION")
        value_id = axis.values.get(value)
        if value_id is None:
            raise invalid((*path, "options"), "the option has no such value", reason="UNKNOWN_OPTION_VALUE")
        chosen.append(value_id)
    return tuple(chosen)


def _auto_title(axes: Sequence[Axis], value_ids: Sequence[uuid.UUID]) -> str:
    if not axes:
        return DEFAULT_VARIANT_TITLE
    names = []
    for axis, value_id in zip(axes, value_ids, strict=True):
        names.append(next(value for value, known in axis.values.items() if known == value_id))
    return " / ".join(names)[:MAX_TITLE]


def _integrity_error(exc: IntegrityError, *, skus: Sequence[Path] = (), handles: Sequence[Path] = ()) -> Exception:
    """The conflict a unique violation means (a concurrent writer got there first), else the error itself."""
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if constraint == SKU_CONSTRAINT:
        return sku_taken(skus)
    if constraint == HANDLE_CONSTRAINT:
        return handle_taken(handles)
    if constraint == OPTION_CONSTRAINT:
        return Conflict("the product already has an option of this name", reason="OPTION_TAKEN")
    if constraint == VALUE_CONSTRAINT:
        return Conflict("the option already has this value", reason="VALUE_TAKEN")
    return exc


# -- shared machinery ----------------------------------------------------------------------


class _CatalogWriter:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def _publish(
        self, session: AsyncSession, tenant_id: uuid.UUID, event: DomainEvent, actor_id: uuid.UUID | None
    ) -> None:
        await self.ctx.services.get(EventPublisher).publish(session, event, tenant_id=tenant_id, actor_id=actor_id)

    async def _flush(self, session: AsyncSession, *, skus: Sequence[Path] = (), handles: Sequence[Path] = ()) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:
            mapped = _integrity_error(exc, skus=skus, handles=handles)
            if mapped is exc:
                raise
            raise mapped from None

    async def _lock_product(self, session: AsyncSession, product_id: uuid.UUID, *, exclusive: bool = True) -> Product:
        """The product row-locked: ``FOR UPDATE`` to change it, else ``FOR NO KEY UPDATE``.

        Writers of a product's variants take the weaker lock: they queue behind each
        other (combinations are checked one at a time) without blocking inserts that
        only reference the product.
        """
        query = select(Product).where(Product.id == product_id).execution_options(populate_existing=True)
        query = query.with_for_update() if exclusive else query.with_for_update(key_share=True)
        product = await session.scalar(query)
        if product is None:
            raise NotFound("no such product", resource="product")
        return product

    async def _product_changed(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        product: Product,
        changed: list[str],
        actor_id: uuid.UUID | None,
    ) -> None:
        """Bump the product's version (one UPDATE) and publish ``commerce.product.updated``."""
        product.updated_at = datetime.now(UTC)
        await self._flush(session)
        event = ProductUpdated(product_id=product.id, version=product.version, changed=changed)
        await self._publish(session, tenant_id, event, actor_id)

    async def _skus_free(self, session: AsyncSession, wanted: Mapping[str, Path], own_id: uuid.UUID | None) -> None:
        if not wanted:
            return
        query = select(Variant.sku).where(Variant.sku.in_(list(wanted)))
        if own_id is not None:
            query = query.where(Variant.id != own_id)
        taken = set((await session.scalars(query)).all())
        if taken:
            raise sku_taken([path for sku, path in wanted.items() if sku in taken])

    async def _axes(self, session: AsyncSession, product_id: uuid.UUID) -> list[Axis]:
        rows = (
            await session.execute(
                select(ProductOption.id, ProductOption.title, ProductOptionValue.id, ProductOptionValue.value)
                .outerjoin(ProductOptionValue, ProductOptionValue.option_id == ProductOption.id)
                .where(ProductOption.product_id == product_id)
                .order_by(ProductOption.position, ProductOption.id, ProductOptionValue.position, ProductOptionValue.id)
            )
        ).all()
        axes: dict[uuid.UUID, tuple[str, dict[str, uuid.UUID]]] = {}
        for option_id, title, value_id, value in rows:
            entry = axes.setdefault(option_id, (title, {}))
            if value_id is not None:
                entry[1][value] = value_id
        return [Axis(option_id, title, values) for option_id, (title, values) in axes.items()]

    async def _combinations(
        self, session: AsyncSession, product_id: uuid.UUID
    ) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
        """The values each variant of the product picks."""
        variant_ids = list((await session.scalars(select(Variant.id).where(Variant.product_id == product_id))).all())
        picked: dict[uuid.UUID, set[uuid.UUID]] = {variant_id: set() for variant_id in variant_ids}
        if variant_ids:
            rows = await session.execute(
                select(VariantOptionValue.variant_id, VariantOptionValue.option_value_id).where(
                    VariantOptionValue.variant_id.in_(variant_ids)
                )
            )
            for variant_id, value_id in rows.all():
                picked[variant_id].add(value_id)
        return {variant_id: frozenset(values) for variant_id, values in picked.items()}

    async def _insert_variant(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        product_id: uuid.UUID,
        prepared: _Variant,
        value_ids: Sequence[uuid.UUID],
        title: str,
        position: int,
        actor_id: uuid.UUID | None,
    ) -> Variant:
        now = datetime.now(UTC)
        variant = Variant(
            id=generate_id(),
            product_id=product_id,
            title=title,
            sku=prepared.sku,
            barcode=prepared.barcode,
            manage_inventory=prepared.manage_inventory,
            allow_backorder=prepared.allow_backorder,
            weight=prepared.weight,
            length=prepared.length,
            height=prepared.height,
            width=prepared.width,
            position=position,
            variant_metadata=prepared.metadata,
            created_at=now,
            updated_at=now,
        )
        session.add(variant)
        await self._flush(session, skus=[(*prepared.path, "sku")])
        session.add_all([VariantOptionValue(variant_id=variant.id, option_value_id=value_id) for value_id in value_ids])
        await session.flush()
        await self._publish(
            session,
            tenant_id,
            VariantCreated(variant_id=variant.id, product_id=product_id, sku=variant.sku),
            actor_id,
        )
        prices = PriceService(self.ctx)
        for currency, tiers in sorted(prepared.prices.items()):
            await prices.add_prices(session, tenant_id, variant, currency, tiers, actor_id=actor_id)
        return variant


# -- products ------------------------------------------------------------------------------


class ProductService(_CatalogWriter):
    """Writes and reads products; every method names its tenant."""

    async def create(
        self,
        tenant: TenantContext,
        draft: NewProduct,
        *,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> Product:
        """Create a product with its translations, options, variants (and their base prices) and categories."""
        if draft.status not in PRODUCT_STATUSES:
            raise invalid(("status",), f"status must be one of {', '.join(PRODUCT_STATUSES)}")
        if not draft.translations:
            raise invalid(("translations",), "give at least one translation")
        check_unique_locales([t.locale for t in draft.translations], ("translations",))
        texts = [_prepare_text(tenant, t, ("translations", i), creating=True) for i, t in enumerate(draft.translations)]
        for text in texts:
            if text.handle is None:
                text.made_handle = _made_handle(text)
        metadata = check_metadata(draft.metadata)
        if len(draft.options) > MAX_OPTIONS:
            raise invalid(("options",), f"a product has at most {MAX_OPTIONS} options")
        options = [_prepare_option(o, ("options", i)) for i, o in enumerate(draft.options)]
        titles = [title for title, _ in options]
        for index, title in enumerate(titles):
            if title in titles[:index]:
                raise invalid(("options", index, "title"), "two options have this title", reason="DUPLICATE_OPTION")
        if len(draft.variants) > MAX_VARIANTS:
            raise invalid(("variants",), f"a product has at most {MAX_VARIANTS} variants")
        variants = [_prepare_variant(v, ("variants", i)) for i, v in enumerate(draft.variants)]
        axes = [Axis(generate_id(), title, {value: generate_id() for value in values}) for title, values in options]
        picks: list[tuple[uuid.UUID, ...]] = []
        skus: dict[str, Path] = {}
        for variant in variants:
            chosen = _pick(axes, variant.picks, variant.path)
            if frozenset(chosen) in {frozenset(p) for p in picks}:
                raise invalid(
                    (*variant.path, "options"),
                    "another variant picks the same values",
                    reason="DUPLICATE_COMBINATION",
                )
            picks.append(chosen)
            if variant.sku is not None:
                if variant.sku in skus:
                    raise invalid((*variant.path, "sku"), "two variants have this SKU", reason="DUPLICATE_SKU")
                skus[variant.sku] = (*variant.path, "sku")
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            product_id = generate_id()
            await self._claim_handles(tx, product_id, texts)
            await self._skus_free(tx, skus, None)
            now = datetime.now(UTC)
            product = Product(
                id=product_id,
                status=draft.status,
                discountable=bool(draft.discountable),
                product_metadata=metadata,
                published_at=now if draft.status == "active" else None,
                created_at=now,
                updated_at=now,
            )
            tx.add(product)
            await tx.flush()
            tx.add_all([self._translation(product.id, text) for text in texts])
            for position, axis in enumerate(axes):
                tx.add(ProductOption(id=axis.option_id, product_id=product.id, title=axis.title, position=position))
            await self._flush(tx, handles=[(*t.path, "handle") for t in texts])
            tx.add_all(
                [
                    ProductOptionValue(id=value_id, option_id=axis.option_id, value=value, position=position)
                    for axis in axes
                    for position, (value, value_id) in enumerate(axis.values.items())
                ]
            )
            await tx.flush()
            if draft.category_ids:
                await ProductCategoryService(self.ctx).set_links(
                    tx, product.id, list(draft.category_ids), path="categoryIds"
                )
            await self._publish(
                tx,
                tenant.id,
                ProductCreated(
                    product_id=product.id,
                    status=product.status,
                    locales=sorted(t.locale for t in texts),
                    handles={t.locale: t.handle or "" for t in texts},
                ),
                actor_id,
            )
            for index, (variant, chosen) in enumerate(zip(variants, picks, strict=True)):
                title = variant.title or _auto_title(axes, chosen)
                position = variant.position if variant.position is not None else index
                await self._insert_variant(tx, tenant.id, product.id, variant, chosen, title, position, actor_id)
            if product.status == "active":
                await self._publish(
                    tx,
                    tenant.id,
                    ProductPublished(product_id=product.id, published_at=now, locales=sorted(t.locale for t in texts)),
                    actor_id,
                )
        return product

    def _translation(self, product_id: uuid.UUID, text: _Text) -> ProductTranslation:
        now = datetime.now(UTC)
        assert text.title is not None
        assert text.handle is not None
        return ProductTranslation(
            product_id=product_id,
            locale=text.locale,
            title=text.title,
            subtitle=text.subtitle or None,
            handle=text.handle,
            description=text.description or None,
            seo_title=text.seo_title or None,
            seo_description=text.seo_description or None,
            created_at=now,
            updated_at=now,
        )

    async def _claim_handles(self, session: AsyncSession, product_id: uuid.UUID, texts: Sequence[_Text]) -> None:
        """Check given handles are free in their locale; pick a free one for each handle to make."""
        given = [t for t in texts if t.handle is not None and t.made_handle is None]
        if given:
            taken = set(
                (
                    await session.execute(
                        select(ProductTranslation.locale, ProductTranslation.handle).where(
                            ProductTranslation.product_id != product_id,
                            or_(
                                *[
                                    (ProductTranslation.locale == t.locale) & (ProductTranslation.handle == t.handle)
                                    for t in given
                                ]
                            ),
                        )
                    )
                ).all()
            )
            clashes = [(*t.path, "handle") for t in given if (t.locale, t.handle) in taken]
            if clashes:
                raise handle_taken(clashes)
        for text in texts:
            if text.made_handle is None:
                continue
            base = text.made_handle
            used = set(
                (
                    await session.scalars(
                        select(ProductTranslation.handle).where(
                            ProductTranslation.product_id != product_id,
                            ProductTranslation.locale == text.locale,
                            or_(
                                ProductTranslation.handle == base,
                                ProductTranslation.handle.startswith(f"{base}-", autoescape=True),
                            ),
                        )
                    )
                ).all()
            )
            text.handle = first_free(base, used)

    async def update(
        self,
        tenant: TenantContext,
        product_id: uuid.UUID,
        changes: ProductChanges,
        *,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> Product:
        """Apply ``changes``; the product's version goes up by one (nothing happens when nothing changes)."""
        check_unique_locales([t.locale for t in changes.translations], ("translations",))
        texts = [
            _prepare_text(tenant, t, ("translations", i), creating=False) for i, t in enumerate(changes.translations)
        ]
        for index, locale in enumerate(changes.remove_locales):
            check_locale(tenant, locale, ("removeLocales", index))
        metadata = check_metadata(changes.metadata) if changes.metadata is not None else None
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            product = await self._lock_product(tx, product_id)
            expect_version(product, expected_version)
            existing = {
                t.locale: t
                for t in (
                    await tx.scalars(select(ProductTranslation).where(ProductTranslation.product_id == product.id))
                ).all()
            }
            for text in texts:
                if text.locale in existing:
                    continue
                if text.title is None:
                    raise invalid((*text.path, "title"), "a new translation needs a title")
                if text.handle is None:
                    text.made_handle = _made_handle(text)
            claims = [t for t in texts if t.made_handle is not None or t.handle is not None]
            claims = [
                t
                for t in claims
                if t.locale not in existing or (t.handle is not None and t.handle != existing[t.locale].handle)
            ]
            await self._claim_handles(tx, product.id, claims)
            changed: list[str] = []
            if changes.category_ids is not None and await ProductCategoryService(self.ctx).set_links(
                tx, product.id, list(changes.category_ids), path="categoryIds"
            ):
                changed.append("categories")
            # Nothing is flushed until every change is in place: the product's row is
            # written once, so its version goes up by exactly one.
            with tx.no_autoflush:
                now = datetime.now(UTC)
                for text in texts:
                    current = existing.get(text.locale)
                    if current is None:
                        tx.add(self._translation(product.id, text))
                        changed.append(f"translation:{text.locale}")
                    elif self._change_translation(current, text, now):
                        changed.append(f"translation:{text.locale}")
                removed = [locale for locale in changes.remove_locales if locale in existing]
                remaining = (set(existing) | {t.locale for t in texts}) - set(removed)
                if removed and not remaining:
                    raise invalid(("removeLocales",), "a product keeps at least one translation")
                for locale in removed:
                    await tx.delete(existing[locale])
                    changed.append(f"translation:{locale}")
                if changes.discountable is not None and changes.discountable != product.discountable:
                    product.discountable = changes.discountable
                    changed.append("discountable")
                if metadata is not None and metadata != product.product_metadata:
                    product.product_metadata = metadata
                    changed.append("metadata")
            if not changed:
                return product
            product.updated_at = datetime.now(UTC)
            await self._flush(tx, handles=[(*t.path, "handle") for t in claims])
            await self._publish(
                tx, tenant.id, ProductUpdated(product_id=product.id, version=product.version, changed=changed), actor_id
            )
        return product

    @staticmethod
    def _change_translation(current: ProductTranslation, text: _Text, now: datetime) -> bool:
        changed = False
        for attribute, value in (
            ("title", text.title),
            ("subtitle", text.subtitle),
            ("handle", text.handle),
            ("description", text.description),
            ("seo_title", text.seo_title),
            ("seo_description", text.seo_description),
        ):
            if value is None:
                continue
            # Title and handle are never empty (checked); "" clears an optional field.
            stored = value or None
            if getattr(current, attribute) != stored:
                setattr(current, attribute, stored)
                changed = True
        if changed:
            current.updated_at = now
        return changed

    async def publish(
        self,
        tenant: TenantContext,
        product_id: uuid.UUID,
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> Product:
        """Put the product on sale (``active``, ``published_at`` now); already active: nothing happens."""
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            product = await self._lock_product(tx, product_id)
            expect_version(product, expected_version)
            if product.status == "active":
                return product
            now = datetime.now(UTC)
            product.status = "active"
            product.published_at = now
            product.updated_at = now
            await tx.flush()
            locales = sorted(
                (
                    await tx.scalars(
                        select(ProductTranslation.locale).where(ProductTranslation.product_id == product.id)
                    )
                ).all()
            )
            await self._publish(
                tx,
                tenant.id,
                ProductPublished(product_id=product.id, published_at=now, locales=locales),
                actor_id,
            )
        return product

    async def archive(
        self,
        tenant: TenantContext,
        product_id: uuid.UUID,
        *,
        expected_version: int | None = None,
        to_status: str = "archived",
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> Product:
        """Take the product off sale: ``archived``, or back to ``draft``; already there: nothing happens."""
        if to_status not in ("archived", "draft"):
            raise invalid(("status",), "a product is archived or put back to draft")
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            product = await self._lock_product(tx, product_id)
            expect_version(product, expected_version)
            if product.status == to_status:
                return product
            product.status = to_status
            product.updated_at = datetime.now(UTC)
            await tx.flush()
            await self._publish(tx, tenant.id, ProductArchived(product_id=product.id, status=to_status), actor_id)
        return product

    async def delete(
        self,
        tenant: TenantContext,
        product_id: uuid.UUID,
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> None:
        """Delete the product with its variants, prices and images (their files once committed)."""
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            product = await self._lock_product(tx, product_id)
            expect_version(product, expected_version)
            variant_ids = list(
                (
                    await tx.scalars(
                        select(Variant.id)
                        .where(Variant.product_id == product.id)
                        .order_by(Variant.position, Variant.id)
                    )
                ).all()
            )
            keys = list(
                (await tx.scalars(select(ProductImage.storage_key).where(ProductImage.product_id == product.id))).all()
            )
            await tx.delete(product)
            await tx.flush()
            await self._publish(tx, tenant.id, ProductDeleted(product_id=product.id, variant_ids=variant_ids), actor_id)
            remove_files_after_commit(tx, self.ctx.storage, keys)

    # -- options ----------------------------------------------------------------------------

    async def add_option(
        self,
        tenant: TenantContext,
        product_id: uuid.UUID,
        option: OptionInput,
        *,
        position: int | None = None,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> ProductOption:
        """Add an option; variants that exist pick its first value (so their combinations stay distinct)."""
        title, values = _prepare_option(option, ())
        checked_position = check_position(position, ("position",)) if position is not None else None
        async with self.ctx.db.session(tenant.id) as tx, tx.begin():
            product = await self._lock_product(tx, product_id)
            expect_version(product, expected_version)
            axes = await self._axes(tx, product.id)
            if any(axis.title == title for axis in axes):
                raise Conflict("the product already has an option of this name", reason="OPTION_TAKEN")
            if len(axes) >= MAX_OPTIONS:
                raise invalid(("title",), f"a product has at most {MAX_OPTIONS} options")
            if checked_position is None:
                last = await tx.scalar(
                    select(func.max(ProductOption.position)).where(ProductOption.product_id == product.id)
                )
                checked_position = 0 if last is None else last + 1
            created = ProductOption(id=generate_id(), product_id=product.id, title=title, position=checked_position)
            tx.add(created)
            await self._flush(tx)
            first = ProductOptionValue(id=generate_id(), option_id=created.id, value=values[0], position=0)
            tx.add(first)
            tx.add_all(
                [
                    ProductOptionValue(option_id=created.id, value=value, position=index)
                    for index, value in enumerate(values[1:], start=1)
                ]
            )
            await tx.flush()
            variant_ids = (await tx.scalars(select(Variant.id).where(Variant.product_id == product.id))).all()
            tx.add_all([VariantOptionValue(variant_id=v, option_value_id=first.id) for v in variant_ids])
            await self._product_changed(tx, tenant.id, product, ["options"], actor_id)
        return created

    async def update_option(
        self,
        tenant: TenantContext,
        option_id: uuid.UUID,
        *,
        title: str | None = None,
        position: int | None = None,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> ProductOption:
        new_title = check_text(title, ("title",), max_length=MAX_OPTION_TITLE) if title is not None else None
        new_position = check_position(position, ("position",)) if position is not None else None
        async with self.ctx.db.session(tenant.id) as tx, tx.begin():
            option, product = await self._option_with_product(tx, option_id)
            expect_version(product, expected_version)
            changed = False
            if new_title is not None and new_title != option.title:
                if await tx.scalar(
                    select(ProductOption.id).where(
                        ProductOption.product_id == product.id, ProductOption.title == new_title
                    )
                ):
                    raise Conflict("the product already has an option of this name", reason="OPTION_TAKEN")
                option.title = new_title
                changed = True
            if new_position is not None and new_position != option.position:
                option.position = new_position
                changed = True
            if changed:
                await self._product_changed(tx, tenant.id, product, ["options"], actor_id)
        return option

    async def delete_option(
        self,
        tenant: TenantContext,
        option_id: uuid.UUID,
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> None:
        """Remove an option and the values variants picked in it, unless variants would then collide."""
        async with self.ctx.db.session(tenant.id) as tx, tx.begin():
            option, product = await self._option_with_product(tx, option_id)
            expect_version(product, expected_version)
            value_ids = set(
                (await tx.scalars(select(ProductOptionValue.id).where(ProductOptionValue.option_id == option.id))).all()
            )
            remaining = [combo - value_ids for combo in (await self._combinations(tx, product.id)).values()]
            if len(set(remaining)) != len(remaining):
                raise Conflict(
                    "without this option some variants would pick the same values; delete them first",
                    reason="VARIANTS_WOULD_COLLIDE",
                )
            await tx.delete(option)
            await tx.flush()
            await self._product_changed(tx, tenant.id, product, ["options"], actor_id)

    async def add_option_value(
        self,
        tenant: TenantContext,
        option_id: uuid.UUID,
        value: str,
        *,
        position: int | None = None,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> ProductOptionValue:
        checked = check_text(value, ("value",), max_length=MAX_OPTION_VALUE)
        checked_position = check_position(position, ("position",)) if position is not None else None
        async with self.ctx.db.session(tenant.id) as tx, tx.begin():
            option, product = await self._option_with_product(tx, option_id)
            expect_version(product, expected_version)
            existing = (
                await tx.execute(
                    select(ProductOptionValue.value, ProductOptionValue.position).where(
                        ProductOptionValue.option_id == option.id
                    )
                )
            ).all()
            if any(row.value == checked for row in existing):
                raise Conflict("the option already has this value", reason="VALUE_TAKEN")
            if len(existing) >= MAX_VALUES_PER_OPTION:
                raise invalid(("value",), f"an option has at most {MAX_VALUES_PER_OPTION} values")
            if checked_position is None:
                checked_position = max((row.position for row in existing), default=-1) + 1
            created = ProductOptionValue(
                id=generate_id(), option_id=option.id, value=checked, position=checked_position
            )
            tx.add(created)
            await self._product_changed(tx, tenant.id, product, ["options"], actor_id)
        return created

    async def update_option_value(
        self,
        tenant: TenantContext,
        value_id: uuid.UUID,
        *,
        value: str | None = None,
        position: int | None = None,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> ProductOptionValue:
        """Rename or move a value (variants that pick it keep picking it)."""
        checked = check_text(value, ("value",), max_length=MAX_OPTION_VALUE) if value is not None else None
        checked_position = check_position(position, ("position",)) if position is not None else None
        async with self.ctx.db.session(tenant.id) as tx, tx.begin():
            found, option, product = await self._value_with_product(tx, value_id)
            expect_version(product, expected_version)
            changed = False
            if checked is not None and checked != found.value:
                if await tx.scalar(
                    select(ProductOptionValue.id).where(
                        ProductOptionValue.option_id == option.id, ProductOptionValue.value == checked
                    )
                ):
                    raise Conflict("the option already has this value", reason="VALUE_TAKEN")
                found.value = checked
                changed = True
            if checked_position is not None and checked_position != found.position:
                found.position = checked_position
                changed = True
            if changed:
                await self._product_changed(tx, tenant.id, product, ["options"], actor_id)
        return found

    async def delete_option_value(
        self,
        tenant: TenantContext,
        value_id: uuid.UUID,
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> None:
        """Remove a value no variant picks; an option keeps at least one value."""
        async with self.ctx.db.session(tenant.id) as tx, tx.begin():
            found, option, product = await self._value_with_product(tx, value_id)
            expect_version(product, expected_version)
            if await tx.scalar(
                select(VariantOptionValue.variant_id).where(VariantOptionValue.option_value_id == found.id).limit(1)
            ):
                raise Conflict("variants pick this value; change or delete them first", reason="VALUE_IN_USE")
            count = await tx.scalar(
                select(func.count()).select_from(ProductOptionValue).where(ProductOptionValue.option_id == option.id)
            )
            if (count or 0) <= 1:
                raise Conflict("an option keeps at least one value; delete the option instead", reason="LAST_VALUE")
            await tx.delete(found)
            await tx.flush()
            await self._product_changed(tx, tenant.id, product, ["options"], actor_id)

    async def _option_with_product(self, session: AsyncSession, option_id: uuid.UUID) -> tuple[ProductOption, Product]:
        product_id = await session.scalar(select(ProductOption.product_id).where(ProductOption.id == option_id))
        if product_id is None:
            raise NotFound("no such option", resource="product_option")
        product = await self._lock_product(session, product_id)
        option = await session.scalar(
            select(ProductOption).where(ProductOption.id == option_id).execution_options(populate_existing=True)
        )
        if option is None:
            raise NotFound("no such option", resource="product_option")
        return option, product

    async def _value_with_product(
        self, session: AsyncSession, value_id: uuid.UUID
    ) -> tuple[ProductOptionValue, ProductOption, Product]:
        option_id = await session.scalar(select(ProductOptionValue.option_id).where(ProductOptionValue.id == value_id))
        if option_id is None:
            raise NotFound("no such option value", resource="product_option_value")
        option, product = await self._option_with_product(session, option_id)
        found = await session.scalar(
            select(ProductOptionValue)
            .where(ProductOptionValue.id == value_id)
            .execution_options(populate_existing=True)
        )
        if found is None:
            raise NotFound("no such option value", resource="product_option_value")
        return found, option, product

    # -- reads ------------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, product_id: uuid.UUID) -> Product:
        async with self.ctx.db.session(tenant_id) as session:
            product = await session.get(Product, product_id)
        if product is None:
            raise NotFound("no such product", resource="product")
        return product

    async def find_by_handle(self, tenant: TenantContext, handle: str, *, locale: str | None = None) -> Product:
        """The product whose handle is ``handle`` in ``locale``, else in the tenant's default locale, else in any."""
        async with self.ctx.db.session(tenant.id) as session:
            rows = (
                await session.execute(
                    select(ProductTranslation.locale, Product)
                    .join(Product, Product.id == ProductTranslation.product_id)
                    .where(ProductTranslation.handle == handle)
                )
            ).all()
        if not rows:
            raise NotFound("no such product", resource="product")
        by_locale = {row[0]: row[1] for row in rows}
        chosen = pick_locale(sorted(by_locale), locale, tenant.default_locale)
        assert chosen is not None
        return by_locale[chosen]

    async def by_ids(self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Product]:
        if not ids:
            return {}
        async with self.ctx.db.session(tenant_id) as session:
            return {p.id: p for p in (await session.scalars(select(Product).where(Product.id.in_(ids)))).all()}

    async def page(self, tenant_id: uuid.UUID, query: ProductQuery) -> dict[str, Any]:
        """A Relay connection (``edges``, ``page_info``) of products matching ``query``, newest first."""
        size = page_size(query.first)
        statement = self._filtered(query)
        cursor = decode_cursor(query.after)
        if cursor is not None:
            try:
                statement = statement.where(Product.id < uuid.UUID(cursor))
            except ValueError:
                raise invalid(("after",), "invalid cursor") from None
        statement = statement.order_by(Product.id.desc()).limit(size + 1)
        async with self.ctx.db.session(tenant_id) as session:
            products = list((await session.scalars(statement)).all())
        return connection(products, size, lambda p: str(p.id))

    def _filtered(self, query: ProductQuery) -> Select[Any]:
        statement = select(Product)
        if query.statuses is not None:
            for status in query.statuses:
                if status not in PRODUCT_STATUSES:
                    raise invalid(("status",), f"status must be one of {', '.join(PRODUCT_STATUSES)}")
            statement = statement.where(Product.status.in_(list(query.statuses)))
        if query.category_id is not None or query.category_handle is not None:
            root = select(ProductCategory.id)
            if query.category_id is not None:
                root = root.where(ProductCategory.id == query.category_id)
            if query.category_handle is not None:
                root = root.where(ProductCategory.handle == query.category_handle)
            tree = root.cte("category_tree", recursive=True)
            tree = tree.union_all(select(ProductCategory.id).join(tree, ProductCategory.parent_id == tree.c.id))
            statement = statement.where(
                Product.id.in_(
                    select(ProductCategoryLink.product_id).where(ProductCategoryLink.category_id.in_(select(tree.c.id)))
                )
            )
        if query.search is not None and query.search.strip():
            search = " ".join(query.search.split())
            if len(search) > MAX_SEARCH:
                raise invalid(("search",), f"search at most {MAX_SEARCH} characters")
            statement = statement.where(
                Product.id.in_(
                    select(ProductTranslation.product_id).where(
                        ProductTranslation.title.icontains(search, autoescape=True)
                    )
                )
            )
        return statement

    async def translations_of(
        self, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ProductTranslation]]:
        """Every translation of each product (one query), by locale."""
        found: dict[uuid.UUID, list[ProductTranslation]] = {product_id: [] for product_id in product_ids}
        if not product_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(ProductTranslation)
                .where(ProductTranslation.product_id.in_(product_ids))
                .order_by(ProductTranslation.locale)
            )
            for translation in rows.all():
                found[translation.product_id].append(translation)
        return found

    async def options_of(
        self, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ProductOption]]:
        found: dict[uuid.UUID, list[ProductOption]] = {product_id: [] for product_id in product_ids}
        if not product_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(ProductOption)
                .where(ProductOption.product_id.in_(product_ids))
                .order_by(ProductOption.position, ProductOption.id)
            )
            for option in rows.all():
                found[option.product_id].append(option)
        return found

    async def option_values_of(
        self, tenant_id: uuid.UUID, option_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ProductOptionValue]]:
        found: dict[uuid.UUID, list[ProductOptionValue]] = {option_id: [] for option_id in option_ids}
        if not option_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(ProductOptionValue)
                .where(ProductOptionValue.option_id.in_(option_ids))
                .order_by(ProductOptionValue.position, ProductOptionValue.id)
            )
            for value in rows.all():
                found[value.option_id].append(value)
        return found

    async def variants_of(
        self, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Variant]]:
        """The variants of each product, by position (one query)."""
        found: dict[uuid.UUID, list[Variant]] = {product_id: [] for product_id in product_ids}
        if not product_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(Variant).where(Variant.product_id.in_(product_ids)).order_by(Variant.position, Variant.id)
            )
            for variant in rows.all():
                found[variant.product_id].append(variant)
        return found


# -- variants ------------------------------------------------------------------------------


class VariantService(_CatalogWriter):
    """Writes and reads variants (with the option values they pick and their base prices)."""

    async def create(
        self,
        tenant: TenantContext,
        product_id: uuid.UUID,
        given: VariantInput,
        *,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> Variant:
        """Add a variant picking one value of each option, in a combination no other variant has."""
        prepared = _prepare_variant(given, ())
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            product = await self._lock_product(tx, product_id, exclusive=False)
            axes = await self._axes(tx, product.id)
            chosen = _pick(axes, prepared.picks, ())
            combinations = await self._combinations(tx, product.id)
            if len(combinations) >= MAX_VARIANTS:
                raise invalid(("productId",), f"a product has at most {MAX_VARIANTS} variants")
            if frozenset(chosen) in combinations.values():
                raise Conflict("another variant of the product picks the same values", reason="COMBINATION_TAKEN")
            if prepared.sku is not None:
                await self._skus_free(tx, {prepared.sku: ("sku",)}, None)
            position = prepared.position
            if position is None:
                last = await tx.scalar(select(func.max(Variant.position)).where(Variant.product_id == product.id))
                position = 0 if last is None else last + 1
            title = prepared.title or _auto_title(axes, chosen)
            return await self._insert_variant(tx, tenant.id, product.id, prepared, chosen, title, position, actor_id)

    async def update(
        self,
        tenant: TenantContext,
        variant_id: uuid.UUID,
        changes: VariantChanges,
        *,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> Variant:
        """Apply ``changes``; the variant's version goes up by one (nothing happens when nothing changes)."""
        values: dict[str, Any] = {}
        if changes.title is not None:
            values["title"] = check_text(changes.title, ("title",), max_length=MAX_TITLE)
        if not isinstance(changes.sku, Keep):
            values["sku"] = check_sku(changes.sku, ("sku",))
        if not isinstance(changes.barcode, Keep):
            values["barcode"] = check_optional_text(changes.barcode, ("barcode",), max_length=MAX_BARCODE) or None
        for name in ("weight", "length", "height", "width"):
            given = getattr(changes, name)
            if not isinstance(given, Keep):
                values[name] = check_measure(given, (name,))
        for name in ("manage_inventory", "allow_backorder"):
            if getattr(changes, name) is not None:
                values[name] = bool(getattr(changes, name))
        if changes.position is not None:
            values["position"] = check_position(changes.position, ("position",))
        if changes.metadata is not None:
            values["variant_metadata"] = check_metadata(changes.metadata)
        picks: dict[str, str] | None = None
        if changes.options is not None:
            picks = {
                check_text(k, ("options",), max_length=MAX_OPTION_TITLE): check_text(
                    v, ("options",), max_length=MAX_OPTION_VALUE
                )
                for k, v in changes.options.items()
            }
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            product_id = await tx.scalar(select(Variant.product_id).where(Variant.id == variant_id))
            if product_id is None:
                raise NotFound("no such variant", resource="variant")
            await self._lock_product(tx, product_id, exclusive=False)
            variant = await tx.scalar(
                select(Variant)
                .where(Variant.id == variant_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if variant is None:
                raise NotFound("no such variant", resource="variant")
            expect_version(variant, expected_version)
            changed: list[str] = []
            if picks is not None:
                axes = await self._axes(tx, product_id)
                chosen = _pick(axes, picks, ())
                combinations = await self._combinations(tx, product_id)
                if frozenset(chosen) != combinations.get(variant.id):
                    others = {combo for other, combo in combinations.items() if other != variant.id}
                    if frozenset(chosen) in others:
                        raise Conflict(
                            "another variant of the product picks the same values", reason="COMBINATION_TAKEN"
                        )
                    await tx.execute(delete(VariantOptionValue).where(VariantOptionValue.variant_id == variant.id))
                    tx.add_all([VariantOptionValue(variant_id=variant.id, option_value_id=v) for v in chosen])
                    changed.append("options")
            if values.get("sku") is not None and values["sku"] != variant.sku:
                await self._skus_free(tx, {values["sku"]: ("sku",)}, variant.id)
            with tx.no_autoflush:
                for name, value in values.items():
                    if getattr(variant, name) != value:
                        setattr(variant, name, value)
                        changed.append("metadata" if name == "variant_metadata" else name)
            if not changed:
                return variant
            variant.updated_at = datetime.now(UTC)
            await self._flush(tx, skus=[("sku",)])
            await self._publish(
                tx,
                tenant.id,
                VariantUpdated(
                    variant_id=variant.id,
                    product_id=variant.product_id,
                    sku=variant.sku,
                    version=variant.version,
                    changed=changed,
                ),
                actor_id,
            )
            return variant

    async def delete(
        self,
        tenant: TenantContext,
        variant_id: uuid.UUID,
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> None:
        """Delete the variant with its prices (cart lines holding it go too; order items keep their snapshot)."""
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            product_id = await tx.scalar(select(Variant.product_id).where(Variant.id == variant_id))
            if product_id is None:
                raise NotFound("no such variant", resource="variant")
            # Product first, as every writer of a product's variants and options locks it.
            await self._lock_product(tx, product_id, exclusive=False)
            variant = await tx.scalar(
                select(Variant)
                .where(Variant.id == variant_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if variant is None:
                raise NotFound("no such variant", resource="variant")
            expect_version(variant, expected_version)
            await tx.delete(variant)
            await tx.flush()
            await self._publish(
                tx,
                tenant.id,
                VariantDeleted(variant_id=variant.id, product_id=variant.product_id, sku=variant.sku),
                actor_id,
            )

    # -- reads ------------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, variant_id: uuid.UUID) -> Variant:
        async with self.ctx.db.session(tenant_id) as session:
            variant = await session.get(Variant, variant_id)
        if variant is None:
            raise NotFound("no such variant", resource="variant")
        return variant

    async def by_ids(self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Variant]:
        if not ids:
            return {}
        async with self.ctx.db.session(tenant_id) as session:
            return {v.id: v for v in (await session.scalars(select(Variant).where(Variant.id.in_(ids)))).all()}

    async def options_of(
        self, tenant_id: uuid.UUID, variant_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[VariantOption]]:
        """The value each variant picks per option, in option order (one query)."""
        found: dict[uuid.UUID, list[VariantOption]] = {variant_id: [] for variant_id in variant_ids}
        if not variant_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.execute(
                select(
                    VariantOptionValue.variant_id,
                    ProductOption.id,
                    ProductOption.title,
                    ProductOption.position,
                    ProductOptionValue.id,
                    ProductOptionValue.value,
                )
                .join(ProductOptionValue, ProductOptionValue.id == VariantOptionValue.option_value_id)
                .join(ProductOption, ProductOption.id == ProductOptionValue.option_id)
                .where(VariantOptionValue.variant_id.in_(variant_ids))
                .order_by(VariantOptionValue.variant_id, ProductOption.position, ProductOption.id)
            )
            for variant_id, option_id, title, position, value_id, value in rows.all():
                found[variant_id].append(VariantOption(variant_id, option_id, title, position, value_id, value))
        return found


# -- snapshots for carts and orders --------------------------------------------------------


@dataclass(frozen=True)
class VariantSnapshot:
    """What a cart line or an order item copies from a variant."""

    variant_id: uuid.UUID
    product_id: uuid.UUID
    product_status: str
    title: str
    """``"<product title> / <variant title>"``, or the product title alone for a ``Default`` variant."""
    sku: str | None
    manage_inventory: bool
    allow_backorder: bool
    weight: int | None


def _line_title(product_title: str, variant_title: str) -> str:
    """The title a line shows, cut to 255 characters (the width of the snapshot columns)."""
    if not variant_title or variant_title == DEFAULT_VARIANT_TITLE:
        return product_title[:255]
    return f"{product_title} / {variant_title}"[:255]


async def variant_snapshots(
    session: AsyncSession, variant_ids: Iterable[uuid.UUID], locale: str | None
) -> dict[uuid.UUID, VariantSnapshot]:
    """Snapshots of the variants that exist among ``variant_ids`` (two queries for any number).

    The product title is taken in ``locale``, else in the first locale (alphabetically)
    the product has. Missing variants are absent from the result. ``session`` must be
    scoped to the tenant.
    """
    wanted = list(dict.fromkeys(variant_ids))
    if not wanted:
        return {}
    rows = (
        await session.execute(
            select(
                Variant.id,
                Variant.product_id,
                Variant.title,
                Variant.sku,
                Variant.manage_inventory,
                Variant.allow_backorder,
                Variant.weight,
                Product.status,
            )
            .join(Product, Product.id == Variant.product_id)
            .where(Variant.id.in_(wanted))
        )
    ).all()
    if not rows:
        return {}
    titles: dict[uuid.UUID, dict[str, str]] = {}
    translations = await session.execute(
        select(ProductTranslation.product_id, ProductTranslation.locale, ProductTranslation.title).where(
            ProductTranslation.product_id.in_({row.product_id for row in rows})
        )
    )
    for product_id, row_locale, title in translations.all():
        titles.setdefault(product_id, {})[row_locale] = title
    found: dict[uuid.UUID, VariantSnapshot] = {}
    for row in rows:
        by_locale = titles.get(row.product_id, {})
        if locale is not None and locale in by_locale:
            product_title = by_locale[locale]
        elif by_locale:
            product_title = by_locale[min(by_locale)]
        else:
            product_title = row.title
        found[row.id] = VariantSnapshot(
            variant_id=row.id,
            product_id=row.product_id,
            product_status=row.status,
            title=_line_title(product_title, row.title),
            sku=row.sku,
            manage_inventory=row.manage_inventory,
            allow_backorder=row.allow_backorder,
            weight=row.weight,
        )
    return found
