"""Reservations taken at checkout: row locks, no overselling, no deadlocks, exact arithmetic, events.

These call the service functions checkout uses (:func:`reserve`, :func:`release`,
:func:`fulfil`) on real sessions against PostgreSQL, several at once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from rustok_commerce.models import (
    InventoryAdjustment,
    InventoryItem,
    InventoryLevel,
    Order,
    Product,
    Reservation,
    StockLocation,
    StoreSettings,
    Variant,
    VariantInventoryItem,
)
from rustok_commerce.services.inventory import ReserveLine, fulfil, release, reserve
from rustok_core.errors import Conflict
from rustok_outbox.runtime import runtime_of
from rustok_server.boot import Platform

_display = iter(range(1, 1_000_000))


@dataclass
class Shop:
    platform: Platform
    tenant_id: uuid.UUID
    locations: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def db(self) -> Any:
        return self.platform.ctx.db

    async def location(self, name: str, priority: int) -> uuid.UUID:
        async with self.db.session(self.tenant_id) as s, s.begin():
            location = StockLocation(name=name, priority=priority)
            s.add(location)
            await s.flush()
            self.locations[name] = location.id
            return location.id

    async def variant(
        self,
        stock: dict[str, int] | None = None,
        *,
        manage: bool = True,
        backorder: bool = False,
        items: list[tuple[uuid.UUID, int]] | None = None,
    ) -> tuple[uuid.UUID, uuid.UUID | None]:
        """A variant of an active product; with ``stock``, one item stocked at those locations."""
        async with self.db.session(self.tenant_id) as s, s.begin():
            product = Product(status="active")
            s.add(product)
            await s.flush()
            variant = Variant(
                product_id=product.id,
                title="V",
                sku=f"SKU-{uuid.uuid4().hex[:10]}",
                manage_inventory=manage,
                allow_backorder=backorder,
            )
            s.add(variant)
            await s.flush()
            item_id = None
            if stock is not None:
                item = InventoryItem(sku=variant.sku)
                s.add(item)
                await s.flush()
                item_id = item.id
                s.add(VariantInventoryItem(variant_id=variant.id, inventory_item_id=item.id, required_quantity=1))
                for name, quantity in stock.items():
                    s.add(
                        InventoryLevel(
                            inventory_item_id=item.id, location_id=self.locations[name], stocked_quantity=quantity
                        )
                    )
            for linked, required in items or ():
                s.add(VariantInventoryItem(variant_id=variant.id, inventory_item_id=linked, required_quantity=required))
            return variant.id, item_id

    async def levels(self, item_id: uuid.UUID) -> dict[str, tuple[int, int]]:
        """``{location name: (stocked, reserved)}``."""
        names = {v: k for k, v in self.locations.items()}
        async with self.db.session(self.tenant_id) as s:
            rows = (await s.scalars(select(InventoryLevel).where(InventoryLevel.inventory_item_id == item_id))).all()
            return {names[r.location_id]: (r.stocked_quantity, r.reserved_quantity) for r in rows}

    async def order_reserving(self, lines: list[ReserveLine]) -> tuple[uuid.UUID, list[Reservation]]:
        """Create an order and reserve its lines in one transaction (as checkout does)."""
        async with self.db.session(self.tenant_id) as s, s.begin():
            order = Order(display_id=next(_display), currency_code="EUR", created_at=datetime.now(UTC))
            s.add(order)
            await s.flush()
            held = await reserve(
                self.platform.ctx,
                s,
                self.tenant_id,
                lines,
                order_id=order.id,
                order_created_at=order.created_at,
                actor_id=None,
            )
            return order.id, held

    async def release(self, order_id: uuid.UUID) -> int:
        async with self.db.session(self.tenant_id) as s, s.begin():
            return await release(self.platform.ctx, s, self.tenant_id, order_id, actor_id=None)

    async def fulfil(self, order_id: uuid.UUID) -> int:
        async with self.db.session(self.tenant_id) as s, s.begin():
            return await fulfil(self.platform.ctx, s, self.tenant_id, order_id, actor_id=None)

    async def events(self, kind: str) -> list[dict[str, Any]]:
        registry = runtime_of(self.platform.ctx).registry
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT event_type, schema_version, payload FROM sys_events "
                        "WHERE tenant_id = :t AND event_type = :k ORDER BY id"
                    ),
                    {"t": self.tenant_id, "k": kind},
                )
            ).all()
        for row in rows:
            registry.load(row.event_type, row.payload, row.schema_version)
        return [dict(row.payload) for row in rows]


@pytest.fixture
async def shop(rustok_platform: Platform, make_tenant: Any) -> Shop:
    tenant = await make_tenant(modules=["commerce"])
    found = Shop(rustok_platform, tenant.id)
    await found.location("Main", 0)
    await found.location("Backup", 10)
    return found


async def test_ten_concurrent_orders_for_three_units_give_three_reservations_and_seven_out_of_stock(
    shop: Shop,
) -> None:
    variant, item = await shop.variant({"Main": 2, "Backup": 1})
    assert item is not None
    results = await asyncio.gather(
        *(shop.order_reserving([ReserveLine(variant, 1)]) for _ in range(10)), return_exceptions=True
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 3
    assert len(lost) == 7
    assert all(isinstance(e, Conflict) and e.details["reason"] == "OUT_OF_STOCK" for e in lost)
    assert all(e.details["variantId"] == str(variant) for e in lost)  # type: ignore[union-attr]
    assert all(e.details["requested"] == 1 and e.details["available"] == 0 for e in lost)  # type: ignore[union-attr]
    assert await shop.levels(item) == {"Main": (2, 2), "Backup": (1, 1)}
    # The losers' orders rolled back with their reservations: exactly three rows remain.
    async with shop.db.session(shop.tenant_id) as s:
        assert (await s.scalar(select(text("count(*)")).select_from(Reservation))) == 3


async def test_opposite_line_orders_on_two_items_never_deadlock(shop: Shop) -> None:
    first, first_item = await shop.variant({"Main": 20})
    second, second_item = await shop.variant({"Main": 20})
    assert first_item is not None and second_item is not None
    lines_a = [ReserveLine(first, 1), ReserveLine(second, 1)]
    lines_b = [ReserveLine(second, 1), ReserveLine(first, 1)]
    results = await asyncio.gather(*(shop.order_reserving(lines_a if i % 2 else lines_b) for i in range(12)))
    assert len(results) == 12
    assert await shop.levels(first_item) == {"Main": (20, 12)}
    assert await shop.levels(second_item) == {"Main": (20, 12)}


async def test_locations_are_drawn_by_priority_and_a_line_may_span_them(shop: Shop) -> None:
    variant, item = await shop.variant({"Main": 2, "Backup": 5})
    assert item is not None
    order, held = await shop.order_reserving([ReserveLine(variant, 4)])
    assert sorted(r.quantity for r in held) == [2, 2]
    assert await shop.levels(item) == {"Main": (2, 2), "Backup": (5, 2)}
    assert await shop.release(order) == 4
    assert await shop.levels(item) == {"Main": (2, 0), "Backup": (5, 0)}
    assert await shop.release(order) == 0


async def test_a_failed_line_writes_nothing_even_after_earlier_lines_reserved(shop: Shop) -> None:
    plenty, plenty_item = await shop.variant({"Main": 10})
    scarce, _ = await shop.variant({"Main": 1})
    assert plenty_item is not None
    with pytest.raises(Conflict) as caught:
        await shop.order_reserving([ReserveLine(plenty, 3), ReserveLine(scarce, 2)])
    assert caught.value.details == {
        "reason": "OUT_OF_STOCK",
        "variantId": str(scarce),
        "requested": 2,
        "available": 1,
    }
    assert await shop.levels(plenty_item) == {"Main": (10, 0)}
    assert await shop.events("commerce.inventory.updated") == []


async def test_unmanaged_variants_take_no_stock_and_managed_ones_without_items_have_none(shop: Shop) -> None:
    unmanaged, _ = await shop.variant(manage=False)
    _, held = await shop.order_reserving([ReserveLine(unmanaged, 50)])
    assert held == []
    itemless, _ = await shop.variant()
    with pytest.raises(Conflict) as caught:
        await shop.order_reserving([ReserveLine(itemless, 1)])
    assert caught.value.details["available"] == 0


async def test_a_backorder_variant_reserves_what_exists_and_sells_the_rest(shop: Shop) -> None:
    variant, item = await shop.variant({"Main": 2}, backorder=True)
    assert item is not None
    _, held = await shop.order_reserving([ReserveLine(variant, 5)])
    assert [r.quantity for r in held] == [2]
    assert await shop.levels(item) == {"Main": (2, 2)}
    _, held = await shop.order_reserving([ReserveLine(variant, 1)])
    assert held == []


async def test_a_kit_needs_every_item_and_counts_in_kit_units(shop: Shop) -> None:
    _, bolts = await shop.variant({"Main": 7})
    _, nuts = await shop.variant({"Main": 100})
    assert bolts is not None and nuts is not None
    kit, _ = await shop.variant(items=[(bolts, 3), (nuts, 3)])
    with pytest.raises(Conflict) as caught:
        await shop.order_reserving([ReserveLine(kit, 3)])
    assert (caught.value.details["requested"], caught.value.details["available"]) == (3, 2)
    await shop.order_reserving([ReserveLine(kit, 2)])
    assert await shop.levels(bolts) == {"Main": (7, 6)}
    assert await shop.levels(nuts) == {"Main": (100, 6)}


async def test_fulfilment_takes_stock_out_with_a_sale_adjustment_each(shop: Shop) -> None:
    variant, item = await shop.variant({"Main": 3, "Backup": 4})
    assert item is not None
    order, _ = await shop.order_reserving([ReserveLine(variant, 5)])
    other, _ = await shop.order_reserving([ReserveLine(variant, 1)])
    assert await shop.fulfil(order) == 5
    assert await shop.levels(item) == {"Main": (0, 0), "Backup": (2, 1)}
    assert await shop.fulfil(order) == 0
    async with shop.db.session(shop.tenant_id) as s:
        adjustments = (await s.scalars(select(InventoryAdjustment).order_by(InventoryAdjustment.delta))).all()
        assert [(a.reason, a.delta, a.stocked_after) for a in adjustments] == [("sale", -3, 0), ("sale", -2, 2)]
        assert len((await s.scalars(select(Reservation).where(Reservation.order_id == other))).all()) == 1
    assert await shop.release(other) == 1
    assert await shop.levels(item) == {"Main": (0, 0), "Backup": (2, 0)}


async def test_every_level_change_publishes_one_updated_event_with_its_reason(shop: Shop) -> None:
    variant, item = await shop.variant({"Main": 30, "Backup": 30})
    order, _ = await shop.order_reserving([ReserveLine(variant, 35)])
    await shop.release(order)
    order, _ = await shop.order_reserving([ReserveLine(variant, 2)])
    await shop.fulfil(order)
    events = await shop.events("commerce.inventory.updated")
    assert Counter(e["reason"] for e in events) == {"reserved": 3, "released": 2, "fulfilled": 1}
    first = events[0]
    assert first["inventory_item_id"] == str(item)
    assert first["variant_ids"] == [str(variant)]
    assert (first["stocked"], first["reserved"], first["available"]) == (30, 30, 0)
    assert events[-1]["reason"] == "fulfilled"
    assert (events[-1]["stocked"], events[-1]["reserved"]) == (28, 0)


async def test_low_stock_fires_once_when_available_crosses_the_threshold(shop: Shop) -> None:
    async with shop.db.session(shop.tenant_id) as s, s.begin():
        s.add(StoreSettings(low_stock_threshold=3))
    variant, item = await shop.variant({"Main": 4, "Backup": 4})
    await shop.order_reserving([ReserveLine(variant, 4)])  # 8 -> 4: above
    assert await shop.events("commerce.inventory.low") == []
    order, _ = await shop.order_reserving([ReserveLine(variant, 2)])  # 4 -> 2: crosses
    await shop.order_reserving([ReserveLine(variant, 1)])  # 2 -> 1: already below
    low = await shop.events("commerce.inventory.low")
    assert len(low) == 1
    assert low[0]["inventory_item_id"] == str(item)
    assert (low[0]["available"], low[0]["threshold"]) == (2, 3)
    await shop.release(order)  # 1 -> 3: back at the threshold, not above it
    await shop.order_reserving([ReserveLine(variant, 1)])  # 3 -> 2: did not come from above
    assert len(await shop.events("commerce.inventory.low")) == 1


async def test_the_default_threshold_is_five(shop: Shop) -> None:
    variant, _ = await shop.variant({"Main": 6})
    await shop.order_reserving([ReserveLine(variant, 1)])
    low = await shop.events("commerce.inventory.low")
    assert [(e["available"], e["threshold"]) for e in low] == [(5, 5)]
