"""GraphQL for inventory, store settings, shipping options and tax rates (thin: parse, call, map)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType
from ariadne.types import SchemaBindable
from graphql import GraphQLResolveInfo

from rustok_commerce.models import ADJUSTMENT_REASONS, InventoryItem, ShippingOption
from rustok_commerce.permissions import SETTINGS_MANAGE
from rustok_commerce.services.inventory import InventoryService, LevelRow
from rustok_commerce.services.store import StoreConfig, StoreService
from rustok_core.context import RequestContext
from rustok_core.errors import NotFound, Validation
from rustok_core.loaders import load_one
from rustok_core.pagination import connection, decode_cursor, page_size

query = QueryType()
mutation = MutationType()
adjustment_reason = EnumType("AdjustmentReason", {reason.upper(): reason for reason in ADJUSTMENT_REASONS})
level_type = ObjectType("InventoryLevel")
item_type = ObjectType("InventoryItem")
adjustment_type = ObjectType("InventoryAdjustment")
location_type = ObjectType("StockLocation")
option_type = ObjectType("ShippingOption")


@dataclass(frozen=True)
class MoneyView:
    """A ``Money`` value: integer minor units beside the ISO-4217 code."""

    amount: int
    currency_code: str


# -- the request (shared with the carts area) ------------------------------------------------


def request(info: GraphQLResolveInfo) -> RequestContext:
    ctx: RequestContext = info.context
    return ctx


def tenant_id_of(info: GraphQLResolveInfo) -> uuid.UUID:
    return request(info).require_tenant().id


def after_id(after: str | None) -> uuid.UUID | None:
    key = decode_cursor(after)
    if key is None:
        return None
    try:
        return uuid.UUID(key)
    except ValueError:
        raise Validation("invalid cursor", field="after") from None


# -- loaders -----------------------------------------------------------------------------------


async def item_levels(ctx: RequestContext, item_id: uuid.UUID) -> list[LevelRow]:
    tenant_id = ctx.require_tenant().id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[LevelRow]]:
        found = await InventoryService(ctx.app).levels_of_items(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "commerce.inventory.levels", batch, item_id)


# -- types -------------------------------------------------------------------------------------


def _level_field(name: str) -> Any:
    def resolve(row: LevelRow, _: GraphQLResolveInfo) -> Any:
        return getattr(row.level, name)

    return resolve


for _field, _column in {
    "id": "id",
    "inventoryItemId": "inventory_item_id",
    "locationId": "location_id",
    "stocked": "stocked_quantity",
    "reserved": "reserved_quantity",
    "incoming": "incoming_quantity",
    "version": "version",
    "updatedAt": "updated_at",
}.items():
    level_type.set_field(_field, _level_field(_column))


@item_type.field("metadata")
def resolve_item_metadata(item: InventoryItem, _: GraphQLResolveInfo) -> dict[str, Any]:
    return item.item_metadata


@item_type.field("levels")
async def resolve_item_levels(item: InventoryItem, info: GraphQLResolveInfo) -> list[LevelRow]:
    return await item_levels(request(info), item.id)


def _item_total(name: str) -> Any:
    async def resolve(item: InventoryItem, info: GraphQLResolveInfo) -> int:
        rows = await item_levels(request(info), item.id)
        if name == "available":
            return sum(row.available for row in rows)
        return sum(getattr(row.level, f"{name}_quantity") for row in rows)

    return resolve


for _total in ("stocked", "reserved", "available", "incoming"):
    item_type.set_field(_total, _item_total(_total))


@item_type.field("adjustments")
async def resolve_item_adjustments(item: InventoryItem, info: GraphQLResolveInfo, first: int = 20) -> list[Any]:
    rows = await InventoryService(request(info).app).adjustments(
        tenant_id_of(info), item_id=item.id, first=page_size(first)
    )
    return [{"adjustment": adjustment, "location_id": location_id} for adjustment, location_id in rows]


def _adjustment_field(name: str) -> Any:
    def resolve(row: Mapping[str, Any], _: GraphQLResolveInfo) -> Any:
        return getattr(row["adjustment"], name)

    return resolve


for _name in ("id", "level_id", "delta", "stocked_after", "reason", "note", "actor_id", "created_at"):
    adjustment_type.set_field(
        "".join(w if i == 0 else w.title() for i, w in enumerate(_name.split("_"))), _adjustment_field(_name)
    )
adjustment_type.set_field("locationId", lambda row, _: row["location_id"])
location_type.set_field("metadata", lambda location, _: location.location_metadata)
option_type.set_field("metadata", lambda option, _: option.option_metadata)


@option_type.field("price")
def resolve_option_price(option: ShippingOption, _: GraphQLResolveInfo) -> MoneyView:
    return MoneyView(option.amount, option.currency_code)


@option_type.field("freeAbove")
def resolve_option_free_above(option: ShippingOption, _: GraphQLResolveInfo) -> MoneyView | None:
    return MoneyView(option.free_above, option.currency_code) if option.free_above is not None else None


# -- queries -----------------------------------------------------------------------------------


@query.field("stockLocations")
async def resolve_stock_locations(_: Any, info: GraphQLResolveInfo) -> list[Any]:
    return await InventoryService(request(info).app).locations(tenant_id_of(info))


@query.field("inventoryItem")
async def resolve_inventory_item(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> InventoryItem | None:
    try:
        return await InventoryService(request(info).app).item(tenant_id_of(info), id)
    except NotFound:
        return None


@query.field("inventoryItems")
async def resolve_inventory_items(
    _: Any,
    info: GraphQLResolveInfo,
    variant_id: uuid.UUID | None = None,
    sku: str | None = None,
    first: int = 20,
    after: str | None = None,
) -> dict[str, Any]:
    size = page_size(first)
    rows = await InventoryService(request(info).app).items(
        tenant_id_of(info), variant_id=variant_id, sku=sku, first=size, after=after_id(after)
    )
    return connection(rows, size, lambda item: str(item.id))


@query.field("storeSettings")
async def resolve_store_settings(_: Any, info: GraphQLResolveInfo) -> StoreConfig:
    return await StoreService(request(info).app).settings(tenant_id_of(info))


@query.field("shippingOptions")
async def resolve_shipping_options(
    _: Any,
    info: GraphQLResolveInfo,
    currency_code: str | None = None,
    country_code: str | None = None,
    include_inactive: bool = False,
) -> list[ShippingOption]:
    ctx = request(info)
    if include_inactive:
        await ctx.authorize(SETTINGS_MANAGE)
    return await StoreService(ctx.app).shipping_options(
        tenant_id_of(info), currency=currency_code, country=country_code, active_only=not include_inactive
    )


@query.field("taxRates")
async def resolve_tax_rates(_: Any, info: GraphQLResolveInfo, country_code: str | None = None) -> list[Any]:
    return await StoreService(request(info).app).tax_rates(tenant_id_of(info), country=country_code)


# -- inventory mutations -----------------------------------------------------------------------


@mutation.field("createStockLocation")
async def resolve_create_stock_location(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    return await InventoryService(request(info).app).create_location(
        tenant_id_of(info),
        name=input["name"],
        priority=input.get("priority") or 0,
        address=input.get("address"),
        metadata=input.get("metadata"),
    )


@mutation.field("updateStockLocation")
async def resolve_update_stock_location(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, input: dict[str, Any], version: int | None = None
) -> Any:
    return await InventoryService(request(info).app).update_location(
        tenant_id_of(info),
        id,
        expected_version=version,
        name=input.get("name"),
        priority=input.get("priority"),
        address=input.get("address"),
        clear_address="address" in input and input["address"] is None,
        metadata=input.get("metadata"),
    )


@mutation.field("deleteStockLocation")
async def resolve_delete_stock_location(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None
) -> bool:
    await InventoryService(request(info).app).delete_location(tenant_id_of(info), id, expected_version=version)
    return True


@mutation.field("setInventoryLevel")
async def resolve_set_inventory_level(
    _: Any, info: GraphQLResolveInfo, input: dict[str, Any], version: int | None = None
) -> LevelRow:
    ctx = request(info)
    return await InventoryService(ctx.app).set_level(
        tenant_id_of(info),
        location_id=input["location_id"],
        item_id=input.get("inventory_item_id"),
        variant_id=input.get("variant_id"),
        stocked=input.get("stocked"),
        incoming=input.get("incoming"),
        reason=input.get("reason") or "count",
        note=input.get("note"),
        expected_version=version,
        actor_id=ctx.actor_id,
    )


@mutation.field("adjustInventory")
async def resolve_adjust_inventory(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> LevelRow:
    ctx = request(info)
    return await InventoryService(ctx.app).adjust(
        tenant_id_of(info),
        location_id=input["location_id"],
        item_id=input.get("inventory_item_id"),
        variant_id=input.get("variant_id"),
        delta=input["delta"],
        reason=input["reason"],
        note=input.get("note"),
        actor_id=ctx.actor_id,
    )


@mutation.field("updateInventoryItem")
async def resolve_update_inventory_item(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, input: dict[str, Any]
) -> InventoryItem:
    return await InventoryService(request(info).app).update_item(
        tenant_id_of(info), id, requires_shipping=input.get("requires_shipping"), metadata=input.get("metadata")
    )


# -- settings, shipping, tax -------------------------------------------------------------------


@mutation.field("updateStoreSettings")
async def resolve_update_store_settings(
    _: Any, info: GraphQLResolveInfo, input: dict[str, Any], version: int | None = None
) -> StoreConfig:
    return await StoreService(request(info).app).update_settings(
        tenant_id_of(info),
        expected_version=version,
        low_stock_threshold=input.get("low_stock_threshold"),
        default_currency=input.get("default_currency"),
        max_line_quantity=input.get("max_line_quantity"),
    )


@mutation.field("createShippingOption")
async def resolve_create_shipping_option(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> ShippingOption:
    return await StoreService(request(info).app).create_shipping_option(
        tenant_id_of(info),
        code=input["code"],
        name=input["name"],
        currency_code=input["currency_code"],
        amount=input["amount"],
        provider=input.get("provider") or "flat_rate",
        free_above=input.get("free_above"),
        countries=input.get("countries"),
        is_active=input.get("is_active", True) is not False,
        metadata=input.get("metadata"),
    )


@mutation.field("updateShippingOption")
async def resolve_update_shipping_option(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, input: dict[str, Any], version: int | None = None
) -> ShippingOption:
    return await StoreService(request(info).app).update_shipping_option(
        tenant_id_of(info), id, expected_version=version, changes=dict(input)
    )


@mutation.field("deleteShippingOption")
async def resolve_delete_shipping_option(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None
) -> bool:
    await StoreService(request(info).app).delete_shipping_option(tenant_id_of(info), id, expected_version=version)
    return True


@mutation.field("upsertTaxRate")
async def resolve_upsert_tax_rate(
    _: Any, info: GraphQLResolveInfo, input: dict[str, Any], version: int | None = None
) -> Any:
    applies = input.get("applies_to_shipping")
    return await StoreService(request(info).app).upsert_tax_rate(
        tenant_id_of(info),
        country_code=input["country_code"],
        province=input.get("province"),
        name=input["name"],
        rate_bp=input["rate_bp"],
        applies_to_shipping=True if applies is None else applies,
        expected_version=version,
    )


@mutation.field("deleteTaxRate")
async def resolve_delete_tax_rate(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    await StoreService(request(info).app).delete_tax_rate(tenant_id_of(info), id)
    return True


BINDABLES: list[SchemaBindable] = [
    query,
    mutation,
    adjustment_reason,
    level_type,
    item_type,
    adjustment_type,
    location_type,
    option_type,
]
