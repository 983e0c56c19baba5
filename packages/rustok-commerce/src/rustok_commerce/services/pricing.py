"""Price resolution: the one place that decides what a variant costs.

For a (variant, currency, quantity, moment):

1. each price source — the base prices (no list) and every price list that is
   active at that moment — offers its tier for the quantity: the price with the
   highest ``min_quantity`` not above it;
2. an applicable ``override`` list replaces the base price (several: the lowest);
3. an applicable ``sale`` list applies only where it is lower than that;
4. no offer at all: the variant cannot be bought in that currency (``None``).

:func:`resolve_prices` answers for many variants in one currency with one SQL query;
:func:`resolve_prices_in_every_currency` answers in every currency they are priced in,
also with one query (the index's product documents use it). :func:`next_price_change`
says when the answer may change by itself: the next start or end of a price list's
window.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, SQLColumnExpression, Uuid, and_, any_, bindparam, func, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.models import Price, PriceList


@dataclass(frozen=True)
class PriceRow:
    """One stored price as resolution sees it."""

    variant_id: uuid.UUID
    amount: int
    min_quantity: int
    price_list_id: uuid.UUID | None = None
    list_type: str | None = None
    """``None`` for a base price, else ``sale`` or ``override``."""


@dataclass(frozen=True)
class ResolvedPrice:
    variant_id: uuid.UUID
    currency_code: str
    quantity: int
    amount: int
    """What one unit costs at this quantity."""
    original_amount: int
    """The unit price before a sale (base or override); equals ``amount`` when no sale applies."""
    price_list_id: uuid.UUID | None
    """The list the amount comes from (``None``: the base price)."""
    min_quantity: int
    """The tier the amount belongs to."""

    @property
    def on_sale(self) -> bool:
        return self.amount < self.original_amount


def _tier(rows: Iterable[PriceRow], quantity: int) -> PriceRow | None:
    best: PriceRow | None = None
    for row in rows:
        if row.min_quantity <= quantity and (best is None or row.min_quantity > best.min_quantity):
            best = row
    return best


def pick(variant_id: uuid.UUID, currency: str, quantity: int, rows: Iterable[PriceRow]) -> ResolvedPrice | None:
    """Resolve one variant's price from its applicable rows (pure: the rules above)."""
    by_source: dict[uuid.UUID | None, list[PriceRow]] = {}
    for row in rows:
        by_source.setdefault(row.price_list_id, []).append(row)
    base: PriceRow | None = None
    overrides: list[PriceRow] = []
    sales: list[PriceRow] = []
    for source, source_rows in by_source.items():
        offer = _tier(source_rows, quantity)
        if offer is None:
            continue
        if source is None:
            base = offer
        elif offer.list_type == "override":
            overrides.append(offer)
        else:
            sales.append(offer)
    regular = min(overrides, key=lambda r: r.amount) if overrides else base
    sale = min(sales, key=lambda r: r.amount) if sales else None
    if regular is None and sale is None:
        return None
    if regular is None or (sale is not None and sale.amount < regular.amount):
        assert sale is not None
        original = regular.amount if regular is not None else sale.amount
        return ResolvedPrice(
            variant_id, currency, quantity, sale.amount, original, sale.price_list_id, sale.min_quantity
        )
    return ResolvedPrice(
        variant_id, currency, quantity, regular.amount, regular.amount, regular.price_list_id, regular.min_quantity
    )


def _among(column: SQLColumnExpression[uuid.UUID], values: Iterable[uuid.UUID]) -> ColumnElement[bool]:
    """``column = ANY(:ids)`` with one array parameter: an index batch may name more variants than
    a statement may have parameters (``IN`` takes one per value)."""
    return column == any_(bindparam(None, list(values), type_=ARRAY(Uuid())))


def _applicable(moment: datetime) -> ColumnElement[bool]:
    """Rows that count at ``moment``: base prices, and prices of lists active then."""
    return or_(
        Price.price_list_id.is_(None),
        and_(
            PriceList.is_active.is_(True),
            or_(PriceList.starts_at.is_(None), PriceList.starts_at <= moment),
            or_(PriceList.ends_at.is_(None), PriceList.ends_at > moment),
        ),
    )


