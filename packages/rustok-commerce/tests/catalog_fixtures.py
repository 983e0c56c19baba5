"""A shop for the catalog tests: a tenant in English (default) and German, staff and a shopper.

Not a conftest: each test module imports :func:`shop` (tests run with
``--import-mode=importlib``, so the test files put this directory on ``sys.path``).
Writes go through the real GraphQL API or the real services; ``events_since`` reads
the outbox (``sys_events``) and loads every payload through the event registry.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from rustok_outbox.runtime import runtime_of
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes

VARIANT_FIELDS = (
    "id productId title sku barcode weight length height width manageInventory allowBackorder position version "
    "options { option value optionId valueId }"
)
PRODUCT_FIELDS = (
    "id status version discountable metadata publishedAt locale handle title subtitle description seoTitle "
    "seoDescription availableLocales translations { locale title handle } "
    "options { id title position values { id value position } } "
    f"variants {{ {VARIANT_FIELDS} }}"
)
CREATE_PRODUCT = f"mutation($input: CreateProductInput!) {{ createProduct(input: $input) {{ {PRODUCT_FIELDS} }} }}"
UPDATE_PRODUCT = (
    "mutation($id: UUID!, $version: Int!, $input: UpdateProductInput!) "
    f"{{ updateProduct(id: $id, version: $version, input: $input) {{ {PRODUCT_FIELDS} }} }}"
)
PRODUCT = (
    "query($id: UUID, $handle: String, $locale: String) "
    f"{{ product(id: $id, handle: $handle, locale: $locale) {{ {PRODUCT_FIELDS} }} }}"
)
CREATE_VARIANT = (
    "mutation($productId: UUID!, $input: CreateVariantInput!) "
    f"{{ createVariant(productId: $productId, input: $input) {{ {VARIANT_FIELDS} }} }}"
)
UPDATE_VARIANT = (
    "mutation($id: UUID!, $version: Int!, $input: UpdateVariantInput!) "
    f"{{ updateVariant(id: $id, version: $version, input: $input) {{ {VARIANT_FIELDS} }} }}"
)
SET_PRICES = (
    "mutation($variantId: UUID!, $currency: String!, $prices: [PriceTierInput!]!, $list: UUID) "
    "{ setVariantPrices(variantId: $variantId, currencyCode: $currency, prices: $prices, priceListId: $list) "
    "{ id prices { amount currencyCode minQuantity priceListId } } }"
)


def shirt_input(**more: Any) -> dict[str, Any]:
    """A shirt with Size (S, M) and Color (red, blue), four variants, EUR and USD prices, a EUR tier."""
    variants = []
    for size in ("S", "M"):
        for color in ("red", "blue"):
            variants.append(
                {
                    "options": [{"option": "Size", "value": size}, {"option": "Color", "value": color}],
                    "sku": f"SHIRT-{size}-{color.upper()}",
                    "weight": 200,
                    "prices": [
                        {"currencyCode": "EUR", "amount": 1999},
                        {"currencyCode": "EUR", "amount": 1799, "minQuantity": 10},
                        {"currencyCode": "USD", "amount": 2199},
                    ],
                }
            )
    return {
        "translations": [
            {"locale": "en", "title": "Organic Shirt", "description": "Soft.", "seoTitle": "Shirt | Shop"},
            {"locale": "de", "title": "Bio-Hemd", "handle": "bio-hemd"},
        ],
        "options": [{"title": "Size", "values": ["S", "M"]}, {"title": "Color", "values": ["red", "blue"]}],
        "variants": variants,
        **more,
    }


@dataclass
class Shop:
    client: RustokClient
    platform: Platform
    tenant: Any
    editor: Any
    shopper: Any

    async def gql(self, document: str, variables: dict[str, Any] | None = None, *, who: str = "editor") -> Any:
        if who == "public":
            return await self.client.graphql(document, variables, tenant=self.tenant)
        user = self.editor if who == "editor" else self.shopper
        return await self.client.graphql(document, variables, headers=user.headers)

    async def data(self, document: str, variables: dict[str, Any] | None = None, *, who: str = "editor") -> Any:
        body = await self.gql(document, variables, who=who)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def fails(
        self, document: str, variables: dict[str, Any] | None = None, *, who: str = "editor"
    ) -> dict[str, Any]:
        """The first error of a call that must fail (with its extensions)."""
        body = await self.gql(document, variables, who=who)
        assert body.get("errors"), body
        assert error_codes(body), body
        error: dict[str, Any] = body["errors"][0]
        return error

    async def create_product(self, given: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
        product: dict[str, Any] = (await self.data(CREATE_PRODUCT, {"input": given or shirt_input(**more)}))[
            "createProduct"
        ]
        return product

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.editor.headers)

    # -- the outbox -----------------------------------------------------------------------

    async def event_ids(self) -> set[uuid.UUID]:
        return {row.id for row in await self._rows()}

    async def events_since(self, seen: set[uuid.UUID]) -> list[Any]:
        """Events stored after ``seen`` was taken, in order; each payload must load in the registry."""
        registry = runtime_of(self.platform.ctx).registry
        rows = [row for row in await self._rows() if row.id not in seen]
        for row in rows:
            registry.load(row.event_type, row.payload, row.schema_version)
        return rows

    @staticmethod
    def kinds(events: list[Any]) -> Counter[str]:
        return Counter(event.event_type for event in events)

    async def _rows(self) -> list[Any]:
        async with self.platform.ctx.db.engine.connect() as conn:
            result = await conn.execute(
                text("SELECT id, event_type, schema_version, payload FROM sys_events WHERE tenant_id = :t ORDER BY id"),
                {"t": self.tenant.id},
            )
            return list(result.all())

    async def count(self, table: str) -> int:
        """Rows of a commerce table for this tenant (to prove a refused write stored nothing)."""
        async with self.platform.ctx.db.engine.connect() as conn:
            value = await conn.scalar(
                text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),
                {"t": self.tenant.id},
            )
        return int(value or 0)

    async def snapshot(self) -> dict[str, Any]:
        """Every catalog row of the tenant, to compare before and after a refused write."""
        tables = (
            "commerce_products",
            "commerce_product_translations",
            "commerce_options",
            "commerce_option_values",
            "commerce_variants",
            "commerce_variant_options",
            "commerce_prices",
            "commerce_price_lists",
            "commerce_categories",
            "commerce_category_translations",
            "commerce_product_categories",
            "commerce_product_images",
        )
        found: dict[str, Any] = {}
        async with self.platform.ctx.db.engine.connect() as conn:
            for table in tables:
                rows = await conn.execute(
                    text(f"SELECT to_jsonb(t)::text FROM {table} t WHERE tenant_id = :t ORDER BY 1"),
                    {"t": self.tenant.id},
                )
                found[table] = [row[0] for row in rows.all()]
        return found


@pytest.fixture
async def shop(rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any) -> Shop:
    tenant = await make_tenant(locales=["en", "de"])
    editor = await make_user(tenant, role="editor")
    shopper = await make_user(tenant, role="customer")
    return Shop(rustok_client, rustok_platform, tenant, editor, shopper)
