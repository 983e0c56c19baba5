"""Demo shop for ``rustok seed demo`` (and the isolation tests): every kind of commerce row.

A published product with two options and four variants priced in EUR and USD (with a
quantity tier and a sale list), a category, two stock locations with stock, a shipping
option, a tax rate, and a guest order placed through the real checkout.
"""

from __future__ import annotations

import secrets
import uuid

from rustok_commerce.services.carts import CartService, Viewer
from rustok_commerce.services.catalog import ProductService
from rustok_commerce.services.catalog_inputs import NewProduct, OptionInput, PriceInput, ProductText, VariantInput
from rustok_commerce.services.categories import CategoryText, ProductCategoryService
from rustok_commerce.services.checkout import checkout
from rustok_commerce.services.inventory import InventoryService
from rustok_commerce.services.prices import PriceService, TierInput
from rustok_commerce.services.store import StoreService
from rustok_core.context import AppContext
from rustok_core.interfaces import TenantResolver

GUEST = Viewer()
ADDRESS = {
    "first_name": "Demo",
    "last_name": "Shopper",
    "line1": "1 Market Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country_code": "DE",
}


async def seed(ctx: AppContext, tenant_id: uuid.UUID) -> None:
    tenant = await ctx.services.get(TenantResolver).by_id(tenant_id)
    locale = tenant.default_locale
    marker = secrets.token_hex(3)
    category = await ProductCategoryService(ctx).create(
        tenant,
        handle=f"apparel-{marker}",
        translations=[CategoryText(locale, "Apparel", "Shirts and more")],
        actor_id=None,
    )
    variants = [
        VariantInput(
            options={"Size": size, "Color": color},
            sku=f"DEMO-{marker}-{size}-{color}".upper(),
            weight=220,
            prices=[
                PriceInput("EUR", 2500),
                PriceInput("EUR", 2200, min_quantity=10),
                PriceInput("USD", 2700),
            ],
        )
        for size in ("S", "M")
        for color in ("red", "blue")
    ]
    products = ProductService(ctx)
    product = await products.create(
        tenant,
        NewProduct(
            translations=[
                ProductText(
                    locale,
                    title="Demo T-Shirt",
                    subtitle="Organic cotton",
                    handle=f"demo-t-shirt-{marker}",
                    description="A soft shirt to try the shop with.",
                    seo_title="Demo T-Shirt",
                )
            ],
            options=[OptionInput("Size", ["S", "M"]), OptionInput("Color", ["red", "blue"])],
            variants=variants,
            category_ids=[category.id],
            status="draft",
        ),
        actor_id=None,
    )
    await products.publish(tenant, product.id, actor_id=None)
    variant_ids = [variant.id for variant in (await products.variants_of(tenant.id, [product.id]))[product.id]]

    sale = await PriceService(ctx).create_list(tenant, name=f"Demo sale {marker}", type="sale", actor_id=None)
    await PriceService(ctx).set_prices(
        tenant, variant_ids[0], "EUR", [TierInput(amount=1990)], price_list_id=sale.id, actor_id=None
    )

    inventory = InventoryService(ctx)
    warehouse = await inventory.create_location(tenant.id, name=f"Warehouse {marker}", priority=0)
    shop = await inventory.create_location(tenant.id, name=f"Shop {marker}", priority=1)
    for variant_id in variant_ids:
        await inventory.set_level(
            tenant.id, location_id=warehouse.id, variant_id=variant_id, stocked=20, reason="restock", actor_id=None
        )
        await inventory.set_level(
            tenant.id, location_id=shop.id, variant_id=variant_id, stocked=5, reason="restock", actor_id=None
        )

    store = StoreService(ctx)
    shipping = await store.create_shipping_option(
        tenant.id, code=f"standard-{marker}", name="Standard", currency_code="EUR", amount=490, free_above=10_000
    )
    await store.upsert_tax_rate(tenant.id, country_code="DE", province=None, name="VAT", rate_bp=1900)

    carts = CartService(ctx)
    cart = await carts.create(tenant, GUEST, currency_code="EUR", email=f"shopper-{marker}@demo.example")
    cart_id = cart.cart.id
    await carts.add_line(tenant.id, cart_id, GUEST, variant_id=variant_ids[0], quantity=2)
    await carts.set_address(tenant.id, cart_id, GUEST, kind="shipping", address=dict(ADDRESS))
    await carts.set_shipping_option(tenant.id, cart_id, GUEST, option_id=shipping.id)
    await checkout(ctx, tenant, cart_id, f"demo-{marker}", actor=None)
