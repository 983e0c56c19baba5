"""Payments of orders: authorize at checkout, capture, refund, cancel — through providers.

A payment row (``commerce_payments``) tracks one provider's money for an order:
``amount`` authorized, ``captured_amount`` taken, ``refunded_amount`` given back
(never more than captured). Its status follows from those: ``authorized`` →
``captured`` → ``partially_refunded`` → ``refunded``; an authorization released
without capture is ``cancelled``. ``orders.refunded_total`` is the sum over the
order's refunds, and every refund is a ``commerce_refunds`` row.

The functions taking a ``session`` work inside the caller's transaction with the
order already row-locked (checkout, the order state machine). :class:`PaymentService`
is what the API calls: it locks the order, moves the money and, when nothing captured
is left, moves the order to ``refunded`` through the state machine.

The built-in :class:`ManualPaymentProvider` (``manual``) takes money outside the
platform (bank transfer, cash on delivery): every operation succeeds locally with a
generated reference, and an operator records what happened by moving the order.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.events import OrderRefunded, PaymentAuthorized, PaymentCaptured
from rustok_commerce.models import Order, Payment, Refund
from rustok_commerce.services.money import check_amount
from rustok_commerce.services.providers import (
    CommerceProviders,
    PaymentRequest,
    PaymentResult,
    PaymentSnapshot,
)
from rustok_core.context import AppContext, TenantContext
from rustok_core.errors import Conflict, Validation
from rustok_core.events import DomainEvent, EventPublisher
from rustok_core.ids import generate_id

MAX_REASON = 500
REFUNDABLE_STATUSES = ("paid", "fulfilled", "completed")
"""Order statuses in which money may be refunded (earlier ones are cancelled instead)."""


class ManualPaymentProvider:
    """The built-in provider: money moves outside the platform; every call succeeds locally."""

    name = "manual"

    async def authorize(self, request: PaymentRequest) -> PaymentResult:
        return PaymentResult(reference=_reference("auth"), data={"method": "manual"})

    async def capture(self, payment: PaymentSnapshot, amount: int) -> PaymentResult:
        return PaymentResult(reference=_reference("capture"))

    async def refund(self, payment: PaymentSnapshot, amount: int) -> PaymentResult:
        return PaymentResult(reference=_reference("refund"))

    async def cancel(self, payment: PaymentSnapshot) -> PaymentResult:
        return PaymentResult(reference=_reference("cancel"))


def _reference(kind: str) -> str:
    return f"manual_{kind}_{generate_id().hex}"


def snapshot(payment: Payment) -> PaymentSnapshot:
    """What a provider sees of a payment (no ORM object leaves this module)."""
    return PaymentSnapshot(
        id=payment.id,
        provider=payment.provider,
        currency_code=payment.currency_code,
        amount=payment.amount,
        captured_amount=payment.captured_amount,
        refunded_amount=payment.refunded_amount,
        provider_reference=payment.provider_reference,
        data=dict(payment.data),
    )


def _record(payment: Payment, operation: str, result: PaymentResult) -> None:
    """Keep the provider's answer on the payment (a new dict, so the JSONB change is seen)."""
    entry: dict[str, Any] = {"reference": result.reference, **dict(result.data)}
    history = list(payment.data.get("operations", []))
    history.append({"operation": operation, **entry})
    payment.data = {**payment.data, "operations": history}


async def _publish(
    ctx: AppContext, session: AsyncSession, order: Order, event: DomainEvent, actor_id: uuid.UUID | None
) -> None:
    await ctx.services.get(EventPublisher).publish(session, event, tenant_id=order.tenant_id, actor_id=actor_id)


def providers(ctx: AppContext) -> CommerceProviders:
    return ctx.services.get(CommerceProviders)


# -- inside the caller's transaction (order row-locked) -------------------------------------


