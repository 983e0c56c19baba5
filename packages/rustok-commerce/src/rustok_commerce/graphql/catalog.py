"""GraphQL surface of the catalog: products, variants, options, prices, price lists, categories, images.

Thin: parse, authorize, call a service, map. A product travels as a
:class:`ProductView` (the row plus the locale asked for); every relation is read
through a per-request dataloader, so a page of products costs the same number of
queries whatever its size. Storefront callers (without ``commerce_products:read``)
see only ``active`` products and only active, public categories.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType, ScalarType
from ariadne.types import SchemaBindable
from graphql import GraphQLError, GraphQLResolveInfo, IntValueNode, ValueNode

from rustok_commerce.models import (
    Price,
    PriceList,
    Product,
    ProductCategory,
    ProductCategoryTranslation,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductTranslation,
    Variant,
)
from rustok_commerce.permissions import PRICES_MANAGE, PRODUCTS_PUBLISH, PRODUCTS_READ
from rustok_commerce.services.catalog import ProductService, VariantOption, VariantService
from rustok_commerce.services.catalog_inputs import (
    KEEP,
    NewProduct,
    OptionInput,
    PriceInput,
    ProductChanges,
    ProductQuery,
    ProductText,
    VariantChanges,
    VariantInput,
    invalid,
    pick_locale,
)
from rustok_commerce.services.categories import CategoryText, ProductCategoryService
from rustok_commerce.services.images import ProductImageService, image_url
from rustok_commerce.services.money import check_currency
from rustok_commerce.services.prices import PriceService, TierInput
from rustok_commerce.services.pricing import ResolvedPrice, resolve_prices
from rustok_core.context import RequestContext, TenantContext
from rustok_core.errors import NotFound
from rustok_core.loaders import load_one

query = QueryType()
mutation = MutationType()
product_type = ObjectType("Product")
variant_type = ObjectType("Variant")
option_type = ObjectType("ProductOption")
pick_type = ObjectType("VariantOptionPick")
price_type = ObjectType("Price")
variant_price_type = ObjectType("VariantPrice")
image_type = ObjectType("ProductImage")
category_type = ObjectType("ProductCategory")
price_list_type = ObjectType("PriceList")
product_status = EnumType("ProductStatus", {"DRAFT": "draft", "ACTIVE": "active", "ARCHIVED": "archived"})
price_list_kind = EnumType("PriceListType", {"SALE": "sale", "OVERRIDE": "override"})

MAX_QUANTITY = 1_000_000


@dataclass(frozen=True)
class ProductView:
    product: Product
    locale: str | None = None


@dataclass(frozen=True)
class CategoryView:
    category: ProductCategory
    locale: str | None = None


@dataclass(frozen=True)
class ImageView:
    image: ProductImage
    locale: str | None = None


# -- the request ---------------------------------------------------------------------------


def request(info: GraphQLResolveInfo) -> RequestContext:
    ctx: RequestContext = info.context
    return ctx


def tenant_of(ctx: RequestContext) -> TenantContext:
    return ctx.require_tenant()


async def can_see(ctx: RequestContext, product: Product) -> bool:
    return product.status == "active" or await ctx.may(PRODUCTS_READ)


def connection_of(page: Mapping[str, Any], wrap: Any) -> dict[str, Any]:
    return {
        "edges": [{"cursor": edge["cursor"], "node": wrap(edge["node"])} for edge in page["edges"]],
        "page_info": page["page_info"],
    }


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency_code": currency}


# -- loaders -------------------------------------------------------------------------------


async def _translations(ctx: RequestContext, product_id: uuid.UUID) -> list[ProductTranslation]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[ProductTranslation]]:
        found = await ProductService(ctx.app).translations_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "commerce.product_translations", batch, product_id)


async def _translation(ctx: RequestContext, view: ProductView) -> ProductTranslation | None:
    available = await _translations(ctx, view.product.id)
    chosen = pick_locale([t.locale for t in available], view.locale, tenant_of(ctx).default_locale)
    return next((t for t in available if t.locale == chosen), None)


async def _options(ctx: RequestContext, product_id: uuid.UUID) -> list[ProductOption]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[ProductOption]]:
        found = await ProductService(ctx.app).options_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "commerce.product_options", batch, product_id)


async def _option_values(ctx: RequestContext, option_id: uuid.UUID) -> list[ProductOptionValue]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[ProductOptionValue]]:
        found = await ProductService(ctx.app).option_values_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "commerce.option_values", batch, option_id)


async def _variants(ctx: RequestContext, product_id: uuid.UUID) -> list[Variant]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[Variant]]:
        found = await ProductService(ctx.app).variants_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "commerce.product_variants", batch, product_id)


async def _picks(ctx: RequestContext, variant_id: uuid.UUID) -> list[VariantOption]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[VariantOption]]:
        found = await VariantService(ctx.app).options_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "commerce.variant_options", batch, variant_id)


async def _prices(ctx: RequestContext, variant_id: uuid.UUID) -> list[Price]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[Price]]:
        found = await PriceService(ctx.app).prices_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "commerce.variant_prices", batch, variant_id)


async def _resolved(ctx: RequestContext, variant_id: uuid.UUID, currency: str, quantity: int) -> ResolvedPrice | None:
    """The price resolution's answer, batched per (currency, quantity) over every variant asked."""
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[ResolvedPrice | None]:
        async with ctx.app.db.session(tenant_id) as session:
            found = await resolve_prices(session, ids, currency, dict.fromkeys(ids, quantity))
        return [found.get(i) for i in ids]

    return await load_one(ctx, f"commerce.resolved_price:{currency}:{quantity}", batch, variant_id)


