"""Price resolution: the one place that decides what a variant costs.

For a (variant, currency, quantity, moment):

1. each price source — the base prices (no list) and every price list that is
   active at that moment — offers its tier for the quantity: the price with the
   highest ``min_quantity`` not above it;
2. an applicable ``override`` list replaces the base price (several: the lowest);
3. an applicable ``sale`` list applies only where it is lower than that;
4. no offer at all: the variant cannot be bought in that currency (``None``).

:func:`resolve_prices` answers for many variants with one SQL query.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
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
    moment = at or datetime.now(UTC)
    applicable_list = and_(
        PriceList.is_active.is_(True),
        or_(PriceList.starts_at.is_(None), PriceList.starts_at <= moment),
        or_(PriceList.ends_at.is_(None), PriceList.ends_at > moment),
    )
    statement = (
        select(Price.variant_id, Price.amount, Price.min_quantity, Price.price_list_id, PriceList.type)
        .outerjoin(PriceList, PriceList.id == Price.price_list_id)
        .where(
            Price.variant_id.in_(wanted),
            Price.currency_code == currency,
            or_(Price.price_list_id.is_(None), applicable_list),
        )
    )
    rows: dict[uuid.UUID, list[PriceRow]] = {}
    for variant_id, amount, min_quantity, list_id, list_type in (await session.execute(statement)).all():
        rows.setdefault(variant_id, []).append(PriceRow(variant_id, amount, min_quantity, list_id, list_type))
    resolved: dict[uuid.UUID, ResolvedPrice] = {}
    for variant_id in wanted:
        quantity = (quantities or {}).get(variant_id, 1)
        found = pick(variant_id, currency, quantity, rows.get(variant_id, ()))
        if found is not None:
            resolved[variant_id] = found
    return resolved
