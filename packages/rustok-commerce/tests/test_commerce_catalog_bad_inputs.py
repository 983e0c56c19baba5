"""Bad inputs get a clear error with a code and change nothing: no row, no event.

Negative or fractional money, unknown currencies, taken SKUs and handles (also when two
writers race for them), stale versions, locales the tenant does not serve.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from catalog_fixtures import CREATE_PRODUCT, SET_PRICES, UPDATE_PRODUCT, UPDATE_VARIANT, Shop, shirt_input, shop

from rustok_commerce.services.catalog import ProductService, VariantService
from rustok_commerce.services.catalog_inputs import NewProduct, PriceInput, ProductText, VariantInput
from rustok_commerce.services.prices import PriceService, TierInput
from rustok_core.errors import RustokError

__all__ = ["shop"]


async def unchanged(shop: Shop, attempt: Callable[[], Awaitable[Any]]) -> Any:
    """Run a refused write; assert every catalog row and the outbox are as they were. Returns its result."""
    before = await shop.snapshot()
    seen = await shop.event_ids()
    result = await attempt()
    assert await shop.snapshot() == before
    assert await shop.events_since(seen) == []
    return result


def with_price(amount: Any, currency: str = "EUR") -> dict[str, Any]:
    return {
        "translations": [{"locale": "en", "title": "Priced"}],
        "variants": [{"sku": "PRICED", "prices": [{"currencyCode": currency, "amount": amount}]}],
    }


async def test_negative_fractional_and_oversized_money_is_refused(shop: Shop) -> None:
    product = await shop.create_product()  # something to keep unchanged
    negative = await unchanged(shop, lambda: shop.fails(CREATE_PRODUCT, {"input": with_price(-1)}))
    assert (negative["extensions"]["code"], negative["extensions"]["reason"]) == ("VALIDATION", "INVALID_AMOUNT")
    assert negative["extensions"]["fieldErrors"][0]["path"] == ["variants", "0", "prices", "0", "amount"]
    fraction = await unchanged(shop, lambda: shop.fails(CREATE_PRODUCT, {"input": with_price(19.99)}))
    assert fraction["extensions"]["code"] == "VALIDATION"  # not an Int: refused before any resolver runs

    variant = await VariantService(shop.platform.ctx).get(shop.tenant.id, uuid.UUID(product["variants"][0]["id"]))
    prices = PriceService(shop.platform.ctx)
    for amount in (-5, 19.99, "1999", True, None, 10**16):
        with pytest.raises(RustokError) as raised:
            await unchanged(
                shop,
                lambda amount=amount: prices.set_prices(
                    shop.tenant, variant.id, "EUR", [TierInput(amount)], actor_id=None
                ),
            )
        assert (raised.value.code, raised.value.details["reason"]) == ("VALIDATION", "INVALID_AMOUNT"), amount

    url = f"/api/v1/commerce/variants/{variant.id}/prices"
    for amount in (19.99, -1, "12"):
        response = await unchanged(
            shop,
            lambda amount=amount: shop.client.put(
                url, json={"currencyCode": "EUR", "prices": [{"amount": amount}]}, headers=shop.headers
            ),
        )
        assert response.status_code == 422, response.text
        assert response.json()["reason"] == "INVALID_AMOUNT"


async def test_amounts_beyond_32_bits_are_money_too(shop: Shop) -> None:
    """12 billion rupiah (minor units) is a real price; GraphQL's Int would stop at 2^31 - 1."""
    product = await shop.create_product()
    variant_id = product["variants"][0]["id"]
    big = 1_200_000_000_000
    stored = await shop.data(SET_PRICES, {"variantId": variant_id, "currency": "IDR", "prices": [{"amount": big}]})
    assert [p["amount"] for p in stored["setVariantPrices"]["prices"] if p["currencyCode"] == "IDR"] == [big]
    literal = await shop.client.graphql(
        'mutation($v: UUID!) { setVariantPrices(variantId: $v, currencyCode: "IDR", prices: [{amount: 12.5}]) { id } }',
        {"v": variant_id},
        headers=shop.headers,
        expect_status=400,
    )
    assert literal["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_unknown_currencies_are_refused(shop: Shop) -> None:
    product = await shop.create_product()
    variant_id = product["variants"][0]["id"]
    for currency in ("XYZ", "EURO", "€", ""):
        error = await unchanged(shop, lambda c=currency: shop.fails(CREATE_PRODUCT, {"input": with_price(100, c)}))
        assert (error["extensions"]["code"], error["extensions"]["reason"]) == ("VALIDATION", "UNKNOWN_CURRENCY")
        error = await unchanged(
            shop,
            lambda c=currency: shop.fails(
                SET_PRICES, {"variantId": variant_id, "currency": c, "prices": [{"amount": 100}]}
            ),
        )
        assert error["extensions"]["reason"] == "UNKNOWN_CURRENCY"
    # Lower case is understood: the code is stored upper case.
    stored = await shop.data(SET_PRICES, {"variantId": variant_id, "currency": "gbp", "prices": [{"amount": 1500}]})
    assert {p["currencyCode"] for p in stored["setVariantPrices"]["prices"]} == {"EUR", "USD", "GBP"}


async def test_taken_skus_and_handles_are_conflicts_naming_the_field(shop: Shop) -> None:
    first = await shop.create_product()
    again = shirt_input()
    again["translations"] = [{"locale": "en", "title": "Other shirt", "handle": "other-shirt"}]
    sku = await unchanged(shop, lambda: shop.fails(CREATE_PRODUCT, {"input": again}))
    assert (sku["extensions"]["code"], sku["extensions"]["reason"], sku["extensions"]["field"]) == (
        "CONFLICT",
        "SKU_TAKEN",
        "sku",
    )
    assert [e["path"] for e in sku["extensions"]["fieldErrors"]] == [["variants", i, "sku"] for i in range(4)]
    assert "SHIRT" not in sku["message"]  # the caller's input is not echoed

    in_one_call = {
        "translations": [{"locale": "en", "title": "Twins"}],
        "options": [{"title": "Size", "values": ["S", "M"]}],
        "variants": [
            {"options": [{"option": "Size", "value": "S"}], "sku": "TWIN"},
            {"options": [{"option": "Size", "value": "M"}], "sku": "TWIN"},
        ],
    }
    twin = await unchanged(shop, lambda: shop.fails(CREATE_PRODUCT, {"input": in_one_call}))
    assert (twin["extensions"]["reason"], twin["extensions"]["fieldErrors"][0]["path"]) == (
        "DUPLICATE_SKU",
        ["variants", 1, "sku"],
    )

    handle = await unchanged(
        shop,
        lambda: shop.fails(
            CREATE_PRODUCT, {"input": {"translations": [{"locale": "de", "title": "Hemd", "handle": "bio-hemd"}]}}
        ),
    )
    assert (handle["extensions"]["code"], handle["extensions"]["reason"], handle["extensions"]["field"]) == (
        "CONFLICT",
        "HANDLE_TAKEN",
        "handle",
    )
    assert handle["extensions"]["fieldErrors"][0]["path"] == ["translations", 0, "handle"]

    other = await shop.create_product({"translations": [{"locale": "en", "title": "Hat"}]})
    renamed = await unchanged(
        shop,
        lambda: shop.fails(
            UPDATE_PRODUCT,
            {"id": other["id"], "version": 1, "input": {"translations": [{"locale": "en", "handle": "organic-shirt"}]}},
        ),
    )
    assert renamed["extensions"]["reason"] == "HANDLE_TAKEN"
    variant = first["variants"][0]
    resku = await unchanged(
        shop, lambda: shop.fails(UPDATE_VARIANT, {"id": variant["id"], "version": 1, "input": {"sku": "SHIRT-M-RED"}})
    )
    assert resku["extensions"]["reason"] == "SKU_TAKEN"


async def test_stale_versions_change_nothing(shop: Shop) -> None:
    product = await shop.create_product()
    await shop.data(UPDATE_PRODUCT, {"id": product["id"], "version": 1, "input": {"discountable": False}})
    stale = await unchanged(
        shop,
        lambda: shop.fails(
            UPDATE_PRODUCT,
            {"id": product["id"], "version": 1, "input": {"translations": [{"locale": "en", "title": "Changed"}]}},
        ),
    )
    assert stale["extensions"]["code"] == "CONFLICT"
    assert (stale["extensions"]["expectedVersion"], stale["extensions"]["currentVersion"]) == (1, 2)
    for document, variables in (
        ("mutation($id: UUID!) { publishProduct(id: $id, version: 1) { id } }", {"id": product["id"]}),
        ("mutation($id: UUID!) { archiveProduct(id: $id, version: 1) { id } }", {"id": product["id"]}),
        ("mutation($id: UUID!) { deleteProduct(id: $id, version: 1) }", {"id": product["id"]}),
        (UPDATE_VARIANT, {"id": product["variants"][0]["id"], "version": 0, "input": {"weight": 1}}),
    ):
        error = await unchanged(shop, lambda d=document, v=variables: shop.fails(d, v))
        assert error["extensions"]["code"] == "CONFLICT"

    response = await unchanged(
        shop,
        lambda: shop.client.patch(
            f"/api/v1/commerce/products/{product['id']}",
            json={"version": 1, "status": "active"},
            headers=shop.headers,
        ),
    )
    assert response.status_code == 409


async def test_other_refused_inputs(shop: Shop) -> None:
    product = await shop.create_product()
    cases: list[tuple[str, dict[str, Any], str]] = [
        (CREATE_PRODUCT, {"input": {"translations": [{"locale": "fr", "title": "Chemise"}]}}, "VALIDATION"),
        (CREATE_PRODUCT, {"input": {"translations": []}}, "VALIDATION"),
        (CREATE_PRODUCT, {"input": {"translations": [{"locale": "en", "title": "   "}]}}, "VALIDATION"),
        (
            CREATE_PRODUCT,
            {"input": {"translations": [{"locale": "en", "title": "X", "handle": "Not A Handle"}]}},
            "VALIDATION",
        ),
        (
            CREATE_PRODUCT,
            {"input": {"translations": [{"locale": "en", "title": "X"}], "variants": [{"weight": -3}]}},
            "VALIDATION",
        ),
        (
            CREATE_PRODUCT,
            {"input": {"translations": [{"locale": "en", "title": "X"}], "options": [{"title": "Size", "values": []}]}},
            "VALIDATION",
        ),
        (
            CREATE_PRODUCT,
            {
                "input": {
                    "translations": [{"locale": "en", "title": "X"}],
                    "variants": [{"prices": [{"currencyCode": "EUR", "amount": 5, "minQuantity": 0}]}],
                }
            },
            "VALIDATION",
        ),
        (
            UPDATE_PRODUCT,
            {"id": product["id"], "version": 1, "input": {"translations": [{"locale": "fr", "title": "Chemise"}]}},
            "VALIDATION",
        ),
        (
            UPDATE_PRODUCT,
            {"id": "01J00000000000000000000000", "version": 1, "input": {"discountable": False}},
            "NOT_FOUND",
        ),
    ]
    for document, variables, code in cases:
        error = await unchanged(shop, lambda d=document, v=variables: shop.fails(d, v))
        assert error["extensions"]["code"] == code, (variables, error)


async def test_racing_writers_cannot_both_take_a_sku_or_a_handle(shop: Shop) -> None:
    ctx = shop.platform.ctx
    products = ProductService(ctx)
    first = await products.create(shop.tenant, NewProduct(translations=[ProductText("en", "One")]), actor_id=None)
    second = await products.create(shop.tenant, NewProduct(translations=[ProductText("en", "Two")]), actor_id=None)
    variants = VariantService(ctx)
    results = await asyncio.gather(
        variants.create(shop.tenant, first.id, VariantInput(sku="RACE"), actor_id=None),
        variants.create(shop.tenant, second.id, VariantInput(sku="RACE"), actor_id=None),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1, results
    assert isinstance(failures[0], RustokError)
    assert (failures[0].code, failures[0].details["reason"]) == ("CONFLICT", "SKU_TAKEN")

    created = await asyncio.gather(
        *[
            products.create(
                shop.tenant,
                NewProduct(
                    translations=[ProductText("de", "Rennen", handle="rennen")],
                    variants=[VariantInput(prices=[PriceInput("EUR", 100)])],
                ),
                actor_id=None,
            )
            for _ in range(3)
        ],
        return_exceptions=True,
    )
    refused = [r for r in created if isinstance(r, BaseException)]
    assert len(refused) == 2, created
    assert all(isinstance(r, RustokError) and r.details["reason"] == "HANDLE_TAKEN" for r in refused)
    assert await shop.count("commerce_products") == 3
    assert await shop.count("commerce_prices") == 1