async def authorize(
    ctx: AppContext,
    session: AsyncSession,
    order: Order,
    *,
    provider_name: str,
    data: Mapping[str, Any],
    actor_id: uuid.UUID | None,
) -> Payment:
    """Authorize ``order.total`` with the provider and store the payment (status ``authorized``)."""
    provider = providers(ctx).payment(provider_name)
    result = await provider.authorize(
        PaymentRequest(
            tenant_id=order.tenant_id,
            order_id=order.id,
            display_id=order.display_id,
            currency_code=order.currency_code,
            amount=order.total,
            email=order.email,
            data=dict(data),
        )
    )
    payment = Payment(
        id=generate_id(),
        order_id=order.id,
        order_created_at=order.created_at,
        provider=provider.name,
        status="authorized",
        currency_code=order.currency_code,
        amount=order.total,
        provider_reference=result.reference,
        data={},
    )
    _record(payment, "authorize", result)
    session.add(payment)
    await session.flush()
    await _publish(
        ctx,
        session,
        order,
        PaymentAuthorized(
            order_id=order.id,
            display_id=order.display_id,
            payment_id=payment.id,
            provider=payment.provider,
            currency_code=payment.currency_code,
            amount=payment.amount,
        ),
        actor_id,
    )
    return payment


async def locked_payments(session: AsyncSession, order: Order) -> list[Payment]:
    """The order's payments, oldest first, row-locked for the rest of the transaction."""
    rows = await session.scalars(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.order_created_at == order.created_at)
        .order_by(Payment.created_at, Payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


def refundable(payments: Sequence[Payment]) -> int:
    """Captured money not refunded yet."""
    return sum(p.captured_amount - p.refunded_amount for p in payments)


async def capture_all(
    ctx: AppContext, session: AsyncSession, order: Order, *, actor_id: uuid.UUID | None
) -> list[Payment]:
    """Capture every authorized payment in full; return the payments captured now (none: nothing to do)."""
    captured: list[Payment] = []
    for payment in await locked_payments(session, order):
        if payment.status != "authorized":
            continue
        result = await providers(ctx).payment(payment.provider).capture(snapshot(payment), payment.amount)
        payment.captured_amount = payment.amount
        payment.status = "captured"
        _record(payment, "capture", result)
        captured.append(payment)
        await session.flush()
        await _publish(
            ctx,
            session,
            order,
            PaymentCaptured(
                order_id=order.id,
                display_id=order.display_id,
                payment_id=payment.id,
                provider=payment.provider,
                currency_code=payment.currency_code,
                amount=payment.amount,
            ),
            actor_id,
        )
    return captured


async def refund(
    ctx: AppContext,
    session: AsyncSession,
    order: Order,
    amount: int | None,
    *,
    reason: str | None,
    actor_id: uuid.UUID | None,
) -> list[Refund]:
    """Refund ``amount`` (``None``: everything captured and not yet refunded) across the payments.

    Oldest payments are refunded first. More than is refundable is a ``VALIDATION``
    error (``REFUND_EXCEEDS_CAPTURED``) and changes nothing. One ``commerce_refunds``
    row and one ``commerce.order.refunded`` event per payment touched.
    """
    payments = await locked_payments(session, order)
    available = refundable(payments)
    wanted = available if amount is None else amount
    if wanted > available:
        raise Validation(
            f"the refund exceeds what is left to refund ({available} {order.currency_code} minor units)",
            field="amount",
            reason="REFUND_EXCEEDS_CAPTURED",
            refundable=available,
        )
    refunds: list[Refund] = []
    left = wanted
    for payment in payments:
        if left == 0:
            break
        share = min(left, payment.captured_amount - payment.refunded_amount)
        if share <= 0:
            continue
        result = await providers(ctx).payment(payment.provider).refund(snapshot(payment), share)
        payment.refunded_amount += share
        payment.status = "refunded" if payment.refunded_amount == payment.captured_amount else "partially_refunded"
        _record(payment, "refund", result)
        row = Refund(
            id=generate_id(),
            order_id=order.id,
            order_created_at=order.created_at,
            payment_id=payment.id,
            amount=share,
            reason=reason,
            actor_id=actor_id,
        )
        session.add(row)
        refunds.append(row)
        order.refunded_total += share
        order.updated_at = datetime.now(UTC)
        left -= share
        await session.flush()
        await _publish(
            ctx,
            session,
            order,
            OrderRefunded(
                order_id=order.id,
                display_id=order.display_id,
                payment_id=payment.id,
                provider=payment.provider,
                currency_code=payment.currency_code,
                amount=share,
                refunded_total=order.refunded_total,
            ),
            actor_id,
        )
    return refunds


async def void(
    ctx: AppContext, session: AsyncSession, order: Order, *, reason: str | None, actor_id: uuid.UUID | None
) -> None:
    """Undo the order's payments for a cancellation: release authorizations, refund captured money."""
    await refund(ctx, session, order, None, reason=reason or "order cancelled", actor_id=actor_id)
    for payment in await locked_payments(session, order):
        if payment.status == "authorized":
            result = await providers(ctx).payment(payment.provider).cancel(snapshot(payment))
            payment.status = "cancelled"
            _record(payment, "cancel", result)
    await session.flush()


# -- the service the APIs call ---------------------------------------------------------------


def check_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise Validation("the reason must be text", field="reason")
    cleaned = reason.strip()
    if len(cleaned) > MAX_REASON:
        raise Validation(f"the reason must be at most {MAX_REASON} characters", field="reason")
    return cleaned or None


class PaymentService:
    """Capture and refund an order's payments (each call one transaction, the order locked)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def capture(self, tenant: TenantContext, order_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> Order:
        """Capture the order's authorized payment; a ``confirmed`` order then moves to ``paid``.

        An order that is ``pending`` keeps its status (it moves to ``paid`` after being
        confirmed, without capturing again). Nothing left to capture is a ``CONFLICT``
        (``NOTHING_TO_CAPTURE``); so is a cancelled or refunded order.
        """
        from rustok_commerce.services.orders import OrderService, apply_transition

        async with self.ctx.db.session(tenant.id) as session, session.begin():
            order = await OrderService(self.ctx).locked(session, order_id)
            if order.status in ("cancelled", "refunded"):
                raise Conflict(
                    f"a {order.status} order has no payment to capture",
                    reason="NOTHING_TO_CAPTURE",
                    status=order.status,
                )
            if not await capture_all(self.ctx, session, order, actor_id=actor_id):
                raise Conflict("the order has no authorized payment to capture", reason="NOTHING_TO_CAPTURE")
            if order.status == "confirmed":
                await apply_transition(self.ctx, session, order, "paid", actor_id=actor_id, note="payment captured")
            await session.flush()
        return order

    async def refund(
        self,
        tenant: TenantContext,
        order_id: uuid.UUID,
        *,
        amount: int | None = None,
        reason: str | None = None,
        actor_id: uuid.UUID | None,
    ) -> Order:
        """Refund ``amount`` (``None``: all that is left) of a paid, fulfilled or completed order.

        When nothing captured is left afterwards, the order moves to ``refunded``
        through the state machine (history row and ``commerce.order.status_changed``).
        """
        from rustok_commerce.services.orders import OrderService, apply_transition

        if amount is not None:
            amount = check_amount(amount, "amount", positive=True)
        reason = check_reason(reason)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            order = await OrderService(self.ctx).locked(session, order_id)
            if order.status not in REFUNDABLE_STATUSES:
                raise Conflict(
                    f"a {order.status} order cannot be refunded; refunds apply to "
                    f"{', '.join(REFUNDABLE_STATUSES)} orders (cancel an unpaid order instead)",
                    reason="NOT_REFUNDABLE",
                    status=order.status,
                )
            payments = await locked_payments(session, order)
            if refundable(payments) == 0:
                raise Validation(
                    "nothing captured is left to refund", field="amount", reason="REFUND_EXCEEDS_CAPTURED", refundable=0
                )
            await refund(self.ctx, session, order, amount, reason=reason, actor_id=actor_id)
            if refundable(payments) == 0:
                await apply_transition(self.ctx, session, order, "refunded", actor_id=actor_id, note=reason)
            await session.flush()
        return order


__all__ = [
    "REFUNDABLE_STATUSES",
    "ManualPaymentProvider",
    "PaymentService",
    "authorize",
    "capture_all",
    "locked_payments",
    "refund",
    "refundable",
    "snapshot",
    "void",
]
