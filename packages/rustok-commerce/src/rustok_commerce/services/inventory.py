"""Inventory: items, stock locations, levels, adjustments and reservations.

Stock is kept per inventory item and location (``commerce_inventory_levels``):
``stocked`` units on the shelf, ``reserved`` of them held for orders, ``incoming``
expected. Available = stocked - reserved. A variant takes ``required_quantity``
units of each item it links (``commerce_variant_inventory``; several items make a
kit).

Concurrency: every operation that changes levels locks them with ``SELECT ... FOR
UPDATE`` in ascending level id, so two transactions touching overlapping levels
always queue in the same order and never deadlock. Checkout reserves under those
locks (:func:`reserve`), so concurrent checkouts cannot oversell; stocked never
drops below reserved or zero.

Events: ``commerce.inventory.updated`` per level changed (reason: an adjustment
reason, or reserved/released/fulfilled) and ``commerce.inventory.low`` when an
item's available stock over all locations crosses from above the tenant's
``low_stock_threshold`` to at or below it.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.events import InventoryLow, InventoryUpdated
from rustok_commerce.models import (
    ADJUSTMENT_REASONS,
    InventoryAdjustment,
    InventoryItem,
    InventoryLevel,
    Reservation,
    StockLocation,
    Variant,
    VariantInventoryItem,
)
from rustok_commerce.services.addresses import check_country
from rustok_commerce.services.store import store_config
from rustok_core.context import AppContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict, FieldError, NotFound, Validation
from rustok_core.events import EventPublisher

log = logging.getLogger("rustok.commerce.inventory")

MAX_QUANTITY = 1_000_000_000
"""The largest stock quantity a level holds (INTEGER columns)."""
MAX_NOTE = 500
MAX_SKU = 64
MAX_BULK_ROWS = 1_000


# -- reservations (the checkout interface) -----------------------------------------------------


@dataclass(frozen=True)
class ReserveLine:
    variant_id: uuid.UUID
    quantity: int
    order_line_id: uuid.UUID | None = None


@dataclass
class _Level:
    """A locked level with what the operation has done to it so far."""

    row: InventoryLevel
    priority: int
    location_name: str

    @property
    def available(self) -> int:
        return max(0, self.row.stocked_quantity - self.row.reserved_quantity)


@dataclass
class _Changes:
    """Levels changed by one operation and each item's available total before it."""

    levels: dict[uuid.UUID, _Level] = field(default_factory=dict)
    changed: list[uuid.UUID] = field(default_factory=list)
    available_before: dict[uuid.UUID, int] = field(default_factory=dict)

    def touch(self, level_id: uuid.UUID) -> None:
        if level_id not in self.changed:
            self.changed.append(level_id)


async def _lock_levels(
    session: AsyncSession, *, item_ids: Iterable[uuid.UUID] = (), level_ids: Iterable[uuid.UUID] = ()
) -> _Changes:
    """Lock every level of ``item_ids`` and the levels ``level_ids``, in ascending level id.

    Also records each involved item's available total over all its levels (all of
    them are locked: an item's levels are always locked together).
    """
    items = set(item_ids)
    wanted_levels = set(level_ids)
    if wanted_levels:
        items |= set(
            (
                await session.scalars(
                    select(InventoryLevel.inventory_item_id).where(InventoryLevel.id.in_(wanted_levels))
                )
            ).all()
        )
    changes = _Changes()
    if not items:
        return changes
    rows = (
        await session.execute(
            select(InventoryLevel, StockLocation.priority, StockLocation.name)
            .join(StockLocation, StockLocation.id == InventoryLevel.location_id)
            .where(InventoryLevel.inventory_item_id.in_(items))
            .order_by(InventoryLevel.id)
            .with_for_update(of=InventoryLevel)
            .execution_options(populate_existing=True)
        )
    ).all()
    for level, priority, name in rows:
        changes.levels[level.id] = _Level(level, priority, name)
    for item_id in items:
        changes.available_before[item_id] = sum(
            lv.available for lv in changes.levels.values() if lv.row.inventory_item_id == item_id
        )
    return changes


RELINKED_ITEMS = "commerce.inventory.relinked_items"
"""``session.info`` key: items :meth:`InventoryService.ensure_item` linked to another variant in this transaction."""
LINKED = "linked"
"""The reason of ``inventory.updated`` for a level whose units did not change but now serve one more variant."""


def _relinked_levels(session: AsyncSession, changes: _Changes) -> dict[uuid.UUID, str]:
    """Touch the unchanged levels of items linked to a variant in this transaction: their products' stock changed."""
    relinked: set[uuid.UUID] = session.info.pop(RELINKED_ITEMS, set())
    touched = {}
    for level_id, level in changes.levels.items():
        if level.row.inventory_item_id in relinked and level_id not in changes.changed:
            changes.touch(level_id)
            touched[level_id] = LINKED
    return touched


