"""The orders API: GraphQL for shoppers and staff, REST for integrations, constant queries per page."""

from __future__ import annotations

import secrets
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.queries import count_queries

sys.path.insert(0, str(Path(__file__).parent))
from orders_fixtures import Store

MONEY = "amount currencyCode"
ORDER = f"""
  id displayId status version allowedTransitions customerId email currencyCode
  subtotal {{ {MONEY} }} shippingTotal {{ {MONEY} }} taxTotal {{ {MONEY} }} discountTotal {{ {MONEY} }}
  total {{ {MONEY} }} refundedTotal {{ {MONEY} }}
  shippingAddress {{ city countryCode }} shippingMethod {{ code name price {{ {MONEY} }} }}
  items {{ id variantId title sku quantity unitPrice {{ amount }} subtotal {{ amount }} taxTotal {{ amount }}
          total {{ amount }} }}
  statusHistory {{ fromStatus toStatus actorId note createdAt }}
  payments {{ id provider status amount {{ amount }} capturedAmount {{ amount }} refundedAmount {{ amount }} }}
  refunds {{ id paymentId amount {{ {MONEY} }} reason actorId createdAt }}
  createdAt updatedAt completedAt cancelledAt
"""
CHECKOUT = "mutation($cart: UUID!, $key: String!) { checkout(cartId: $cart, idempotencyKey: $key) { " + ORDER + " } }"
MY_ORDERS = "query($first: Int, $after: String) { myOrders(first: $first, after: $after) { edges { cursor node { id displayId } } pageInfo { hasNextPage endCursor } } }"  # noqa: E501
MY_ORDER = "query($id: UUID, $n: Int) { myOrder(id: $id, displayId: $n) { id status statusHistory { toStatus actorId note } } }"  # noqa: E501
ORDER_BY = "query($id: UUID, $n: Int) { order(id: $id, displayId: $n) { " + ORDER + " } }"
ORDERS = (
    "query($filter: OrderFilter, $first: Int, $after: String) { orders(filter: $filter, first: $first, after: $after) "
    "{ edges { node { " + ORDER + " } } pageInfo { hasNextPage endCursor } } }"
)
UPDATE = (
    "mutation($id: UUID!, $status: OrderStatus!, $version: Int!, $note: String) "
    "{ updateOrderStatus(id: $id, status: $status, version: $version, note: $note) { id status version "
    "allowedTransitions updatedAt statusHistory { fromStatus toStatus actorId note } } }"
)
CAPTURE = (
    "mutation($id: UUID!) "
    "{ capturePayment(orderId: $id) { status updatedAt payments { status capturedAmount { amount } } } }"
)
REFUND = (
    "mutation($id: UUID!, $amount: MinorUnits, $reason: String) "
    "{ refundOrder(id: $id, amount: $amount, reason: $reason) "
    "{ status updatedAt refundedTotal { amount } refunds { amount { amount } reason actorId } } }"
)
TOTAL = 2000 + 499 + 380 + 95


@pytest.fixture
async def store(rustok_platform: Platform, make_tenant: Any) -> Store:
    return await Store.open(rustok_platform, await make_tenant())


