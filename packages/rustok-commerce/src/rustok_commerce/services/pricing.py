"""Price resolution: the one place that decides what a variant costs.

For a (variant, currency, quantity, moment):

1. each price source — the base prices (no list) and every price list that is
   active at that moment — offers its tier for the quantity: the price with the
   highest ``min_quantity`` not above it;
2. an applicable ``override`` list replaces the base price (several: the lowest);
3. an applicable ``sale`` list applies only where it is lower than that;
4. no offer at all: the variant cannot be bought in that currency (``None``).

:func:`resolve_prices` answers for many variants in one currency with one SQL query;
:func:`prices_and_next_change` answers for one unit in every currency they are priced
in, and says when those answers may change by themselves (the next start or end of a
price list's window), also with one query (the index's product documents use it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.models import Price, PriceList
from rustok_commerce.services.scoped_sql import scoped_tenant

EVERY_PRICE_WITH_WINDOWS = text(
    """
    SELECT p.currency_code, p.variant_id, p.amount, p.min_quantity, p.price_list_id, l.type, l.starts_at, l.ends_at
    FROM commerce_prices p
    LEFT JOIN commerce_price_lists l ON l.id = p.price_list_id AND l.tenant_id = :tenant
    WHERE p.tenant_id = :tenant AND p.variant_id = ANY(CAST(:variants AS uuid[]))
      AND (p.price_list_id IS NULL OR l.is_active)
    """
)
"""Every base price, and every price in an active list whatever its window, of some variants."""


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


async def prices_and_next_change(
    session: AsyncSession, variant_ids: Iterable[uuid.UUID], *, at: datetime | None = None
) -> tuple[dict[str, dict[uuid.UUID, ResolvedPrice]], dict[uuid.UUID, datetime]]:
    """Unit prices (quantity 1) in every currency the variants have, and when each variant's may next change.

    Currency → what :func:`resolve_prices` answers in it; variant → the earliest
    ``starts_at`` or ``ends_at`` after ``at`` (default now) of an active price list
    holding a price of the variant (variants without one are missing). Writes change
    prices too, but they publish events; the passing of a window's bound does not.

    One read serves both: the base prices and the prices of every active list, whose
    windows are judged here. A plain statement scoped explicitly to the session's
    tenant (:mod:`rustok_commerce.services.scoped_sql`): it runs on every reindex of a
    product, and the ORM's per-statement work costs more than the query.
    """
    wanted = list(dict.fromkeys(variant_ids))
    if not wanted:
        return {}, {}
    moment = at or datetime.now(UTC)
    rows = await session.execute(EVERY_PRICE_WITH_WINDOWS, {"tenant": scoped_tenant(session), "variants": wanted})
    by_currency: dict[str, list[tuple[uuid.UUID, int, int, uuid.UUID | None, str | None]]] = {}
    changes: dict[uuid.UUID, datetime] = {}
    for currency, variant_id, amount, tier, list_id, kind, starts_at, ends_at in rows.all():
        if list_id is not None:
            for bound in (starts_at, ends_at):
                if bound is not None and bound > moment and (variant_id not in changes or bound < changes[variant_id]):
                    changes[variant_id] = bound
            if (starts_at is not None and starts_at > moment) or (ends_at is not None and ends_at <= moment):
                continue  # outside its window: not applicable now
        by_currency.setdefault(currency, []).append((variant_id, amount, tier, list_id, kind))
    resolved = {currency: _resolve(found, wanted, currency, None) for currency, found in sorted(by_currency.items())}
    return {currency: prices for currency, prices in resolved.items() if prices}, changes
