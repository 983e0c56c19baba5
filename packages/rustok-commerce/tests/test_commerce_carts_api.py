"""The shopper's cart over GraphQL: guest and customer carts, ownership, totals as Money, no events.

Carts are reached with ``@public`` fields; ownership is enforced in the cart service:
another shopper's cart answers ``NOT_FOUND`` exactly like a cart that does not exist.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from rustok_commerce.models import Price, Product, ProductTranslation, Variant
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.queries import count_queries

MONEY = "{ amount currencyCode }"
CART = f"""
  id status version customerId email currencyCode locale itemCount requiresShipping
  lines {{ id variantId productId title sku quantity available requiresShipping
          unitPrice {MONEY} subtotal {MONEY} taxTotal {MONEY} total {MONEY} }}
  unavailableLines {{ id }}
  subtotal {MONEY} shippingTotal {MONEY} taxTotal {MONEY} discountTotal {MONEY} total {MONEY}
  shippingAddress {{ firstName lastName line1 city postalCode countryCode province }}
  shippingMethod {{ shippingOptionId code name provider price {MONEY} }}
  availableShippingOptions {{ id code }}
"""
CREATE = f"mutation($i: CreateCartInput) {{ createCart(input: $i) {{ {CART} }} }}"
ADD = (
    "mutation($c: UUID!, $v: UUID!, $q: Int!, $ver: Int) "
    f"{{ addCartLine(cartId: $c, variantId: $v, quantity: $q, version: $ver) {{ {CART} }} }}"
)
UPDATE = (
    f"mutation($c: UUID!, $l: UUID!, $q: Int!) {{ updateCartLine(cartId: $c, lineId: $l, quantity: $q) {{ {CART} }} }}"
)
REMOVE = f"mutation($c: UUID!, $l: UUID!) {{ removeCartLine(cartId: $c, lineId: $l) {{ {CART} }} }}"
EMAIL = f"mutation($c: UUID!, $e: String!) {{ setCartEmail(cartId: $c, email: $e) {{ {CART} }} }}"
ADDRESS = (
    "mutation($c: UUID!, $a: AddressInput, $k: AddressKind) "
    f"{{ setCartAddress(cartId: $c, address: $a, kind: $k) {{ {CART} }} }}"
)
SHIPPING = f"mutation($c: UUID!, $o: UUID) {{ setShippingOption(cartId: $c, shippingOptionId: $o) {{ {CART} }} }}"
GET = f"query($id: UUID!) {{ cart(id: $id) {{ {CART} }} }}"
HOME = {
    "firstName": "Grace",
    "lastName": "Hopper",
    "line1": "Hauptstr. 1",
    "city": "Berlin",
    "postalCode": "10115",
    "countryCode": "de",
}


@dataclass
class Shop:
    client: RustokClient
    platform: Platform
    tenant: Any
    manager: Any

    async def call(self, document: str, variables: dict[str, Any], user: Any = None) -> dict[str, Any]:
        if user is None:
            return await self.client.graphql(document, variables, tenant=self.tenant)
        return await self.client.graphql(document, variables, headers=user.headers)

    async def data(self, document: str, variables: dict[str, Any], user: Any = None) -> dict[str, Any]:
        body = await self.call(document, variables, user)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def variant(self, title: str, tiers: list[tuple[int, int]], currency: str = "EUR") -> str:
        async with self.platform.ctx.db.session(self.tenant.id) as s, s.begin():
            product = Product(status="active")
            s.add(product)
            await s.flush()
            s.add(ProductTranslation(product_id=product.id, locale="en", title=title, handle=secrets.token_hex(6)))
            variant = Variant(product_id=product.id, title="Default", sku=f"{title.upper()}-{secrets.token_hex(3)}")
            s.add(variant)
            await s.flush()
            for min_quantity, amount in tiers:
                s.add(Price(variant_id=variant.id, currency_code=currency, amount=amount, min_quantity=min_quantity))
            return str(variant.id)

    async def event_count(self) -> int:
        async with self.platform.ctx.db.engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT count(*) FROM sys_events WHERE tenant_id = :t"), {"t": self.tenant.id}
            )
        return int(found or 0)


@pytest.fixture
async def shop(rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any) -> Shop:
    tenant = await make_tenant(modules=["commerce"])
    manager = await make_user(tenant, role="manager")
    found = Shop(rustok_client, rustok_platform, tenant, manager)
    settings = 'mutation { updateStoreSettings(input: {defaultCurrency: "EUR"}) { version } }'
    await found.data(settings, {}, manager)
    option = "mutation($i: ShippingOptionInput!) { createShippingOption(input: $i) { id } }"
    await found.data(
        option,
        {
            "i": {
                "code": "dhl",
                "name": "DHL",
                "currencyCode": "EUR",
                "amount": 499,
                "freeAbove": 5000,
                "countries": ["DE"],
            }
        },
        manager,
    )
    await found.data(
        "mutation($i: TaxRateInput!) { upsertTaxRate(input: $i) { id } }",
        {"i": {"countryCode": "DE", "name": "MwSt", "rateBp": 1900}},
        manager,
    )
    return found


async def test_a_guest_fills_a_cart_and_sees_totals_as_money(shop: Shop) -> None:
    mug = await shop.variant("Mug", [(1, 1200), (3, 1000)])
    events = await shop.event_count()
    cart = (await shop.data(CREATE, {"i": {"locale": "en"}}))["createCart"]
    assert (cart["status"], cart["currencyCode"], cart["customerId"], cart["total"]) == (
        "ACTIVE",
        "EUR",
        None,
        {"amount": 0, "currencyCode": "EUR"},
    )
    cart = (await shop.data(ADD, {"c": cart["id"], "v": mug, "q": 2, "ver": cart["version"]}))["addCartLine"]
    line = cart["lines"][0]
    assert (line["title"], line["quantity"], line["unitPrice"]["amount"], line["subtotal"]["amount"]) == (
        "Mug",
        2,
        1200,
        2400,
    )
    cart = (await shop.data(UPDATE, {"c": cart["id"], "l": line["id"], "q": 3}))["updateCartLine"]
    assert (cart["lines"][0]["unitPrice"]["amount"], cart["subtotal"]["amount"]) == (1000, 3000)
    assert cart["availableShippingOptions"] == []  # DHL ships to DE only; no address yet
    cart = (await shop.data(EMAIL, {"c": cart["id"], "e": "grace@example.com"}))["setCartEmail"]
    cart = (await shop.data(ADDRESS, {"c": cart["id"], "a": HOME}))["setCartAddress"]
    assert cart["shippingAddress"]["countryCode"] == "DE"
    option = cart["availableShippingOptions"][0]
    cart = (await shop.data(SHIPPING, {"c": cart["id"], "o": option["id"]}))["setShippingOption"]
    # 30.00 + 4.99 shipping + 19% of both (5.70 + 0.95) = 41.64
    assert cart["shippingMethod"] == {
        "shippingOptionId": option["id"],
        "code": "dhl",
        "name": "DHL",
        "provider": "flat_rate",
        "price": {"amount": 499, "currencyCode": "EUR"},
    }
    totals = [cart[k]["amount"] for k in ("subtotal", "shippingTotal", "taxTotal", "discountTotal", "total")]
    assert totals == [3000, 499, 665, 0, 4164]
    assert cart["lines"][0]["taxTotal"]["amount"] == 570
    again = (await shop.data(GET, {"id": cart["id"]}))["cart"]
    assert again == cart
    cart = (await shop.data(REMOVE, {"c": cart["id"], "l": line["id"]}))["removeCartLine"]
    assert (cart["lines"], cart["total"]["amount"], cart["itemCount"]) == ([], 0, 0)
    # Carts publish no domain events.
    assert await shop.event_count() == events


async def test_a_customer_cart_answers_not_found_to_everyone_else(shop: Shop, make_user: Any) -> None:
    mug = await shop.variant("Mug", [(1, 1200)])
    alice = await make_user(shop.tenant, role="customer")
    bob = await make_user(shop.tenant, role="customer")
    cart = (await shop.data(CREATE, {}, alice))["createCart"]
    assert cart["customerId"] == str(alice.id)
    await shop.data(ADD, {"c": cart["id"], "v": mug, "q": 1}, alice)
    missing = str(uuid.uuid4())
    for user in (bob, None):
        for document, variables in (
            (GET, {"id": cart["id"]}),
            (ADD, {"c": cart["id"], "v": mug, "q": 1}),
            (EMAIL, {"c": cart["id"], "e": "x@example.com"}),
        ):
            body = await shop.call(document, variables, user)
            assert error_codes(body) == ["NOT_FOUND"]
            # Exactly what a cart that does not exist answers.
            ghost = await shop.call(GET, {"id": missing}, user)
            assert body["errors"][0]["message"] == ghost["errors"][0]["message"]
    # Staff with commerce_carts:read may look, not touch.
    seen = (await shop.data(GET, {"id": cart["id"]}, shop.manager))["cart"]
    assert seen["itemCount"] == 1
    assert error_codes(await shop.call(ADD, {"c": cart["id"], "v": mug, "q": 1}, shop.manager)) == ["NOT_FOUND"]
    mine = (await shop.data(GET, {"id": cart["id"]}, alice))["cart"]
    assert (mine["itemCount"], mine["version"]) == (1, seen["version"])


async def test_a_guest_cart_is_reachable_by_its_id(shop: Shop, make_user: Any) -> None:
    mug = await shop.variant("Mug", [(1, 1200)])
    cart = (await shop.data(CREATE, {}))["createCart"]
    someone = await make_user(shop.tenant, role="customer")
    await shop.data(ADD, {"c": cart["id"], "v": mug, "q": 1}, someone)
    assert (await shop.data(GET, {"id": cart["id"]}))["cart"]["itemCount"] == 1


async def test_bad_cart_inputs_get_clear_errors_and_change_nothing(shop: Shop) -> None:
    mug = await shop.variant("Mug", [(1, 1200)])
    dollars = await shop.variant("Cap", [(1, 900)], currency="USD")
    cart = (await shop.data(CREATE, {}))["createCart"]
    cart = (await shop.data(ADD, {"c": cart["id"], "v": mug, "q": 2}))["addCartLine"]
    line = cart["lines"][0]["id"]
    cases: list[tuple[str, dict[str, Any], str, str | None]] = [
        (ADD, {"c": cart["id"], "v": mug, "q": 0}, "VALIDATION", "INVALID_QUANTITY"),
        (ADD, {"c": cart["id"], "v": mug, "q": -3}, "VALIDATION", "INVALID_QUANTITY"),
        (ADD, {"c": cart["id"], "v": mug, "q": 999}, "VALIDATION", "INVALID_QUANTITY"),
        (UPDATE, {"c": cart["id"], "l": line, "q": 1001}, "VALIDATION", "INVALID_QUANTITY"),
        (UPDATE, {"c": cart["id"], "l": str(uuid.uuid4()), "q": 1}, "NOT_FOUND", None),
        (ADD, {"c": cart["id"], "v": dollars, "q": 1}, "CONFLICT", "UNAVAILABLE"),
        (ADD, {"c": cart["id"], "v": mug, "q": 1, "ver": cart["version"] - 1}, "CONFLICT", None),
        (EMAIL, {"c": cart["id"], "e": "nope"}, "VALIDATION", "INVALID_EMAIL"),
        (ADDRESS, {"c": cart["id"], "a": {**HOME, "countryCode": "Germany"}}, "VALIDATION", "INVALID_ADDRESS"),
        (SHIPPING, {"c": cart["id"], "o": str(uuid.uuid4())}, "NOT_FOUND", None),
        (CREATE, {"i": {"currencyCode": "EURO"}}, "VALIDATION", "UNKNOWN_CURRENCY"),
    ]
    for document, variables, code, reason in cases:
        body = await shop.call(document, variables)
        assert error_codes(body) == [code], (variables, body)
        if reason is not None:
            assert body["errors"][0]["extensions"]["reason"] == reason
    body = await shop.call(ADDRESS, {"c": cart["id"], "a": {"firstName": "G", "countryCode": "DE"}})
    paths = sorted(tuple(e["path"]) for e in body["errors"][0]["extensions"]["fieldErrors"])
    assert paths == [("address", "city"), ("address", "lastName"), ("address", "line1"), ("address", "postalCode")]
    after = (await shop.data(GET, {"id": cart["id"]}))["cart"]
    assert after == cart
    # Shipping to a country the option does not serve is refused too.
    await shop.data(ADDRESS, {"c": cart["id"], "a": {**HOME, "countryCode": "FR"}})
    options = '{ shippingOptions(currencyCode: "EUR") { id } }'
    dhl = (await shop.data(options, {}))["shippingOptions"][0]["id"]
    body = await shop.call(SHIPPING, {"c": cart["id"], "o": dhl})
    assert body["errors"][0]["extensions"]["reason"] == "COUNTRY_NOT_SERVED"


async def test_reading_a_cart_costs_the_same_queries_for_any_number_of_lines(shop: Shop) -> None:
    counts = {}
    for size in (1, 6):
        cart = (await shop.data(CREATE, {}))["createCart"]
        for i in range(size):
            await shop.data(ADD, {"c": cart["id"], "v": await shop.variant(f"P{i}", [(1, 100 + i)]), "q": 1})
        await shop.data(ADDRESS, {"c": cart["id"], "a": HOME})
        async with count_queries(shop.platform, ignore=[r"sys_events"]) as counted:
            found = (await shop.data(GET, {"id": cart["id"]}))["cart"]
        assert len(found["lines"]) == size
        counts[size] = counted.count
    assert counts[1] == counts[6], counts