async def _categories(ctx: RequestContext, product_id: uuid.UUID) -> list[ProductCategory]:
    tenant_id = tenant_of(ctx).id
    visible_only = not await ctx.may(PRODUCTS_READ)

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[ProductCategory]]:
        found = await ProductCategoryService(ctx.app).of_products(tenant_id, ids, visible_only=visible_only)
        return [found[i] for i in ids]

    return await load_one(ctx, "commerce.product_categories", batch, product_id)


async def _category_translations(ctx: RequestContext, category_id: uuid.UUID) -> list[ProductCategoryTranslation]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[ProductCategoryTranslation]]:
        found = await ProductCategoryService(ctx.app).translations_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "commerce.category_translations", batch, category_id)


async def _images(ctx: RequestContext, product_id: uuid.UUID) -> list[ProductImage]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[ProductImage]]:
        found = await ProductImageService(ctx.app).images_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "commerce.product_images", batch, product_id)


def _check_quantity(quantity: Any) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise invalid(
            ("quantity",), f"quantity must be a whole number from 1 to {MAX_QUANTITY}", reason="INVALID_QUANTITY"
        )
    return quantity


# -- queries -------------------------------------------------------------------------------


@query.field("product")
async def resolve_product(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID | None = None, handle: str | None = None, locale: str | None = None
) -> ProductView | None:
    ctx = request(info)
    tenant = tenant_of(ctx)
    if (id is None) == (handle is None):
        raise invalid(("id",), "give either id or handle")
    service = ProductService(ctx.app)
    try:
        if id is not None:
            product = await service.get(tenant.id, id)
        else:
            assert handle is not None
            product = await service.find_by_handle(tenant, handle, locale=locale)
    except NotFound:
        return None
    return ProductView(product, locale) if await can_see(ctx, product) else None


