"""The order state machine and its side effects: stock, payments, history, events."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from rustok_commerce.models import ORDER_STATUSES, Order, Payment, Refund
from rustok_commerce.services.orders import TRANSITIONS, allowed_transitions
from rustok_commerce.services.payments import PaymentService
from rustok_core.errors import Conflict, Validation
from rustok_server.boot import Platform

sys.path.insert(0, str(Path(__file__).parent))
from orders_fixtures import Store

# 2 x 10.00 + 4.99 shipping + 19 % tax on both (3.80 + 0.95).
TOTAL = 2000 + 499 + 380 + 95
HAPPY_PATH = ["confirmed", "paid", "fulfilled", "completed"]


@pytest.fixture
async def store(rustok_platform: Platform, make_tenant: Any) -> Store:
    return await Store.open(rustok_platform, await make_tenant())


async def placed(store: Store, *, stocked: int = 10) -> tuple[Order, uuid.UUID]:
    variant, item = await store.variant("Chair", price=1000, stock={"main": stocked})
    order = await store.checkout(await store.cart([(variant, 2)]))
    assert order.total == TOTAL
    assert item is not None
    return order, item


async def move(store: Store, order: Order, *statuses: str, actor: uuid.UUID | None = None) -> Order:
    for status in statuses:
        current = await store.orders.get(store.tenant.id, order.id)
        order = await store.orders.transition(
            store.tenant, order.id, status, expected_version=current.version, actor_id=actor, note=f"to {status}"
        )
    return order


async def payment_of(store: Store, order: Order) -> Payment:
    (payment,) = (await store.orders.payments_of(store.tenant.id, [order.id]))[order.id]
    return payment


def test_the_state_machine_is_data_with_final_statuses_and_every_status_reachable() -> None:
    assert set(TRANSITIONS) == set(ORDER_STATUSES)
    assert all(targets <= set(ORDER_STATUSES) for targets in TRANSITIONS.values())
    assert {s for s, targets in TRANSITIONS.items() if not targets} == {"cancelled", "refunded"}
    reached, frontier = {"pending"}, ["pending"]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(ORDER_STATUSES)
    # Once goods have left, an order is refunded, never cancelled.
    assert "cancelled" not in TRANSITIONS["fulfilled"] | TRANSITIONS["completed"]
    assert allowed_transitions("paid") == ["fulfilled", "cancelled", "refunded"]


async def test_the_happy_path_writes_history_and_one_event_per_step(store: Store) -> None:
    order, item = await placed(store)
    staff = uuid.uuid4()
    seen = await store.event_ids()

    order = await move(store, order, *HAPPY_PATH, actor=staff)

    assert order.status == "completed" and order.completed_at is not None and order.cancelled_at is None
    assert order.version == 1 + len(HAPPY_PATH)
    history = (await store.orders.history_of(store.tenant.id, [order.id]))[order.id]
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, "pending"),
        ("pending", "confirmed"),
        ("confirmed", "paid"),
        ("paid", "fulfilled"),
        ("fulfilled", "completed"),
    ]
    assert all(h.actor_id == staff for h in history[1:])
    assert history[2].note == "to paid"
    payment = await payment_of(store, order)
    assert (payment.status, payment.captured_amount) == ("captured", TOTAL)
    # Fulfilment: the two units left the shelf.
    assert await store.stock(item) == (8, 0)

    events = await store.events_since(seen)
    assert store.kinds(events, "commerce.order") == {"commerce.order.status_changed": 4, "commerce.order.completed": 1}
    assert store.kinds(events, "commerce.payment") == {"commerce.payment.captured": 1}
    changes = [e.payload for e in events if e.event_type == "commerce.order.status_changed"]
    assert [(c["from_status"], c["to_status"]) for c in changes] == [
        ("pending", "confirmed"),
        ("confirmed", "paid"),
        ("paid", "fulfilled"),
        ("fulfilled", "completed"),
    ]
    assert all(c["order_id"] == str(order.id) and c["display_id"] == order.display_id for c in changes)
    captured = next(e for e in events if e.event_type == "commerce.payment.captured")
    assert captured.payload["amount"] == TOTAL and str(captured.actor_id) == str(staff)


@pytest.mark.parametrize("status", ORDER_STATUSES)
async def test_illegal_transitions_are_refused_naming_the_allowed_ones_and_change_nothing(
    store: Store, status: str
) -> None:
    order, item = await placed(store)
    path = {
        "pending": [],
        "confirmed": ["confirmed"],
        "paid": ["confirmed", "paid"],
        "fulfilled": ["confirmed", "paid", "fulfilled"],
        "completed": HAPPY_PATH,
        "cancelled": ["cancelled"],
        "refunded": ["confirmed", "paid", "refunded"],
    }[status]
    order = await move(store, order, *path)
    assert order.status == status
    stock = await store.stock(item)
    seen = await store.event_ids()
    history = len((await store.orders.history_of(store.tenant.id, [order.id]))[order.id])

    for target in ORDER_STATUSES:
        if target in TRANSITIONS[status]:
            continue
        with pytest.raises(Conflict) as refused:
            await store.orders.transition(
                store.tenant, order.id, target, expected_version=order.version, actor_id=None, note=None
            )
        assert refused.value.details["reason"] == "ILLEGAL_TRANSITION"
        assert refused.value.details["allowed"] == allowed_transitions(status)
        assert refused.value.message.startswith(f"cannot move an order from {status} to {target}; allowed: ")
        for allowed in allowed_transitions(status):
            assert allowed in refused.value.message

    after = await store.orders.get(store.tenant.id, order.id)
    assert (after.status, after.version, after.refunded_total) == (order.status, order.version, order.refunded_total)
    assert len((await store.orders.history_of(store.tenant.id, [order.id]))[order.id]) == history
    assert await store.stock(item) == stock
    assert await store.events_since(seen) == []


async def test_a_stale_version_is_a_conflict_and_unknown_statuses_are_invalid(store: Store) -> None:
    order, _ = await placed(store)
    await move(store, order, "confirmed")
    with pytest.raises(Conflict) as stale:
        await store.orders.transition(store.tenant, order.id, "paid", expected_version=1, actor_id=None)
    assert stale.value.details["currentVersion"] == 2
    with pytest.raises(Validation) as unknown:
        await store.orders.transition(store.tenant, order.id, "shipped", expected_version=None, actor_id=None)
    assert unknown.value.details["reason"] == "UNKNOWN_STATUS"
    assert (await store.orders.get(store.tenant.id, order.id)).status == "confirmed"


async def test_cancelling_restores_stock_and_releases_the_authorization(store: Store) -> None:
    order, item = await placed(store, stocked=2)
    assert await store.stock(item) == (2, 2)
    seen = await store.event_ids()

    order = await move(store, order, "cancelled")

    assert order.status == "cancelled" and order.cancelled_at is not None
    assert await store.stock(item) == (2, 0)
    payment = await payment_of(store, order)
    assert (payment.status, payment.captured_amount, payment.refunded_amount) == ("cancelled", 0, 0)
    assert order.refunded_total == 0
    events = await store.events_since(seen)
    assert store.kinds(events, "commerce.order") == {"commerce.order.status_changed": 1, "commerce.order.cancelled": 1}
    cancelled = next(e for e in events if e.event_type == "commerce.order.cancelled")
    assert cancelled.payload["released"] == 2 and cancelled.payload["reason"] == "to cancelled"
    assert store.kinds(events, "commerce.inventory.updated") == {"commerce.inventory.updated": 1}


async def test_cancelling_a_paid_order_refunds_the_captured_money_and_restores_stock(store: Store) -> None:
    order, item = await placed(store)
    order = await move(store, order, "confirmed", "paid")
    seen = await store.event_ids()

    order = await move(store, order, "cancelled")

    assert order.refunded_total == TOTAL
    payment = await payment_of(store, order)
    assert (payment.status, payment.captured_amount, payment.refunded_amount) == ("refunded", TOTAL, TOTAL)
    refunds = (await store.orders.refunds_of(store.tenant.id, [order.id]))[order.id]
    assert [(r.amount, r.payment_id) for r in refunds] == [(TOTAL, payment.id)]
    assert await store.stock(item) == (10, 0)
    events = await store.events_since(seen)
    assert store.kinds(events, "commerce.order") == {
        "commerce.order.refunded": 1,
        "commerce.order.status_changed": 1,
        "commerce.order.cancelled": 1,
    }
    refunded = next(e for e in events if e.event_type == "commerce.order.refunded")
    assert (refunded.payload["amount"], refunded.payload["refunded_total"]) == (TOTAL, TOTAL)


async def test_partial_then_full_refunds_move_the_order_to_refunded(store: Store) -> None:
    order, item = await placed(store)
    order = await move(store, order, "confirmed", "paid", "fulfilled")
    payments = PaymentService(store.ctx)
    staff = uuid.uuid4()
    seen = await store.event_ids()

    order = await payments.refund(store.tenant, order.id, amount=1000, reason="scratched", actor_id=staff)

    assert (order.status, order.refunded_total) == ("fulfilled", 1000)
    payment = await payment_of(store, order)
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 1000)
    events = await store.events_since(seen)
    assert store.kinds(events, "commerce.order") == {"commerce.order.refunded": 1}
    assert events[-1].payload["refunded_total"] == 1000

    # More than what is left: refused, nothing changed.
    seen = await store.event_ids()
    with pytest.raises(Validation) as over:
        await payments.refund(store.tenant, order.id, amount=TOTAL, reason=None, actor_id=staff)
    assert over.value.details["reason"] == "REFUND_EXCEEDS_CAPTURED"
    assert over.value.details["refundable"] == TOTAL - 1000
    assert (await store.orders.get(store.tenant.id, order.id)).refunded_total == 1000
    assert await store.events_since(seen) == []

    # The rest (no amount): fully refunded, so the order moves to refunded.
    order = await payments.refund(store.tenant, order.id, reason="returned", actor_id=staff)
    assert (order.status, order.refunded_total) == ("refunded", TOTAL)
    refunds = (await store.orders.refunds_of(store.tenant.id, [order.id]))[order.id]
    assert [(r.amount, r.reason, r.actor_id) for r in refunds] == [
        (1000, "scratched", staff),
        (TOTAL - 1000, "returned", staff),
    ]
    history = (await store.orders.history_of(store.tenant.id, [order.id]))[order.id]
    assert (history[-1].from_status, history[-1].to_status, history[-1].note) == ("fulfilled", "refunded", "returned")
    events = await store.events_since(seen)
    assert store.kinds(events, "commerce.order") == {
        "commerce.order.refunded": 1,
        "commerce.order.status_changed": 1,
    }
    # Goods that left are not restocked by a refund.
    assert await store.stock(item) == (8, 0)
    with pytest.raises(Conflict) as final:
        await payments.refund(store.tenant, order.id, amount=1, actor_id=staff)
    assert final.value.details["reason"] == "NOT_REFUNDABLE"


async def test_refunding_a_paid_order_through_the_state_machine_releases_its_stock(store: Store) -> None:
    order, item = await placed(store)
    order = await move(store, order, "confirmed", "paid", "refunded")
    assert (order.status, order.refunded_total) == ("refunded", TOTAL)
    assert await store.stock(item) == (10, 0)
    async with store.db.session(store.tenant.id) as s:
        assert len((await s.scalars(select(Refund).where(Refund.order_id == order.id))).all()) == 1


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True])
async def test_refund_amounts_must_be_positive_integers(store: Store, amount: Any) -> None:
    order, _ = await placed(store)
    order = await move(store, order, "confirmed", "paid")
    with pytest.raises(Validation) as invalid:
        await PaymentService(store.ctx).refund(store.tenant, order.id, amount=amount, actor_id=None)
    assert invalid.value.details["reason"] == "INVALID_AMOUNT"
    assert (await store.orders.get(store.tenant.id, order.id)).refunded_total == 0


async def test_unpaid_orders_cannot_be_refunded(store: Store) -> None:
    order, _ = await placed(store)
    with pytest.raises(Conflict) as refused:
        await PaymentService(store.ctx).refund(store.tenant, order.id, amount=100, actor_id=None)
    assert refused.value.details["reason"] == "NOT_REFUNDABLE"


async def test_capturing_a_confirmed_order_pays_it_and_a_pending_one_keeps_its_status(store: Store) -> None:
    payments = PaymentService(store.ctx)
    confirmed, _ = await placed(store)
    confirmed = await move(store, confirmed, "confirmed")
    seen = await store.event_ids()
    confirmed = await payments.capture(store.tenant, confirmed.id, actor_id=None)
    assert confirmed.status == "paid"
    events = await store.events_since(seen)
    assert store.kinds(events) == {"commerce.payment.captured": 1, "commerce.order.status_changed": 1}
    with pytest.raises(Conflict) as twice:
        await payments.capture(store.tenant, confirmed.id, actor_id=None)
    assert twice.value.details["reason"] == "NOTHING_TO_CAPTURE"

    pending, _ = await placed(store)
    pending = await payments.capture(store.tenant, pending.id, actor_id=None)
    assert pending.status == "pending"
    assert (await payment_of(store, pending)).status == "captured"
    seen = await store.event_ids()
    pending = await move(store, pending, "confirmed", "paid")
    events = await store.events_since(seen)
    assert "commerce.payment.captured" not in store.kinds(events)
    # Cancelling it refunds what was captured early.
    cancelled, _ = await placed(store)
    await payments.capture(store.tenant, cancelled.id, actor_id=None)
    cancelled = await move(store, cancelled, "cancelled")
    assert cancelled.refunded_total == TOTAL
    with pytest.raises(Conflict):
        await payments.capture(store.tenant, cancelled.id, actor_id=None)