async def _publish_changes(
    ctx: AppContext,
    session: AsyncSession,
    tenant_id: uuid.UUID,
    changes: _Changes,
    reason: str | Mapping[uuid.UUID, str],
    actor_id: uuid.UUID | None,
) -> None:
    """``inventory.updated`` per changed level, then ``inventory.low`` per item that crossed the threshold.

    ``reason`` is one for every level, or one per level id. A level of an item that was
    just linked to another variant (an existing item found by the variant's SKU) is
    announced too, with the reason ``linked``, though its units did not change: the
    variant's product now sells them.
    """
    linked = _relinked_levels(session, changes)
    if linked:
        given = reason
        reason = {lid: given if isinstance(given, str) else given[lid] for lid in changes.changed if lid not in linked}
        reason.update(linked)
    if not changes.changed:
        return
    await session.flush()
    item_ids = list(dict.fromkeys(changes.levels[lid].row.inventory_item_id for lid in changes.changed))
    links = (
        await session.execute(
            select(VariantInventoryItem.inventory_item_id, Variant.id, Variant.product_id)
            .join(Variant, Variant.id == VariantInventoryItem.variant_id)
            .where(VariantInventoryItem.inventory_item_id.in_(item_ids))
            .order_by(Variant.id)
        )
    ).all()
    variants: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    products: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for item_id, variant_id, product_id in links:
        variants[item_id].append(variant_id)
        if product_id not in products[item_id]:
            products[item_id].append(product_id)
    publisher = ctx.services.get(EventPublisher)
    for level_id in changes.changed:
        level = changes.levels[level_id].row
        await publisher.publish(
            session,
            InventoryUpdated(
                inventory_item_id=level.inventory_item_id,
                location_id=level.location_id,
                variant_ids=variants[level.inventory_item_id],
                product_ids=products[level.inventory_item_id],
                stocked=level.stocked_quantity,
                reserved=level.reserved_quantity,
                available=level.stocked_quantity - level.reserved_quantity,
                reason=reason if isinstance(reason, str) else reason[level_id],
            ),
            tenant_id=tenant_id,
            actor_id=actor_id,
        )
    threshold = (await store_config(session)).low_stock_threshold
    crossed = []
    for item_id in item_ids:
        after = sum(lv.available for lv in changes.levels.values() if lv.row.inventory_item_id == item_id)
        if changes.available_before.get(item_id, 0) > threshold >= after:
            crossed.append((item_id, after))
    if not crossed:
        return
    skus = dict(
        (
            await session.execute(
                select(InventoryItem.id, InventoryItem.sku).where(InventoryItem.id.in_([c[0] for c in crossed]))
            )
        ).all()
    )
    for item_id, after in crossed:
        await publisher.publish(
            session,
            InventoryLow(
                inventory_item_id=item_id,
                sku=skus.get(item_id),
                variant_ids=variants[item_id],
                available=after,
                threshold=threshold,
            ),
            tenant_id=tenant_id,
            actor_id=actor_id,
        )


