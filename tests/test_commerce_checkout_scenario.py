"""Scenario: a shop sells T-shirts — catalog, stock, a shopper's cart, checkout, the order's life.

Everything goes through the public GraphQL API, as the admin UI and the storefront
would use it:

tenant → admin creates a product (two options, four variants, EUR and USD prices, a
quantity tier), stock in two locations, shipping and tax → a shopper fills a cart →
checkout (twice with the same key: one order) → the admin confirms, captures,
fulfils and completes it (an illegal move is refused) → a second order is cancelled
and its stock comes back → the outbox holds each event once, with valid payloads.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import text

from rustok_outbox.runtime import runtime_of
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes

CREATE_PRODUCT = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { id status variants { id title sku options { option value } } }
}
"""
LOCATION = "mutation($input: StockLocationInput!) { createStockLocation(input: $input) { id name } }"
SET_LEVEL = "mutation($input: SetInventoryLevelInput!) { setInventoryLevel(input: $input) { stocked reserved } }"
SHIPPING = "mutation($input: ShippingOptionInput!) { createShippingOption(input: $input) { id } }"
TAX = "mutation($input: TaxRateInput!) { upsertTaxRate(input: $input) { id } }"
STOCK = """
query($variant: UUID!) {
  inventoryItems(variantId: $variant) { edges { node { stocked reserved levels { locationName stocked reserved } } } }
}
"""
CREATE_CART = "mutation($input: CreateCartInput) { createCart(input: $input) { id } }"
ADD_LINE = (
    "mutation($cart: UUID!, $variant: UUID!, $qty: Int!) "
    "{ addCartLine(cartId: $cart, variantId: $variant, quantity: $qty) { total { amount } } }"
)
SET_ADDRESS = (
    "mutation($cart: UUID!, $address: AddressInput) "
    "{ setCartAddress(cartId: $cart, kind: SHIPPING, address: $address) { id } }"
)
SET_SHIPPING = (
    "mutation($cart: UUID!, $option: UUID) { setShippingOption(cartId: $cart, shippingOptionId: $option) "
    "{ subtotal { amount } shippingTotal { amount } taxTotal { amount } total { amount } } }"
)
CHECKOUT = """
mutation($cart: UUID!, $key: String!) {
  checkout(cartId: $cart, idempotencyKey: $key) {
    id displayId status version allowedTransitions
    subtotal { amount currencyCode } shippingTotal { amount } taxTotal { amount } discountTotal { amount }
    total { amount currencyCode }
    items { title sku quantity unitPrice { amount } subtotal { amount } taxTotal { amount } total { amount } }
    shippingMethod { code price { amount } }
    payments { status amount { amount } }
  }
}
"""
UPDATE = (
    "mutation($id: UUID!, $status: OrderStatus!, $version: Int!) "
    "{ updateOrderStatus(id: $id, status: $status, version: $version) { status version } }"
)
CAPTURE = "mutation($id: UUID!) { capturePayment(orderId: $id) { status version payments { status } } }"
ORDER = "query($id: UUID!) { order(id: $id) { status statusHistory { fromStatus toStatus actorId } } }"
MY_ORDERS = "{ myOrders { edges { node { id displayId status total { amount } } } } }"
ADDRESS = {
    "firstName": "Grace",
    "lastName": "Hopper",
    "line1": "Unter den Linden 5",
    "city": "Berlin",
    "postalCode": "10117",
    "countryCode": "DE",
}


async def outbox(platform: Platform, tenant_id: Any) -> list[Any]:
    registry = runtime_of(platform.ctx).registry
    async with platform.ctx.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT event_type, schema_version, payload FROM sys_events WHERE tenant_id = :t ORDER BY id"),
                {"t": tenant_id},
            )
        ).all()
    for row in rows:
        registry.load(row.event_type, row.payload, row.schema_version)  # every payload is valid
    return list(rows)


