"""REST routes for orders (under ``/api/v1/commerce/``): list, get, move, refund.

Responses carry the whole order (items, history, payments, refunds); a page of any
size costs five queries. Refunds are safe to retry with ``Idempotency-Key``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from rustok_commerce.models import Order, OrderItem, OrderStatusChange, Payment, Refund
from rustok_commerce.permissions import ORDERS_READ, ORDERS_REFUND, ORDERS_UPDATE
from rustok_commerce.services.orders import OrderQuery, OrderService, allowed_transitions
from rustok_commerce.services.payments import PaymentService
from rustok_core.context import RequestContext, request_context
from rustok_core.rest import RestRoute

Status = Literal["pending", "confirmed", "paid", "fulfilled", "completed", "cancelled", "refunded"]


class Camel(BaseModel):
    """JSON in camelCase; Python by field name; unknown fields refused."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class OrderListQuery(Camel):
    status: Status | None = None
    customer_id: uuid.UUID | None = Field(None, alias="customerId")
    created_from: datetime | None = Field(None, alias="createdFrom", description="Placed at or after.")
    created_to: datetime | None = Field(None, alias="createdTo", description="Placed before.")
    first: int = Field(20, ge=1, le=100)
    after: str | None = None


class StatusChangeRequest(Camel):
    status: Status
    version: int = Field(description="The version you read; a stale one answers 409.")
    note: str | None = Field(None, max_length=1000)


class RefundRequest(Camel):
    amount: int | None = Field(None, description="Minor units; omitted: everything not refunded yet.")
    reason: str | None = Field(None, max_length=500)


class ItemOut(Camel):
    id: uuid.UUID
    variant_id: uuid.UUID | None = Field(alias="variantId")
    product_id: uuid.UUID | None = Field(alias="productId")
    title: str
    sku: str | None
    quantity: int
    unit_price: int = Field(alias="unitPrice")
    subtotal: int
    tax_total: int = Field(alias="taxTotal")
    total: int


class StatusChangeOut(Camel):
    from_status: Status | None = Field(alias="fromStatus")
    to_status: Status = Field(alias="toStatus")
    actor_id: uuid.UUID | None = Field(alias="actorId")
    note: str | None
    created_at: datetime = Field(alias="createdAt")


class PaymentOut(Camel):
    id: uuid.UUID
    provider: str
    status: str
    amount: int
    captured_amount: int = Field(alias="capturedAmount")
    refunded_amount: int = Field(alias="refundedAmount")
    provider_reference: str | None = Field(alias="providerReference")
    created_at: datetime = Field(alias="createdAt")


class RefundOut(Camel):
    id: uuid.UUID
    payment_id: uuid.UUID = Field(alias="paymentId")
    amount: int
    reason: str | None
    actor_id: uuid.UUID | None = Field(alias="actorId")
    created_at: datetime = Field(alias="createdAt")


class OrderResponse(Camel):
    """Amounts are integer minor units of ``currencyCode``."""

    id: uuid.UUID
    display_id: int = Field(alias="displayId")
    status: Status
    version: int
    allowed_transitions: list[Status] = Field(alias="allowedTransitions")
    customer_id: uuid.UUID | None = Field(alias="customerId")
    cart_id: uuid.UUID | None = Field(alias="cartId")
    email: str | None
    locale: str | None
    currency_code: str = Field(alias="currencyCode")
    subtotal: int
    shipping_total: int = Field(alias="shippingTotal")
    tax_total: int = Field(alias="taxTotal")
    discount_total: int = Field(alias="discountTotal")
    total: int
    refunded_total: int = Field(alias="refundedTotal")
    shipping_address: dict[str, Any] | None = Field(alias="shippingAddress")
    billing_address: dict[str, Any] | None = Field(alias="billingAddress")
    shipping_method: dict[str, Any] | None = Field(alias="shippingMethod")
    items: list[ItemOut]
    status_history: list[StatusChangeOut] = Field(alias="statusHistory")
    payments: list[PaymentOut]
    refunds: list[RefundOut]
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    completed_at: datetime | None = Field(alias="completedAt")
    cancelled_at: datetime | None = Field(alias="cancelledAt")


class OrderPage(Camel):
    items: list[OrderResponse]
    next_cursor: str | None = Field(alias="nextCursor")


# -- mapping -----------------------------------------------------------------------------------


async def order_responses(ctx: RequestContext, orders: Sequence[Order]) -> list[OrderResponse]:
    """Responses for ``orders`` with four queries, however many there are."""
    tenant_id = ctx.require_tenant().id
    service = OrderService(ctx.app)
    ids = [order.id for order in orders]
    items = await service.items_of(tenant_id, ids)
    history = await service.history_of(tenant_id, ids)
    payments = await service.payments_of(tenant_id, ids)
    refunds = await service.refunds_of(tenant_id, ids)
    return [_response(o, items[o.id], history[o.id], payments[o.id], refunds[o.id]) for o in orders]


