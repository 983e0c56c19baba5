"""Checkout: a cart becomes one order — exact totals, one order per key and per cart, no overselling."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from rustok_commerce.models import Cart, Checkout, OrderItem, OrderStatusChange, Payment, Reservation
from rustok_core.errors import Conflict, NotFound, Validation
from rustok_server.boot import Platform

sys.path.insert(0, str(Path(__file__).parent))
from orders_fixtures import SHIPPING, Store


@pytest.fixture
async def store(rustok_platform: Platform, make_tenant: Any) -> Store:
    return await Store.open(rustok_platform, await make_tenant(locales=["en", "de"]))


async def test_checkout_turns_the_cart_into_an_order_with_hand_computed_totals(store: Store) -> None:
    shirt, shirt_item = await store.variant("Shirt", price=1999, stock={"main": 1, "backup": 5})
    mug, mug_item = await store.variant("Mug", price=550, stock={"main": 3})
    customer = uuid.uuid4()
    cart_id = await store.cart([(shirt, 2), (mug, 1)], customer=customer)
    seen = await store.event_ids()

    order = await store.checkout(cart_id, "key-1", customer=customer)

    # Lines: 2 x 19.99 = 39.98 and 5.50; tax 19 % per line, half up: 7.60 and 1.05;
    # shipping 4.99 with 19 % tax 0.95. Total: 45.48 + 4.99 + 9.60 = 60.07.
    assert (order.subtotal, order.shipping_total, order.tax_total, order.discount_total, order.total) == (
        3998 + 550,
        SHIPPING,
        760 + 105 + 95,
        0,
        4548 + 499 + 960,
    )
    assert order.total == 6007
    assert (order.status, order.currency_code, order.customer_id, order.cart_id) == (
        "pending",
        "EUR",
        customer,
        cart_id,
    )
    assert order.display_id >= 1 and order.version == 1
    assert order.email == "shopper@example.com" and order.locale == "en"
    assert order.shipping_address is not None and order.shipping_address["country_code"] == "DE"
    assert order.shipping_method is not None
    assert (order.shipping_method["code"], order.shipping_method["amount"]) == ("standard", SHIPPING)

    items = (await store.orders.items_of(store.tenant.id, [order.id]))[order.id]
    assert [(i.title, i.quantity, i.unit_price, i.subtotal, i.tax_total, i.total) for i in items] == [
        ("Shirt", 2, 1999, 3998, 760, 4758),
        ("Mug", 1, 550, 550, 105, 655),
    ]
    assert [i.variant_id for i in items] == [shirt, mug]
    payments = (await store.orders.payments_of(store.tenant.id, [order.id]))[order.id]
    assert [(p.provider, p.status, p.amount, p.captured_amount) for p in payments] == [
        ("manual", "authorized", 6007, 0)
    ]
    assert payments[0].provider_reference and payments[0].provider_reference.startswith("manual_auth_")
    history = (await store.orders.history_of(store.tenant.id, [order.id]))[order.id]
    assert [(h.from_status, h.to_status, h.actor_id) for h in history] == [(None, "pending", customer)]

    # The shirt's 2 units come from main (1) then backup (1): priority order.
    assert await store.stock(shirt_item) == (6, 2)
    assert await store.stock(mug_item) == (3, 1)
    async with store.db.session(store.tenant.id) as s:
        cart = await s.scalar(select(Cart).where(Cart.id == cart_id))
        assert cart is not None and cart.status == "completed" and cart.completed_at is not None
        held = (await s.scalars(select(Reservation).where(Reservation.order_id == order.id))).all()
        assert sorted(r.quantity for r in held) == [1, 1, 1]
        assert {r.order_line_id for r in held} == {i.id for i in items}

    events = await store.events_since(seen)
    assert store.kinds(events) == {
        "commerce.order.placed": 1,
        "commerce.payment.authorized": 1,
        "commerce.inventory.updated": 3,
        # The shirt's available stock fell from 6 to 4, past the default threshold of 5.
        "commerce.inventory.low": 1,
    }
    placed = next(e for e in events if e.event_type == "commerce.order.placed")
    assert placed.payload["order_id"] == str(order.id)
    assert placed.payload["display_id"] == order.display_id
    assert placed.payload["total"] == 6007 and placed.payload["currency_code"] == "EUR"
    assert placed.payload["item_count"] == 3
    assert placed.payload["variant_ids"] == [str(shirt), str(mug)]
    assert placed.payload["customer_id"] == str(customer)
    assert str(placed.actor_id) == str(customer)
    authorized = next(e for e in events if e.event_type == "commerce.payment.authorized")
    assert (authorized.payload["amount"], authorized.payload["provider"]) == (6007, "manual")
    assert authorized.payload["payment_id"] == str(payments[0].id)


async def test_the_same_key_twice_returns_the_same_order(store: Store) -> None:
    variant, item = await store.variant("Lamp", price=1000, stock={"main": 10})
    cart_id = await store.cart([(variant, 2)])
    first = await store.checkout(cart_id, "retry-me")
    seen = await store.event_ids()

    again = await store.checkout(cart_id, "retry-me")

    assert again.id == first.id and again.display_id == first.display_id
    assert await store.count("commerce_orders") == 1
    assert await store.stock(item) == (10, 2)
    assert await store.events_since(seen) == []


async def test_the_same_key_sent_concurrently_places_one_order(store: Store) -> None:
    variant, item = await store.variant("Vase", price=2500, stock={"main": 10})
    cart_id = await store.cart([(variant, 3)])
    seen = await store.event_ids()

    results = await store.checkout_many([(cart_id, "double-click", None)] * 6)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len({r.id for r in results}) == 1
    assert await store.count("commerce_orders") == 1
    assert await store.count("commerce_checkouts") == 1
    assert await store.stock(item) == (10, 3)
    assert store.kinds(await store.events_since(seen), "commerce.order") == {"commerce.order.placed": 1}


async def test_one_key_for_two_carts_places_one_order_and_refuses_the_other(store: Store) -> None:
    variant, _ = await store.variant("Pen", price=300, stock={"main": 10})
    one = await store.cart([(variant, 1)])
    two = await store.cart([(variant, 1)])
    await store.checkout(one, "shared-key")

    with pytest.raises(Conflict) as refused:
        await store.checkout(two, "shared-key")
    assert refused.value.details["reason"] == "IDEMPOTENCY_KEY_REUSED"

    # The same at once: exactly one wins, the other is told the key is taken.
    three = await store.cart([(variant, 1)])
    four = await store.cart([(variant, 1)])
    results = await store.checkout_many([(three, "race-key", None), (four, "race-key", None)])
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and isinstance(failures[0], Conflict)
    assert failures[0].details["reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert await store.count("commerce_orders") == 2
    async with store.db.session(store.tenant.id) as s:
        loser = three if any(getattr(r, "cart_id", None) == four for r in results) else four
        cart = await s.scalar(select(Cart).where(Cart.id == loser))
        assert cart is not None and cart.status == "active"


async def test_twenty_concurrent_checkouts_for_five_units_place_exactly_five_orders(store: Store) -> None:
    variant, item = await store.variant("Limited print", price=4900, stock={"main": 5})
    carts = [await store.cart([(variant, 1)]) for _ in range(20)]
    seen = await store.event_ids()

    results = await store.checkout_many([(cart, f"key-{n}", None) for n, cart in enumerate(carts)])

    placed = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(placed) == 5 and len(refused) == 15
    for error in refused:
        assert isinstance(error, Conflict), error
        assert error.details["reason"] == "OUT_OF_STOCK"
        assert error.details["variantId"] == str(variant)
        assert (error.details["requested"], error.details["available"]) == (1, 0)
    assert await store.stock(item) == (5, 5)
    assert await store.count("commerce_orders") == 5
    assert await store.count("commerce_checkouts") == 5
    assert await store.count("commerce_payments") == 5
    assert len({order.display_id for order in placed}) == 5
    async with store.db.session(store.tenant.id) as s:
        statuses = (await s.scalars(select(Cart.status).where(Cart.id.in_(carts)))).all()
    assert sorted(statuses) == ["active"] * 15 + ["completed"] * 5
    assert store.kinds(await store.events_since(seen), "commerce.order") == {"commerce.order.placed": 5}


async def test_twenty_concurrent_checkouts_get_twenty_distinct_display_ids(store: Store) -> None:
    variant, _ = await store.variant("Sticker", price=100, stock={"main": 1000})
    carts = [await store.cart([(variant, 1)]) for _ in range(20)]

    results = await store.checkout_many([(cart, f"n-{n}", None) for n, cart in enumerate(carts)])

    assert not [r for r in results if isinstance(r, BaseException)], results
    numbers = sorted(order.display_id for order in results)
    assert len(set(numbers)) == 20
    # Nothing failed, so nothing was skipped: the numbers are dense here.
    assert numbers == list(range(numbers[0], numbers[0] + 20))


async def test_a_failed_checkout_leaves_a_gap_in_display_ids(store: Store) -> None:
    variant, _ = await store.variant("Gap", price=100, stock={"main": 1})
    first = await store.checkout(await store.cart([(variant, 1)]))
    with pytest.raises(Conflict):
        await store.checkout(await store.cart([(variant, 1)]))  # out of stock: its number is lost
    other, _ = await store.variant("Other", price=100, stock={"main": 1})
    third = await store.checkout(await store.cart([(other, 1)]))
    assert third.display_id == first.display_id + 2
    assert await store.orders.get_by_display_id(store.tenant.id, third.display_id) is not None


async def test_empty_and_already_checked_out_carts_are_refused_and_nothing_is_written(store: Store) -> None:
    variant, item = await store.variant("Cup", price=800, stock={"main": 4})
    empty = await store.cart([], ship=False)
    with pytest.raises(Validation) as invalid:
        await store.checkout(empty, "empty-key")
    assert invalid.value.details["reason"] == "EMPTY_CART"

    cart_id = await store.cart([(variant, 1)])
    order = await store.checkout(cart_id, "first-key")
    before = {t: await store.count(t) for t in ("commerce_orders", "commerce_checkouts", "commerce_payments")}
    seen = await store.event_ids()
    with pytest.raises(Conflict) as done:
        await store.checkout(cart_id, "second-key")
    assert done.value.details["reason"] == "CART_COMPLETED"
    assert "already been checked out" in done.value.message
    assert {t: await store.count(t) for t in before} == before
    assert await store.stock(item) == (4, 1)
    assert await store.events_since(seen) == []
    assert (await store.orders.get(store.tenant.id, order.id)).status == "pending"
    # The empty cart left nothing behind either.
    async with store.db.session(store.tenant.id) as s:
        assert await s.scalar(select(Checkout).where(Checkout.cart_id == empty)) is None
        cart = await s.scalar(select(Cart).where(Cart.id == empty))
        assert cart is not None and cart.status == "active"


async def test_out_of_stock_rolls_back_the_whole_checkout(store: Store) -> None:
    plenty, plenty_item = await store.variant("Plenty", price=100, stock={"main": 9})
    scarce, _ = await store.variant("Scarce", price=100, stock={"main": 1})
    cart_id = await store.cart([(plenty, 2), (scarce, 2)])
    with pytest.raises(Conflict) as out:
        await store.checkout(cart_id)
    assert out.value.details["reason"] == "OUT_OF_STOCK" and out.value.details["available"] == 1
    assert await store.stock(plenty_item) == (9, 0)
    for table in ("commerce_orders", "commerce_order_items", "commerce_payments", "commerce_checkouts"):
        assert await store.count(table) == 0, table
    async with store.db.session(store.tenant.id) as s:
        assert (await s.scalars(select(OrderItem))).all() == []
        assert (await s.scalars(select(OrderStatusChange))).all() == []
        assert (await s.scalars(select(Payment))).all() == []


async def test_only_the_owner_checks_out_a_customer_cart_and_anyone_with_the_id_a_guest_cart(store: Store) -> None:
    variant, _ = await store.variant("Book", price=1200, stock={"main": 5})
    me, someone = uuid.uuid4(), uuid.uuid4()
    mine = await store.cart([(variant, 1)], customer=me)

    for intruder in (someone, None):
        with pytest.raises(NotFound) as hidden:
            await store.checkout(mine, "steal", customer=intruder)
        assert hidden.value.message == "no such cart"
    with pytest.raises(NotFound) as missing:
        await store.checkout(uuid.uuid4(), "nothing", customer=me)
    assert missing.value.message == "no such cart"
    assert await store.count("commerce_orders") == 0

    order = await store.checkout(mine, "mine", customer=me)
    assert order.customer_id == me
    # Replaying my key as someone else reveals nothing either.
    with pytest.raises(NotFound):
        await store.checkout(mine, "mine", customer=someone)

    guest_cart = await store.cart([(variant, 1)])
    guest_order = await store.checkout(guest_cart, "guest", customer=None)
    assert guest_order.customer_id is None and guest_order.email == "shopper@example.com"
    # A signed-in shopper checking out a guest cart gets the order in their account.
    signed_in = await store.checkout(await store.cart([(variant, 1)]), "guest-2", customer=someone)
    assert signed_in.customer_id == someone


@pytest.mark.parametrize("key", ["", "   ", "k" * 256, 42, None])
async def test_idempotency_keys_are_one_to_255_characters(store: Store, key: Any) -> None:
    variant, _ = await store.variant("Key", price=100, stock={"main": 1})
    cart_id = await store.cart([(variant, 1)])
    with pytest.raises(Validation) as invalid:
        await _checkout_raw(store, cart_id, key)
    assert invalid.value.details["reason"] == "INVALID_KEY"
    assert invalid.value.field_errors[0].path == ("idempotencyKey",)
    assert await store.count("commerce_orders") == 0


async def _checkout_raw(store: Store, cart_id: uuid.UUID, key: Any) -> Any:
    from rustok_commerce.services.checkout import checkout

    return await checkout(store.ctx, store.tenant, cart_id, key, actor=None)


async def test_an_unknown_payment_provider_is_refused_before_anything_happens(store: Store) -> None:
    from rustok_commerce.services.checkout import checkout

    variant, item = await store.variant("Provider", price=100, stock={"main": 1})
    cart_id = await store.cart([(variant, 1)])
    with pytest.raises(Validation) as invalid:
        await checkout(store.ctx, store.tenant, cart_id, "p", actor=None, payment_provider="stripe")
    assert invalid.value.details["reason"] == "UNKNOWN_PROVIDER"
    assert await store.stock(item) == (1, 0)
    assert await store.count("commerce_order_counters") == 0