@query.field("products")
async def resolve_products(
    _: Any,
    info: GraphQLResolveInfo,
    filter: dict[str, Any] | None = None,
    first: int = 20,
    after: str | None = None,
    locale: str | None = None,
) -> dict[str, Any]:
    ctx = request(info)
    given = filter or {}
    status = given.get("status")
    if await ctx.may(PRODUCTS_READ):
        statuses = [status] if status else None
    else:
        # The storefront sees what is on sale: asking for drafts finds nothing.
        statuses = ["active"] if status in (None, "active") else []
    page = await ProductService(ctx.app).page(
        tenant_of(ctx).id,
        ProductQuery(
            statuses=statuses,
            category_id=given.get("category_id"),
            category_handle=given.get("category_handle"),
            search=given.get("search"),
            first=first,
            after=after,
        ),
    )
    return connection_of(page, lambda product: ProductView(product, locale))


@query.field("productCategories")
async def resolve_product_categories(
    _: Any, info: GraphQLResolveInfo, locale: str | None = None, include_hidden: bool = False
) -> list[CategoryView]:
    ctx = request(info)
    if include_hidden:
        await ctx.authorize(PRODUCTS_READ)
    rows = await ProductCategoryService(ctx.app).tree(tenant_of(ctx).id, visible_only=not include_hidden)
    return [CategoryView(category, locale) for category in rows]


@query.field("productCategory")
async def resolve_product_category(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID | None = None, handle: str | None = None, locale: str | None = None
) -> CategoryView | None:
    ctx = request(info)
    if (id is None) == (handle is None):
        raise invalid(("id",), "give either id or handle")
    service = ProductCategoryService(ctx.app)
    try:
        if id is not None:
            category = await service.get(tenant_of(ctx).id, id)
        else:
            assert handle is not None
            category = await service.find_by_handle(tenant_of(ctx).id, handle)
    except NotFound:
        return None
    if (not category.is_active or category.is_internal) and not await ctx.may(PRODUCTS_READ):
        return None
    return CategoryView(category, locale)


@query.field("priceLists")
async def resolve_price_lists(
    _: Any, info: GraphQLResolveInfo, first: int = 20, after: str | None = None
) -> dict[str, Any]:
    ctx = request(info)
    page = await PriceService(ctx.app).lists_page(tenant_of(ctx).id, first=first, after=after)
    return connection_of(page, lambda price_list: price_list)


