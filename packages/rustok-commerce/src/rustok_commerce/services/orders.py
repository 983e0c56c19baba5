"""Orders: the state machine, per-tenant display ids, reads and listings.

The lifecycle is data (:data:`TRANSITIONS`), checked in one place
(:func:`apply_transition`), under the order's row lock::

    pending   → confirmed | cancelled
    confirmed → paid | cancelled
    paid      → fulfilled | cancelled | refunded
    fulfilled → completed | refunded
    completed → refunded
    cancelled, refunded: final

* ``pending → confirmed``: the shop accepts the order (no side effect).
* ``→ paid``: authorized payments are captured through their provider (already
  captured ones are left alone).
* ``→ fulfilled``: the reservations are fulfilled — stock leaves (``stocked`` and
  ``reserved`` both drop).
* ``→ completed``: closes the order (``completed_at``).
* ``→ cancelled`` (before fulfilment): reservations are released (units return to
  ``available``) and payments are undone — authorizations cancelled, captured money
  refunded. Once goods have left (``fulfilled``), an order can no longer be cancelled;
  it is refunded instead.
* ``→ refunded`` (after payment): whatever captured money is left is refunded. From
  ``paid`` nothing has shipped, so the reservations are released too; from
  ``fulfilled``/``completed`` goods are out — returned goods come back through an
  inventory adjustment (reason ``return``), not through the order.
* ``cancelled`` and ``refunded`` are final.

Every transition writes a ``commerce_order_status_history`` row (from, to, actor,
note) and publishes ``commerce.order.status_changed``, plus ``commerce.order.completed``
or ``commerce.order.cancelled`` (with the units released). An illegal move is a
``CONFLICT`` (``ILLEGAL_TRANSITION``) naming the allowed ones, and changes nothing.

Display ids come from ``commerce_order_counters``: one upsert in its own short
transaction, before the checkout transaction, so concurrent checkouts of one tenant
do not queue on the counter row. A checkout that fails afterwards leaves a gap; ids
are unique and increasing, not dense.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Select, Table, literal, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.events import OrderCancelled, OrderCompleted, OrderStatusChanged
from rustok_commerce.models import ORDER_STATUSES, Order, OrderCounter, OrderItem, OrderStatusChange, Payment, Refund
from rustok_commerce.services import inventory, payments
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict, NotFound, Validation
from rustok_core.events import DomainEvent, EventPublisher
from rustok_core.ids import generate_id
from rustok_core.pagination import connection, decode_cursor, page_size

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"fulfilled", "cancelled", "refunded"}),
    "fulfilled": frozenset({"completed", "refunded"}),
    "completed": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
"""Where an order may go from each status. The only definition of the lifecycle."""

FINAL_STATUSES = frozenset(status for status, targets in TRANSITIONS.items() if not targets)
MAX_NOTE = 1000
COUNTERS: Table = OrderCounter.__table__  # type: ignore[assignment]
NOT_FOUND = "no such order"


def allowed_transitions(status: str) -> list[str]:
    """The statuses an order in ``status`` may move to, in lifecycle order."""
    targets = TRANSITIONS.get(status, frozenset())
    return [candidate for candidate in ORDER_STATUSES if candidate in targets]


def check_status(status: Any, field: str = "status") -> str:
    if not isinstance(status, str) or status not in TRANSITIONS:
        raise Validation(
            f"unknown order status; use one of {', '.join(ORDER_STATUSES)}", field=field, reason="UNKNOWN_STATUS"
        )
    return status


def check_transition(from_status: str, to_status: str) -> None:
    """Raise ``CONFLICT`` (``ILLEGAL_TRANSITION``, with ``allowed``) unless the move is in the table."""
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        allowed = allowed_transitions(from_status)
        raise Conflict(
            f"cannot move an order from {from_status} to {to_status}; "
            f"allowed: {', '.join(allowed) if allowed else f'none ({from_status} is final)'}",
            reason="ILLEGAL_TRANSITION",
            status=from_status,
            allowed=allowed,
        )


def check_note(note: str | None) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        raise Validation("the note must be text", field="note")
    cleaned = note.strip()
    if len(cleaned) > MAX_NOTE:
        raise Validation(f"the note must be at most {MAX_NOTE} characters", field="note")
    return cleaned or None


async def _publish(
    ctx: AppContext, session: AsyncSession, order: Order, event: DomainEvent, actor_id: uuid.UUID | None
) -> None:
    await ctx.services.get(EventPublisher).publish(session, event, tenant_id=order.tenant_id, actor_id=actor_id)


async def apply_transition(
    ctx: AppContext,
    session: AsyncSession,
    order: Order,
    to_status: str,
    *,
    actor_id: uuid.UUID | None,
    note: str | None,
) -> None:
    """Move a row-locked ``order`` to ``to_status`` in the caller's transaction, with its side effects."""
    from_status = order.status
    check_transition(from_status, to_status)
    released = 0
    if to_status == "paid":
        await payments.capture_all(ctx, session, order, actor_id=actor_id)
    elif to_status == "fulfilled":
        await inventory.fulfil(ctx, session, order.tenant_id, order.id, actor_id=actor_id)
    elif to_status == "cancelled":
        released = await inventory.release(ctx, session, order.tenant_id, order.id, actor_id=actor_id)
        await payments.void(ctx, session, order, reason=note, actor_id=actor_id)
    elif to_status == "refunded":
        await payments.refund(ctx, session, order, None, reason=note or "order refunded", actor_id=actor_id)
        if from_status == "paid":
            await inventory.release(ctx, session, order.tenant_id, order.id, actor_id=actor_id)
    now = datetime.now(UTC)
    order.status = to_status
    order.updated_at = now
    if to_status == "completed":
        order.completed_at = now
    elif to_status == "cancelled":
        order.cancelled_at = now
    session.add(
        OrderStatusChange(
            order_id=order.id,
            order_created_at=order.created_at,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor_id,
            note=note,
        )
    )
    await session.flush()
    await _publish(
        ctx,
        session,
        order,
        OrderStatusChanged(
            order_id=order.id, display_id=order.display_id, from_status=from_status, to_status=to_status, note=note
        ),
        actor_id,
    )
    if to_status == "completed":
        await _publish(ctx, session, order, OrderCompleted(order_id=order.id, display_id=order.display_id), actor_id)
    elif to_status == "cancelled":
        await _publish(
            ctx,
            session,
            order,
            OrderCancelled(order_id=order.id, display_id=order.display_id, released=released, reason=note),
            actor_id,
        )


