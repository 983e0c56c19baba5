"""Scenario: a shop's products reach the storefront through the index, and leave it.

tenant (en, de) → commerce enabled for it → a product created and published with EUR
prices and stock → the events are delivered → ``catalogProducts``, ``catalogProduct``
and ``search`` find it (each answered from the index) → its price changes → the index
shows the new price (price filters and sorts, the product page) → commerce disabled for
the tenant: its admin API answers ``MODULE_DISABLED`` and the storefront lists nothing
of it → enabled again, it is back. Archived, deleted, or sold out (``inStock``), a
product leaves the lists; every other write that changes what a product document shows
(variants, price lists and their windows, stock, categories, images, text and tags)
reaches the index through commerce's events.

The platform runs with its relay off; ``deliver_events`` delivers what the writes
published, so every step is deterministic (no sleeps). Tenants are created with the
tenant directory as every top-level test does (the platform has no tenant-creating API
yet); modules are switched with ``toggleModule``, as an admin would.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text
from starlette.applications import Starlette

from rustok_commerce.services.price_windows import announce_passed_windows
from rustok_core.context import TenantContext
from rustok_core.interfaces import TenantDirectory
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.events import deliver_events
from rustok_testing.plugin import BootPlatform, SignedInUser

PRODUCT_FIELDS = (
    "id locale handle title subtitle status prices { currency min max } currencies totalStock inStock "
    "categories { handle name } tags seoTitle seoDescription thumbnail publishedAt extra"
)
CATALOG = f"""
query($locale: String, $filter: CatalogFilter, $sort: CatalogSort, $first: Int) {{
  catalogProducts(locale: $locale, filter: $filter, sort: $sort, first: $first) {{
    edges {{ node {{ {PRODUCT_FIELDS} }} }}
  }}
}}"""
BY_HANDLE = f"query($h: String!, $l: String) {{ catalogProduct(handle: $h, locale: $l) {{ {PRODUCT_FIELDS} }} }}"
SEARCH = """
query($q: String!, $l: String) {
  search(query: $q, locale: $l, types: [PRODUCT]) {
    edges { node { type id title handle titleHighlight product { prices { currency min max } } } }
  }
}"""
TOGGLE = 'mutation($on: Boolean!) { toggleModule(slug: "commerce", enabled: $on) { slug enabledForTenant } }'
LOCATION = "mutation($i: StockLocationInput!) { createStockLocation(input: $i) { id } }"
CATEGORY = "mutation($i: CreateProductCategoryInput!) { createProductCategory(input: $i) { id handle version } }"
CREATE = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { id version handle variants { id sku version } }
}"""
PUBLISH = "mutation($id: UUID!) { publishProduct(id: $id) { status version } }"
ARCHIVE = "mutation($id: UUID!) { archiveProduct(id: $id) { status } }"
DELETE = "mutation($id: UUID!) { deleteProduct(id: $id) }"
SET_PRICES = """
mutation($v: UUID!, $c: String!, $p: [PriceTierInput!]!, $l: UUID) {
  setVariantPrices(variantId: $v, currencyCode: $c, prices: $p, priceListId: $l) { id }
}"""
SET_STOCK = """
mutation($v: UUID!, $loc: UUID!, $n: Int!) {
  setInventoryLevel(input: {variantId: $v, locationId: $loc, stocked: $n}) { stocked available }
}"""
ADMIN_PRODUCTS = "{ products(first: 5) { edges { node { id } } } }"


@pytest.fixture(scope="module")
def platform(boot_platform: BootPlatform) -> Platform:
    return boot_platform(**{"rustok.events.relay": False})


@pytest.fixture(scope="module")
async def client(platform: Platform) -> AsyncIterator[RustokClient]:
    app: Starlette = create_app(platform)
    async with (
        app.router.lifespan_context(app),
        RustokClient(app, tenant_header=platform.settings.rustok.tenant.header_name) as http,
    ):
        yield http


def picture() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


