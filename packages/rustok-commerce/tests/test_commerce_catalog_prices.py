"""Prices: tiers replaced atomically per currency, price lists (sale/override) with time windows, resolution."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from catalog_fixtures import PRODUCT, SET_PRICES, Shop, shop

from rustok_testing.queries import count_queries

__all__ = ["shop"]

PRICE_QUERY = """
query($id: UUID!, $currency: String!, $quantity: Int) {
  product(id: $id) {
    priceRange(currencyCode: $currency) { min { amount currencyCode } max { amount currencyCode } }
    variants {
      sku
      price(currencyCode: $currency, quantity: $quantity) {
        unitPrice { amount currencyCode } originalPrice { amount } onSale quantity minQuantity priceListId
      }
    }
  }
}
"""
CREATE_LIST = (
    "mutation($i: CreatePriceListInput!) "
    "{ createPriceList(input: $i) { id name type isActive startsAt endsAt version } }"
)
UPDATE_LIST = (
    "mutation($id: UUID!, $v: Int!, $i: UpdatePriceListInput!) "
    "{ updatePriceList(id: $id, version: $v, input: $i) { id name type isActive startsAt endsAt version } }"
)
DELETE_LIST = "mutation($id: UUID!, $v: Int) { deletePriceList(id: $id, version: $v) }"
LISTS = "{ priceLists(first: 10) { edges { node { id name type } } pageInfo { hasNextPage } } }"


STAFF_PRICES = """
query($id: UUID!) {
  product(id: $id) { variants { prices(currencyCode: "usd") { amount currencyCode money { amount } } } }
}
"""


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def prices_of(shop: Shop, product_id: str, currency: str = "EUR", quantity: int = 1) -> Any:
    return (await shop.data(PRICE_QUERY, {"id": product_id, "currency": currency, "quantity": quantity}))["product"]


async def test_set_variant_prices_replaces_one_currency_atomically_and_publishes_changed_tiers(shop: Shop) -> None:
    product = await shop.create_product()
    variant = product["variants"][0]
    seen = await shop.event_ids()
    tiers = [{"amount": 1999}, {"amount": 1599, "minQuantity": 20}]
    result = await shop.data(SET_PRICES, {"variantId": variant["id"], "currency": "EUR", "prices": tiers})
    stored = result["setVariantPrices"]["prices"]
    assert [(p["currencyCode"], p["amount"], p["minQuantity"]) for p in stored] == [
        ("EUR", 1999, 1),
        ("EUR", 1599, 20),
        ("USD", 2199, 1),
    ]
    events = await shop.events_since(seen)
    # 1999 from 1 stays; the tier from 10 goes; the tier from 20 is new. USD is untouched.
    assert sorted((e.payload["min_quantity"], e.payload["amount"]) for e in events) == [(10, None), (20, 1599)]
    assert {e.event_type for e in events} == {"commerce.price.updated"}
    assert all(e.payload["product_id"] == product["id"] and e.payload["currency_code"] == "EUR" for e in events)

    seen = await shop.event_ids()
    await shop.data(SET_PRICES, {"variantId": variant["id"], "currency": "eur", "prices": tiers})
    assert await shop.events_since(seen) == []  # the same tiers: nothing written

    removed = await shop.data(SET_PRICES, {"variantId": variant["id"], "currency": "USD", "prices": []})
    assert {p["currencyCode"] for p in removed["setVariantPrices"]["prices"]} == {"EUR"}

    no_first = await shop.fails(
        SET_PRICES, {"variantId": variant["id"], "currency": "EUR", "prices": [{"amount": 5, "minQuantity": 3}]}
    )
    assert (no_first["extensions"]["code"], no_first["extensions"]["reason"]) == ("VALIDATION", "MISSING_FIRST_TIER")
    twice = await shop.fails(
        SET_PRICES, {"variantId": variant["id"], "currency": "EUR", "prices": [{"amount": 5}, {"amount": 6}]}
    )
    assert twice["extensions"]["reason"] == "DUPLICATE_TIER"


async def test_setting_a_price_reads_the_variant_once(shop: Shop) -> None:
    product = await shop.create_product()
    variant = product["variants"][0]
    set_one = (
        "mutation($v: UUID!, $a: MinorUnits!) "
        '{ setVariantPrices(variantId: $v, currencyCode: "EUR", prices: [{amount: $a}]) { id sku } }'
    )
    await shop.data(set_one, {"v": variant["id"], "a": 1001})  # warms the caches of the request path
    async with count_queries(shop.platform) as counted:
        answered = await shop.data(set_one, {"v": variant["id"], "a": 1002})
    assert answered["setVariantPrices"] == {"id": variant["id"], "sku": variant["sku"]}
    # The variant (locked), its EUR tiers, the changed tier, the event: the answer is the variant the write read.
    assert counted.count == 4, str(counted)


async def test_quantity_tiers_and_price_lists_decide_the_price_read_back(shop: Shop) -> None:
    product = await shop.create_product()
    variant_ids = [v["id"] for v in product["variants"]]
    now = datetime.now(UTC)

    base = await prices_of(shop, product["id"])
    assert base["priceRange"] == {
        "min": {"amount": 1999, "currencyCode": "EUR"},
        "max": {"amount": 1999, "currencyCode": "EUR"},
    }
    first = base["variants"][0]["price"]
    assert (first["unitPrice"]["amount"], first["onSale"], first["minQuantity"], first["priceListId"]) == (
        1999,
        False,
        1,
        None,
    )
    bulk = (await prices_of(shop, product["id"], quantity=12))["variants"][0]["price"]
    assert (bulk["unitPrice"]["amount"], bulk["minQuantity"], bulk["quantity"]) == (1799, 10, 12)
    assert (await prices_of(shop, product["id"], currency="JPY"))["variants"][0]["price"] is None
    assert (await prices_of(shop, product["id"], currency="JPY"))["priceRange"] is None

    seen = await shop.event_ids()
    sale = (await shop.data(CREATE_LIST, {"i": {"name": "Summer sale", "type": "SALE"}}))["createPriceList"]
    future = (
        await shop.data(
            CREATE_LIST,
            {"i": {"name": "Next week", "type": "SALE", "startsAt": iso(now + timedelta(days=7))}},
        )
    )["createPriceList"]
    override = (
        await shop.data(
            CREATE_LIST,
            {
                "i": {
                    "name": "B2B",
                    "type": "OVERRIDE",
                    "startsAt": iso(now - timedelta(days=1)),
                    "endsAt": iso(now + timedelta(days=1)),
                }
            },
        )
    )["createPriceList"]
    assert (sale["type"], sale["isActive"], sale["version"]) == ("SALE", True, 1)
    events = await shop.events_since(seen)
    assert [(e.event_type, e.payload["action"]) for e in events] == [("commerce.price_list.changed", "created")] * 3

    # A sale below the regular price applies; one above it does not.
    await shop.data(
        SET_PRICES, {"variantId": variant_ids[0], "currency": "EUR", "prices": [{"amount": 1499}], "list": sale["id"]}
    )
    await shop.data(
        SET_PRICES, {"variantId": variant_ids[1], "currency": "EUR", "prices": [{"amount": 2500}], "list": sale["id"]}
    )
    # A future sale does not apply yet.
    await shop.data(
        SET_PRICES, {"variantId": variant_ids[2], "currency": "EUR", "prices": [{"amount": 999}], "list": future["id"]}
    )
    # An override replaces the base price, from its own tiers.
    await shop.data(
        SET_PRICES,
        {
            "variantId": variant_ids[3],
            "currency": "EUR",
            "prices": [{"amount": 2100}, {"amount": 1900, "minQuantity": 5}],
            "list": override["id"],
        },
    )
    read = await prices_of(shop, product["id"])
    got = [
        (v["price"]["unitPrice"]["amount"], v["price"]["originalPrice"]["amount"], v["price"]["onSale"])
        for v in read["variants"]
    ]
    assert got == [(1499, 1999, True), (1999, 1999, False), (1999, 1999, False), (2100, 2100, False)]
    assert read["variants"][0]["price"]["priceListId"] == sale["id"]
    assert read["variants"][3]["price"]["priceListId"] == override["id"]
    assert read["priceRange"]["min"]["amount"] == 1499
    assert read["priceRange"]["max"]["amount"] == 2100
    tiered = (await prices_of(shop, product["id"], quantity=6))["variants"][3]["price"]
    assert (tiered["unitPrice"]["amount"], tiered["minQuantity"]) == (1900, 5)

    # Moving the future sale's window to now makes it apply; the event names the products priced in it.
    seen = await shop.event_ids()
    moved = (
        await shop.data(
            UPDATE_LIST, {"id": future["id"], "v": 1, "i": {"startsAt": iso(now - timedelta(hours=1)), "name": "Now"}}
        )
    )["updatePriceList"]
    assert (moved["name"], moved["version"]) == ("Now", 2)
    [changed] = await shop.events_since(seen)
    assert (changed.payload["action"], changed.payload["product_ids"]) == ("updated", [product["id"]])
    assert (await prices_of(shop, product["id"]))["variants"][2]["price"]["unitPrice"]["amount"] == 999

    # Switched off, it stops applying; deleted, its prices go with it.
    await shop.data(UPDATE_LIST, {"id": future["id"], "v": 2, "i": {"isActive": False}})
    assert (await prices_of(shop, product["id"]))["variants"][2]["price"]["unitPrice"]["amount"] == 1999
    stale = await shop.fails(UPDATE_LIST, {"id": future["id"], "v": 2, "i": {"name": "x"}})
    assert stale["extensions"]["code"] == "CONFLICT"
    prices_before = await shop.count("commerce_prices")
    seen = await shop.event_ids()
    assert (await shop.data(DELETE_LIST, {"id": future["id"], "v": 3}))["deletePriceList"] is True
    assert await shop.count("commerce_prices") == prices_before - 1
    [deleted] = await shop.events_since(seen)
    assert (deleted.payload["action"], deleted.payload["product_ids"]) == ("deleted", [product["id"]])

    listed = await shop.data(LISTS)
    assert [e["node"]["name"] for e in listed["priceLists"]["edges"]] == ["B2B", "Summer sale"]


async def test_price_list_windows_must_be_ordered_and_lists_must_exist(shop: Shop) -> None:
    now = datetime.now(UTC)
    seen = await shop.event_ids()
    backwards = await shop.fails(
        CREATE_LIST, {"i": {"name": "Oops", "type": "SALE", "startsAt": iso(now), "endsAt": iso(now - timedelta(1))}}
    )
    assert (backwards["extensions"]["code"], backwards["extensions"]["reason"]) == ("VALIDATION", "INVALID_WINDOW")
    empty = await shop.fails(CREATE_LIST, {"i": {"name": "  ", "type": "SALE"}})
    assert empty["extensions"]["code"] == "VALIDATION"
    assert await shop.count("commerce_price_lists") == 0
    assert await shop.events_since(seen) == []

    product = await shop.create_product()
    missing = await shop.fails(
        SET_PRICES,
        {
            "variantId": product["variants"][0]["id"],
            "currency": "EUR",
            "prices": [{"amount": 1}],
            "list": "01J00000000000000000000000",
        },
    )
    assert missing["extensions"]["code"] == "VALIDATION"
    assert missing["extensions"]["fieldErrors"][0]["path"] == ["priceListId"]


async def test_stored_prices_are_for_staff_and_resolved_prices_for_everyone(shop: Shop) -> None:
    product = await shop.create_product()
    await shop.data("mutation($id: UUID!) { publishProduct(id: $id) { id } }", {"id": product["id"]})
    staff = await shop.data(
        STAFF_PRICES,
        {"id": product["id"]},
    )
    assert staff["product"]["variants"][0]["prices"] == [
        {"amount": 2199, "currencyCode": "USD", "money": {"amount": 2199}}
    ]
    public = await shop.gql(
        "query($id: UUID!) { product(id: $id) { variants { prices { amount } } } }", {"id": product["id"]}, who="public"
    )
    assert {e["extensions"]["code"] for e in public["errors"]} <= {"FORBIDDEN", "UNAUTHENTICATED"}
    shopper = (await prices_of(shop, product["id"], currency="USD"))["variants"][0]["price"]
    assert shopper["unitPrice"] == {"amount": 2199, "currencyCode": "USD"}
    bad = await shop.fails(PRICE_QUERY, {"id": product["id"], "currency": "XYZ", "quantity": 1}, who="public")
    assert (bad["extensions"]["code"], bad["extensions"]["reason"]) == ("VALIDATION", "UNKNOWN_CURRENCY")
    zero = await shop.fails(PRICE_QUERY, {"id": product["id"], "currency": "EUR", "quantity": 0}, who="public")
    assert zero["extensions"]["reason"] == "INVALID_QUANTITY"
    assert (await shop.data(PRODUCT, {"id": product["id"]}, who="public"))["product"]["id"] == product["id"]