def _resolve(
    found: Iterable[tuple[uuid.UUID, int, int, uuid.UUID | None, str | None]],
    wanted: Iterable[uuid.UUID],
    currency: str,
    quantities: Mapping[uuid.UUID, int] | None,
) -> dict[uuid.UUID, ResolvedPrice]:
    rows: dict[uuid.UUID, list[PriceRow]] = {}
    for variant_id, amount, min_quantity, list_id, list_type in found:
        rows.setdefault(variant_id, []).append(PriceRow(variant_id, amount, min_quantity, list_id, list_type))
    resolved: dict[uuid.UUID, ResolvedPrice] = {}
    for variant_id in wanted:
        quantity = (quantities or {}).get(variant_id, 1)
        offer = pick(variant_id, currency, quantity, rows.get(variant_id, ()))
        if offer is not None:
            resolved[variant_id] = offer
    return resolved


async def resolve_prices(
    session: AsyncSession,
    variant_ids: Iterable[uuid.UUID],
    currency: str,
    quantities: Mapping[uuid.UUID, int] | None = None,
    *,
    at: datetime | None = None,
) -> dict[uuid.UUID, ResolvedPrice]:
    """Unit prices of ``variant_ids`` in ``currency`` (one query).

    ``quantities`` gives the quantity per variant (default 1) for quantity tiers;
    ``at`` the moment price lists are judged at (default now). Variants without a
    price in the currency are missing from the result. ``session`` must be scoped
    to the tenant (its rows are the only ones it sees).
    """
    wanted = list(dict.fromkeys(variant_ids))
    if not wanted:
        return {}
    statement = (
        select(Price.variant_id, Price.amount, Price.min_quantity, Price.price_list_id, PriceList.type)
        .outerjoin(PriceList, PriceList.id == Price.price_list_id)
        .where(Price.variant_id.in_(wanted), Price.currency_code == currency, _applicable(at or datetime.now(UTC)))
    )
    found = [
        (v, amount, tier, list_id, kind) for v, amount, tier, list_id, kind in (await session.execute(statement)).all()
    ]
    return _resolve(found, wanted, currency, quantities)


async def resolve_prices_in_every_currency(
    session: AsyncSession,
    variant_ids: Iterable[uuid.UUID],
    quantities: Mapping[uuid.UUID, int] | None = None,
    *,
    at: datetime | None = None,
) -> dict[str, dict[uuid.UUID, ResolvedPrice]]:
    """Currency → what :func:`resolve_prices` answers in it, for every currency any variant has (one query)."""
    wanted = list(dict.fromkeys(variant_ids))
    if not wanted:
        return {}
    statement = (
        select(
            Price.currency_code, Price.variant_id, Price.amount, Price.min_quantity, Price.price_list_id, PriceList.type
        )
        .outerjoin(PriceList, PriceList.id == Price.price_list_id)
        .where(_among(Price.variant_id, wanted), _applicable(at or datetime.now(UTC)))
    )
    by_currency: dict[str, list[tuple[uuid.UUID, int, int, uuid.UUID | None, str | None]]] = {}
    for currency, variant_id, amount, tier, list_id, kind in (await session.execute(statement)).all():
        by_currency.setdefault(currency, []).append((variant_id, amount, tier, list_id, kind))
    resolved = {
        currency: _resolve(rows, wanted, currency, quantities) for currency, rows in sorted(by_currency.items())
    }
    return {currency: prices for currency, prices in resolved.items() if prices}


async def next_price_change(
    session: AsyncSession, variant_ids: Iterable[uuid.UUID], *, at: datetime | None = None
) -> dict[uuid.UUID, datetime]:
    """When each variant's resolved prices may next change by themselves (one query).

    That is the earliest ``starts_at`` or ``ends_at`` after ``at`` (default now) of an
    active price list holding a price of the variant; variants without one are missing.
    Writes (prices, lists) change prices too, but they publish events; the passing of
    a window's bound does not.
    """
    wanted = list(dict.fromkeys(variant_ids))
    if not wanted:
        return {}
    moment = at or datetime.now(UTC)
    bounds = union_all(
        *(
            select(Price.variant_id.label("variant_id"), bound.label("at"))
            .join(PriceList, PriceList.id == Price.price_list_id)
            .where(_among(Price.variant_id, wanted), PriceList.is_active.is_(True), bound > moment)
            for bound in (PriceList.starts_at, PriceList.ends_at)
        )
    ).subquery()
    statement = select(bounds.c.variant_id, func.min(bounds.c.at)).group_by(bounds.c.variant_id)
    changes: dict[uuid.UUID, datetime] = {}
    for variant_id, when in (await session.execute(statement)).all():
        changes[variant_id] = when
    return changes
