"""No N+1: a page of products with every relation costs the same number of SQL queries at any size.

Measured on a platform booted with the event relay off, so that no background delivery
runs statements on the engine while the requests are counted.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image

from rustok_commerce.services.catalog import ProductService, variant_snapshots
from rustok_commerce.services.catalog_inputs import NewProduct, OptionInput, PriceInput, ProductText, VariantInput
from rustok_commerce.services.categories import CategoryText, ProductCategoryService
from rustok_commerce.services.images import ProductImageService
from rustok_commerce.services.prices import PriceService, TierInput
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.queries import count_queries

LIST = """
query($first: Int!) {
  products(first: $first, locale: "de") {
    edges { node {
      id status version title handle locale seoTitle availableLocales
      translations { locale title handle }
      options { title values { value } }
      variants {
        sku title
        options { option value }
        prices { amount currencyCode minQuantity priceListId }
        price(currencyCode: "EUR", quantity: 12) { unitPrice { amount } originalPrice { amount } onSale }
      }
      categories { handle name translations { locale name } }
      images { url alt width }
      priceRange(currencyCode: "EUR") { min { amount } max { amount } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

PUBLIC_LIST = LIST.replace("prices { amount currencyCode minQuantity priceListId }", "")


@pytest.fixture(scope="module")
async def quiet(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform: Platform = boot_platform(**{"rustok.events.relay": False})
    app = create_app(platform)
    header = platform.settings.rustok.tenant.header_name
    async with app.router.lifespan_context(app), RustokClient(app, tenant_header=header) as client:
        yield platform, client


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


async def fill(platform: Platform, tenant: Any, count: int) -> list[uuid.UUID]:
    """``count`` products in two locales with options, two variants, tiers, a sale, categories and an image."""
    ctx = platform.ctx
    categories = [
        await ProductCategoryService(ctx).create(
            tenant, translations=[CategoryText("en", f"Cat {n}"), CategoryText("de", f"Kat {n}")], actor_id=None
        )
        for n in range(3)
    ]
    sale = await PriceService(ctx).create_list(tenant, name="Sale", type="sale", actor_id=None)
    products = ProductService(ctx)
    ids = []
    for n in range(count):
        product = await products.create(
            tenant,
            NewProduct(
                translations=[ProductText("en", f"Product {n}"), ProductText("de", f"Produkt {n}", seo_title="SEO")],
                status="active",
                options=[OptionInput("Size", ["S", "M"])],
                variants=[
                    VariantInput(
                        options={"Size": size},
                        sku=f"P{n}-{size}",
                        prices=[PriceInput("EUR", 1000 + n), PriceInput("EUR", 900 + n, 10), PriceInput("USD", 1200)],
                    )
                    for size in ("S", "M")
                ],
                category_ids=[categories[n % 3].id, categories[(n + 1) % 3].id],
            ),
            actor_id=None,
        )
        variants = (await products.variants_of(tenant.id, [product.id]))[product.id]
        await PriceService(ctx).set_prices(
            tenant, variants[0].id, "EUR", [TierInput(500)], price_list_id=sale.id, actor_id=None
        )
        await ProductImageService(ctx).upload(
            tenant, product.id, filename=f"p{n}.png", data=png(), alt={"de": f"Bild {n}"}, actor_id=None
        )
        ids.append(product.id)
    return ids


async def test_listing_products_with_every_relation_costs_a_constant_number_of_queries(
    quiet: tuple[Platform, RustokClient], make_tenant: Any, make_user: Any
) -> None:
    platform, client = quiet
    tenant = await make_tenant(locales=["en", "de"], platform=platform)
    editor = await make_user(tenant, role="editor", platform=platform)
    await fill(platform, tenant, 52)

    # Warm the caches (tenant, grants) so that both measured requests do the same work.
    await client.graphql_data(LIST, {"first": 1}, headers=editor.headers)
    counts = {}
    for size in (5, 50):
        async with count_queries(platform) as counted:
            data = await client.graphql_data(LIST, {"first": size}, headers=editor.headers)
        edges = data["products"]["edges"]
        assert len(edges) == size
        node = edges[0]["node"]
        assert (node["locale"], node["seoTitle"], node["images"][0]["alt"]) == ("de", "SEO", f"Bild {51}")
        assert len(node["variants"]) == 2
        assert node["variants"][0]["price"]["unitPrice"]["amount"] == 500  # the sale
        assert node["variants"][1]["price"]["unitPrice"]["amount"] == 900 + 51  # the tier from 10
        assert node["priceRange"] == {"min": {"amount": 500}, "max": {"amount": 1051}}
        assert len(node["categories"]) == 2
        counts[size] = counted
    assert counts[5].count == counts[50].count, (str(counts[5]), str(counts[50]))
    # products, translations, options, option values, variants, picks, stored prices, resolved prices twice
    # (quantity 12 for price, 1 for priceRange), categories, category translations, images
    assert counts[50].count == 12, str(counts[50])

    # The storefront's listing too (visibility is decided once per request).
    await client.graphql_data(PUBLIC_LIST, {"first": 1}, tenant=tenant)
    public = {}
    for size in (5, 50):
        async with count_queries(platform) as counted:
            await client.graphql_data(PUBLIC_LIST, {"first": size}, tenant=tenant)
        public[size] = counted.count
    assert public[5] == public[50] == 11, public

    # REST: the same constant cost for a page of full product documents.
    rest = {}
    for size in (5, 50):
        async with count_queries(platform) as counted:
            response = await client.get("/api/v1/commerce/products", params={"first": size}, headers=editor.headers)
        assert len(response.json()["items"]) == size
        rest[size] = counted.count
    assert rest[5] == rest[50] == 9, rest


async def test_variant_snapshots_cost_two_queries_for_any_number_of_variants(
    quiet: tuple[Platform, RustokClient], make_tenant: Any
) -> None:
    platform, _ = quiet
    tenant = await make_tenant(locales=["en", "de"], platform=platform)
    ids = await fill(platform, tenant, 6)
    variants = await ProductService(platform.ctx).variants_of(tenant.id, ids)
    wanted = [v.id for found in variants.values() for v in found]
    async with platform.ctx.db.session(tenant.id) as session:
        async with count_queries(platform) as counted:
            found = await variant_snapshots(session, wanted, "de")
        assert counted.count == 2, str(counted)
        assert len(found) == 12
        assert {s.title for s in found.values()} >= {"Produkt 0 / S", "Produkt 5 / M"}
        async with count_queries(platform) as counted:
            await variant_snapshots(session, wanted[:1], "de")
        assert counted.count == 2, str(counted)
