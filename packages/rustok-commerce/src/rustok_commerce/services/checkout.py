"""Checkout: a cart becomes an order, once per cart and once per idempotency key.

``checkout(cartId, idempotencyKey)``:

1. A ``commerce_checkouts`` row for the key already exists: the same cart gets that
   order back (a retry); another cart is a ``CONFLICT`` (``IDEMPOTENCY_KEY_REUSED``).
2. The cart is looked at (not locked): someone else's customer cart is ``NOT_FOUND``;
   a completed cart goes straight to the rules of step 4.
3. A display id is allocated in its own short transaction
   (:func:`orders.allocate_display_id`); if the checkout then fails the number is
   skipped — order numbers are unique and increasing, with gaps.
4. One transaction: the cart is locked and priced strictly
   (:func:`carts.prepare_checkout`). A cart completed meanwhile by the same key
   (a concurrent duplicate that won the lock) returns that order; completed by
   another key it is ``CONFLICT`` (``CART_COMPLETED``). Then the order row (totals,
   addresses, shipping method, email, locale, customer), the checkout row (the
   unique ``(tenant, key)`` and ``cart_id`` constraints make a racing duplicate fail
   here, early), the items as snapshots, stock reservations
   (:func:`inventory.reserve`, ``OUT_OF_STOCK`` under row locks), the payment
   authorization through the provider, the completed cart, the first history row
   (none → ``pending``) and the events ``commerce.order.placed`` and
   ``commerce.payment.authorized``.
5. A unique violation on the checkout row (a duplicate that raced past step 1) is
   answered like step 1: the same order for the same cart, ``CONFLICT`` otherwise.

Any error in step 4 rolls everything back: no order, no reservation, the cart still open.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.events import OrderPlaced
from rustok_commerce.models import Cart, Checkout, Order, OrderItem, OrderStatusChange
from rustok_commerce.services import carts, inventory, payments
from rustok_commerce.services.orders import allocate_display_id
from rustok_commerce.services.providers import CommerceProviders
from rustok_core.context import AppContext, TenantContext
from rustok_core.errors import Conflict, Validation
from rustok_core.events import EventPublisher
from rustok_core.ids import generate_id

MAX_KEY = 255
MAX_PAYMENT_DATA = 8_192
"""Characters of ``paymentData`` (as JSON) a shopper may send to a provider."""
CHECKOUT_CONSTRAINTS = frozenset({"uq_commerce_checkouts_tenant_id_idempotency_key", "uq_commerce_checkouts_cart_id"})


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY or not key.strip():
        raise Validation(
            f"the idempotency key must be 1 to {MAX_KEY} characters", field="idempotencyKey", reason="INVALID_KEY"
        )
    return key


def _check_payment_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise Validation("paymentData must be a JSON object", field="paymentData")
    try:
        size = len(orjson.dumps(dict(data)))
    except TypeError:
        raise Validation("paymentData must be a JSON object", field="paymentData") from None
    if size > MAX_PAYMENT_DATA:
        raise Validation(f"paymentData must be at most {MAX_PAYMENT_DATA} bytes of JSON", field="paymentData")
    return dict(data)


async def checkout(
    ctx: AppContext,
    tenant: TenantContext,
    cart_id: uuid.UUID,
    idempotency_key: str,
    *,
    actor: uuid.UUID | None,
    payment_provider: str = "manual",
    payment_data: Mapping[str, Any] | None = None,
) -> Order:
    """Turn the cart into an order (see the module docs); ``actor`` is the signed-in user, if any."""
    key = check_key(idempotency_key)
    data = _check_payment_data(payment_data)
    ctx.services.get(CommerceProviders).payment(payment_provider)  # an unknown provider fails before anything
    viewer = carts.Viewer(user_id=actor)

    async with ctx.db.session(tenant.id) as session:
        replay = await _replay(session, cart_id, key, viewer)
        if replay is not None:
            return replay
        cart = carts.check_access(await session.scalar(select(Cart).where(Cart.id == cart_id)), viewer, write=True)
        if cart.status == "completed":
            return await _completed(session, cart_id, key)

    display_id = await allocate_display_id(ctx, tenant.id)
    try:
        async with ctx.db.session(tenant.id) as session, session.begin():
            return await _place(ctx, session, tenant, cart_id, key, display_id, viewer, payment_provider, data)
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if constraint not in CHECKOUT_CONSTRAINTS:
            raise
    # A duplicate raced us to the checkout row and committed first.
    async with ctx.db.session(tenant.id) as session:
        replay = await _replay(session, cart_id, key, viewer)
        if replay is not None:
            return replay
        return await _completed(session, cart_id, key)


async def _replay(session: AsyncSession, cart_id: uuid.UUID, key: str, viewer: carts.Viewer) -> Order | None:
    """The order of an earlier checkout with ``key``, if any (``CONFLICT`` when it was for another cart)."""
    found = await session.scalar(select(Checkout).where(Checkout.idempotency_key == key))
    if found is None:
        return None
    if found.cart_id != cart_id:
        raise Conflict(
            "this idempotency key was already used to check out another cart; use a new key",
            reason="IDEMPOTENCY_KEY_REUSED",
        )
    carts.check_access(await session.scalar(select(Cart).where(Cart.id == cart_id)), viewer, write=True)
    return await _order_of(session, found)


async def _completed(session: AsyncSession, cart_id: uuid.UUID, key: str) -> Order:
    """A completed cart: its order when it was checked out with ``key``, else ``CART_COMPLETED``."""
    found = await session.scalar(select(Checkout).where(Checkout.cart_id == cart_id))
    if found is not None and found.idempotency_key == key:
        return await _order_of(session, found)
    raise Conflict("the cart has already been checked out", reason="CART_COMPLETED")


async def _order_of(session: AsyncSession, found: Checkout) -> Order:
    order = await session.scalar(
        select(Order).where(Order.id == found.order_id, Order.created_at == found.order_created_at)
    )
    assert order is not None  # the foreign key guarantees it
    return order


async def _place(
    ctx: AppContext,
    session: AsyncSession,
    tenant: TenantContext,
    cart_id: uuid.UUID,
    key: str,
    display_id: int,
    viewer: carts.Viewer,
    payment_provider: str,
    payment_data: dict[str, Any],
) -> Order:
    try:
        priced = await carts.prepare_checkout(ctx, session, tenant.id, cart_id, viewer=viewer)
    except Conflict as exc:
        if exc.details.get("reason") != "CART_COMPLETED":
            raise
        # Completed while we waited for the lock: by our own duplicate, or by another key.
        return await _completed(session, cart_id, key)
    cart = priced.cart
    actor = viewer.user_id
    order = Order(
        id=generate_id(),
        created_at=datetime.now(UTC),
        display_id=display_id,
        customer_id=cart.customer_id or actor,
        cart_id=cart.id,
        email=cart.email,
        locale=cart.locale,
        status="pending",
        currency_code=cart.currency_code,
        subtotal=priced.subtotal,
        tax_total=priced.tax_total,
        shipping_total=priced.shipping_total,
        discount_total=priced.discount_total,
        total=priced.total,
        refunded_total=0,
        shipping_address=cart.shipping_address,
        billing_address=cart.billing_address,
        shipping_method=priced.shipping_method,
        order_metadata={},
    )
    session.add(order)
    await session.flush()
    session.add(Checkout(idempotency_key=key, cart_id=cart.id, order_id=order.id, order_created_at=order.created_at))
    await session.flush()
    items = [
        OrderItem(
            id=generate_id(),
            order_id=order.id,
            order_created_at=order.created_at,
            variant_id=line.line.variant_id,
            product_id=line.product_id,
            title=line.title,
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            subtotal=line.subtotal,
            tax_total=line.tax_total,
            total=line.total,
            position=position,
            item_metadata={"requires_shipping": line.requires_shipping},
        )
        for position, line in enumerate(priced.lines)
    ]
    session.add_all(items)
    await session.flush()
    await inventory.reserve(
        ctx,
        session,
        tenant.id,
        [inventory.ReserveLine(item.variant_id, item.quantity, item.id) for item in items if item.variant_id],
        order_id=order.id,
        order_created_at=order.created_at,
        actor_id=actor,
    )
    session.add(
        OrderStatusChange(
            order_id=order.id,
            order_created_at=order.created_at,
            from_status=None,
            to_status="pending",
            actor_id=actor,
            note=None,
        )
    )
    await carts.complete(session, cart)
    await ctx.services.get(EventPublisher).publish(
        session,
        OrderPlaced(
            order_id=order.id,
            display_id=order.display_id,
            cart_id=cart.id,
            customer_id=order.customer_id,
            currency_code=order.currency_code,
            total=order.total,
            item_count=sum(item.quantity for item in items),
            variant_ids=list(dict.fromkeys(item.variant_id for item in items if item.variant_id)),
        ),
        tenant_id=tenant.id,
        actor_id=actor,
    )
    await payments.authorize(ctx, session, order, provider_name=payment_provider, data=payment_data, actor_id=actor)
    return order


__all__ = ["check_key", "checkout"]
