"""GraphQL for checkout and orders (thin: parse, authorize, call a service, map).

Orders travel as ORM rows; their relations (items, history, payments, refunds) are
read through per-request dataloaders, so a page of any size costs one query per
relation. Staff (``commerce_orders:read``) list and read every order; a signed-in
shopper reads their own through ``myOrders`` / ``myOrder`` and sees the history
without actors and notes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType
from ariadne.types import SchemaBindable
from graphql import GraphQLResolveInfo

from rustok_commerce.graphql.inventory import MoneyView, request, tenant_id_of
from rustok_commerce.models import ORDER_STATUSES, PAYMENT_STATUSES, Order, OrderStatusChange
from rustok_commerce.permissions import ORDERS_READ
from rustok_commerce.services.checkout import checkout
from rustok_commerce.services.orders import OrderQuery, OrderService, allowed_transitions
from rustok_commerce.services.payments import PaymentService
from rustok_core.context import RequestContext
from rustok_core.errors import Forbidden, NotFound, Validation
from rustok_core.loaders import load_one

query = QueryType()
mutation = MutationType()
order_status = EnumType("OrderStatus", {status.upper(): status for status in ORDER_STATUSES})
payment_status = EnumType("PaymentStatus", {status.upper(): status for status in PAYMENT_STATUSES})
order_type = ObjectType("Order")
item_type = ObjectType("OrderItem")
change_type = ObjectType("OrderStatusChange")
payment_type = ObjectType("OrderPayment")
refund_type = ObjectType("OrderRefund")


@dataclass(frozen=True)
class InCurrency:
    """A row without a currency of its own (an item, a refund) beside its order's currency."""

    row: Any
    currency_code: str


def _customer_of(ctx: RequestContext) -> uuid.UUID:
    principal = ctx.require_principal()
    if principal.user_id is None:
        raise Forbidden("only a signed-in shopper has orders of their own", reason="NOT_A_USER")
    return principal.user_id


def _connection(page: Mapping[str, Any]) -> dict[str, Any]:
    return {"edges": page["edges"], "page_info": page["page_info"]}


async def _find(
    ctx: RequestContext, id: uuid.UUID | None, display_id: int | None, customer_id: uuid.UUID | None
) -> Order | None:
    if (id is None) == (display_id is None):
        raise Validation("give either id or displayId", field="id")
    service = OrderService(ctx.app)
    tenant_id = ctx.require_tenant().id
    try:
        if id is not None:
            return await service.get(tenant_id, id, customer_id=customer_id)
        assert display_id is not None
        return await service.get_by_display_id(tenant_id, display_id, customer_id=customer_id)
    except NotFound:
        return None


# -- queries -----------------------------------------------------------------------------------


@query.field("orders")
async def resolve_orders(
    _: Any, info: GraphQLResolveInfo, filter: dict[str, Any] | None = None, first: int = 20, after: str | None = None
) -> dict[str, Any]:
    given = filter or {}
    page = await OrderService(request(info).app).page(
        tenant_id_of(info),
        OrderQuery(
            statuses=given.get("status"),
            customer_id=given.get("customer_id"),
            created_from=given.get("created_from"),
            created_to=given.get("created_to"),
            first=first,
            after=after,
        ),
    )
    return _connection(page)


@query.field("order")
async def resolve_order(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID | None = None, display_id: int | None = None
) -> Order | None:
    return await _find(request(info), id, display_id, None)


@query.field("myOrders")
async def resolve_my_orders(
    _: Any, info: GraphQLResolveInfo, first: int = 20, after: str | None = None
) -> dict[str, Any]:
    ctx = request(info)
    page = await OrderService(ctx.app).page(
        tenant_id_of(info), OrderQuery(customer_id=_customer_of(ctx), first=first, after=after)
    )
    return _connection(page)


@query.field("myOrder")
async def resolve_my_order(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID | None = None, display_id: int | None = None
) -> Order | None:
    ctx = request(info)
    return await _find(ctx, id, display_id, _customer_of(ctx))


# -- mutations ---------------------------------------------------------------------------------


@mutation.field("checkout")
async def resolve_checkout(
    _: Any,
    info: GraphQLResolveInfo,
    cart_id: uuid.UUID,
    idempotency_key: str,
    payment_provider: str = "manual",
    payment_data: Any = None,
) -> Order:
    ctx = request(info)
    return await checkout(
        ctx.app,
        ctx.require_tenant(),
        cart_id,
        idempotency_key,
        actor=ctx.actor_id,
        payment_provider=payment_provider,
        payment_data=payment_data,
    )


@mutation.field("updateOrderStatus")
async def resolve_update_order_status(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, status: str, version: int, note: str | None = None
) -> Order:
    ctx = request(info)
    return await OrderService(ctx.app).transition(
        ctx.require_tenant(), id, status, expected_version=version, actor_id=ctx.actor_id, note=note
    )


@mutation.field("capturePayment")
async def resolve_capture_payment(_: Any, info: GraphQLResolveInfo, order_id: uuid.UUID) -> Order:
    ctx = request(info)
    return await PaymentService(ctx.app).capture(ctx.require_tenant(), order_id, actor_id=ctx.actor_id)