async def test_a_shopper_checks_out_and_reads_only_their_own_orders(
    store: Store, rustok_client: RustokClient, make_user: Any
) -> None:
    shopper = await make_user(store.tenant, role="customer")
    other = await make_user(store.tenant, role="customer")
    variant, _ = await store.variant("Desk", price=1000, stock={"main": 9})
    cart_id = await store.cart([(variant, 2)], customer=shopper.id)

    # Nobody else checks out my cart: it looks missing.
    for headers in (other.headers, rustok_client.tenant_headers(store.tenant)):
        stolen = await rustok_client.graphql(CHECKOUT, {"cart": str(cart_id), "key": "k1"}, headers=headers)
        assert error_codes(stolen) == ["NOT_FOUND"] and stolen["errors"][0]["message"] == "no such cart"

    order = (await rustok_client.graphql_data(CHECKOUT, {"cart": str(cart_id), "key": "k1"}, headers=shopper.headers))[
        "checkout"
    ]
    assert order["status"] == "PENDING" and order["customerId"] == str(shopper.id)
    assert order["allowedTransitions"] == ["CONFIRMED", "CANCELLED"]
    assert order["total"] == {"amount": TOTAL, "currencyCode": "EUR"}
    assert order["subtotal"]["amount"] == 2000 and order["taxTotal"]["amount"] == 475
    assert order["shippingMethod"] == {
        "code": "standard",
        "name": "Standard",
        "price": {"amount": 499, "currencyCode": "EUR"},
    }
    assert order["shippingAddress"] == {"city": "Berlin", "countryCode": "DE"}
    assert [(i["quantity"], i["unitPrice"]["amount"], i["total"]["amount"]) for i in order["items"]] == [
        (2, 1000, 2380)
    ]
    assert order["payments"][0]["status"] == "AUTHORIZED"
    # A shopper does not see who moved the order or the staff's notes.
    assert order["statusHistory"] == [
        {
            "fromStatus": None,
            "toStatus": "PENDING",
            "actorId": None,
            "note": None,
            "createdAt": order["statusHistory"][0]["createdAt"],
        }
    ]
    again = await rustok_client.graphql_data(CHECKOUT, {"cart": str(cart_id), "key": "k1"}, headers=shopper.headers)
    assert again["checkout"]["id"] == order["id"]

    mine = (await rustok_client.graphql_data(MY_ORDERS, {}, headers=shopper.headers))["myOrders"]
    assert [e["node"]["id"] for e in mine["edges"]] == [order["id"]]
    assert (await rustok_client.graphql_data(MY_ORDERS, {}, headers=other.headers))["myOrders"]["edges"] == []
    by_number = await rustok_client.graphql_data(MY_ORDER, {"n": order["displayId"]}, headers=shopper.headers)
    assert by_number["myOrder"]["id"] == order["id"]
    assert (await rustok_client.graphql_data(MY_ORDER, {"id": order["id"]}, headers=other.headers))["myOrder"] is None

    # Staff reads go through commerce_orders:read, which customers do not hold.
    refused = await rustok_client.graphql(ORDER_BY, {"id": order["id"]}, headers=shopper.headers)
    assert error_codes(refused) == ["FORBIDDEN"]
    anonymous = await rustok_client.graphql(MY_ORDERS, {}, tenant=store.tenant)
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_a_guest_checks_out_a_guest_cart_by_its_id(store: Store, rustok_client: RustokClient) -> None:
    variant, item = await store.variant("Poster", price=1000, stock={"main": 3})
    cart_id = await store.cart([(variant, 2)])
    body = await rustok_client.graphql(CHECKOUT, {"cart": str(cart_id), "key": "guest-key"}, tenant=store.tenant)
    assert not body.get("errors"), body
    assert body["data"]["checkout"]["customerId"] is None
    assert await store.stock(item) == (3, 2)
    empty = await store.cart([], ship=False)
    refused = await rustok_client.graphql(CHECKOUT, {"cart": str(empty), "key": "g2"}, tenant=store.tenant)
    assert error_codes(refused) == ["VALIDATION"] and refused["errors"][0]["extensions"]["reason"] == "EMPTY_CART"
    done = await rustok_client.graphql(CHECKOUT, {"cart": str(cart_id), "key": "g3"}, tenant=store.tenant)
    assert error_codes(done) == ["CONFLICT"] and done["errors"][0]["extensions"]["reason"] == "CART_COMPLETED"
    bad_key = await rustok_client.graphql(CHECKOUT, {"cart": str(empty), "key": ""}, tenant=store.tenant)
    assert bad_key["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["idempotencyKey"]


async def test_staff_move_capture_and_refund_orders_through_graphql(
    store: Store, rustok_client: RustokClient, make_user: Any
) -> None:
    manager = await make_user(store.tenant, role="manager")
    variant, item = await store.variant("Sofa", price=1000, stock={"main": 5})
    order = await store.checkout(await store.cart([(variant, 2)]))

    found = (await rustok_client.graphql_data(ORDER_BY, {"n": order.display_id}, headers=manager.headers))["order"]
    assert found["id"] == str(order.id)
    missing = await rustok_client.graphql_data(ORDER_BY, {"n": order.display_id + 1000}, headers=manager.headers)
    assert missing["order"] is None
    both = await rustok_client.graphql(ORDER_BY, {"id": str(order.id), "n": 1}, headers=manager.headers)
    assert error_codes(both) == ["VALIDATION"]

    illegal = await rustok_client.graphql(
        UPDATE, {"id": str(order.id), "status": "FULFILLED", "version": 1}, headers=manager.headers
    )
    assert error_codes(illegal) == ["CONFLICT"]
    assert illegal["errors"][0]["extensions"]["reason"] == "ILLEGAL_TRANSITION"
    assert illegal["errors"][0]["extensions"]["allowed"] == ["confirmed", "cancelled"]
    assert (
        illegal["errors"][0]["message"]
        == "cannot move an order from pending to fulfilled; allowed: confirmed, cancelled"
    )

    moved = await rustok_client.graphql_data(
        UPDATE,
        {"id": str(order.id), "status": "CONFIRMED", "version": 1, "note": "stock checked"},
        headers=manager.headers,
    )
    confirmed = moved["updateOrderStatus"]
    assert (confirmed["status"], confirmed["version"]) == ("CONFIRMED", 2)
    assert confirmed["statusHistory"][-1] == {
        "fromStatus": "PENDING",
        "toStatus": "CONFIRMED",
        "actorId": str(manager.id),
        "note": "stock checked",
    }
    stale = await rustok_client.graphql(
        UPDATE, {"id": str(order.id), "status": "PAID", "version": 1}, headers=manager.headers
    )
    assert error_codes(stale) == ["CONFLICT"]

    captured = (await rustok_client.graphql_data(CAPTURE, {"id": str(order.id)}, headers=manager.headers))[
        "capturePayment"
    ]
    assert captured["status"] == "PAID"
    assert captured["payments"] == [{"status": "CAPTURED", "capturedAmount": {"amount": TOTAL}}]

    partial = await rustok_client.graphql_data(
        REFUND, {"id": str(order.id), "amount": 500, "reason": "late"}, headers=manager.headers
    )
    assert partial["refundOrder"]["status"] == "PAID"
    assert partial["refundOrder"]["refundedTotal"]["amount"] == 500
    assert partial["refundOrder"]["refunds"] == [
        {"amount": {"amount": 500}, "reason": "late", "actorId": str(manager.id)}
    ]
    over = await rustok_client.graphql(REFUND, {"id": str(order.id), "amount": TOTAL}, headers=manager.headers)
    assert error_codes(over) == ["VALIDATION"]
    assert over["errors"][0]["extensions"]["reason"] == "REFUND_EXCEEDS_CAPTURED"
    fractional = await rustok_client.graphql(
        "mutation($id: UUID!) { refundOrder(id: $id, amount: 1.5) { status } }",
        {"id": str(order.id)},
        headers=manager.headers,
        expect_status=400,
    )
    assert error_codes(fractional) == ["VALIDATION"]
    zero = await rustok_client.graphql(REFUND, {"id": str(order.id), "amount": 0}, headers=manager.headers)
    assert zero["errors"][0]["extensions"]["reason"] == "INVALID_AMOUNT"
    full = (await rustok_client.graphql_data(REFUND, {"id": str(order.id)}, headers=manager.headers))["refundOrder"]
    assert full["status"] == "REFUNDED" and full["refundedTotal"]["amount"] == TOTAL
    assert await store.stock(item) == (5, 0)

    # Customers hold none of these permissions.
    customer = await make_user(store.tenant, role="customer")
    for document, variables in ((CAPTURE, {"id": str(order.id)}), (REFUND, {"id": str(order.id), "amount": 1})):
        assert error_codes(await rustok_client.graphql(document, variables, headers=customer.headers)) == ["FORBIDDEN"]


async def test_the_rest_routes_list_read_move_and_refund_orders(
    store: Store, rustok_client: RustokClient, make_user: Any
) -> None:
    admin = await make_user(store.tenant, role="admin")
    variant, _ = await store.variant("Rug", price=1000, stock={"main": 9})
    first = await store.checkout(await store.cart([(variant, 1)]))
    second = await store.checkout(await store.cart([(variant, 2)]))
    base = "/api/v1/commerce/orders"

    listed = await rustok_client.get(base, params={"first": 1}, headers=admin.headers)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert [o["id"] for o in page["items"]] == [str(second.id)] and page["nextCursor"]
    rest = await rustok_client.get(base, params={"first": 5, "after": page["nextCursor"]}, headers=admin.headers)
    assert [o["id"] for o in rest.json()["items"]] == [str(first.id)] and rest.json()["nextCursor"] is None
    assert (await rustok_client.get(base, params={"status": "paid"}, headers=admin.headers)).json()["items"] == []

    one = (await rustok_client.get(f"{base}/{first.id}", headers=admin.headers)).json()
    assert (one["displayId"], one["status"], one["allowedTransitions"]) == (
        first.display_id,
        "pending",
        ["confirmed", "cancelled"],
    )
    assert one["items"][0]["quantity"] == 1 and one["statusHistory"][0]["toStatus"] == "pending"
    assert (await rustok_client.get(f"{base}/{uuid.uuid4()}", headers=admin.headers)).status_code == 404

    illegal = await rustok_client.post(
        f"{base}/{first.id}/status", json={"status": "completed", "version": 1}, headers=admin.headers
    )
    assert illegal.status_code == 409
    assert illegal.json()["reason"] == "ILLEGAL_TRANSITION" and illegal.json()["allowed"] == ["confirmed", "cancelled"]
    for status, version in (("confirmed", 1), ("paid", 2)):
        moved = await rustok_client.post(
            f"{base}/{first.id}/status", json={"status": status, "version": version}, headers=admin.headers
        )
        assert moved.status_code == 200, moved.text
    assert moved.json()["payments"][0]["status"] == "captured"

    headers = {**admin.headers, "Idempotency-Key": secrets.token_hex(8)}
    refund = await rustok_client.post(
        f"{base}/{first.id}/refunds", json={"amount": 300, "reason": "dent"}, headers=headers
    )
    assert refund.status_code == 201, refund.text
    retried = await rustok_client.post(
        f"{base}/{first.id}/refunds", json={"amount": 300, "reason": "dent"}, headers=headers
    )
    assert retried.status_code == 201 and retried.json()["refundedTotal"] == 300
    assert len(retried.json()["refunds"]) == 1
    negative = await rustok_client.post(f"{base}/{first.id}/refunds", json={"amount": -1}, headers=admin.headers)
    assert negative.status_code == 422 and negative.json()["reason"] == "INVALID_AMOUNT"

    customer = await make_user(store.tenant, role="customer")
    assert (await rustok_client.get(base, headers=customer.headers)).status_code == 403


async def test_listing_orders_costs_the_same_number_of_queries_for_5_and_30_orders(
    store: Store, rustok_client: RustokClient, rustok_platform: Platform, make_user: Any
) -> None:
    admin = await make_user(store.tenant, role="admin")
    variant, _ = await store.variant("Many", price=100, stock={"main": 1000})
    other, _ = await store.variant("More", price=250, stock={"main": 1000})
    for n in range(30):
        order = await store.checkout(await store.cart([(variant, 1 + n % 3), (other, 1)]))
        order = await store.orders.transition(
            store.tenant, order.id, "confirmed", expected_version=1, actor_id=admin.id
        )
        if n % 2:
            order = await store.orders.transition(store.tenant, order.id, "paid", expected_version=2, actor_id=admin.id)
            from rustok_commerce.services.payments import PaymentService

            await PaymentService(store.ctx).refund(store.tenant, order.id, amount=50, actor_id=admin.id)

    # Warm the per-process caches (tenant, grants) so both measured requests do the same work.
    await rustok_client.graphql_data(ORDERS, {"first": 1}, headers=admin.headers)
    counts = {}
    for size in (5, 30):
        async with count_queries(rustok_platform) as counted:
            data = await rustok_client.graphql_data(ORDERS, {"first": size}, headers=admin.headers)
        edges = data["orders"]["edges"]
        assert len(edges) == size
        assert all(len(e["node"]["items"]) == 2 and len(e["node"]["statusHistory"]) >= 2 for e in edges)
        assert all(e["node"]["payments"] for e in edges)
        assert any(e["node"]["refunds"] for e in edges)
        counts[size] = counted.count
    assert counts[5] == counts[30], counts
    print(f"orders page (GraphQL, items+history+payments+refunds): {counts[30]} queries for 5 and for 30 orders")

    filtered = await rustok_client.graphql_data(
        ORDERS, {"filter": {"status": ["PAID"]}, "first": 100}, headers=admin.headers
    )
    assert len(filtered["orders"]["edges"]) == 15
    paged, after, seen = 0, None, set()
    while True:
        page = (await rustok_client.graphql_data(ORDERS, {"first": 7, "after": after}, headers=admin.headers))["orders"]
        seen.update(e["node"]["id"] for e in page["edges"])
        paged += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 30 and paged == 5

    rest_counts = {}
    for size in (5, 30):
        async with count_queries(rustok_platform) as counted:
            response = await rustok_client.get("/api/v1/commerce/orders", params={"first": size}, headers=admin.headers)
        assert response.status_code == 200 and len(response.json()["items"]) == size
        rest_counts[size] = counted.count
    assert rest_counts[5] == rest_counts[30], rest_counts
    print(f"orders page (REST): {rest_counts[30]} queries for 5 and for 30 orders")


async def test_another_tenants_orders_and_carts_look_like_ids_that_exist_nowhere(
    store: Store, rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    theirs = await Store.open(rustok_platform, await make_tenant())
    variant, item = await theirs.variant("Theirs", price=1000, stock={"main": 5})
    their_order = await theirs.checkout(await theirs.cart([(variant, 1)]))
    their_cart = await theirs.cart([(variant, 1)])
    admin = await make_user(store.tenant, role="admin")
    nowhere = str(uuid.uuid4())

    async def answer(document: str, variables: dict[str, Any]) -> Any:
        body = await rustok_client.graphql(document, variables, headers=admin.headers)
        return body.get("data"), [(e["extensions"]["code"], e["message"]) for e in body.get("errors", [])]

    for document, key in (
        (ORDER_BY, "id"),
        (MY_ORDER, "id"),
        (UPDATE, "id"),
        (CAPTURE, "id"),
        (REFUND, "id"),
    ):
        extra = {"status": "CANCELLED", "version": 1} if document is UPDATE else {}
        assert await answer(document, {key: str(their_order.id), **extra}) == await answer(
            document, {key: nowhere, **extra}
        )
    assert await answer(CHECKOUT, {"cart": str(their_cart), "key": "x"}) == await answer(
        CHECKOUT, {"cart": nowhere, "key": "x"}
    )
    listed = await rustok_client.graphql_data(
        ORDERS, {"filter": {"customerId": str(uuid.uuid4())}, "first": 5}, headers=admin.headers
    )
    assert listed["orders"]["edges"] == []
    assert (await rustok_client.graphql_data(ORDERS, {"first": 100}, headers=admin.headers))["orders"]["edges"] == []
    for path in (f"/api/v1/commerce/orders/{their_order.id}", f"/api/v1/commerce/orders/{nowhere}"):
        response = await rustok_client.get(path, headers=admin.headers)
        assert response.status_code == 404 and response.json()["detail"] == "no such order"
    # Nothing of theirs changed.
    assert (await theirs.orders.get(theirs.tenant.id, their_order.id)).version == 1
    assert await theirs.stock(item) == (5, 1)
