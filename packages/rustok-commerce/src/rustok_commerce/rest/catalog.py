"""REST routes of the catalog for integrations, under ``/api/v1/commerce/``.

Products (list, create — safe to retry with ``Idempotency-Key`` —, get, patch,
delete), their variants and variant prices, image uploads (multipart) and the image
files themselves (public for active products), and price lists. Money is integer
minor units beside an ISO-4217 code.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from rustok_commerce.models import Price, PriceList, Product, ProductImage, Variant
from rustok_commerce.permissions import (
    PRICES_MANAGE,
    PRODUCTS_CREATE,
    PRODUCTS_DELETE,
    PRODUCTS_PUBLISH,
    PRODUCTS_READ,
    PRODUCTS_UPDATE,
)
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
)
from rustok_commerce.services.categories import ProductCategoryService
from rustok_commerce.services.images import ProductImageService, image_url
from rustok_commerce.services.prices import PriceService, TierInput
from rustok_core.context import RequestContext, request_context
from rustok_core.errors import Forbidden, NotFound, Unauthenticated, Validation
from rustok_core.rest import RestRoute, UploadedFile

Status = Literal["draft", "active", "archived"]
MinorUnits = Annotated[
    Any,
    Field(
        description="Integer minor units (cents); fractions, text and negatives are refused.",
        json_schema_extra={"type": "integer", "minimum": 0},
    ),
]
Quantity = Annotated[Any, Field(json_schema_extra={"type": "integer", "minimum": 1})]
Measure = Annotated[Any, Field(json_schema_extra={"type": ["integer", "null"], "minimum": 0})]


class Camel(BaseModel):
    """JSON in camelCase; Python by field name; unknown fields refused."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


# -- requests ------------------------------------------------------------------------------


class TranslationIn(Camel):
    locale: str
    title: str | None = None
    handle: str | None = Field(None, description="Made from the title when omitted on creation.")
    subtitle: str | None = None
    description: str | None = None
    seo_title: str | None = Field(None, alias="seoTitle")
    seo_description: str | None = Field(None, alias="seoDescription")

    def value(self) -> ProductText:
        return ProductText(
            locale=self.locale,
            title=self.title,
            subtitle=self.subtitle,
            handle=self.handle,
            description=self.description,
            seo_title=self.seo_title,
            seo_description=self.seo_description,
        )


class OptionIn(Camel):
    title: str
    values: list[str] = Field(min_length=1)


class PriceIn(Camel):
    currency_code: str = Field(alias="currencyCode")
    amount: MinorUnits
    min_quantity: Quantity = Field(1, alias="minQuantity")


class TierIn(Camel):
    amount: MinorUnits
    min_quantity: Quantity = Field(1, alias="minQuantity")


class VariantIn(Camel):
    options: dict[str, str] = Field(default_factory=dict, description="Option title -> the value picked.")
    title: str | None = None
    sku: str | None = None
    barcode: str | None = None
    manage_inventory: bool = Field(True, alias="manageInventory")
    allow_backorder: bool = Field(False, alias="allowBackorder")
    weight: Measure = None
    length: Measure = None
    height: Measure = None
    width: Measure = None
    position: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    prices: list[PriceIn] = Field(default_factory=list, description="Base prices (needs commerce_prices:manage).")

    def value(self) -> VariantInput:
        return VariantInput(
            options=self.options,
            title=self.title,
            sku=self.sku,
            barcode=self.barcode,
            manage_inventory=self.manage_inventory,
            allow_backorder=self.allow_backorder,
            weight=self.weight,
            length=self.length,
            height=self.height,
            width=self.width,
            position=self.position,
            metadata=self.metadata,
            prices=[PriceInput(p.currency_code, p.amount, p.min_quantity) for p in self.prices],
        )


class CreateProductRequest(Camel):
    translations: list[TranslationIn] = Field(min_length=1)
    status: Status = Field("draft", description="active needs commerce_products:publish too.")
    discountable: bool = True
    metadata: dict[str, Any] = Field(default_factory=dict)
    options: list[OptionIn] = Field(default_factory=list)
    variants: list[VariantIn] = Field(default_factory=list)
    category_ids: list[uuid.UUID] = Field(default_factory=list, alias="categoryIds")


