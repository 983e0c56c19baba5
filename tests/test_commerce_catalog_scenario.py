"""Scenario: a shop keeper builds a product, prices it in two currencies, publishes it; shoppers read it.

tenant (en, de) → category → product with Size (S, M) x Color (red, blue) = four variants, EUR
and USD prices with a quantity tier → an image → a sale → published → the storefront reads it
in German, in English and in a locale it does not have (falling back to the default) → every
write left exactly one event per change in the outbox, each payload valid for the registry.
"""

from __future__ import annotations

import io
import uuid
from collections import Counter
from typing import Any

from PIL import Image
from sqlalchemy import text

from rustok_outbox.runtime import runtime_of
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient

CREATE_CATEGORY = "mutation($i: CreateProductCategoryInput!) { createProductCategory(input: $i) { id handle } }"
CREATE_PRODUCT = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { id version variants { id sku title } }
}
"""
SET_PRICES = """
mutation($v: UUID!, $c: String!, $p: [PriceTierInput!]!, $l: UUID) {
  setVariantPrices(variantId: $v, currencyCode: $c, prices: $p, priceListId: $l) { id }
}
"""
CREATE_LIST = "mutation($i: CreatePriceListInput!) { createPriceList(input: $i) { id } }"
PUBLISH = "mutation($id: UUID!, $v: Int!) { publishProduct(id: $id, version: $v) { status version } }"
STOREFRONT = """
query($handle: String!, $locale: String, $currency: String!, $quantity: Int) {
  product(handle: $handle, locale: $locale) {
    id status locale title handle description seoTitle
    options { title values { value } }
    categories { name }
    images { url alt width height }
    priceRange(currencyCode: $currency) { min { amount currencyCode } max { amount currencyCode } }
    variants {
      sku title
      options { option value }
      price(currencyCode: $currency, quantity: $quantity) {
        unitPrice { amount currencyCode } originalPrice { amount } onSale minQuantity
      }
    }
  }
}
"""


def picture() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


async def outbox(platform: Platform, tenant_id: uuid.UUID) -> list[Any]:
    async with platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT id, event_type, schema_version, payload FROM sys_events WHERE tenant_id = :t ORDER BY id"),
            {"t": tenant_id},
        )
        return list(rows.all())


async def test_a_product_in_two_currencies_is_built_published_and_read_per_locale(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant(locales=["en", "de"])
    editor = await make_user(tenant, role="editor")
    staff = editor.headers

    async def gql(document: str, variables: dict[str, Any], *, public: bool = False) -> Any:
        if public:
            return await rustok_client.graphql_data(document, variables, tenant=tenant)
        return await rustok_client.graphql_data(document, variables, headers=staff)

    before = {row.id for row in await outbox(rustok_platform, tenant.id)}

    # 1. A category, in both locales.
    shirts = (
        await gql(
            CREATE_CATEGORY,
            {"i": {"translations": [{"locale": "en", "name": "Shirts"}, {"locale": "de", "name": "Hemden"}]}},
        )
    )["createProductCategory"]

    # 2. The product in one call: two options, four variants, EUR with a tier from 5 and USD.
    variants = [
        {
            "options": [{"option": "Size", "value": size}, {"option": "Color", "value": color}],
            "sku": f"TEE-{size}-{color}".upper(),
            "prices": [
                {"currencyCode": "EUR", "amount": 2500},
                {"currencyCode": "EUR", "amount": 2200, "minQuantity": 5},
                {"currencyCode": "USD", "amount": 2900},
            ],
        }
        for size in ("S", "M")
        for color in ("red", "blue")
    ]
    product = (
        await gql(
            CREATE_PRODUCT,
            {
                "input": {
                    "translations": [
                        {"locale": "en", "title": "Linen Tee", "description": "Cool in summer.", "seoTitle": "Tee"},
                        {"locale": "de", "title": "Leinen-T-Shirt", "description": "Kühl im Sommer."},
                    ],
                    "options": [
                        {"title": "Size", "values": ["S", "M"]},
                        {"title": "Color", "values": ["red", "blue"]},
                    ],
                    "variants": variants,
                    "categoryIds": [shirts["id"]],
                }
            },
        )
    )["createProduct"]
    skus = {v["sku"]: v["id"] for v in product["variants"]}
    assert sorted(skus) == ["TEE-M-BLUE", "TEE-M-RED", "TEE-S-BLUE", "TEE-S-RED"]

    # 3. An image with German alt text, through the REST upload.
    uploaded = await rustok_client.post(
        f"/api/v1/commerce/products/{product['id']}/images",
        files={"file": ("tee.png", picture(), "image/png")},
        data={"locale": "de", "alt": "Leinen-T-Shirt in Blau"},
        headers=staff,
    )
    assert uploaded.status_code == 201, uploaded.text

    # 4. USD gets a tier too; a sale makes the medium blue one cheaper in EUR.
    await gql(
        SET_PRICES, {"v": skus["TEE-M-BLUE"], "c": "USD", "p": [{"amount": 2900}, {"amount": 2600, "minQuantity": 5}]}
    )
    sale = (await gql(CREATE_LIST, {"i": {"name": "Summer", "type": "SALE"}}))["createPriceList"]
    await gql(SET_PRICES, {"v": skus["TEE-M-BLUE"], "c": "EUR", "p": [{"amount": 1900}], "l": sale["id"]})

    # 5. Published (the image made it version 2).
    published = (await gql(PUBLISH, {"id": product["id"], "v": 2}))["publishProduct"]
    assert (published["status"], published["version"]) == ("ACTIVE", 3)

    # The storefront, in German.
    german = (
        await gql(
            STOREFRONT, {"handle": "leinen-t-shirt", "locale": "de", "currency": "EUR", "quantity": 1}, public=True
        )
    )["product"]
    assert (german["locale"], german["title"], german["description"]) == ("de", "Leinen-T-Shirt", "Kühl im Sommer.")
    assert german["seoTitle"] is None  # the German text has none; fields are never mixed across locales
    assert [c["name"] for c in german["categories"]] == ["Hemden"]
    assert german["images"][0] | {"url": None} == {
        "url": None,
        "alt": "Leinen-T-Shirt in Blau",
        "width": 64,
        "height": 48,
    }
    assert [(o["title"], [v["value"] for v in o["values"]]) for o in german["options"]] == [
        ("Size", ["S", "M"]),
        ("Color", ["red", "blue"]),
    ]
    eur = {v["sku"]: v["price"] for v in german["variants"]}
    assert {sku: p["unitPrice"]["amount"] for sku, p in eur.items()} == {
        "TEE-S-RED": 2500,
        "TEE-S-BLUE": 2500,
        "TEE-M-RED": 2500,
        "TEE-M-BLUE": 1900,
    }
    assert (eur["TEE-M-BLUE"]["onSale"], eur["TEE-M-BLUE"]["originalPrice"]["amount"]) == (True, 2500)
    assert german["priceRange"] == {
        "min": {"amount": 1900, "currencyCode": "EUR"},
        "max": {"amount": 2500, "currencyCode": "EUR"},
    }

    # Five of one: the tier from 5 applies (the sale, lower still, keeps winning where it exists).
    bulk = (
        await gql(STOREFRONT, {"handle": "linen-tee", "locale": "en", "currency": "EUR", "quantity": 5}, public=True)
    )["product"]
    assert {v["sku"]: (v["price"]["unitPrice"]["amount"], v["price"]["minQuantity"]) for v in bulk["variants"]} == {
        "TEE-S-RED": (2200, 5),
        "TEE-S-BLUE": (2200, 5),
        "TEE-M-RED": (2200, 5),
        "TEE-M-BLUE": (1900, 1),
    }
    assert (bulk["locale"], bulk["title"], bulk["seoTitle"]) == ("en", "Linen Tee", "Tee")

    # In dollars, and in a locale the product does not have: the tenant's default (English) is served.
    dollars = (
        await gql(STOREFRONT, {"handle": "linen-tee", "locale": "fr", "currency": "USD", "quantity": 5}, public=True)
    )["product"]
    assert (dollars["locale"], dollars["title"], dollars["images"][0]["alt"]) == (
        "en",
        "Linen Tee",
        "Leinen-T-Shirt in Blau",
    )
    assert {v["sku"]: v["price"]["unitPrice"] for v in dollars["variants"]} == {
        "TEE-S-RED": {"amount": 2900, "currencyCode": "USD"},
        "TEE-S-BLUE": {"amount": 2900, "currencyCode": "USD"},
        "TEE-M-RED": {"amount": 2900, "currencyCode": "USD"},
        "TEE-M-BLUE": {"amount": 2600, "currencyCode": "USD"},
    }
    assert (await gql(STOREFRONT, {"handle": "linen-tee", "currency": "JPY"}, public=True))["product"][
        "priceRange"
    ] is None

    # Every write left its events exactly once, each loading through the event registry.
    registry = runtime_of(rustok_platform.ctx).registry
    events = [row for row in await outbox(rustok_platform, tenant.id) if row.id not in before]
    assert len({row.id for row in events}) == len(events)
    for row in events:
        registry.load(row.event_type, row.payload, row.schema_version)
    assert Counter(row.event_type for row in events) == {
        "commerce.category.created": 1,
        "commerce.product.created": 1,
        "commerce.variant.created": 4,
        # 4 variants x 3 prices, then the USD tier from 5, then the sale price
        "commerce.price.updated": 12 + 1 + 1,
        "commerce.product.updated": 1,  # the image
        "commerce.price_list.changed": 1,
        "commerce.product.published": 1,
    }
    by_type: dict[str, list[dict[str, Any]]] = {}
    for row in events:
        by_type.setdefault(row.event_type, []).append(row.payload)
    assert by_type["commerce.product.created"][0]["handles"] == {"en": "linen-tee", "de": "leinen-t-shirt"}
    assert sorted(p["variant_id"] for p in by_type["commerce.variant.created"]) == sorted(skus.values())
    price_keys = Counter(
        (p["variant_id"], p["currency_code"], p["min_quantity"], p["price_list_id"])
        for p in by_type["commerce.price.updated"]
    )
    assert max(price_keys.values()) == 1  # no tier announced twice
    assert (skus["TEE-M-BLUE"], "EUR", 1, sale["id"]) in price_keys
    assert by_type["commerce.product.updated"][0]["changed"] == ["images"]
    assert by_type["commerce.product.published"][0]["locales"] == ["de", "en"]
    assert [row.event_type for row in events][:2] == ["commerce.category.created", "commerce.product.created"]
    assert [row.event_type for row in events][-1] == "commerce.product.published"