@query.field("priceList")
async def resolve_price_list(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> PriceList | None:
    ctx = request(info)
    try:
        return await PriceService(ctx.app).get_list(tenant_of(ctx).id, id)
    except NotFound:
        return None


# -- input mapping -------------------------------------------------------------------------


def product_texts(items: Sequence[Mapping[str, Any]] | None) -> list[ProductText]:
    return [
        ProductText(
            locale=item["locale"],
            title=item.get("title"),
            subtitle=item.get("subtitle"),
            handle=item.get("handle"),
            description=item.get("description"),
            seo_title=item.get("seo_title"),
            seo_description=item.get("seo_description"),
        )
        for item in items or ()
    ]


def option_picks(items: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    picks: dict[str, str] = {}
    for index, item in enumerate(items or ()):
        if item["option"] in picks:
            raise invalid(("input", "options", index), "pick one value per option")
        picks[item["option"]] = item["value"]
    return picks


def _min_quantity(item: Mapping[str, Any]) -> Any:
    given = item.get("min_quantity")
    return 1 if given is None else given


def variant_input(item: Mapping[str, Any]) -> VariantInput:
    return VariantInput(
        options=option_picks(item.get("options")),
        title=item.get("title"),
        sku=item.get("sku"),
        barcode=item.get("barcode"),
        manage_inventory=item.get("manage_inventory", True) is not False,
        allow_backorder=bool(item.get("allow_backorder")),
        weight=item.get("weight"),
        length=item.get("length"),
        height=item.get("height"),
        width=item.get("width"),
        position=item.get("position"),
        metadata=item.get("metadata") or {},
        prices=[
            PriceInput(
                p["currency_code"], p["amount"], p.get("min_quantity") if p.get("min_quantity") is not None else 1
            )
            for p in item.get("prices") or ()
        ],
    )


def variant_changes(item: Mapping[str, Any]) -> VariantChanges:
    """An ``UpdateVariantInput``: absent fields stay; explicit nulls clear sku, barcode and measures."""
    return VariantChanges(
        options=option_picks(item["options"]) if item.get("options") is not None else None,
        title=item.get("title"),
        sku=item.get("sku", KEEP),
        barcode=item.get("barcode", KEEP),
        manage_inventory=item.get("manage_inventory"),
        allow_backorder=item.get("allow_backorder"),
        weight=item.get("weight", KEEP),
        length=item.get("length", KEEP),
        height=item.get("height", KEEP),
        width=item.get("width", KEEP),
        position=item.get("position"),
        metadata=item.get("metadata"),
    )


# -- product mutations ---------------------------------------------------------------------


@mutation.field("createProduct")
async def resolve_create_product(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> ProductView:
    ctx = request(info)
    status = input.get("status") or "draft"
    if status == "active":
        await ctx.authorize(PRODUCTS_PUBLISH)
    variants = [variant_input(v) for v in input.get("variants") or ()]
    if any(v.prices for v in variants):
        await ctx.authorize(PRICES_MANAGE)
    product = await ProductService(ctx.app).create(
        tenant_of(ctx),
        NewProduct(
            translations=product_texts(input.get("translations")),
            status=status,
            discountable=input.get("discountable") is not False,
            metadata=input.get("metadata") or {},
            options=[OptionInput(o["title"], o["values"]) for o in input.get("options") or ()],
            variants=variants,
            category_ids=input.get("category_ids") or (),
        ),
        actor_id=ctx.actor_id,
    )
    return ProductView(product)


@mutation.field("updateProduct")
async def resolve_update_product(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, input: dict[str, Any]
) -> ProductView:
    ctx = request(info)
    product = await ProductService(ctx.app).update(
        tenant_of(ctx),
        id,
        ProductChanges(
            translations=product_texts(input.get("translations")),
            remove_locales=list(input.get("remove_locales") or ()),
            discountable=input.get("discountable"),
            metadata=input.get("metadata"),
            category_ids=input.get("category_ids"),
        ),
        expected_version=version,
        actor_id=ctx.actor_id,
    )
    return ProductView(product)


@mutation.field("publishProduct")
async def resolve_publish_product(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None
) -> ProductView:
    ctx = request(info)
    product = await ProductService(ctx.app).publish(tenant_of(ctx), id, expected_version=version, actor_id=ctx.actor_id)
    return ProductView(product)


@mutation.field("archiveProduct")
async def resolve_archive_product(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None, to_draft: bool = False
) -> ProductView:
    ctx = request(info)
    product = await ProductService(ctx.app).archive(
        tenant_of(ctx),
        id,
        expected_version=version,
        to_status="draft" if to_draft else "archived",
        actor_id=ctx.actor_id,
    )
    return ProductView(product)


@mutation.field("deleteProduct")
async def resolve_delete_product(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None) -> bool:
    ctx = request(info)
    await ProductService(ctx.app).delete(tenant_of(ctx), id, expected_version=version, actor_id=ctx.actor_id)
    return True


# -- options -------------------------------------------------------------------------------


@mutation.field("createProductOption")
async def resolve_create_option(
    _: Any,
    info: GraphQLResolveInfo,
    product_id: uuid.UUID,
    input: dict[str, Any],
    position: int | None = None,
    version: int | None = None,
) -> ProductOption:
    ctx = request(info)
    return await ProductService(ctx.app).add_option(
        tenant_of(ctx),
        product_id,
        OptionInput(input["title"], input["values"]),
        position=position,
        expected_version=version,
        actor_id=ctx.actor_id,
    )


@mutation.field("updateProductOption")
async def resolve_update_option(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, input: dict[str, Any], version: int | None = None
) -> ProductOption:
    ctx = request(info)
    return await ProductService(ctx.app).update_option(
        tenant_of(ctx),
        id,
        title=input.get("title"),
        position=input.get("position"),
        expected_version=version,
        actor_id=ctx.actor_id,
    )


@mutation.field("deleteProductOption")
async def resolve_delete_option(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None) -> bool:
    ctx = request(info)
    await ProductService(ctx.app).delete_option(tenant_of(ctx), id, expected_version=version, actor_id=ctx.actor_id)
    return True


@mutation.field("createProductOptionValue")
async def resolve_create_option_value(
    _: Any,
    info: GraphQLResolveInfo,
    option_id: uuid.UUID,
    value: str,
    position: int | None = None,
    version: int | None = None,
) -> ProductOptionValue:
    ctx = request(info)
    return await ProductService(ctx.app).add_option_value(
        tenant_of(ctx), option_id, value, position=position, expected_version=version, actor_id=ctx.actor_id
    )


@mutation.field("updateProductOptionValue")
async def resolve_update_option_value(
    _: Any,
    info: GraphQLResolveInfo,
    id: uuid.UUID,
    value: str | None = None,
    position: int | None = None,
    version: int | None = None,
) -> ProductOptionValue:
    ctx = request(info)
    return await ProductService(ctx.app).update_option_value(
        tenant_of(ctx), id, value=value, position=position, expected_version=version, actor_id=ctx.actor_id
    )


@mutation.field("deleteProductOptionValue")
async def resolve_delete_option_value(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None
) -> bool:
    ctx = request(info)
    await ProductService(ctx.app).delete_option_value(
        tenant_of(ctx), id, expected_version=version, actor_id=ctx.actor_id
    )
    return True


# -- variants and prices -------------------------------------------------------------------


@mutation.field("createVariant")
async def resolve_create_variant(
    _: Any, info: GraphQLResolveInfo, product_id: uuid.UUID, input: dict[str, Any]
) -> Variant:
    ctx = request(info)
    given = variant_input(input)
    if given.prices:
        await ctx.authorize(PRICES_MANAGE)
    return await VariantService(ctx.app).create(tenant_of(ctx), product_id, given, actor_id=ctx.actor_id)


@mutation.field("updateVariant")
async def resolve_update_variant(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, input: dict[str, Any]
) -> Variant:
    ctx = request(info)
    return await VariantService(ctx.app).update(
        tenant_of(ctx), id, variant_changes(input), expected_version=version, actor_id=ctx.actor_id
    )


@mutation.field("deleteVariant")
async def resolve_delete_variant(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None) -> bool:
    ctx = request(info)
    await VariantService(ctx.app).delete(tenant_of(ctx), id, expected_version=version, actor_id=ctx.actor_id)
    return True


@mutation.field("setVariantPrices")
async def resolve_set_variant_prices(
    _: Any,
    info: GraphQLResolveInfo,
    variant_id: uuid.UUID,
    currency_code: str,
    prices: list[dict[str, Any]],
    price_list_id: uuid.UUID | None = None,
) -> Variant:
    ctx = request(info)
    variant, _ = await PriceService(ctx.app).set_prices(
        tenant_of(ctx),
        variant_id,
        currency_code,
        [TierInput(p["amount"], _min_quantity(p)) for p in prices],
        price_list_id=price_list_id,
        actor_id=ctx.actor_id,
    )
    return variant


@mutation.field("createPriceList")
async def resolve_create_price_list(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> PriceList:
    ctx = request(info)
    return await PriceService(ctx.app).create_list(
        tenant_of(ctx),
        name=input["name"],
        type=input["type"],
        starts_at=input.get("starts_at"),
        ends_at=input.get("ends_at"),
        is_active=input.get("is_active") is not False,
        actor_id=ctx.actor_id,
    )


@mutation.field("updatePriceList")
async def resolve_update_price_list(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, input: dict[str, Any]
) -> PriceList:
    ctx = request(info)
    return await PriceService(ctx.app).update_list(
        tenant_of(ctx),
        id,
        expected_version=version,
        name=input.get("name"),
        type=input.get("type"),
        starts_at=input.get("starts_at", KEEP),
        ends_at=input.get("ends_at", KEEP),
        is_active=input.get("is_active"),
        actor_id=ctx.actor_id,
    )


@mutation.field("deletePriceList")
async def resolve_delete_price_list(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None
) -> bool:
    ctx = request(info)
    await PriceService(ctx.app).delete_list(tenant_of(ctx), id, expected_version=version, actor_id=ctx.actor_id)
    return True


# -- categories and images -----------------------------------------------------------------


def category_texts(items: Sequence[Mapping[str, Any]] | None) -> list[CategoryText]:
    return [CategoryText(i["locale"], i["name"], i.get("description")) for i in items or ()]


@mutation.field("createProductCategory")
async def resolve_create_category(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> CategoryView:
    ctx = request(info)
    category = await ProductCategoryService(ctx.app).create(
        tenant_of(ctx),
        translations=category_texts(input.get("translations")),
        handle=input.get("handle"),
        parent_id=input.get("parent_id"),
        rank=input.get("rank") or 0,
        is_active=input.get("is_active") is not False,
        is_internal=bool(input.get("is_internal")),
        metadata=input.get("metadata"),
        actor_id=ctx.actor_id,
    )
    return CategoryView(category)


@mutation.field("updateProductCategory")
async def resolve_update_category(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, input: dict[str, Any]
) -> CategoryView:
    ctx = request(info)
    category = await ProductCategoryService(ctx.app).update(
        tenant_of(ctx),
        id,
        expected_version=version,
        translations=category_texts(input.get("translations")),
        remove_locales=list(input.get("remove_locales") or ()),
        handle=input.get("handle"),
        rank=input.get("rank"),
        is_active=input.get("is_active"),
        is_internal=input.get("is_internal"),
        metadata=input.get("metadata"),
        actor_id=ctx.actor_id,
    )
    return CategoryView(category)


@mutation.field("moveProductCategory")
async def resolve_move_category(
    _: Any,
    info: GraphQLResolveInfo,
    id: uuid.UUID,
    version: int,
    parent_id: uuid.UUID | None = None,
    rank: int | None = None,
) -> CategoryView:
    ctx = request(info)
    category = await ProductCategoryService(ctx.app).move(
        tenant_of(ctx), id, parent_id=parent_id, rank=rank, expected_version=version, actor_id=ctx.actor_id
    )
    return CategoryView(category)


@mutation.field("deleteProductCategory")
async def resolve_delete_category(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None) -> bool:
    ctx = request(info)
    await ProductCategoryService(ctx.app).delete(tenant_of(ctx), id, expected_version=version, actor_id=ctx.actor_id)
    return True


@mutation.field("updateProductImage")
async def resolve_update_image(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, alt: list[dict[str, Any]]) -> ImageView:
    ctx = request(info)
    texts: dict[str, str | None] = {}
    for index, item in enumerate(alt):
        if item["locale"] in texts:
            raise invalid(("alt", index, "locale"), "this locale is given twice")
        texts[item["locale"]] = item.get("text")
    image = await ProductImageService(ctx.app).update_alt(tenant_of(ctx), id, texts, actor_id=ctx.actor_id)
    return ImageView(image)


@mutation.field("reorderProductImages")
async def resolve_reorder_images(
    _: Any, info: GraphQLResolveInfo, product_id: uuid.UUID, image_ids: list[uuid.UUID], version: int | None = None
) -> list[ImageView]:
    ctx = request(info)
    images = await ProductImageService(ctx.app).reorder(
        tenant_of(ctx), product_id, image_ids, expected_version=version, actor_id=ctx.actor_id
    )
    return [ImageView(image) for image in images]


@mutation.field("deleteProductImage")
async def resolve_delete_image(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    ctx = request(info)
    await ProductImageService(ctx.app).delete(tenant_of(ctx), id, actor_id=ctx.actor_id)
    return True


# -- Product fields ------------------------------------------------------------------------


def _product_attribute(name: str) -> Any:
    return lambda view, _: getattr(view.product, name)


for _field, _attribute in (
    ("id", "id"),
    ("status", "status"),
    ("version", "version"),
    ("discountable", "discountable"),
    ("metadata", "product_metadata"),
    ("publishedAt", "published_at"),
    ("createdAt", "created_at"),
    ("updatedAt", "updated_at"),
):
    product_type.set_field(_field, _product_attribute(_attribute))


def _text_field(name: str, default: Any = None) -> Any:
    async def resolve(view: ProductView, info: GraphQLResolveInfo) -> Any:
        found = await _translation(request(info), view)
        return getattr(found, name) if found is not None else default

    return resolve


for _field, _attribute, _default in (
    ("locale", "locale", None),
    ("handle", "handle", ""),
    ("title", "title", ""),
    ("subtitle", "subtitle", None),
    ("description", "description", None),
    ("seoTitle", "seo_title", None),
    ("seoDescription", "seo_description", None),
):
    product_type.set_field(_field, _text_field(_attribute, _default))


@product_type.field("translations")
async def resolve_product_translations(view: ProductView, info: GraphQLResolveInfo) -> list[ProductTranslation]:
    return await _translations(request(info), view.product.id)


@product_type.field("availableLocales")
async def resolve_available_locales(view: ProductView, info: GraphQLResolveInfo) -> list[str]:
    return [t.locale for t in await _translations(request(info), view.product.id)]


@product_type.field("options")
async def resolve_product_options(view: ProductView, info: GraphQLResolveInfo) -> list[ProductOption]:
    return await _options(request(info), view.product.id)


@product_type.field("variants")
async def resolve_product_variants(view: ProductView, info: GraphQLResolveInfo) -> list[Variant]:
    return await _variants(request(info), view.product.id)


@product_type.field("categories")
async def resolve_product_categories_field(view: ProductView, info: GraphQLResolveInfo) -> list[CategoryView]:
    return [CategoryView(c, view.locale) for c in await _categories(request(info), view.product.id)]


@product_type.field("images")
async def resolve_product_images(view: ProductView, info: GraphQLResolveInfo) -> list[ImageView]:
    return [ImageView(image, view.locale) for image in await _images(request(info), view.product.id)]


@product_type.field("priceRange")
async def resolve_price_range(view: ProductView, info: GraphQLResolveInfo, currency_code: str) -> dict[str, Any] | None:
    ctx = request(info)
    currency = check_currency(currency_code)
    variants = await _variants(ctx, view.product.id)
    # Loaded together, so that every product's variants land in one batch.
    resolved = await asyncio.gather(*[_resolved(ctx, variant.id, currency, 1) for variant in variants])
    amounts = [found.amount for found in resolved if found is not None]
    if not amounts:
        return None
    return {"min": money(min(amounts), currency), "max": money(max(amounts), currency)}


option_type.set_field("values", lambda option, info: _option_values(request(info), option.id))


# -- Variant fields ------------------------------------------------------------------------


variant_type.set_field("metadata", lambda variant, _: variant.variant_metadata)


@variant_type.field("options")
async def resolve_variant_options(variant: Variant, info: GraphQLResolveInfo) -> list[VariantOption]:
    return await _picks(request(info), variant.id)


pick_type.set_field("option", lambda pick, _: pick.option_title)


@variant_type.field("prices")
async def resolve_variant_prices(
    variant: Variant, info: GraphQLResolveInfo, currency_code: str | None = None
) -> list[Price]:
    rows = await _prices(request(info), variant.id)
    if currency_code is None:
        return rows
    currency = check_currency(currency_code)
    return [row for row in rows if row.currency_code == currency]


@variant_type.field("price")
async def resolve_variant_price(
    variant: Variant, info: GraphQLResolveInfo, currency_code: str, quantity: int = 1
) -> ResolvedPrice | None:
    return await _resolved(request(info), variant.id, check_currency(currency_code), _check_quantity(quantity))


price_type.set_field("money", lambda price, _: money(price.amount, price.currency_code))
variant_price_type.set_field("unitPrice", lambda found, _: money(found.amount, found.currency_code))
variant_price_type.set_field("originalPrice", lambda found, _: money(found.original_amount, found.currency_code))
variant_price_type.set_field("onSale", lambda found, _: found.on_sale)


# -- images and categories -----------------------------------------------------------------


def _image_attribute(name: str) -> Any:
    return lambda view, _: getattr(view.image, name)


for _field, _attribute in (
    ("id", "id"),
    ("filename", "filename"),
    ("contentType", "content_type"),
    ("size", "size"),
    ("width", "width"),
    ("height", "height"),
    ("position", "position"),
    ("createdAt", "created_at"),
):
    image_type.set_field(_field, _image_attribute(_attribute))
image_type.set_field("url", lambda view, _: image_url(view.image))
image_type.set_field(
    "altTexts", lambda view, _: [{"locale": locale, "text": text} for locale, text in sorted(view.image.alt.items())]
)


@image_type.field("alt")
def resolve_image_alt(view: ImageView, info: GraphQLResolveInfo) -> str | None:
    texts: dict[str, str] = view.image.alt
    chosen = pick_locale(sorted(texts), view.locale, tenant_of(request(info)).default_locale)
    return texts.get(chosen) if chosen is not None else None


def _category_attribute(name: str) -> Any:
    return lambda view, _: getattr(view.category, name)


for _field, _attribute in (
    ("id", "id"),
    ("handle", "handle"),
    ("parentId", "parent_id"),
    ("depth", "depth"),
    ("rank", "rank"),
    ("isActive", "is_active"),
    ("isInternal", "is_internal"),
    ("metadata", "category_metadata"),
    ("version", "version"),
):
    category_type.set_field(_field, _category_attribute(_attribute))


async def _category_text(view: CategoryView, info: GraphQLResolveInfo) -> ProductCategoryTranslation | None:
    ctx = request(info)
    rows = await _category_translations(ctx, view.category.id)
    chosen = pick_locale([row.locale for row in rows], view.locale, tenant_of(ctx).default_locale)
    return next((row for row in rows if row.locale == chosen), None)


@category_type.field("locale")
async def resolve_category_locale(view: CategoryView, info: GraphQLResolveInfo) -> str | None:
    found = await _category_text(view, info)
    return found.locale if found else None


@category_type.field("name")
async def resolve_category_name(view: CategoryView, info: GraphQLResolveInfo) -> str:
    found = await _category_text(view, info)
    return found.name if found else view.category.handle


@category_type.field("description")
async def resolve_category_description(view: CategoryView, info: GraphQLResolveInfo) -> str | None:
    found = await _category_text(view, info)
    return found.description if found else None


@category_type.field("translations")
async def resolve_category_translations(
    view: CategoryView, info: GraphQLResolveInfo
) -> list[ProductCategoryTranslation]:
    return await _category_translations(request(info), view.category.id)


# -- money ---------------------------------------------------------------------------------------

minor_units = ScalarType("MinorUnits")


@minor_units.serializer
def serialize_minor_units(value: Any) -> int:
    return int(value)


@minor_units.value_parser
def parse_minor_units(value: Any) -> int:
    """A whole number; the services check its range (``INVALID_AMOUNT``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError("money is an integer number of minor units (cents), not a fraction or text")
    return value


@minor_units.literal_parser
def parse_minor_units_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> int:
    if not isinstance(node, IntValueNode):
        raise GraphQLError("money is an integer number of minor units (cents), not a fraction or text")
    return int(node.value)


BINDABLES: list[SchemaBindable] = [
    minor_units,
    query,
    mutation,
    product_type,
    variant_type,
    option_type,
    pick_type,
    price_type,
    variant_price_type,
    image_type,
    category_type,
    price_list_type,
    product_status,
    price_list_kind,
]