@mutation.field("refundOrder")
async def resolve_refund_order(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, amount: int | None = None, reason: str | None = None
) -> Order:
    ctx = request(info)
    return await PaymentService(ctx.app).refund(
        ctx.require_tenant(), id, amount=amount, reason=reason, actor_id=ctx.actor_id
    )


# -- loaders -----------------------------------------------------------------------------------

Batch = Callable[[uuid.UUID, Sequence[uuid.UUID]], Awaitable[Mapping[uuid.UUID, list[Any]]]]


async def _related(info: GraphQLResolveInfo, name: str, order_id: uuid.UUID) -> list[Any]:
    """Rows of relation ``name`` (items, history, payments, refunds) of an order, batched per request."""
    ctx = request(info)
    tenant_id = ctx.require_tenant().id
    service = OrderService(ctx.app)
    sources: dict[str, Batch] = {
        "items": service.items_of,
        "history": service.history_of,
        "payments": service.payments_of,
        "refunds": service.refunds_of,
    }
    source = sources[name]

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[Any]]:
        found = await source(tenant_id, ids)
        return [found.get(i, []) for i in ids]

    return await load_one(ctx, f"commerce.order_{name}", batch, order_id)


# -- object fields -----------------------------------------------------------------------------


def _money(name: str) -> Callable[[Any, GraphQLResolveInfo], MoneyView]:
    def resolve(row: Any, _: GraphQLResolveInfo) -> MoneyView:
        return MoneyView(getattr(row, name), row.currency_code)

    return resolve


for _field, _attribute in (
    ("subtotal", "subtotal"),
    ("shippingTotal", "shipping_total"),
    ("taxTotal", "tax_total"),
    ("discountTotal", "discount_total"),
    ("total", "total"),
    ("refundedTotal", "refunded_total"),
):
    order_type.set_field(_field, _money(_attribute))
order_type.set_field("allowedTransitions", lambda order, _: allowed_transitions(order.status))


@order_type.field("shippingMethod")
def resolve_order_shipping_method(order: Order, _: GraphQLResolveInfo) -> dict[str, Any] | None:
    if order.shipping_method is None:
        return None
    return {**order.shipping_method, "currency_code": order.currency_code}


@order_type.field("items")
async def resolve_order_items(order: Order, info: GraphQLResolveInfo) -> list[InCurrency]:
    return [InCurrency(item, order.currency_code) for item in await _related(info, "items", order.id)]


@order_type.field("statusHistory")
async def resolve_order_history(order: Order, info: GraphQLResolveInfo) -> list[OrderStatusChange]:
    return await _related(info, "history", order.id)


@order_type.field("payments")
async def resolve_order_payments(order: Order, info: GraphQLResolveInfo) -> list[Any]:
    return await _related(info, "payments", order.id)


@order_type.field("refunds")
async def resolve_order_refunds(order: Order, info: GraphQLResolveInfo) -> list[InCurrency]:
    return [InCurrency(refund, order.currency_code) for refund in await _related(info, "refunds", order.id)]


def _row_attribute(name: str) -> Callable[[InCurrency, GraphQLResolveInfo], Any]:
    return lambda view, _: getattr(view.row, name)


def _row_money(name: str) -> Callable[[InCurrency, GraphQLResolveInfo], MoneyView]:
    return lambda view, _: MoneyView(getattr(view.row, name), view.currency_code)


for _field, _attribute in (("id", "id"), ("variantId", "variant_id"), ("productId", "product_id")):
    item_type.set_field(_field, _row_attribute(_attribute))
for _field in ("title", "sku", "quantity"):
    item_type.set_field(_field, _row_attribute(_field))
for _field, _attribute in (
    ("unitPrice", "unit_price"),
    ("subtotal", "subtotal"),
    ("taxTotal", "tax_total"),
    ("total", "total"),
):
    item_type.set_field(_field, _row_money(_attribute))

for _field, _attribute in (
    ("id", "id"),
    ("paymentId", "payment_id"),
    ("reason", "reason"),
    ("createdAt", "created_at"),
):
    refund_type.set_field(_field, _row_attribute(_attribute))
refund_type.set_field("amount", _row_money("amount"))


@refund_type.field("actorId")
async def resolve_refund_actor(view: InCurrency, info: GraphQLResolveInfo) -> uuid.UUID | None:
    return view.row.actor_id if await request(info).may(ORDERS_READ) else None


for _field, _attribute in (
    ("amount", "amount"),
    ("capturedAmount", "captured_amount"),
    ("refundedAmount", "refunded_amount"),
):
    payment_type.set_field(_field, _money(_attribute))


@change_type.field("actorId")
async def resolve_change_actor(change: OrderStatusChange, info: GraphQLResolveInfo) -> uuid.UUID | None:
    return change.actor_id if await request(info).may(ORDERS_READ) else None


@change_type.field("note")
async def resolve_change_note(change: OrderStatusChange, info: GraphQLResolveInfo) -> str | None:
    return change.note if await request(info).may(ORDERS_READ) else None


BINDABLES: list[SchemaBindable] = [
    query,
    mutation,
    order_status,
    payment_status,
    order_type,
    item_type,
    change_type,
    payment_type,
    refund_type,
]