class UpdateProductRequest(Camel):
    """Only the fields sent change."""

    version: int = Field(description="The version you read; a stale one answers 409.")
    translations: list[TranslationIn] = Field(default_factory=list)
    remove_locales: list[str] = Field(default_factory=list, alias="removeLocales")
    discountable: bool | None = None
    metadata: dict[str, Any] | None = None
    category_ids: list[uuid.UUID] | None = Field(None, alias="categoryIds")
    status: Status | None = Field(None, description="Publish or take off sale in the same call (needs publish).")


class UpdateVariantRequest(Camel):
    """Only the fields sent change; sku, barcode and measures sent as null are cleared."""

    version: int = Field(description="The version you read; a stale one answers 409.")
    options: dict[str, str] | None = None
    title: str | None = None
    sku: str | None = None
    barcode: str | None = None
    manage_inventory: bool | None = Field(None, alias="manageInventory")
    allow_backorder: bool | None = Field(None, alias="allowBackorder")
    weight: Measure = None
    length: Measure = None
    height: Measure = None
    width: Measure = None
    position: int | None = None
    metadata: dict[str, Any] | None = None

    def value(self) -> VariantChanges:
        sent = self.model_fields_set
        return VariantChanges(
            options=self.options,
            title=self.title,
            sku=self.sku if "sku" in sent else KEEP,
            barcode=self.barcode if "barcode" in sent else KEEP,
            manage_inventory=self.manage_inventory,
            allow_backorder=self.allow_backorder,
            weight=self.weight if "weight" in sent else KEEP,
            length=self.length if "length" in sent else KEEP,
            height=self.height if "height" in sent else KEEP,
            width=self.width if "width" in sent else KEEP,
            position=self.position,
            metadata=self.metadata,
        )


class SetPricesRequest(Camel):
    currency_code: str = Field(alias="currencyCode")
    price_list_id: uuid.UUID | None = Field(None, alias="priceListId", description="Omitted: the base prices.")
    prices: list[TierIn] = Field(description="The complete new tiers of this currency and list; [] removes them.")


class ProductListQuery(Camel):
    status: Status | None = None
    category_id: uuid.UUID | None = Field(None, alias="categoryId")
    category_handle: str | None = Field(None, alias="categoryHandle")
    search: str | None = None
    first: int = Field(20, ge=1, le=100)
    after: str | None = None


class VersionQuery(Camel):
    version: int | None = None


class PageQuery(Camel):
    first: int = Field(20, ge=1, le=100)
    after: str | None = None


class ImageUploadForm(Camel):
    locale: str | None = Field(None, description="Locale of alt (default: the tenant's).")
    alt: str | None = None


class CreatePriceListRequest(Camel):
    name: str
    type: Literal["sale", "override"]
    starts_at: datetime | None = Field(None, alias="startsAt")
    ends_at: datetime | None = Field(None, alias="endsAt")
    is_active: bool = Field(True, alias="isActive")


# -- responses -----------------------------------------------------------------------------


class TranslationOut(Camel):
    locale: str
    title: str
    handle: str
    subtitle: str | None
    description: str | None
    seo_title: str | None = Field(alias="seoTitle")
    seo_description: str | None = Field(alias="seoDescription")


class OptionValueOut(Camel):
    id: uuid.UUID
    value: str
    position: int


class OptionOut(Camel):
    id: uuid.UUID
    title: str
    position: int
    values: list[OptionValueOut]


class PickOut(Camel):
    option_id: uuid.UUID = Field(alias="optionId")
    option: str
    value_id: uuid.UUID = Field(alias="valueId")
    value: str


class PriceOut(Camel):
    id: uuid.UUID
    currency_code: str = Field(alias="currencyCode")
    amount: int
    min_quantity: int = Field(alias="minQuantity")
    price_list_id: uuid.UUID | None = Field(alias="priceListId")


class VariantResponse(Camel):
    id: uuid.UUID
    product_id: uuid.UUID = Field(alias="productId")
    title: str
    sku: str | None
    barcode: str | None
    manage_inventory: bool = Field(alias="manageInventory")
    allow_backorder: bool = Field(alias="allowBackorder")
    weight: int | None
    length: int | None
    height: int | None
    width: int | None
    position: int
    metadata: dict[str, Any]
    version: int
    options: list[PickOut]
    prices: list[PriceOut]
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class ImageResponse(Camel):
    id: uuid.UUID
    url: str
    filename: str
    content_type: str = Field(alias="contentType")
    size: int
    width: int | None
    height: int | None
    alt: dict[str, str]
    position: int


