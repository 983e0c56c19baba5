"""REST for inventory integrations (warehouse systems, ERPs), under ``/api/v1/commerce/``.

``GET /inventory/levels`` lists levels by SKU, item, variant or location;
``POST /inventory/levels/bulk`` applies many changes at once, all or nothing, safe to
retry with ``Idempotency-Key``; ``/stock-locations`` lists and creates locations.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from rustok_commerce.permissions import INVENTORY_MANAGE, INVENTORY_READ
from rustok_commerce.services.inventory import BulkRow, InventoryService, LevelRow
from rustok_core.context import request_context
from rustok_core.errors import Validation
from rustok_core.pagination import decode_cursor, encode_cursor
from rustok_core.rest import RestRoute

Reason = Literal["restock", "correction", "damage", "return", "count", "sale", "transfer"]


class Camel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class LevelListQuery(Camel):
    sku: str | None = None
    inventory_item_id: uuid.UUID | None = Field(None, alias="inventoryItemId")
    variant_id: uuid.UUID | None = Field(None, alias="variantId")
    location_id: uuid.UUID | None = Field(None, alias="locationId")
    first: int = Field(50, ge=1, le=100)
    after: str | None = None


class LevelResponse(Camel):
    id: uuid.UUID
    inventory_item_id: uuid.UUID = Field(alias="inventoryItemId")
    sku: str | None
    location_id: uuid.UUID = Field(alias="locationId")
    location_name: str = Field(alias="locationName")
    stocked: int
    reserved: int
    available: int
    incoming: int
    version: int
    updated_at: datetime = Field(alias="updatedAt")


class LevelPage(Camel):
    items: list[LevelResponse]
    next_cursor: str | None = Field(alias="nextCursor")


class BulkRowIn(Camel):
    """One change: name the item by ``sku``, ``inventoryItemId`` or ``variantId``; give ``set`` or ``delta``."""

    sku: str | None = Field(None, max_length=64)
    inventory_item_id: uuid.UUID | None = Field(None, alias="inventoryItemId")
    variant_id: uuid.UUID | None = Field(None, alias="variantId")
    location_id: uuid.UUID = Field(alias="locationId")
    set: int | None = Field(None, strict=True, description="The stocked units to set.")
    delta: int | None = Field(None, strict=True, description="Units to add (positive) or remove (negative).")
    reason: Reason
    note: str | None = Field(None, max_length=500)


class BulkRequest(Camel):
    rows: list[BulkRowIn] = Field(min_length=1, max_length=1000)


class BulkResponse(Camel):
    levels: list[LevelResponse] = Field(description="The resulting level of each row, in row order.")


class LocationIn(Camel):
    name: str = Field(min_length=1, max_length=255)
    priority: int = Field(0, strict=True)
    address: dict[str, Any] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class LocationResponse(Camel):
    id: uuid.UUID
    name: str
    priority: int
    address: dict[str, Any] | None
    metadata: dict[str, Any]
    version: int
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


def _level(row: LevelRow) -> LevelResponse:
    level = row.level
    return LevelResponse(
        id=level.id,
        inventory_item_id=level.inventory_item_id,
        sku=row.sku,
        location_id=level.location_id,
        location_name=row.location_name,
        stocked=level.stocked_quantity,
        reserved=level.reserved_quantity,
        available=row.available,
        incoming=level.incoming_quantity,
        version=level.version,
        updated_at=level.updated_at,
    )


def _after(cursor: str | None) -> uuid.UUID | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    try:
        return uuid.UUID(key)
    except ValueError:
        raise Validation("invalid cursor", field="after") from None


async def list_levels(request: Request, query: LevelListQuery) -> LevelPage:
    """Stock levels by id, filtered by SKU, inventory item, variant or location."""
    ctx = request_context(request)
    rows = await InventoryService(ctx.app).levels(
        ctx.require_tenant().id,
        sku=query.sku,
        item_id=query.inventory_item_id,
        variant_id=query.variant_id,
        location_id=query.location_id,
        first=query.first,
        after=_after(query.after),
    )
    page = rows[: query.first]
    more = len(rows) > query.first
    return LevelPage(
        items=[_level(row) for row in page], next_cursor=encode_cursor(str(page[-1].level.id)) if more else None
    )


async def bulk_update_levels(request: Request, body: BulkRequest) -> BulkResponse:
    """Apply every row or none: a bad row answers 422 naming ``rows.<index>.<field>``."""
    ctx = request_context(request)
    rows = [
        BulkRow(
            location_id=row.location_id,
            reason=row.reason,
            sku=row.sku,
            inventory_item_id=row.inventory_item_id,
            variant_id=row.variant_id,
            set_stocked=row.set,
            delta=row.delta,
            note=row.note,
        )
        for row in body.rows
    ]
    levels = await InventoryService(ctx.app).bulk_update(ctx.require_tenant().id, rows, actor_id=ctx.actor_id)
    return BulkResponse(levels=[_level(row) for row in levels])


def _location(location: Any) -> LocationResponse:
    return LocationResponse(
        id=location.id,
        name=location.name,
        priority=location.priority,
        address=location.address,
        metadata=location.location_metadata,
        version=location.version,
        created_at=location.created_at,
        updated_at=location.updated_at,
    )


async def list_locations(request: Request) -> list[LocationResponse]:
    """Stock locations in the order reservations draw from them."""
    ctx = request_context(request)
    return [_location(loc) for loc in await InventoryService(ctx.app).locations(ctx.require_tenant().id)]


async def create_location(request: Request, body: LocationIn) -> LocationResponse:
    """Create a stock location; send ``Idempotency-Key`` to make retries safe."""
    ctx = request_context(request)
    location = await InventoryService(ctx.app).create_location(
        ctx.require_tenant().id,
        name=body.name,
        priority=body.priority,
        address=body.address,
        metadata=body.metadata,
    )
    return _location(location)


def routes() -> list[RestRoute]:
    tags = ["commerce inventory"]
    return [
        RestRoute(
            "/inventory/levels",
            list_levels,
            summary="List stock levels",
            query=LevelListQuery,
            response=LevelPage,
            permission=INVENTORY_READ,
            tags=tags,
        ),
        RestRoute(
            "/inventory/levels/bulk",
            bulk_update_levels,
            methods=["POST"],
            summary="Change many stock levels at once (all or nothing)",
            body=BulkRequest,
            response=BulkResponse,
            permission=INVENTORY_MANAGE,
            idempotent=True,
            tags=tags,
        ),
        RestRoute(
            "/stock-locations",
            list_locations,
            summary="List stock locations",
            response=list[LocationResponse],
            permission=INVENTORY_READ,
            tags=tags,
        ),
        RestRoute(
            "/stock-locations",
            create_location,
            methods=["POST"],
            summary="Create a stock location",
            body=LocationIn,
            response=LocationResponse,
            status_code=201,
            permission=INVENTORY_MANAGE,
            idempotent=True,
            tags=tags,
            name="create_stock_location",
        ),
    ]