class Shop:
    """A tenant with commerce on and an admin writing through the GraphQL admin API."""

    def __init__(self, client: RustokClient, platform: Platform, tenant: TenantContext, admin: SignedInUser) -> None:
        self.client = client
        self.platform = platform
        self.tenant = tenant
        self.admin = admin
        self.location = ""

    async def admin_call(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.client.graphql(document, variables, headers=self.admin.headers)

    async def mutate(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.client.graphql_data(document, variables, headers=self.admin.headers)

    async def public(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.client.graphql_data(document, variables, tenant=self.tenant)

    async def product(
        self,
        title: str,
        *,
        eur: int = 2500,
        stock: int | None = 5,
        german: str | None = None,
        categories: list[str] | None = None,
        tags: list[str] | None = None,
        sizes: list[str] | None = None,
        publish: bool = True,
        sku: str | None = None,
        translations: list[dict[str, Any]] | None = None,
        **translation: Any,
    ) -> dict[str, Any]:
        """A product with one variant (the first of ``sizes``, if given) priced ``eur`` cents and
        ``stock`` units at the shop's location (``None``: its stock is never set)."""
        texts = [{"locale": "en", "title": title, **translation}, *(translations or [])]
        if german:
            texts.append({"locale": "de", "title": german})
        variant: dict[str, Any] = {"prices": [{"currencyCode": "EUR", "amount": eur}]}
        if sku:
            variant["sku"] = sku
        if sizes:
            variant["options"] = [{"option": "Size", "value": sizes[0]}]
        created = (
            await self.mutate(
                CREATE,
                {
                    "input": {
                        "translations": texts,
                        "options": [{"title": "Size", "values": sizes}] if sizes else [],
                        "variants": [variant],
                        "categoryIds": categories or [],
                        "metadata": {"tags": tags} if tags else None,
                    }
                },
            )
        )["createProduct"]
        if stock is not None:
            await self.stock(created["variants"][0]["id"], stock)
        if publish:
            await self.mutate(PUBLISH, {"id": created["id"]})
        product: dict[str, Any] = created
        return product

    async def stock(self, variant_id: str, units: int) -> None:
        await self.mutate(SET_STOCK, {"v": variant_id, "loc": self.location, "n": units})

    async def listed(self, **variables: Any) -> list[dict[str, Any]]:
        data = await self.public(CATALOG, variables)
        return [edge["node"] for edge in data["catalogProducts"]["edges"]]

    async def titles(self, **variables: Any) -> list[str]:
        return [node["title"] for node in await self.listed(**variables)]

    async def page(self, handle: str, locale: str | None = None) -> dict[str, Any] | None:
        found: dict[str, Any] | None = (await self.public(BY_HANDLE, {"h": handle, "l": locale}))["catalogProduct"]
        return found

    async def found(self, query: str, locale: str | None = None) -> list[str]:
        data = await self.public(SEARCH, {"q": query, "l": locale})
        return [edge["node"]["title"] for edge in data["search"]["edges"]]


@pytest.fixture
async def shop(client: RustokClient, platform: Platform, make_tenant: Any, make_user: Any) -> Shop:
    tenant = await make_tenant(platform=platform, locales=["en", "de"], modules=[])
    admin = await make_user(tenant, role="admin", platform=platform)
    shop = Shop(client, platform, tenant, admin)
    assert error_codes(await shop.admin_call(ADMIN_PRODUCTS)) == ["MODULE_DISABLED"]  # off until switched on
    toggled = await shop.mutate(TOGGLE, {"on": True})
    assert toggled["toggleModule"] == {"slug": "commerce", "enabledForTenant": True}
    shop.location = (await shop.mutate(LOCATION, {"i": {"name": "Warehouse"}}))["createStockLocation"]["id"]
    await deliver_events(platform)
    return shop


def eur(node: dict[str, Any]) -> tuple[int, int]:
    [price] = [p for p in node["prices"] if p["currency"] == "EUR"]
    return price["min"], price["max"]


async def test_a_published_product_is_listed_found_repriced_and_gone_with_commerce(
    shop: Shop, platform: Platform
) -> None:
    assert "commerce" in (await shop.public("{ enabledModules }"))["enabledModules"]
    linen = (
        await shop.mutate(
            CATEGORY, {"i": {"translations": [{"locale": "en", "name": "Linen"}, {"locale": "de", "name": "Leinen"}]}}
        )
    )["createProductCategory"]
    shirt = await shop.product(
        "Linen Shirt",
        eur=2500,
        stock=7,
        german="Leinenhemd",
        categories=[linen["id"]],
        tags=["summer"],
        subtitle="Breezy",
        description="Woven from flax.",
        seoTitle="Linen Shirt | Shop",
    )
    await shop.product("Wool Coat", eur=9900, stock=2)
    # Nothing reaches the storefront before the events are delivered.
    assert await shop.titles() == []
    await deliver_events(platform)

    [coat, listed] = await shop.listed()
    assert (listed["id"], listed["handle"], listed["title"], listed["locale"]) == (
        shirt["id"],
        "linen-shirt",
        "Linen Shirt",
        "en",
    )
    assert (listed["subtitle"], listed["status"], listed["seoTitle"]) == ("Breezy", "active", "Linen Shirt | Shop")
    assert listed["prices"] == [{"currency": "EUR", "min": 2500, "max": 2500}] and listed["currencies"] == ["EUR"]
    assert (listed["totalStock"], listed["inStock"], listed["tags"]) == (7, True, ["summer"])
    assert listed["categories"] == [{"handle": linen["handle"], "name": "Linen"}]
    assert listed["publishedAt"] and coat["title"] == "Wool Coat"
    german = next(node for node in await shop.listed(locale="de") if node["id"] == shirt["id"])
    assert (german["title"], german["categories"][0]["name"]) == ("Leinenhemd", "Leinen")
    assert await shop.titles(filter={"categoryHandle": linen["handle"]}) == ["Linen Shirt"]

    page = await shop.page("linen-shirt")
    assert page is not None and (page["title"], eur(page)) == ("Linen Shirt", (2500, 2500))
    assert await shop.found("flax") == ["Linen Shirt"]
    assert await shop.found("Leinenhemd", "de") == ["Leinenhemd"]

    # A new price: the index shows it in the price filters, the price sort and the product page.
    under_20 = {"currency": "EUR", "maxPrice": 2000}
    assert await shop.titles(filter=under_20) == []
    await shop.mutate(SET_PRICES, {"v": shirt["variants"][0]["id"], "c": "EUR", "p": [{"amount": 1900}]})
    await deliver_events(platform)
    assert await shop.titles(filter=under_20) == ["Linen Shirt"]
    cheapest_first = await shop.listed(filter={"currency": "EUR"}, sort="PRICE_ASC")
    assert [(n["title"], eur(n)) for n in cheapest_first] == [
        ("Linen Shirt", (1900, 1900)),
        ("Wool Coat", (9900, 9900)),
    ]
    assert await shop.titles(filter={"currency": "EUR", "minPrice": 2000}) == ["Wool Coat"]
    page = await shop.page("linen-shirt")
    assert page is not None and eur(page) == (1900, 1900)
    search = await shop.public(SEARCH, {"q": "linen"})
    assert search["search"]["edges"][0]["node"]["product"]["prices"] == [{"currency": "EUR", "min": 1900, "max": 1900}]

    # Commerce switched off: its admin API answers MODULE_DISABLED; the storefront lists none of it, at once.
    await shop.mutate(TOGGLE, {"on": False})
    assert error_codes(await shop.admin_call(ADMIN_PRODUCTS)) == ["MODULE_DISABLED"]
    refused = await shop.admin_call(SET_PRICES, {"v": shirt["variants"][0]["id"], "c": "EUR", "p": [{"amount": 1}]})
    assert error_codes(refused) == ["MODULE_DISABLED"]
    assert await shop.titles() == []
    assert await shop.page("linen-shirt") is None
    assert await shop.found("linen") == []
    await deliver_events(platform)
    assert await index_rows(platform, shop.tenant) == []

    # On again: its products are rebuilt into the index, at the price they have.
    await shop.mutate(TOGGLE, {"on": True})
    await deliver_events(platform)
    assert [(n["title"], eur(n)) for n in await shop.listed(sort="TITLE")] == [
        ("Linen Shirt", (1900, 1900)),
        ("Wool Coat", (9900, 9900)),
    ]


async def test_archived_deleted_and_sold_out_products_leave_the_lists(shop: Shop, platform: Platform) -> None:
    archived = await shop.product("Archived Anorak")
    deleted = await shop.product("Deleted Duffle")
    sold_out = await shop.product("Sold-out Sandals", stock=3)
    await shop.product("Draft Dungarees", publish=False)
    await deliver_events(platform)
    assert await shop.titles(sort="TITLE") == ["Archived Anorak", "Deleted Duffle", "Sold-out Sandals"]
    assert await shop.titles(filter={"inStock": True}, sort="TITLE") == [
        "Archived Anorak",
        "Deleted Duffle",
        "Sold-out Sandals",
    ]

    await shop.mutate(ARCHIVE, {"id": archived["id"]})
    await shop.mutate(DELETE, {"id": deleted["id"]})
    await shop.stock(sold_out["variants"][0]["id"], 0)
    await deliver_events(platform)
    assert await shop.titles() == ["Sold-out Sandals"]
    assert await shop.titles(filter={"inStock": True}) == []
    [sandals] = await shop.listed(filter={"inStock": False})
    assert (sandals["totalStock"], sandals["inStock"]) == (0, False)
    assert await shop.page("archived-anorak") is None and await shop.page("deleted-duffle") is None
    assert await shop.found("anorak") == [] and await shop.found("duffle") == []

    # Back in stock, and the archived one published again.
    await shop.stock(sold_out["variants"][0]["id"], 1)
    await shop.mutate(PUBLISH, {"id": archived["id"]})
    await deliver_events(platform)
    assert await shop.titles(filter={"inStock": True}, sort="TITLE") == ["Archived Anorak", "Sold-out Sandals"]


async def test_every_write_that_changes_a_document_reaches_the_index(shop: Shop, platform: Platform) -> None:
    clothing = (
        await shop.mutate(
            CATEGORY, {"i": {"handle": "clothing", "translations": [{"locale": "en", "name": "Clothing"}]}}
        )
    )["createProductCategory"]
    shirts = (
        await shop.mutate(
            CATEGORY,
            {
                "i": {
                    "handle": "shirts",
                    "parentId": clothing["id"],
                    "translations": [{"locale": "en", "name": "Shirts"}],
                }
            },
        )
    )["createProductCategory"]
    tee = await shop.product("Plain Tee", eur=1500, stock=4, categories=[shirts["id"]], sizes=["M", "XL"])
    await deliver_events(platform)

    async def tee_now() -> dict[str, Any]:
        page = await shop.page("plain-tee")
        assert page is not None
        return page

    # The parent category finds it (documents list ancestors).
    assert await shop.titles(filter={"categoryHandle": "clothing"}) == ["Plain Tee"]

    # Text and tags (product.updated).
    await shop.mutate(
        "mutation($id: UUID!, $v: Int!, $i: UpdateProductInput!) { updateProduct(id: $id, version: $v, input: $i) "
        "{ version } }",
        {
            "id": tee["id"],
            "v": (await shop.mutate(PRODUCT_VERSION, {"id": tee["id"]}))["product"]["version"],
            "i": {"translations": [{"locale": "en", "subtitle": "Organic"}], "metadata": {"tags": ["basics"]}},
        },
    )
    await deliver_events(platform)
    page = await tee_now()
    assert (page["subtitle"], page["tags"]) == ("Organic", ["basics"])

    # A second variant (variant.created + price.updated), then its price and stock policy (variant.updated).
    second = (
        await shop.mutate(
            "mutation($p: UUID!, $i: CreateVariantInput!) { createVariant(productId: $p, input: $i) { id version } }",
            {
                "p": tee["id"],
                "i": {
                    "options": [{"option": "Size", "value": "XL"}],
                    "prices": [{"currencyCode": "EUR", "amount": 2100}],
                },
            },
        )
    )["createVariant"]
    await deliver_events(platform)
    page = await tee_now()
    assert (eur(page), page["extra"]["variant_count"]) == ((1500, 2100), 2)

    # Stock to zero for the first: the second (no stock) takes backorders, so it is still buyable.
    await shop.stock(tee["variants"][0]["id"], 0)
    await deliver_events(platform)
    assert (await tee_now())["inStock"] is False
    await shop.mutate(
        "mutation($id: UUID!, $v: Int!) { updateVariant(id: $id, version: $v, input: {allowBackorder: true}) { id } }",
        {"id": second["id"], "v": second["version"]},
    )
    await deliver_events(platform)
    assert ((await tee_now())["inStock"], (await tee_now())["totalStock"]) == (True, 0)

    # A sale list (price_list.changed, price.updated), switched off again (price_list.changed).
    sale = (
        await shop.mutate(
            "mutation($i: CreatePriceListInput!) { createPriceList(input: $i) { id version } }",
            {"i": {"name": "Sale", "type": "SALE"}},
        )
    )["createPriceList"]
    await shop.mutate(SET_PRICES, {"v": second["id"], "c": "EUR", "p": [{"amount": 1000}], "l": sale["id"]})
    await deliver_events(platform)
    page = await tee_now()
    assert (eur(page), page["extra"]["original_prices"]) == ((1000, 1500), {"EUR": {"min": 1500, "max": 2100}})
    await shop.mutate(
        "mutation($id: UUID!, $v: Int!) { updatePriceList(id: $id, version: $v, input: {isActive: false}) { id } }",
        {"id": sale["id"], "v": sale["version"]},
    )
    await deliver_events(platform)
    page = await tee_now()
    assert eur(page) == (1500, 2100) and "original_prices" not in page["extra"]

    # A sale that starts later: announced when the clock passes its start (price_list.changed, window).
    starts = datetime.now(UTC) + timedelta(hours=1)
    later = (
        await shop.mutate(
            "mutation($i: CreatePriceListInput!) { createPriceList(input: $i) { id } }",
            {"i": {"name": "Later", "type": "SALE", "startsAt": starts.isoformat()}},
        )
    )["createPriceList"]
    await shop.mutate(SET_PRICES, {"v": second["id"], "c": "EUR", "p": [{"amount": 500}], "l": later["id"]})
    await deliver_events(platform)
    page = await tee_now()
    assert eur(page) == (1500, 2100) and page["extra"]["prices_change_at"] == starts.isoformat()
    # The clock passes the start: the list's window is moved into the past as an hour would have done.
    async with platform.ctx.db.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE commerce_price_lists SET starts_at = now() - interval '1 second', "
                "window_checked_at = now() - interval '1 hour' WHERE id = :id"
            ),
            {"id": later["id"]},
        )
    assert await announce_passed_windows(platform.ctx) >= 1
    await deliver_events(platform)
    page = await tee_now()
    assert eur(page) == (500, 1500) and "prices_change_at" not in page["extra"]

    # The variant deleted (variant.deleted).
    await shop.mutate("mutation($id: UUID!) { deleteVariant(id: $id) }", {"id": second["id"]})
    await deliver_events(platform)
    page = await tee_now()
    assert (eur(page), page["inStock"], page["extra"]["variant_count"]) == ((1500, 1500), False, 1)

    # Categories renamed, hidden, moved and deleted (category.updated / deleted name every product below).
    await shop.mutate(
        "mutation($id: UUID!, $v: Int!) { updateProductCategory(id: $id, version: $v, "
        'input: {translations: [{locale: "en", name: "Apparel"}]}) { version } }',
        {"id": clothing["id"], "v": clothing["version"]},
    )
    await deliver_events(platform)
    assert (await tee_now())["categories"] == [
        {"handle": "shirts", "name": "Shirts"},
        {"handle": "clothing", "name": "Apparel"},
    ]
    await shop.mutate(
        "mutation($id: UUID!, $v: Int!) { updateProductCategory(id: $id, version: $v, input: {isActive: false}) "
        "{ version } }",
        {"id": clothing["id"], "v": clothing["version"] + 1},
    )
    await deliver_events(platform)
    assert (await tee_now())["categories"] == []  # a hidden parent hides what is below it
    assert await shop.titles(filter={"categoryHandle": "shirts"}) == []
    await shop.mutate(
        "mutation($id: UUID!, $v: Int!) { moveProductCategory(id: $id, version: $v, parentId: null) { version } }",
        {"id": shirts["id"], "v": shirts["version"]},
    )
    await deliver_events(platform)
    assert (await tee_now())["categories"] == [{"handle": "shirts", "name": "Shirts"}]
    await shop.mutate("mutation($id: UUID!) { deleteProductCategory(id: $id) }", {"id": shirts["id"]})
    await deliver_events(platform)
    assert (await tee_now())["categories"] == []

    # An image (product.updated, images): the thumbnail is its public URL.
    uploaded = await shop.client.post(
        f"/api/v1/commerce/products/{tee['id']}/images",
        files={"file": ("tee.png", picture(), "image/png")},
        data={"locale": "en", "alt": "A plain tee"},
        headers=shop.admin.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    await deliver_events(platform)
    page = await tee_now()
    assert page["thumbnail"] == f"/api/v1/commerce/images/{uploaded.json()['id']}/file"
    assert page["extra"]["thumbnail_alt"] == "A plain tee"
    served = await shop.client.get(page["thumbnail"], headers=shop.client.tenant_headers(shop.tenant))
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"


async def test_a_variant_linked_by_sku_to_stocked_inventory_is_listed_in_stock(shop: Shop, platform: Platform) -> None:
    # The first mug's variant leaves; its inventory item (SKU MUG-1, 7 units) stays.
    first = await shop.product("First Mug", stock=7, sku="MUG-1")
    await shop.mutate("mutation($id: UUID!) { deleteVariant(id: $id) }", {"id": first["variants"][0]["id"]})
    second = await shop.product("Second Mug", stock=None, sku="MUG-1")
    await deliver_events(platform)
    assert (await shop.page("second-mug") or {}).get("inStock") is False

    # Counting the item's 7 units for the new variant links it to that item: no level changes,
    # yet the product now sells those units, so the index must hear of it.
    await shop.stock(second["variants"][0]["id"], 7)
    await deliver_events(platform)
    page = await shop.page("second-mug")
    assert page is not None and (page["inStock"], page["totalStock"]) == (True, 7)
    assert await shop.titles(filter={"inStock": True}) == ["Second Mug"]


async def test_a_new_default_locale_changes_the_fallback_texts_in_the_index(shop: Shop, platform: Platform) -> None:
    directory = platform.ctx.services.get(TenantDirectory)
    await directory.update(shop.tenant.id, locales=["en", "de", "fr"])
    mugs = (
        await shop.mutate(
            CATEGORY,
            {
                "i": {
                    "handle": "mugs",
                    "translations": [{"locale": "en", "name": "Mugs"}, {"locale": "de", "name": "Tassen"}],
                }
            },
        )
    )["createProductCategory"]
    await shop.product("Mug", categories=[mugs["id"]], translations=[{"locale": "fr", "title": "Tasse"}])
    await deliver_events(platform)
    # No French name: the French row takes the default locale's.
    assert (await shop.page("mug", "fr") or {}).get("categories") == [{"handle": "mugs", "name": "Mugs"}]

    await directory.update(shop.tenant.id, default_locale="de")
    await deliver_events(platform)
    assert (await shop.page("mug", "fr") or {}).get("categories") == [{"handle": "mugs", "name": "Tassen"}]
    assert (await shop.page("mug", "en") or {}).get("categories") == [{"handle": "mugs", "name": "Mugs"}]
    assert await shop.titles(locale="fr") == ["Tasse"]


async def test_a_rebuild_restores_the_products_from_commerce(shop: Shop, platform: Platform) -> None:
    for n in range(6):
        await shop.product(f"Rebuilt {n}", eur=1000 + n, german=f"Neu gebaut {n}")
    await deliver_events(platform)
    before = await index_rows(platform, shop.tenant)
    assert len(before) == 12

    async with platform.ctx.db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM index_products WHERE tenant_id = :t"), {"t": shop.tenant.id})
    result = await shop.mutate("mutation { rebuildIndex(type: PRODUCT) { types entities written removed } }")
    assert result["rebuildIndex"] == {"types": ["PRODUCT"], "entities": 6, "written": 12, "removed": 0}
    assert [row[1:] for row in await index_rows(platform, shop.tenant)] == [row[1:] for row in before]


PRODUCT_VERSION = "query($id: UUID!) { product(id: $id) { version } }"


async def index_rows(platform: Platform, tenant: TenantContext) -> list[Any]:
    """The tenant's product rows, without their write time (which every write renews)."""
    async with platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, product_id, locale, module, handle, title, status, prices, total_stock, has_stock, "
                "categories, tags, thumbnail, published_at, search_vector::text FROM index_products "
                "WHERE tenant_id = :t ORDER BY product_id, locale"
            ),
            {"t": tenant.id},
        )
        return list(rows.all())