async def test_a_cart_becomes_an_order_that_lives_through_its_states(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant(modules=["commerce"])
    admin = await make_user(tenant, role="admin")
    shopper = await make_user(tenant, role="customer")

    async def as_admin(document: str, variables: dict[str, Any] | None = None) -> Any:
        return await rustok_client.graphql_data(document, variables, headers=admin.headers)

    async def as_shopper(document: str, variables: dict[str, Any] | None = None) -> Any:
        return await rustok_client.graphql_data(document, variables, headers=shopper.headers)

    # -- the catalog: 2 options x 2 values = 4 variants, EUR with a tier from 3 units, USD ----------
    variants = [
        {
            "options": [{"option": "Size", "value": size}, {"option": "Color", "value": color}],
            "sku": f"TEE-{size}-{color.upper()}",
            "prices": [
                {"currencyCode": "EUR", "amount": 2000},
                {"currencyCode": "EUR", "amount": 1800, "minQuantity": 3},
                {"currencyCode": "USD", "amount": 2200},
            ],
        }
        for size in ("S", "M")
        for color in ("Red", "Blue")
    ]
    product = (
        await as_admin(
            CREATE_PRODUCT,
            {
                "input": {
                    "translations": [{"locale": "en", "title": "T-Shirt"}],
                    "status": "ACTIVE",
                    "options": [{"title": "Size", "values": ["S", "M"]}, {"title": "Color", "values": ["Red", "Blue"]}],
                    "variants": variants,
                }
            },
        )
    )["createProduct"]
    assert product["status"] == "ACTIVE" and len(product["variants"]) == 4
    sku = {v["sku"]: v["id"] for v in product["variants"]}
    small_red, medium_blue = sku["TEE-S-RED"], sku["TEE-M-BLUE"]

    berlin = (await as_admin(LOCATION, {"input": {"name": "Berlin", "priority": 0}}))["createStockLocation"]["id"]
    hamburg = (await as_admin(LOCATION, {"input": {"name": "Hamburg", "priority": 1}}))["createStockLocation"]["id"]
    for variant, location, units in ((small_red, berlin, 2), (small_red, hamburg, 3), (medium_blue, berlin, 10)):
        await as_admin(SET_LEVEL, {"input": {"variantId": variant, "locationId": location, "stocked": units}})
    option = (
        await as_admin(
            SHIPPING,
            {"input": {"code": "dhl", "name": "DHL", "currencyCode": "EUR", "amount": 590, "countries": ["DE"]}},
        )
    )["createShippingOption"]["id"]
    await as_admin(TAX, {"input": {"countryCode": "DE", "name": "MwSt", "rateBp": 1900}})

    # -- the shopper's cart -------------------------------------------------------------------------
    cart = (await as_shopper(CREATE_CART, {"input": {"currencyCode": "EUR", "email": shopper.email}}))["createCart"][
        "id"
    ]
    await as_shopper(ADD_LINE, {"cart": cart, "variant": small_red, "qty": 3})
    await as_shopper(ADD_LINE, {"cart": cart, "variant": medium_blue, "qty": 1})
    await as_shopper(SET_ADDRESS, {"cart": cart, "address": ADDRESS})
    priced = (await as_shopper(SET_SHIPPING, {"cart": cart, "option": option}))["setShippingOption"]

    # 3 x 18.00 (the tier) + 20.00 = 74.00; shipping 5.90; 19 % tax: 10.26 + 3.80 + 1.12 = 15.18.
    expected = {"subtotal": 7400, "shippingTotal": 590, "taxTotal": 1026 + 380 + 112, "total": 7400 + 590 + 1518}
    assert {k: priced[k]["amount"] for k in expected} == expected

    # -- checkout, twice with the same key: one order ------------------------------------------------
    order = (await as_shopper(CHECKOUT, {"cart": cart, "key": "shopper-click-1"}))["checkout"]
    again = (await as_shopper(CHECKOUT, {"cart": cart, "key": "shopper-click-1"}))["checkout"]
    assert again == order
    assert {k: order[k]["amount"] for k in expected} == expected and order["discountTotal"]["amount"] == 0
    assert order["total"] == {"amount": 9508, "currencyCode": "EUR"}
    assert (order["status"], order["allowedTransitions"]) == ("PENDING", ["CONFIRMED", "CANCELLED"])
    assert [(i["sku"], i["quantity"], i["unitPrice"]["amount"], i["taxTotal"]["amount"]) for i in order["items"]] == [
        ("TEE-S-RED", 3, 1800, 1026),
        ("TEE-M-BLUE", 1, 2000, 380),
    ]
    assert order["shippingMethod"] == {"code": "dhl", "price": {"amount": 590}}
    assert order["payments"] == [{"status": "AUTHORIZED", "amount": {"amount": 9508}}]
    mine = (await as_shopper(MY_ORDERS))["myOrders"]["edges"]
    assert [(e["node"]["id"], e["node"]["displayId"]) for e in mine] == [(order["id"], order["displayId"])]
    # Stock is held where it was taken from: Berlin first (priority 0), then Hamburg.
    stock = (await as_admin(STOCK, {"variant": small_red}))["inventoryItems"]["edges"][0]["node"]
    assert (stock["stocked"], stock["reserved"]) == (5, 3)
    assert [(lv["locationName"], lv["stocked"], lv["reserved"]) for lv in stock["levels"]] == [
        ("Berlin", 2, 2),
        ("Hamburg", 3, 1),
    ]

    # -- the order's life -----------------------------------------------------------------------------
    refused = await rustok_client.graphql(
        UPDATE, {"id": order["id"], "status": "FULFILLED", "version": order["version"]}, headers=admin.headers
    )
    assert error_codes(refused) == ["CONFLICT"]
    assert (
        refused["errors"][0]["message"]
        == "cannot move an order from pending to fulfilled; allowed: confirmed, cancelled"
    )
    version = (await as_admin(UPDATE, {"id": order["id"], "status": "CONFIRMED", "version": order["version"]}))[
        "updateOrderStatus"
    ]["version"]
    paid = (await as_admin(CAPTURE, {"id": order["id"]}))["capturePayment"]
    assert (paid["status"], paid["payments"]) == ("PAID", [{"status": "CAPTURED"}])
    version = (await as_admin(UPDATE, {"id": order["id"], "status": "FULFILLED", "version": paid["version"]}))[
        "updateOrderStatus"
    ]["version"]
    stock = (await as_admin(STOCK, {"variant": small_red}))["inventoryItems"]["edges"][0]["node"]
    assert (stock["stocked"], stock["reserved"]) == (2, 0)  # three shirts left the warehouse
    done = (await as_admin(UPDATE, {"id": order["id"], "status": "COMPLETED", "version": version}))["updateOrderStatus"]
    assert done["status"] == "COMPLETED"
    history = (await as_admin(ORDER, {"id": order["id"]}))["order"]["statusHistory"]
    assert [(h["fromStatus"], h["toStatus"]) for h in history] == [
        (None, "PENDING"),
        ("PENDING", "CONFIRMED"),
        ("CONFIRMED", "PAID"),
        ("PAID", "FULFILLED"),
        ("FULFILLED", "COMPLETED"),
    ]
    assert {h["actorId"] for h in history[1:]} == {str(admin.id)}

    # -- a second order, cancelled: its stock comes back ---------------------------------------------
    second_cart = (await as_shopper(CREATE_CART, {"input": {"currencyCode": "EUR"}}))["createCart"]["id"]
    await as_shopper(ADD_LINE, {"cart": second_cart, "variant": small_red, "qty": 2})
    await as_shopper(SET_ADDRESS, {"cart": second_cart, "address": ADDRESS})
    await as_shopper(SET_SHIPPING, {"cart": second_cart, "option": option})
    second = (await as_shopper(CHECKOUT, {"cart": second_cart, "key": "shopper-click-2"}))["checkout"]
    assert second["displayId"] == order["displayId"] + 1
    reused_cart = await rustok_client.graphql(
        CHECKOUT, {"cart": cart, "key": "shopper-click-3"}, headers=shopper.headers
    )  # the first cart again, with a new key
    assert reused_cart["errors"][0]["extensions"]["reason"] == "CART_COMPLETED"
    stock = (await as_admin(STOCK, {"variant": small_red}))["inventoryItems"]["edges"][0]["node"]
    assert (stock["stocked"], stock["reserved"]) == (2, 2)
    await as_admin(UPDATE, {"id": second["id"], "status": "CANCELLED", "version": second["version"]})
    stock = (await as_admin(STOCK, {"variant": small_red}))["inventoryItems"]["edges"][0]["node"]
    assert (stock["stocked"], stock["reserved"]) == (2, 0)

    # -- every write's event, once ---------------------------------------------------------------------
    events = await outbox(rustok_platform, tenant.id)
    kinds = Counter(e.event_type for e in events if e.event_type.startswith(("commerce.order", "commerce.payment")))
    assert kinds == {
        "commerce.order.placed": 2,
        "commerce.payment.authorized": 2,
        "commerce.payment.captured": 1,
        "commerce.order.status_changed": 5,
        "commerce.order.completed": 1,
        "commerce.order.cancelled": 1,
    }
    placed = [e.payload for e in events if e.event_type == "commerce.order.placed"]
    assert [(p["order_id"], p["total"], p["item_count"]) for p in placed] == [
        (order["id"], 9508, 4),
        (second["id"], 4000 + 590 + 760 + 112, 2),
    ]
    cancelled = next(e.payload for e in events if e.event_type == "commerce.order.cancelled")
    assert (cancelled["order_id"], cancelled["released"]) == (second["id"], 2)