def variant_units(items: Iterable[tuple[int, int]]) -> int:
    """Units of a managed variant that can be taken from stock now.

    ``items`` holds, per inventory item the variant links, the item's available units
    (over all its locations) and the units one unit of the variant takes. A kit is as
    available as its scarcest part; a variant without items has nothing.
    """
    return min((max(0, available) // required for available, required in items), default=0)


async def reserve(
    ctx: AppContext,
    session: AsyncSession,
    tenant_id: uuid.UUID,
    lines: Sequence[ReserveLine],
    *,
    order_id: uuid.UUID,
    order_created_at: datetime,
    actor_id: uuid.UUID | None,
) -> list[Reservation]:
    """Hold stock for an order's lines, in the caller's transaction.

    Only variants with ``manage_inventory`` take stock. Each line needs
    ``quantity * required_quantity`` units of every item its variant links; they are
    taken from the item's locations in ascending ``priority`` (then name). A line
    that cannot be covered fails the whole call with ``CONFLICT`` (``OUT_OF_STOCK``,
    details ``variantId``, ``requested``, ``available`` in variant units) and writes
    nothing — unless its variant allows backorders: then what exists is reserved and
    the rest is not. A managed variant without any inventory item has nothing
    available. Returns the reservations written.
    """
    for line in lines:
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
            raise Validation(
                "a quantity must be a whole number of at least 1", field="quantity", reason="INVALID_QUANTITY"
            )
    variant_ids = list(dict.fromkeys(line.variant_id for line in lines))
    if not variant_ids:
        return []
    variants = {
        row.id: row
        for row in (
            await session.execute(
                select(Variant.id, Variant.manage_inventory, Variant.allow_backorder).where(Variant.id.in_(variant_ids))
            )
        ).all()
    }
    for variant_id in variant_ids:
        if variant_id not in variants:
            raise NotFound("no such variant", resource="variant", variantId=str(variant_id))
    managed = [v for v in variant_ids if variants[v].manage_inventory]
    if not managed:
        return []
    needs: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = defaultdict(list)
    for variant_id, item_id, required in (
        await session.execute(
            select(
                VariantInventoryItem.variant_id,
                VariantInventoryItem.inventory_item_id,
                VariantInventoryItem.required_quantity,
            )
            .where(VariantInventoryItem.variant_id.in_(managed))
            .order_by(VariantInventoryItem.inventory_item_id)
        )
    ).all():
        needs[variant_id].append((item_id, required))
    changes = await _lock_levels(session, item_ids={item for pairs in needs.values() for item, _ in pairs})
    by_item: dict[uuid.UUID, list[_Level]] = defaultdict(list)
    for level in changes.levels.values():
        by_item[level.row.inventory_item_id].append(level)
    for levels in by_item.values():
        levels.sort(key=lambda lv: (lv.priority, lv.location_name, lv.row.id))

    reservations: list[Reservation] = []
    for line in lines:
        variant = variants[line.variant_id]
        if not variant.manage_inventory:
            continue
        items = needs.get(line.variant_id, [])
        can_cover = variant_units((sum(lv.available for lv in by_item[item]), required) for item, required in items)
        if can_cover < line.quantity and not variant.allow_backorder:
            raise Conflict(
                "a variant is out of stock for the quantity asked",
                reason="OUT_OF_STOCK",
                variantId=str(line.variant_id),
                requested=line.quantity,
                available=can_cover,
            )
        for item, required in items:
            wanted = line.quantity * required
            for level in by_item[item]:
                if wanted == 0:
                    break
                take = min(wanted, level.available)
                if take == 0:
                    continue
                level.row.reserved_quantity += take
                wanted -= take
                changes.touch(level.row.id)
                reservation = Reservation(
                    order_id=order_id,
                    order_created_at=order_created_at,
                    level_id=level.row.id,
                    order_line_id=line.order_line_id,
                    quantity=take,
                )
                session.add(reservation)
                reservations.append(reservation)
    await _publish_changes(ctx, session, tenant_id, changes, "reserved", actor_id)
    return reservations


async def _reload(session: AsyncSession, level_ids: Iterable[uuid.UUID]) -> None:
    """Read back levels after a flush (their ``updated_at`` is set by the database)."""
    ids = set(level_ids)
    if ids:
        await session.execute(
            select(InventoryLevel).where(InventoryLevel.id.in_(ids)).execution_options(populate_existing=True)
        )


def _check_held(level: InventoryLevel, reservation: Reservation) -> None:
    """Log a level that holds fewer units than its reservation says (never expected: both change under one lock).

    Release and fulfilment then clamp at zero instead of failing the order's cancellation or shipment.
    """
    if level.reserved_quantity < reservation.quantity or level.stocked_quantity < reservation.quantity:
        log.error(
            "inventory level %s holds fewer units (stocked %s, reserved %s) than reservation %s (%s); clamping at zero",
            level.id,
            level.stocked_quantity,
            level.reserved_quantity,
            reservation.id,
            reservation.quantity,
        )


async def _order_reservations(session: AsyncSession, order_id: uuid.UUID) -> list[Reservation]:
    return list(
        (
            await session.scalars(
                select(Reservation)
                .where(Reservation.order_id == order_id)
                .order_by(Reservation.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
    )


async def release(
    ctx: AppContext, session: AsyncSession, tenant_id: uuid.UUID, order_id: uuid.UUID, *, actor_id: uuid.UUID | None
) -> int:
    """Return an order's reserved units to availability (cancellation); the units released."""
    held = await _order_reservations(session, order_id)
    if not held:
        return 0
    changes = await _lock_levels(session, level_ids={r.level_id for r in held})
    released = 0
    for reservation in held:
        level = changes.levels[reservation.level_id].row
        _check_held(level, reservation)
        level.reserved_quantity = max(0, level.reserved_quantity - reservation.quantity)
        released += reservation.quantity
        changes.touch(level.id)
    await session.execute(delete(Reservation).where(Reservation.id.in_([r.id for r in held])))
    await _publish_changes(ctx, session, tenant_id, changes, "released", actor_id)
    return released


async def fulfil(
    ctx: AppContext, session: AsyncSession, tenant_id: uuid.UUID, order_id: uuid.UUID, *, actor_id: uuid.UUID | None
) -> int:
    """Ship an order's reserved units: they leave stock (an adjustment ``sale`` each); the units shipped."""
    held = await _order_reservations(session, order_id)
    if not held:
        return 0
    changes = await _lock_levels(session, level_ids={r.level_id for r in held})
    shipped = 0
    for reservation in held:
        level = changes.levels[reservation.level_id].row
        _check_held(level, reservation)
        quantity = min(reservation.quantity, level.stocked_quantity)
        level.stocked_quantity -= quantity
        level.reserved_quantity = max(0, level.reserved_quantity - reservation.quantity)
        shipped += quantity
        changes.touch(level.id)
        session.add(
            InventoryAdjustment(
                level_id=level.id,
                delta=-quantity,
                stocked_after=level.stocked_quantity,
                reason="sale",
                note=None,
                actor_id=actor_id,
            )
        )
    await session.execute(delete(Reservation).where(Reservation.id.in_([r.id for r in held])))
    await _publish_changes(ctx, session, tenant_id, changes, "fulfilled", actor_id)
    return shipped


# -- items, locations, levels (the admin side) -------------------------------------------------


@dataclass(frozen=True)
class LevelRow:
    """A level as lists show it: the row with its item's SKU and its location's name."""

    level: InventoryLevel
    sku: str | None
    location_name: str

    @property
    def available(self) -> int:
        return self.level.stocked_quantity - self.level.reserved_quantity


@dataclass(frozen=True)
class BulkRow:
    """One change of a bulk update: a level (by item SKU, item id or variant id, and location), set-to or delta."""

    location_id: uuid.UUID
    reason: str
    sku: str | None = None
    inventory_item_id: uuid.UUID | None = None
    variant_id: uuid.UUID | None = None
    set_stocked: int | None = None
    delta: int | None = None
    note: str | None = None


def _check_reason(reason: Any, field: str = "reason") -> str:
    if reason not in ADJUSTMENT_REASONS:
        raise Validation(
            f"the reason must be one of: {', '.join(ADJUSTMENT_REASONS)}", field=field, reason="INVALID_REASON"
        )
    return str(reason)


def _check_count(value: Any, field: str, *, signed: bool = False) -> int:
    low = -MAX_QUANTITY if signed else 0
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_QUANTITY:
        raise Validation(
            f"{field} must be a whole number from {low} to {MAX_QUANTITY}", field=field, reason="INVALID_QUANTITY"
        )
    return value


def _check_note(note: Any, field: str = "note") -> str | None:
    if note is None:
        return None
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise Validation(f"a note is text of at most {MAX_NOTE} characters", field=field)
    return note.strip() or None


def _insufficient(field: str, level: InventoryLevel) -> Validation:
    return Validation(
        "stock cannot go below zero or below what is reserved for orders",
        field=field,
        reason="INSUFFICIENT_STOCK",
        stocked=level.stocked_quantity,
        reserved=level.reserved_quantity,
    )


def _apply_stock(
    changes: _Changes,
    level: InventoryLevel,
    *,
    target: int,
    reason: str,
    note: str | None,
    actor_id: uuid.UUID | None,
    session: AsyncSession,
) -> None:
    """Move ``level`` to ``target`` stocked units with an adjustment row (the caller checked the bounds)."""
    delta = target - level.stocked_quantity
    if delta == 0:
        return
    level.stocked_quantity = target
    changes.touch(level.id)
    session.add(
        InventoryAdjustment(
            level_id=level.id, delta=delta, stocked_after=target, reason=reason, note=note, actor_id=actor_id
        )
    )


class InventoryService:
    """Stock locations, inventory items and levels of a tenant, changed with an audit trail."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # -- stock locations ------------------------------------------------------------------

    async def locations(self, tenant_id: uuid.UUID) -> list[StockLocation]:
        """Every location, in the order reservations draw from them."""
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(select(StockLocation).order_by(StockLocation.priority, StockLocation.name))
            return list(rows.all())

    async def create_location(
        self,
        tenant_id: uuid.UUID,
        *,
        name: str,
        priority: int = 0,
        address: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> StockLocation:
        location = StockLocation(
            name=self._name(name),
            priority=self._priority(priority),
            address=self._address(address),
            location_metadata=dict(metadata or {}),
        )
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            await self._name_free(session, location.name, None)
            session.add(location)
            await session.flush()
        return location

    async def update_location(
        self,
        tenant_id: uuid.UUID,
        location_id: uuid.UUID,
        *,
        expected_version: int | None,
        name: str | None = None,
        priority: int | None = None,
        address: Mapping[str, Any] | None = None,
        clear_address: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ) -> StockLocation:
        checked_name = self._name(name) if name is not None else None
        checked_priority = self._priority(priority) if priority is not None else None
        checked_address = self._address(address) if address is not None else None
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            location = await self._location(session, location_id, lock=True)
            expect_version(location, expected_version)
            if checked_name is not None and checked_name != location.name:
                await self._name_free(session, checked_name, location.id)
                location.name = checked_name
            if checked_priority is not None:
                location.priority = checked_priority
            if clear_address:
                location.address = None
            elif checked_address is not None:
                location.address = checked_address
            if metadata is not None:
                location.location_metadata = dict(metadata)
            await session.flush()
        return location

    async def delete_location(
        self, tenant_id: uuid.UUID, location_id: uuid.UUID, *, expected_version: int | None = None
    ) -> None:
        """Delete a location that holds no stock and no reservation (its empty levels go with it)."""
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            location = await self._location(session, location_id, lock=True)
            expect_version(location, expected_version)
            level_ids = list(
                (
                    await session.scalars(select(InventoryLevel.id).where(InventoryLevel.location_id == location.id))
                ).all()
            )
            changes = await _lock_levels(session, level_ids=level_ids)
            if any(
                lv.row.stocked_quantity or lv.row.reserved_quantity or lv.row.incoming_quantity
                for lv in changes.levels.values()
                if lv.row.location_id == location.id
            ) or await session.scalar(select(Reservation.id).where(Reservation.level_id.in_(level_ids)).limit(1)):
                raise Conflict(
                    "the location still holds stock or reservations; move or zero them first",
                    reason="LOCATION_IN_USE",
                )
            await session.delete(location)

    # -- items ----------------------------------------------------------------------------

    async def ensure_item(self, session: AsyncSession, variant_id: uuid.UUID) -> InventoryItem:
        """The item a variant takes stock from, created (SKU = the variant's) and linked when it has none.

        A variant linked to several items (a kit) has no single item: ``CONFLICT``
        (``KIT_VARIANT``); set stock on its items instead. An existing item with the
        variant's SKU is linked rather than duplicated.
        """
        variant = await session.scalar(select(Variant).where(Variant.id == variant_id))
        if variant is None:
            raise NotFound("no such variant", resource="variant")
        linked = list(
            (
                await session.scalars(
                    select(InventoryItem)
                    .join(VariantInventoryItem, VariantInventoryItem.inventory_item_id == InventoryItem.id)
                    .where(VariantInventoryItem.variant_id == variant.id)
                )
            ).all()
        )
        if len(linked) > 1:
            raise Conflict("the variant is a kit of several items; change the stock of its items", reason="KIT_VARIANT")
        if linked:
            item = linked[0]
            if variant.sku is not None and item.sku != variant.sku:
                taken = await session.scalar(
                    select(InventoryItem.id).where(InventoryItem.sku == variant.sku, InventoryItem.id != item.id)
                )
                if taken is None:
                    item.sku = variant.sku
            return item
        found: InventoryItem | None = None
        if variant.sku is not None:
            found = await session.scalar(select(InventoryItem).where(InventoryItem.sku == variant.sku))
        if found is None:
            found = InventoryItem(sku=variant.sku)
            session.add(found)
            await session.flush()
        else:  # the item's units now count for this variant too (see _publish_changes)
            session.info.setdefault(RELINKED_ITEMS, set()).add(found.id)
        session.add(VariantInventoryItem(variant_id=variant.id, inventory_item_id=found.id, required_quantity=1))
        await session.flush()
        return found

    async def item(self, tenant_id: uuid.UUID, item_id: uuid.UUID) -> InventoryItem:
        async with self.ctx.db.session(tenant_id) as session:
            item = await session.scalar(select(InventoryItem).where(InventoryItem.id == item_id))
        if item is None:
            raise NotFound("no such inventory item", resource="inventoryItem")
        return item

    async def items(
        self,
        tenant_id: uuid.UUID,
        *,
        variant_id: uuid.UUID | None = None,
        sku: str | None = None,
        first: int = 20,
        after: uuid.UUID | None = None,
    ) -> list[InventoryItem]:
        """Items by id (``first + 1`` rows from after ``after``), filtered by linked variant or SKU."""
        query = select(InventoryItem).order_by(InventoryItem.id).limit(first + 1)
        if variant_id is not None:
            query = query.join(VariantInventoryItem, VariantInventoryItem.inventory_item_id == InventoryItem.id).where(
                VariantInventoryItem.variant_id == variant_id
            )
        if sku is not None:
            query = query.where(InventoryItem.sku == sku)
        if after is not None:
            query = query.where(InventoryItem.id > after)
        async with self.ctx.db.session(tenant_id) as session:
            return list((await session.scalars(query)).all())

    async def update_item(
        self,
        tenant_id: uuid.UUID,
        item_id: uuid.UUID,
        *,
        requires_shipping: bool | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> InventoryItem:
        if requires_shipping is not None and not isinstance(requires_shipping, bool):
            raise Validation("requiresShipping must be true or false", field="requiresShipping")
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            item = await session.scalar(select(InventoryItem).where(InventoryItem.id == item_id).with_for_update())
            if item is None:
                raise NotFound("no such inventory item", resource="inventoryItem")
            if requires_shipping is not None:
                item.requires_shipping = requires_shipping
            if metadata is not None:
                item.item_metadata = dict(metadata)
            await session.flush()
            await session.refresh(item)
        return item

    # -- levels ---------------------------------------------------------------------------

    async def levels_of_items(
        self, tenant_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[LevelRow]]:
        """Each item's levels in reservation order (one query)."""
        found: dict[uuid.UUID, list[LevelRow]] = {item_id: [] for item_id in item_ids}
        if not item_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = (
                await session.execute(
                    select(InventoryLevel, InventoryItem.sku, StockLocation.name)
                    .join(InventoryItem, InventoryItem.id == InventoryLevel.inventory_item_id)
                    .join(StockLocation, StockLocation.id == InventoryLevel.location_id)
                    .where(InventoryLevel.inventory_item_id.in_(item_ids))
                    .order_by(StockLocation.priority, StockLocation.name)
                )
            ).all()
        for level, sku, name in rows:
            found[level.inventory_item_id].append(LevelRow(level, sku, name))
        return found

    async def levels(
        self,
        tenant_id: uuid.UUID,
        *,
        sku: str | None = None,
        item_id: uuid.UUID | None = None,
        variant_id: uuid.UUID | None = None,
        location_id: uuid.UUID | None = None,
        first: int = 50,
        after: uuid.UUID | None = None,
    ) -> list[LevelRow]:
        """Levels by id (``first + 1`` rows after ``after``), filtered by SKU, item, variant or location."""
        query = (
            select(InventoryLevel, InventoryItem.sku, StockLocation.name)
            .join(InventoryItem, InventoryItem.id == InventoryLevel.inventory_item_id)
            .join(StockLocation, StockLocation.id == InventoryLevel.location_id)
            .order_by(InventoryLevel.id)
            .limit(first + 1)
        )
        if sku is not None:
            query = query.where(InventoryItem.sku == sku)
        if item_id is not None:
            query = query.where(InventoryLevel.inventory_item_id == item_id)
        if variant_id is not None:
            query = query.where(
                InventoryLevel.inventory_item_id.in_(
                    select(VariantInventoryItem.inventory_item_id).where(VariantInventoryItem.variant_id == variant_id)
                )
            )
        if location_id is not None:
            query = query.where(InventoryLevel.location_id == location_id)
        if after is not None:
            query = query.where(InventoryLevel.id > after)
        async with self.ctx.db.session(tenant_id) as session:
            return [LevelRow(level, s, name) for level, s, name in (await session.execute(query)).all()]

    async def adjustments(
        self, tenant_id: uuid.UUID, *, item_id: uuid.UUID, first: int = 50
    ) -> list[tuple[InventoryAdjustment, uuid.UUID]]:
        """The item's latest stock changes, newest first, with the location of each."""
        async with self.ctx.db.session(tenant_id) as session:
            rows = (
                await session.execute(
                    select(InventoryAdjustment, InventoryLevel.location_id)
                    .join(InventoryLevel, InventoryLevel.id == InventoryAdjustment.level_id)
                    .where(InventoryLevel.inventory_item_id == item_id)
                    .order_by(InventoryAdjustment.id.desc())
                    .limit(first)
                )
            ).all()
        return [(adjustment, location_id) for adjustment, location_id in rows]

    async def set_level(
        self,
        tenant_id: uuid.UUID,
        *,
        location_id: uuid.UUID,
        item_id: uuid.UUID | None = None,
        variant_id: uuid.UUID | None = None,
        stocked: int | None = None,
        incoming: int | None = None,
        reason: str = "count",
        note: str | None = None,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> LevelRow:
        """Set a level's stocked (audited with ``reason``) and/or incoming units; creates the level if missing."""
        if stocked is None and incoming is None:
            raise Validation("give stocked, incoming or both", field="stocked")
        target = _check_count(stocked, "stocked") if stocked is not None else None
        expected = _check_count(incoming, "incoming") if incoming is not None else None
        checked_reason = _check_reason(reason)
        checked_note = _check_note(note)
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            item = await self._item_of(session, item_id, variant_id)
            await self._location(session, location_id, lock=False)
            await self._create_levels(session, [(item.id, location_id)])
            changes = await _lock_levels(session, item_ids=[item.id])
            level = self._level(changes, item.id, location_id)
            expect_version(level, expected_version)
            if target is not None:
                if target < level.reserved_quantity:
                    raise _insufficient("stocked", level)
                _apply_stock(
                    changes,
                    level,
                    target=target,
                    reason=checked_reason,
                    note=checked_note,
                    actor_id=actor_id,
                    session=session,
                )
            if expected is not None:
                level.incoming_quantity = expected
            await _publish_changes(self.ctx, session, tenant_id, changes, checked_reason, actor_id)
            await session.flush()
            await _reload(session, [level.id])
            return LevelRow(level, item.sku, changes.levels[level.id].location_name)

    async def adjust(
        self,
        tenant_id: uuid.UUID,
        *,
        location_id: uuid.UUID,
        delta: int,
        reason: str,
        item_id: uuid.UUID | None = None,
        variant_id: uuid.UUID | None = None,
        note: str | None = None,
        actor_id: uuid.UUID | None,
    ) -> LevelRow:
        """Add (or, negative, remove) stocked units with a reason; never below zero or below reserved."""
        change = _check_count(delta, "delta", signed=True)
        if change == 0:
            raise Validation("delta must not be zero", field="delta", reason="INVALID_QUANTITY")
        checked_reason = _check_reason(reason)
        checked_note = _check_note(note)
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            item = await self._item_of(session, item_id, variant_id)
            await self._location(session, location_id, lock=False)
            await self._create_levels(session, [(item.id, location_id)])
            changes = await _lock_levels(session, item_ids=[item.id])
            level = self._level(changes, item.id, location_id)
            target = level.stocked_quantity + change
            if target < 0 or target < level.reserved_quantity or target > MAX_QUANTITY:
                raise _insufficient("delta", level)
            _apply_stock(
                changes,
                level,
                target=target,
                reason=checked_reason,
                note=checked_note,
                actor_id=actor_id,
                session=session,
            )
            await _publish_changes(self.ctx, session, tenant_id, changes, checked_reason, actor_id)
            await session.flush()
            await _reload(session, [level.id])
            return LevelRow(level, item.sku, changes.levels[level.id].location_name)

    async def bulk_update(
        self, tenant_id: uuid.UUID, rows: Sequence[BulkRow], *, actor_id: uuid.UUID | None
    ) -> list[LevelRow]:
        """Apply many changes in one transaction, all or nothing.

        Rows apply in order (two rows on one level see each other). Every problem is
        reported at once as field errors ``rows.<index>.<field>`` (``VALIDATION``,
        reason ``BULK_REJECTED``) and nothing is written. Returns the resulting level
        of each row, in row order.
        """
        if not rows:
            raise Validation("give at least one row", field="rows")
        if len(rows) > MAX_BULK_ROWS:
            raise Validation(f"a bulk update takes at most {MAX_BULK_ROWS} rows", field="rows")
        errors: list[FieldError] = []

        def fail(index: int, name: str, message: str) -> None:
            errors.append(FieldError(("rows", index, name), message))

        for index, row in enumerate(rows):
            keys = [k for k in (row.sku, row.inventory_item_id, row.variant_id) if k is not None]
            if len(keys) != 1:
                fail(index, "sku", "name the level's item by exactly one of sku, inventoryItemId or variantId")
            if (row.set_stocked is None) == (row.delta is None):
                fail(index, "set", "give exactly one of set or delta")
            elif row.set_stocked is not None and (
                isinstance(row.set_stocked, bool)
                or not isinstance(row.set_stocked, int)
                or not 0 <= row.set_stocked <= MAX_QUANTITY
            ):
                fail(index, "set", f"set must be a whole number from 0 to {MAX_QUANTITY}")
            elif row.delta is not None and (
                isinstance(row.delta, bool)
                or not isinstance(row.delta, int)
                or row.delta == 0
                or abs(row.delta) > MAX_QUANTITY
            ):
                fail(index, "delta", "delta must be a non-zero whole number")
            if row.reason not in ADJUSTMENT_REASONS:
                fail(index, "reason", f"the reason must be one of: {', '.join(ADJUSTMENT_REASONS)}")
            if row.note is not None and (not isinstance(row.note, str) or len(row.note) > MAX_NOTE):
                fail(index, "note", f"a note is text of at most {MAX_NOTE} characters")
        if errors:
            raise Validation("some rows are invalid; nothing was changed", errors=errors, reason="BULK_REJECTED")
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            skus = {row.sku for row in rows if row.sku is not None}
            by_sku: dict[str, uuid.UUID] = {}
            if skus:
                by_sku = {
                    sku: item_id
                    for sku, item_id in (
                        await session.execute(
                            select(InventoryItem.sku, InventoryItem.id).where(InventoryItem.sku.in_(skus))
                        )
                    ).all()
                    if sku is not None
                }
                # A SKU no item has yet may be a variant's: give that variant its item.
                for sku in sorted(skus - set(by_sku)):
                    variant = await session.scalar(select(Variant.id).where(Variant.sku == sku))
                    if variant is not None:
                        by_sku[sku] = (await self.ensure_item(session, variant)).id
            item_ids = set(
                (
                    await session.scalars(
                        select(InventoryItem.id).where(
                            InventoryItem.id.in_({r.inventory_item_id for r in rows if r.inventory_item_id})
                        )
                    )
                ).all()
            )
            by_variant: dict[uuid.UUID, uuid.UUID] = {}
            for variant_id in sorted({r.variant_id for r in rows if r.variant_id is not None}):
                try:
                    by_variant[variant_id] = (await self.ensure_item(session, variant_id)).id
                except (NotFound, Conflict):
                    continue
            locations = set(
                (
                    await session.scalars(
                        select(StockLocation.id).where(StockLocation.id.in_({r.location_id for r in rows}))
                    )
                ).all()
            )
            targets: list[tuple[uuid.UUID, uuid.UUID] | None] = []
            for index, row in enumerate(rows):
                item: uuid.UUID | None
                if row.sku is not None:
                    item = by_sku.get(row.sku)
                    if item is None:
                        fail(index, "sku", "no inventory item or variant has this SKU")
                elif row.inventory_item_id is not None:
                    item = row.inventory_item_id if row.inventory_item_id in item_ids else None
                    if item is None:
                        fail(index, "inventoryItemId", "no such inventory item")
                else:
                    item = by_variant.get(row.variant_id) if row.variant_id is not None else None
                    if item is None:
                        fail(index, "variantId", "no such variant, or it is a kit of several items")
                if row.location_id not in locations:
                    fail(index, "locationId", "no such stock location")
                    item = None
                targets.append((item, row.location_id) if item is not None else None)
            if errors:
                raise Validation("some rows are invalid; nothing was changed", errors=errors, reason="BULK_REJECTED")
            pairs = [t for t in targets if t is not None]
            await self._create_levels(session, pairs)
            changes = await _lock_levels(session, item_ids={item for item, _ in pairs})
            results: list[InventoryLevel] = []
            last_reason: dict[uuid.UUID, str] = {}
            for index, (row, target) in enumerate(zip(rows, targets, strict=True)):
                assert target is not None
                level = self._level(changes, *target)
                wanted = row.set_stocked if row.set_stocked is not None else level.stocked_quantity + (row.delta or 0)
                if wanted < 0 or wanted < level.reserved_quantity or wanted > MAX_QUANTITY:
                    fail(
                        index,
                        "set" if row.set_stocked is not None else "delta",
                        f"stock cannot go below zero or below the {level.reserved_quantity} units reserved",
                    )
                    continue
                _apply_stock(
                    changes,
                    level,
                    target=wanted,
                    reason=row.reason,
                    note=_check_note(row.note),
                    actor_id=actor_id,
                    session=session,
                )
                last_reason[level.id] = row.reason
                results.append(level)
            if errors:
                raise Validation("some rows are invalid; nothing was changed", errors=errors, reason="BULK_REJECTED")
            await _publish_changes(self.ctx, session, tenant_id, changes, last_reason, actor_id)
            skus_of = dict(
                (
                    await session.execute(
                        select(InventoryItem.id, InventoryItem.sku).where(
                            InventoryItem.id.in_({lv.inventory_item_id for lv in results})
                        )
                    )
                ).all()
            )
            await _reload(session, [level.id for level in results])
            return [
                LevelRow(level, skus_of.get(level.inventory_item_id), changes.levels[level.id].location_name)
                for level in results
            ]

    # -- helpers --------------------------------------------------------------------------

    async def _item_of(
        self, session: AsyncSession, item_id: uuid.UUID | None, variant_id: uuid.UUID | None
    ) -> InventoryItem:
        if (item_id is None) == (variant_id is None):
            raise Validation("name the item by exactly one of inventoryItemId or variantId", field="inventoryItemId")
        if variant_id is not None:
            return await self.ensure_item(session, variant_id)
        item = await session.scalar(select(InventoryItem).where(InventoryItem.id == item_id))
        if item is None:
            raise NotFound("no such inventory item", resource="inventoryItem")
        return item

    @staticmethod
    async def _create_levels(session: AsyncSession, pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """Create missing levels before any lock is taken, in a fixed order (no deadlock between creators)."""
        wanted = sorted(set(pairs))
        if not wanted:
            return
        existing = set(
            (
                await session.execute(
                    select(InventoryLevel.inventory_item_id, InventoryLevel.location_id).where(
                        InventoryLevel.inventory_item_id.in_({item for item, _ in wanted})
                    )
                )
            ).all()
        )
        missing = [pair for pair in wanted if pair not in existing]
        if missing:
            await session.execute(
                pg_insert(InventoryLevel).on_conflict_do_nothing(index_elements=["inventory_item_id", "location_id"]),
                [{"inventory_item_id": item, "location_id": location} for item, location in missing],
            )

    @staticmethod
    def _level(changes: _Changes, item_id: uuid.UUID, location_id: uuid.UUID) -> InventoryLevel:
        return next(
            lv.row
            for lv in changes.levels.values()
            if lv.row.inventory_item_id == item_id and lv.row.location_id == location_id
        )

    async def _location(self, session: AsyncSession, location_id: uuid.UUID, *, lock: bool) -> StockLocation:
        query = select(StockLocation).where(StockLocation.id == location_id)
        if lock:
            query = query.with_for_update()
        location = await session.scalar(query)
        if location is None:
            raise NotFound("no such stock location", resource="stockLocation")
        return location

    async def _name_free(self, session: AsyncSession, name: str, own: uuid.UUID | None) -> None:
        query = select(StockLocation.id).where(StockLocation.name == name)
        if own is not None:
            query = query.where(StockLocation.id != own)
        if await session.scalar(query) is not None:
            raise Conflict("another stock location has this name", reason="NAME_TAKEN", field="name")

    @staticmethod
    def _name(name: Any) -> str:
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 255:
            raise Validation("a location name is 1 to 255 characters", field="name")
        return name.strip()

    @staticmethod
    def _priority(priority: Any) -> int:
        if isinstance(priority, bool) or not isinstance(priority, int) or not -1_000_000 <= priority <= 1_000_000:
            raise Validation("priority must be a whole number from -1000000 to 1000000", field="priority")
        return priority

    @staticmethod
    def _address(address: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if address is None:
            return None
        if not isinstance(address, Mapping):
            raise Validation("address must be an object", field="address")
        result = dict(address)
        if "country_code" in result and result["country_code"] is not None:
            result["country_code"] = check_country(result["country_code"], "address.countryCode")
        return result