async def allocate_display_id(ctx: AppContext, tenant_id: uuid.UUID) -> int:
    """The tenant's next order number, taken in a short transaction of its own.

    One ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the first order of a tenant
    creates its counter row, later ones bump it. The row is locked only for that
    statement, so concurrent checkouts do not serialize on it; a checkout that then
    fails leaves a gap in the numbers.
    """
    statement = (
        pg_insert(COUNTERS)
        .values(id=generate_id(), tenant_id=tenant_id, last_value=1)
        .on_conflict_do_update(index_elements=[COUNTERS.c.tenant_id], set_={"last_value": COUNTERS.c.last_value + 1})
        .returning(COUNTERS.c.last_value)
    )
    async with ctx.db.session(tenant_id) as session, session.begin():
        value = (await session.execute(statement)).scalar_one()
    return int(value)


@dataclass(frozen=True)
class OrderQuery:
    """What to list: all filters optional; newest first, keyset-paginated on ``(created_at, id)``."""

    statuses: Sequence[str] | None = None
    customer_id: uuid.UUID | None = None
    created_from: datetime | None = None
    """Inclusive."""
    created_to: datetime | None = None
    """Exclusive."""
    first: int | None = None
    after: str | None = None


class OrderService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # -- writes -----------------------------------------------------------------------------

    async def transition(
        self,
        tenant: TenantContext,
        order_id: uuid.UUID,
        to_status: str,
        *,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
        note: str | None = None,
    ) -> Order:
        """Move the order to ``to_status`` (see the module docs for the side effects)."""
        to_status = check_status(to_status)
        note = check_note(note)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            order = await self.locked(session, order_id)
            expect_version(order, expected_version)
            await apply_transition(self.ctx, session, order, to_status, actor_id=actor_id, note=note)
        return order

    async def locked(self, session: AsyncSession, order_id: uuid.UUID) -> Order:
        """The order, row-locked for the rest of the caller's transaction (fresh from the database)."""
        order = await session.scalar(
            select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
        )
        if order is None:
            raise NotFound(NOT_FOUND, resource="order")
        return order

    # -- reads ------------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, order_id: uuid.UUID, *, customer_id: uuid.UUID | None = None) -> Order:
        """The order; with ``customer_id``, only if it is that customer's (else ``NOT_FOUND``)."""
        statement = select(Order).where(Order.id == order_id)
        return await self._one(tenant_id, statement, customer_id)

    async def get_by_display_id(
        self, tenant_id: uuid.UUID, display_id: int, *, customer_id: uuid.UUID | None = None
    ) -> Order:
        if isinstance(display_id, bool) or not isinstance(display_id, int) or display_id < 1:
            raise Validation("displayId must be a positive integer", field="displayId")
        statement = select(Order).where(Order.display_id == display_id)
        return await self._one(tenant_id, statement, customer_id)

    async def _one(self, tenant_id: uuid.UUID, statement: Select[Any], customer_id: uuid.UUID | None) -> Order:
        if customer_id is not None:
            statement = statement.where(Order.customer_id == customer_id)
        async with self.ctx.db.session(tenant_id) as session:
            order: Order | None = await session.scalar(statement.limit(1))
        if order is None:
            raise NotFound(NOT_FOUND, resource="order")
        return order

    async def by_ids(self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Order]:
        if not ids:
            return {}
        async with self.ctx.db.session(tenant_id) as session:
            return {o.id: o for o in (await session.scalars(select(Order).where(Order.id.in_(list(ids))))).all()}

    async def page(self, tenant_id: uuid.UUID, query: OrderQuery) -> dict[str, Any]:
        """A Relay connection of orders matching ``query``, newest first (one query)."""
        size = page_size(query.first)
        statement = select(Order)
        if query.statuses:
            statement = statement.where(Order.status.in_([check_status(s) for s in query.statuses]))
        if query.customer_id is not None:
            statement = statement.where(Order.customer_id == query.customer_id)
        if query.created_from is not None:
            statement = statement.where(Order.created_at >= query.created_from)
        if query.created_to is not None:
            statement = statement.where(Order.created_at < query.created_to)
        after = _decode_key(query.after)
        if after is not None:
            statement = statement.where(
                tuple_(Order.created_at, Order.id) < tuple_(literal(after[0]), literal(after[1]))
            )
        statement = statement.order_by(Order.created_at.desc(), Order.id.desc()).limit(size + 1)
        async with self.ctx.db.session(tenant_id) as session:
            orders = list((await session.scalars(statement)).all())
        return connection(orders, size, _encode_key)

    async def items_of(self, tenant_id: uuid.UUID, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[OrderItem]]:
        found: dict[uuid.UUID, list[OrderItem]] = {order_id: [] for order_id in order_ids}
        if order_ids:
            async with self.ctx.db.session(tenant_id) as session:
                rows = await session.scalars(
                    select(OrderItem)
                    .where(OrderItem.order_id.in_(list(order_ids)))
                    .order_by(OrderItem.position, OrderItem.id)
                )
                for item in rows.all():
                    found[item.order_id].append(item)
        return found

    async def history_of(
        self, tenant_id: uuid.UUID, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderStatusChange]]:
        found: dict[uuid.UUID, list[OrderStatusChange]] = {order_id: [] for order_id in order_ids}
        if order_ids:
            async with self.ctx.db.session(tenant_id) as session:
                rows = await session.scalars(
                    select(OrderStatusChange)
                    .where(OrderStatusChange.order_id.in_(list(order_ids)))
                    .order_by(OrderStatusChange.created_at, OrderStatusChange.id)
                )
                for change in rows.all():
                    found[change.order_id].append(change)
        return found

    async def payments_of(self, tenant_id: uuid.UUID, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Payment]]:
        found: dict[uuid.UUID, list[Payment]] = {order_id: [] for order_id in order_ids}
        if order_ids:
            async with self.ctx.db.session(tenant_id) as session:
                rows = await session.scalars(
                    select(Payment)
                    .where(Payment.order_id.in_(list(order_ids)))
                    .order_by(Payment.created_at, Payment.id)
                )
                for payment in rows.all():
                    found[payment.order_id].append(payment)
        return found

    async def refunds_of(self, tenant_id: uuid.UUID, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Refund]]:
        found: dict[uuid.UUID, list[Refund]] = {order_id: [] for order_id in order_ids}
        if order_ids:
            async with self.ctx.db.session(tenant_id) as session:
                rows = await session.scalars(
                    select(Refund).where(Refund.order_id.in_(list(order_ids))).order_by(Refund.created_at, Refund.id)
                )
                for refund in rows.all():
                    found[refund.order_id].append(refund)
        return found


def _encode_key(order: Order) -> str:
    return orjson.dumps([order.created_at.isoformat(), str(order.id)]).decode()


def _decode_key(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        created_at, order_id = orjson.loads(raw)
        return datetime.fromisoformat(created_at), uuid.UUID(order_id)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise Validation("invalid cursor", field="after") from None


__all__ = [
    "FINAL_STATUSES",
    "TRANSITIONS",
    "OrderQuery",
    "OrderService",
    "allocate_display_id",
    "allowed_transitions",
    "apply_transition",
    "check_transition",
]