class ProductResponse(Camel):
    id: uuid.UUID
    status: Status
    version: int
    discountable: bool
    metadata: dict[str, Any]
    translations: list[TranslationOut]
    options: list[OptionOut]
    variants: list[VariantResponse]
    category_ids: list[uuid.UUID] = Field(alias="categoryIds")
    images: list[ImageResponse]
    published_at: datetime | None = Field(alias="publishedAt")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class ProductPage(Camel):
    items: list[ProductResponse]
    next_cursor: str | None = Field(alias="nextCursor")


class PriceListResponse(Camel):
    id: uuid.UUID
    name: str
    type: Literal["sale", "override"]
    is_active: bool = Field(alias="isActive")
    starts_at: datetime | None = Field(alias="startsAt")
    ends_at: datetime | None = Field(alias="endsAt")
    version: int
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class PriceListPage(Camel):
    items: list[PriceListResponse]
    next_cursor: str | None = Field(alias="nextCursor")


# -- mapping -------------------------------------------------------------------------------


def _price(price: Price) -> PriceOut:
    return PriceOut(
        id=price.id,
        currency_code=price.currency_code,
        amount=price.amount,
        min_quantity=price.min_quantity,
        price_list_id=price.price_list_id,
    )


def _image(image: ProductImage) -> ImageResponse:
    return ImageResponse(
        id=image.id,
        url=image_url(image),
        filename=image.filename,
        content_type=image.content_type,
        size=image.size,
        width=image.width,
        height=image.height,
        alt=dict(image.alt),
        position=image.position,
    )


def _variant(variant: Variant, picks: Sequence[VariantOption], prices: Sequence[Price]) -> VariantResponse:
    return VariantResponse(
        id=variant.id,
        product_id=variant.product_id,
        title=variant.title,
        sku=variant.sku,
        barcode=variant.barcode,
        manage_inventory=variant.manage_inventory,
        allow_backorder=variant.allow_backorder,
        weight=variant.weight,
        length=variant.length,
        height=variant.height,
        width=variant.width,
        position=variant.position,
        metadata=variant.variant_metadata,
        version=variant.version,
        options=[
            PickOut(option_id=p.option_id, option=p.option_title, value_id=p.value_id, value=p.value) for p in picks
        ],
        prices=[_price(p) for p in prices],
        created_at=variant.created_at,
        updated_at=variant.updated_at,
    )


async def variant_responses(ctx: RequestContext, variants: Sequence[Variant]) -> list[VariantResponse]:
    tenant_id = ctx.require_tenant().id
    ids = [v.id for v in variants]
    picks = await VariantService(ctx.app).options_of(tenant_id, ids)
    prices = await PriceService(ctx.app).prices_of(tenant_id, ids)
    return [_variant(v, picks[v.id], prices[v.id]) for v in variants]