def _response(
    order: Order,
    items: Sequence[OrderItem],
    history: Sequence[OrderStatusChange],
    payments: Sequence[Payment],
    refunds: Sequence[Refund],
) -> OrderResponse:
    return OrderResponse(
        id=order.id,
        display_id=order.display_id,
        status=cast("Status", order.status),
        version=order.version,
        allowed_transitions=cast("list[Status]", allowed_transitions(order.status)),
        customer_id=order.customer_id,
        cart_id=order.cart_id,
        email=order.email,
        locale=order.locale,
        currency_code=order.currency_code,
        subtotal=order.subtotal,
        shipping_total=order.shipping_total,
        tax_total=order.tax_total,
        discount_total=order.discount_total,
        total=order.total,
        refunded_total=order.refunded_total,
        shipping_address=order.shipping_address,
        billing_address=order.billing_address,
        shipping_method=order.shipping_method,
        items=[
            ItemOut(
                id=i.id,
                variant_id=i.variant_id,
                product_id=i.product_id,
                title=i.title,
                sku=i.sku,
                quantity=i.quantity,
                unit_price=i.unit_price,
                subtotal=i.subtotal,
                tax_total=i.tax_total,
                total=i.total,
            )
            for i in items
        ],
        status_history=[
            StatusChangeOut(
                from_status=cast("Status | None", h.from_status),
                to_status=cast("Status", h.to_status),
                actor_id=h.actor_id,
                note=h.note,
                created_at=h.created_at,
            )
            for h in history
        ],
        payments=[
            PaymentOut(
                id=p.id,
                provider=p.provider,
                status=p.status,
                amount=p.amount,
                captured_amount=p.captured_amount,
                refunded_amount=p.refunded_amount,
                provider_reference=p.provider_reference,
                created_at=p.created_at,
            )
            for p in payments
        ],
        refunds=[
            RefundOut(
                id=r.id,
                payment_id=r.payment_id,
                amount=r.amount,
                reason=r.reason,
                actor_id=r.actor_id,
                created_at=r.created_at,
            )
            for r in refunds
        ],
        created_at=order.created_at,
        updated_at=order.updated_at,
        completed_at=order.completed_at,
        cancelled_at=order.cancelled_at,
    )


# -- endpoints ---------------------------------------------------------------------------------


async def list_orders(request: Request, query: OrderListQuery) -> OrderPage:
    """Orders of the shop, newest first; filter by status, customer and when they were placed."""
    ctx = request_context(request)
    page = await OrderService(ctx.app).page(
        ctx.require_tenant().id,
        OrderQuery(
            statuses=[query.status] if query.status else None,
            customer_id=query.customer_id,
            created_from=query.created_from,
            created_to=query.created_to,
            first=query.first,
            after=query.after,
        ),
    )
    items = await order_responses(ctx, [edge["node"] for edge in page["edges"]])
    info = page["page_info"]
    return OrderPage(items=items, next_cursor=info["end_cursor"] if info["has_next_page"] else None)


async def get_order(request: Request, order_id: uuid.UUID) -> OrderResponse:
    """One order with its items, history, payments and refunds."""
    ctx = request_context(request)
    order = await OrderService(ctx.app).get(ctx.require_tenant().id, order_id)
    return (await order_responses(ctx, [order]))[0]


async def change_order_status(request: Request, order_id: uuid.UUID, body: StatusChangeRequest) -> OrderResponse:
    """Move the order through its state machine; an illegal move answers 409 naming the allowed ones."""
    ctx = request_context(request)
    order = await OrderService(ctx.app).transition(
        ctx.require_tenant(),
        order_id,
        body.status,
        expected_version=body.version,
        actor_id=ctx.actor_id,
        note=body.note,
    )
    return (await order_responses(ctx, [order]))[0]


async def refund_order(request: Request, order_id: uuid.UUID, body: RefundRequest) -> OrderResponse:
    """Refund money of a paid order; send ``Idempotency-Key`` to make retries safe."""
    ctx = request_context(request)
    order = await PaymentService(ctx.app).refund(
        ctx.require_tenant(), order_id, amount=body.amount, reason=body.reason, actor_id=ctx.actor_id
    )
    return (await order_responses(ctx, [order]))[0]


def routes() -> list[RestRoute]:
    tags = ["commerce orders"]
    return [
        RestRoute(
            "/orders",
            list_orders,
            summary="List orders",
            query=OrderListQuery,
            response=OrderPage,
            permission=ORDERS_READ,
            tags=tags,
        ),
        RestRoute(
            "/orders/{order_id:uuid}",
            get_order,
            summary="Get an order",
            response=OrderResponse,
            permission=ORDERS_READ,
            tags=tags,
        ),
        RestRoute(
            "/orders/{order_id:uuid}/status",
            change_order_status,
            methods=["POST"],
            summary="Move an order to another status",
            body=StatusChangeRequest,
            response=OrderResponse,
            permission=ORDERS_UPDATE,
            tags=tags,
        ),
        RestRoute(
            "/orders/{order_id:uuid}/refunds",
            refund_order,
            methods=["POST"],
            summary="Refund an order",
            body=RefundRequest,
            response=OrderResponse,
            status_code=201,
            permission=ORDERS_REFUND,
            tags=tags,
            idempotent=True,
        ),
    ]
