"""A small shop for the orders tests: stock, prices, shipping, tax and carts ready to check out.

Not a conftest: each test module imports :class:`Store` (tests run with
``--import-mode=importlib``, so the test files put this directory on ``sys.path``).
Catalog and stock rows are written through the ORM (the shape checkout reads); carts
go through :class:`CartService`, as a shopper's would.

Numbers every test can compute by hand: the shipping option ``standard`` costs 4.99
EUR (``499``) to Germany, German tax is 19 % on lines and on shipping, rounded half up
per line.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text

from rustok_commerce.models import (
    InventoryItem,
    InventoryLevel,
    Price,
    Product,
    ProductTranslation,
    ShippingOption,
    StockLocation,
    TaxRate,
    Variant,
    VariantInventoryItem,
)
from rustok_commerce.services.carts import CartService, Viewer
from rustok_commerce.services.checkout import checkout
from rustok_commerce.services.orders import OrderService
from rustok_core.context import AppContext, TenantContext
from rustok_outbox.runtime import runtime_of
from rustok_server.boot import Platform

ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "line1": "Hauptstr. 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country_code": "DE",
}
SHIPPING = 499
TAX_BP = 1900


@dataclass
class Store:
    platform: Platform
    tenant: TenantContext
    locations: dict[str, uuid.UUID] = field(default_factory=dict)
    shipping_option_id: uuid.UUID | None = None

    @classmethod
    async def open(cls, platform: Platform, tenant: TenantContext) -> Store:
        """Two stock locations, flat-rate shipping to Germany and German tax."""
        store = cls(platform, tenant)
        async with store.db.session(tenant.id) as s, s.begin():
            for name, priority in (("main", 0), ("backup", 1)):
                location = StockLocation(name=name, priority=priority)
                s.add(location)
                await s.flush()
                store.locations[name] = location.id
            option = ShippingOption(
                code="standard",
                name="Standard",
                provider="flat_rate",
                currency_code="EUR",
                amount=SHIPPING,
                countries=["DE"],
            )
            s.add(option)
            s.add(TaxRate(country_code="DE", province="", name="MwSt", rate_bp=TAX_BP, applies_to_shipping=True))
            await s.flush()
            store.shipping_option_id = option.id
        return store

    @property
    def ctx(self) -> AppContext:
        return self.platform.ctx

    @property
    def db(self) -> Any:
        return self.platform.ctx.db

    async def variant(
        self, title: str, *, price: int, stock: dict[str, int] | None = None, currency: str = "EUR"
    ) -> tuple[uuid.UUID, uuid.UUID | None]:
        """An active product with one variant priced ``price``; with ``stock``, an item stocked per location."""
        async with self.db.session(self.tenant.id) as s, s.begin():
            product = Product(status="active")
            s.add(product)
            await s.flush()
            handle = f"{title.lower().replace(' ', '-')}-{uuid.uuid4().hex[:6]}"
            s.add(ProductTranslation(product_id=product.id, locale="en", title=title, handle=handle))
            variant = Variant(product_id=product.id, title="Default", sku=f"SKU-{uuid.uuid4().hex[:10]}")
            s.add(variant)
            await s.flush()
            s.add(Price(variant_id=variant.id, currency_code=currency, amount=price, min_quantity=1))
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
            return variant.id, item_id

    async def cart(
        self,
        lines: list[tuple[uuid.UUID, int]],
        *,
        customer: uuid.UUID | None = None,
        email: str | None = "shopper@example.com",
        ship: bool = True,
    ) -> uuid.UUID:
        """A cart with ``lines`` (variant, quantity), the German address and standard shipping."""
        carts = CartService(self.ctx)
        viewer = Viewer(user_id=customer)
        cart = (await carts.create(self.tenant, viewer, currency_code="EUR", email=email)).cart
        for variant_id, quantity in lines:
            await carts.add_line(self.tenant.id, cart.id, viewer, variant_id=variant_id, quantity=quantity)
        if ship:
            await carts.set_address(self.tenant.id, cart.id, viewer, kind="shipping", address=dict(ADDRESS))
            await carts.set_shipping_option(self.tenant.id, cart.id, viewer, option_id=self.shipping_option_id)
        return cart.id

    async def checkout(self, cart_id: uuid.UUID, key: str | None = None, *, customer: uuid.UUID | None = None) -> Any:
        return await checkout(self.ctx, self.tenant, cart_id, uuid.uuid4().hex if key is None else key, actor=customer)

    async def checkout_many(self, calls: list[tuple[uuid.UUID, str, uuid.UUID | None]]) -> list[Any]:
        """Run checkouts at once; each result is the order or the exception raised."""
        return await asyncio.gather(
            *(checkout(self.ctx, self.tenant, cart, key, actor=actor) for cart, key, actor in calls),
            return_exceptions=True,
        )

    @property
    def orders(self) -> OrderService:
        return OrderService(self.ctx)

    async def stock(self, item_id: uuid.UUID | None) -> tuple[int, int]:
        """``(stocked, reserved)`` of an item over every location."""
        async with self.db.session(self.tenant.id) as s:
            row = (
                await s.execute(
                    select(
                        func.coalesce(func.sum(InventoryLevel.stocked_quantity), 0),
                        func.coalesce(func.sum(InventoryLevel.reserved_quantity), 0),
                    ).where(InventoryLevel.inventory_item_id == item_id)
                )
            ).one()
            return int(row[0]), int(row[1])

    async def count(self, table: str) -> int:
        """Rows of a commerce table that belong to this tenant."""
        async with self.db.engine.connect() as conn:
            value = await conn.scalar(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": self.tenant.id})
            return int(value or 0)

    # -- the outbox ---------------------------------------------------------------------------

    async def event_ids(self) -> set[uuid.UUID]:
        return {row.id for row in await self._events()}

    async def events_since(self, seen: set[uuid.UUID]) -> list[Any]:
        """Events stored since ``seen`` was taken, in order; each payload must load in the registry."""
        registry = runtime_of(self.ctx).registry
        rows = [row for row in await self._events() if row.id not in seen]
        for row in rows:
            registry.load(row.event_type, row.payload, row.schema_version)
        return rows

    @staticmethod
    def kinds(events: list[Any], prefix: str = "commerce.") -> Counter[str]:
        return Counter(e.event_type for e in events if e.event_type.startswith(prefix))

    async def _events(self) -> list[Any]:
        async with self.db.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT id, event_type, schema_version, payload, actor_id FROM sys_events "
                    "WHERE tenant_id = :t ORDER BY id"
                ),
                {"t": self.tenant.id},
            )
            return list(result.all())