async def product_responses(ctx: RequestContext, products: Sequence[Product]) -> list[ProductResponse]:
    """Responses for ``products`` with a fixed number of queries, however many there are."""
    tenant_id = ctx.require_tenant().id
    service = ProductService(ctx.app)
    ids = [p.id for p in products]
    translations = await service.translations_of(tenant_id, ids)
    options = await service.options_of(tenant_id, ids)
    values = await service.option_values_of(tenant_id, [o.id for found in options.values() for o in found])
    variants = await service.variants_of(tenant_id, ids)
    variant_out = await variant_responses(ctx, [v for found in variants.values() for v in found])
    by_variant = {v.id: v for v in variant_out}
    categories = await ProductCategoryService(ctx.app).of_products(tenant_id, ids)
    images = await ProductImageService(ctx.app).images_of(tenant_id, ids)
    return [
        ProductResponse(
            id=p.id,
            status=p.status,
            version=p.version,
            discountable=p.discountable,
            metadata=p.product_metadata,
            translations=[
                TranslationOut(
                    locale=t.locale,
                    title=t.title,
                    handle=t.handle,
                    subtitle=t.subtitle,
                    description=t.description,
                    seo_title=t.seo_title,
                    seo_description=t.seo_description,
                )
                for t in translations[p.id]
            ],
            options=[
                OptionOut(
                    id=o.id,
                    title=o.title,
                    position=o.position,
                    values=[OptionValueOut(id=v.id, value=v.value, position=v.position) for v in values[o.id]],
                )
                for o in options[p.id]
            ],
            variants=[by_variant[v.id] for v in variants[p.id]],
            category_ids=[c.id for c in categories[p.id]],
            images=[_image(i) for i in images[p.id]],
            published_at=p.published_at,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
        for p in products
    ]


def _price_list(price_list: PriceList) -> PriceListResponse:
    return PriceListResponse(
        id=price_list.id,
        name=price_list.name,
        type=price_list.type,
        is_active=price_list.is_active,
        starts_at=price_list.starts_at,
        ends_at=price_list.ends_at,
        version=price_list.version,
        created_at=price_list.created_at,
        updated_at=price_list.updated_at,
    )


def _next(page: dict[str, Any]) -> str | None:
    info = page["page_info"]
    return info["end_cursor"] if info["has_next_page"] else None


# -- products ------------------------------------------------------------------------------


async def list_products(request: Request, query: ProductListQuery) -> ProductPage:
    """Products in any status, newest first."""
    ctx = request_context(request)
    page = await ProductService(ctx.app).page(
        ctx.require_tenant().id,
        ProductQuery(
            statuses=[query.status] if query.status else None,
            category_id=query.category_id,
            category_handle=query.category_handle,
            search=query.search,
            first=query.first,
            after=query.after,
        ),
    )
    items = await product_responses(ctx, [edge["node"] for edge in page["edges"]])
    return ProductPage(items=items, next_cursor=_next(page))


async def create_product(request: Request, body: CreateProductRequest) -> ProductResponse:
    """Create a product with translations, options, variants and prices; send ``Idempotency-Key`` to retry safely."""
    ctx = request_context(request)
    if body.status == "active":
        await ctx.authorize(PRODUCTS_PUBLISH)
    if any(v.prices for v in body.variants):
        await ctx.authorize(PRICES_MANAGE)
    product = await ProductService(ctx.app).create(
        ctx.require_tenant(),
        NewProduct(
            translations=[t.value() for t in body.translations],
            status=body.status,
            discountable=body.discountable,
            metadata=body.metadata,
            options=[OptionInput(o.title, o.values) for o in body.options],
            variants=[v.value() for v in body.variants],
            category_ids=body.category_ids,
        ),
        actor_id=ctx.actor_id,
    )
    return (await product_responses(ctx, [product]))[0]


async def get_product(request: Request, product_id: uuid.UUID) -> ProductResponse:
    """One product with every translation, option, variant, price, category and image."""
    ctx = request_context(request)
    product = await ProductService(ctx.app).get(ctx.require_tenant().id, product_id)
    return (await product_responses(ctx, [product]))[0]


async def update_product(request: Request, product_id: uuid.UUID, body: UpdateProductRequest) -> ProductResponse:
    """Change what is sent (``version`` must be the one you read); ``status`` publishes or takes off sale."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    service = ProductService(ctx.app)
    if body.status is not None:
        await ctx.authorize(PRODUCTS_PUBLISH)
    changes = ProductChanges(
        translations=[t.value() for t in body.translations],
        remove_locales=body.remove_locales,
        discountable=body.discountable,
        metadata=body.metadata,
        category_ids=body.category_ids,
    )
    async with ctx.app.db.session(tenant.id) as session, session.begin():
        product = await service.update(
            tenant, product_id, changes, expected_version=body.version, actor_id=ctx.actor_id, session=session
        )
        if body.status == "active":
            product = await service.publish(tenant, product_id, actor_id=ctx.actor_id, session=session)
        elif body.status is not None:
            product = await service.archive(
                tenant, product_id, to_status=body.status, actor_id=ctx.actor_id, session=session
            )
    return (await product_responses(ctx, [product]))[0]


async def delete_product(request: Request, product_id: uuid.UUID, query: VersionQuery) -> None:
    """Delete a product with its variants, prices and images."""
    ctx = request_context(request)
    await ProductService(ctx.app).delete(
        ctx.require_tenant(), product_id, expected_version=query.version, actor_id=ctx.actor_id
    )


# -- variants and prices -------------------------------------------------------------------


async def create_variant(request: Request, product_id: uuid.UUID, body: VariantIn) -> VariantResponse:
    """Add a variant picking one value of every option; send ``Idempotency-Key`` to retry safely."""
    ctx = request_context(request)
    if body.prices:
        await ctx.authorize(PRICES_MANAGE)
    variant = await VariantService(ctx.app).create(
        ctx.require_tenant(), product_id, body.value(), actor_id=ctx.actor_id
    )
    return (await variant_responses(ctx, [variant]))[0]


async def get_variant(request: Request, variant_id: uuid.UUID) -> VariantResponse:
    """One variant with the values it picks and every stored price."""
    ctx = request_context(request)
    variant = await VariantService(ctx.app).get(ctx.require_tenant().id, variant_id)
    return (await variant_responses(ctx, [variant]))[0]


async def update_variant(request: Request, variant_id: uuid.UUID, body: UpdateVariantRequest) -> VariantResponse:
    """Change what is sent; ``version`` must be the one you read."""
    ctx = request_context(request)
    variant = await VariantService(ctx.app).update(
        ctx.require_tenant(), variant_id, body.value(), expected_version=body.version, actor_id=ctx.actor_id
    )
    return (await variant_responses(ctx, [variant]))[0]


async def delete_variant(request: Request, variant_id: uuid.UUID, query: VersionQuery) -> None:
    """Delete a variant with its prices."""
    ctx = request_context(request)
    await VariantService(ctx.app).delete(
        ctx.require_tenant(), variant_id, expected_version=query.version, actor_id=ctx.actor_id
    )


async def get_prices(request: Request, variant_id: uuid.UUID) -> list[PriceOut]:
    """Every stored price of the variant: base first, then per price list; by currency and tier."""
    ctx = request_context(request)
    tenant_id = ctx.require_tenant().id
    variant = await VariantService(ctx.app).get(tenant_id, variant_id)
    return [_price(p) for p in (await PriceService(ctx.app).prices_of(tenant_id, [variant.id]))[variant.id]]


async def set_prices(request: Request, variant_id: uuid.UUID, body: SetPricesRequest) -> list[PriceOut]:
    """Replace the variant's tiers in one currency and list at once; answers every stored price of the variant."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    service = PriceService(ctx.app)
    await service.set_prices(
        tenant,
        variant_id,
        body.currency_code,
        [TierInput(p.amount, p.min_quantity) for p in body.prices],
        price_list_id=body.price_list_id,
        actor_id=ctx.actor_id,
    )
    return [_price(p) for p in (await service.prices_of(tenant.id, [variant_id]))[variant_id]]


# -- images --------------------------------------------------------------------------------


async def upload_image(
    request: Request, product_id: uuid.UUID, form: ImageUploadForm, uploads: dict[str, UploadedFile]
) -> ImageResponse:
    """Upload an image of the product (``multipart/form-data``: ``file``, optional ``locale`` and ``alt``)."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    upload = uploads["file"]
    alt = {form.locale or tenant.default_locale: form.alt} if form.alt else {}
    image = await ProductImageService(ctx.app).upload(
        tenant,
        product_id,
        filename=upload.filename or "image",
        data=await upload.read(),
        alt=alt,
        actor_id=ctx.actor_id,
    )
    return _image(image)


async def image_file(request: Request, image_id: uuid.UUID) -> Response:
    """The image itself: public for active products, else for those who may read any product."""
    ctx = request_context(request)
    image, status, data = await ProductImageService(ctx.app).read(ctx.require_tenant().id, image_id)
    if status != "active":
        try:
            await ctx.authorize(PRODUCTS_READ)
        except (Unauthenticated, Forbidden):
            raise NotFound("no such image", resource="product_image") from None
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable" if status == "active" else "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{image.filename}"',
    }
    return Response(data, media_type=image.content_type, headers=headers)


async def delete_image(request: Request, image_id: uuid.UUID) -> None:
    """Remove an image; its file goes once the removal committed."""
    ctx = request_context(request)
    await ProductImageService(ctx.app).delete(ctx.require_tenant(), image_id, actor_id=ctx.actor_id)


# -- price lists ---------------------------------------------------------------------------


async def list_price_lists(request: Request, query: PageQuery) -> PriceListPage:
    """Price lists, newest first."""
    ctx = request_context(request)
    page = await PriceService(ctx.app).lists_page(ctx.require_tenant().id, first=query.first, after=query.after)
    return PriceListPage(items=[_price_list(e["node"]) for e in page["edges"]], next_cursor=_next(page))


async def create_price_list(request: Request, body: CreatePriceListRequest) -> PriceListResponse:
    """Create a price list (sale: applies where lower; override: replaces base prices) with an optional window."""
    ctx = request_context(request)
    if body.starts_at is not None and body.starts_at.tzinfo is None:
        raise Validation("startsAt needs a time zone offset", field="startsAt")
    if body.ends_at is not None and body.ends_at.tzinfo is None:
        raise Validation("endsAt needs a time zone offset", field="endsAt")
    price_list = await PriceService(ctx.app).create_list(
        ctx.require_tenant(),
        name=body.name,
        type=body.type,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        is_active=body.is_active,
        actor_id=ctx.actor_id,
    )
    return _price_list(price_list)


def routes() -> list[RestRoute]:
    tags = ["commerce catalog"]
    product = "/products/{product_id:uuid}"
    variant = "/variants/{variant_id:uuid}"
    return [
        RestRoute(
            "/products",
            list_products,
            summary="List products",
            query=ProductListQuery,
            response=ProductPage,
            permission=PRODUCTS_READ,
            tags=tags,
        ),
        RestRoute(
            "/products",
            create_product,
            methods=["POST"],
            summary="Create a product",
            body=CreateProductRequest,
            response=ProductResponse,
            status_code=201,
            permission=PRODUCTS_CREATE,
            idempotent=True,
            tags=tags,
            name="create_product",
        ),
        RestRoute(
            product, get_product, summary="Get a product", response=ProductResponse, permission=PRODUCTS_READ, tags=tags
        ),
        RestRoute(
            product,
            update_product,
            methods=["PATCH"],
            summary="Change a product",
            body=UpdateProductRequest,
            response=ProductResponse,
            permission=PRODUCTS_UPDATE,
            tags=tags,
            name="update_product",
        ),
        RestRoute(
            product,
            delete_product,
            methods=["DELETE"],
            summary="Delete a product",
            query=VersionQuery,
            status_code=204,
            permission=PRODUCTS_DELETE,
            tags=tags,
            name="delete_product",
        ),
        RestRoute(
            f"{product}/variants",
            create_variant,
            methods=["POST"],
            summary="Add a variant to a product",
            body=VariantIn,
            response=VariantResponse,
            status_code=201,
            permission=PRODUCTS_UPDATE,
            idempotent=True,
            tags=tags,
        ),
        RestRoute(
            f"{product}/images",
            upload_image,
            methods=["POST"],
            summary="Upload a product image",
            form=ImageUploadForm,
            files=("file",),
            response=ImageResponse,
            status_code=201,
            permission=PRODUCTS_UPDATE,
            idempotent=True,
            tags=tags,
        ),
        RestRoute(
            variant, get_variant, summary="Get a variant", response=VariantResponse, permission=PRODUCTS_READ, tags=tags
        ),
        RestRoute(
            variant,
            update_variant,
            methods=["PATCH"],
            summary="Change a variant",
            body=UpdateVariantRequest,
            response=VariantResponse,
            permission=PRODUCTS_UPDATE,
            tags=tags,
            name="update_variant",
        ),
        RestRoute(
            variant,
            delete_variant,
            methods=["DELETE"],
            summary="Delete a variant",
            query=VersionQuery,
            status_code=204,
            permission=PRODUCTS_UPDATE,
            tags=tags,
            name="delete_variant",
        ),
        RestRoute(
            f"{variant}/prices",
            get_prices,
            summary="A variant's stored prices",
            response=list[PriceOut],
            permission=PRODUCTS_READ,
            tags=tags,
        ),
        RestRoute(
            f"{variant}/prices",
            set_prices,
            methods=["PUT"],
            summary="Replace a variant's prices in one currency and list",
            body=SetPricesRequest,
            response=list[PriceOut],
            permission=PRICES_MANAGE,
            tags=tags,
            name="set_prices",
        ),
        RestRoute(
            "/images/{image_id:uuid}/file", image_file, summary="Download a product image", public=True, tags=tags
        ),
        RestRoute(
            "/images/{image_id:uuid}",
            delete_image,
            methods=["DELETE"],
            summary="Delete a product image",
            status_code=204,
            permission=PRODUCTS_UPDATE,
            tags=tags,
            name="delete_image",
        ),
        RestRoute(
            "/price-lists",
            list_price_lists,
            summary="List price lists",
            query=PageQuery,
            response=PriceListPage,
            permission=PRICES_MANAGE,
            tags=tags,
        ),
        RestRoute(
            "/price-lists",
            create_price_list,
            methods=["POST"],
            summary="Create a price list",
            body=CreatePriceListRequest,
            response=PriceListResponse,
            status_code=201,
            permission=PRICES_MANAGE,
            idempotent=True,
            tags=tags,
            name="create_price_list",
        ),
    ]
