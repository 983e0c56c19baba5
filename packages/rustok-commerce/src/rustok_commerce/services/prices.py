"""Stored prices and price lists: the only code that writes them.

A variant's price is a set of tiers per currency and source (the base list, or a
price list): ``amount`` minor units from ``min_quantity`` units on. Amounts pass
:func:`check_amount` and currencies :func:`check_currency`. What a variant *costs*
is decided by :mod:`rustok_commerce.services.pricing` alone; this module only keeps
the rows it reads.

Every changed tier publishes ``commerce.price.updated`` (``amount`` ``None`` when a
tier goes); every change of a price list publishes ``commerce.price_list.changed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.events import PriceListChanged, PriceUpdated
from rustok_commerce.models import PRICE_LIST_TYPES, Price, PriceList, Variant
from rustok_commerce.services.catalog_inputs import KEEP, Keep, check_text, invalid
from rustok_commerce.services.money import check_amount, check_currency
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import expect_version
from rustok_core.errors import NotFound
from rustok_core.events import DomainEvent, EventPublisher
from rustok_core.pagination import connection, decode_cursor, page_size

MAX_TIERS = 20
MAX_MIN_QUANTITY = 1_000_000
MAX_LIST_NAME = 255


@dataclass(frozen=True)
class TierInput:
    """One tier as a caller sends it (checked by :func:`check_tiers`)."""

    amount: Any
    min_quantity: Any = 1


@dataclass(frozen=True)
class Tier:
    amount: int
    min_quantity: int


def check_min_quantity(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MIN_QUANTITY:
        raise invalid(
            tuple(field.split(".")),
            f"minQuantity must be a whole number from 1 to {MAX_MIN_QUANTITY}",
            reason="INVALID_QUANTITY",
        )
    return value


def check_tiers(tiers: Sequence[TierInput], *, base: bool, field: str = "prices") -> list[Tier]:
    """Checked tiers, by ascending ``min_quantity``.

    Amounts are integers of minor units (never floats); each ``min_quantity`` appears
    once; base prices (not in a list) start at quantity 1, so every quantity has one.
    """
    if len(tiers) > MAX_TIERS:
        raise invalid((field,), f"give at most {MAX_TIERS} tiers per currency")
    checked: list[Tier] = []
    seen: set[int] = set()
    for index, tier in enumerate(tiers):
        amount = check_amount(tier.amount, f"{field}.{index}.amount")
        quantity = check_min_quantity(tier.min_quantity, f"{field}.{index}.minQuantity")
        if quantity in seen:
            raise invalid(
                (field, index, "minQuantity"), "each minQuantity may appear once per currency", reason="DUPLICATE_TIER"
            )
        seen.add(quantity)
        checked.append(Tier(amount, quantity))
    if base and checked and 1 not in seen:
        raise invalid(
            (field,), "base prices start at minQuantity 1 (add a tier for single units)", reason="MISSING_FIRST_TIER"
        )
    return sorted(checked, key=lambda t: t.min_quantity)


def aware(moment: datetime | None, field: str) -> datetime | None:
    """``moment`` with a time zone (a naive one is taken as UTC)."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        raise invalid((field,), "must be a date and time")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class PriceService:
    """Writes and reads stored prices and price lists; every method names its tenant."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def _publish(
        self, session: AsyncSession, tenant_id: uuid.UUID, event: DomainEvent, actor_id: uuid.UUID | None
    ) -> None:
        await self.ctx.services.get(EventPublisher).publish(session, event, tenant_id=tenant_id, actor_id=actor_id)

    # -- a variant's prices -------------------------------------------------------------

    async def set_prices(
        self,
        tenant: TenantContext,
        variant_id: uuid.UUID,
        currency_code: Any,
        tiers: Sequence[TierInput],
        *,
        price_list_id: uuid.UUID | None = None,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> tuple[Variant, list[Price]]:
        """Replace the variant's tiers in one currency and source (``None``: the base list), atomically.

        An empty ``tiers`` removes them all. Returns the variant as the write locked it
        (callers answering with it need not read it again) and the tiers now stored, ascending.
        """
        currency = check_currency(currency_code)
        checked = check_tiers(tiers, base=price_list_id is None)
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            variant = await self._lock_variant(tx, variant_id)
            if price_list_id is not None:
                await self._require_list(tx, price_list_id)
            existing = await self._tiers(tx, variant.id, currency, price_list_id)
            stored = await self._replace(tx, tenant.id, variant, currency, price_list_id, existing, checked, actor_id)
            return variant, stored

    async def set_price(
        self,
        tenant: TenantContext,
        variant_id: uuid.UUID,
        currency_code: Any,
        amount: Any,
        *,
        min_quantity: Any = 1,
        price_list_id: uuid.UUID | None = None,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> Price:
        """Set one tier (add it or change its amount), leaving the other tiers alone."""
        currency = check_currency(currency_code)
        tier = Tier(check_amount(amount), check_min_quantity(min_quantity, "minQuantity"))
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            variant = await self._lock_variant(tx, variant_id)
            if price_list_id is not None:
                await self._require_list(tx, price_list_id)
            existing = await self._tiers(tx, variant.id, currency, price_list_id)
            wanted = [Tier(p.amount, p.min_quantity) for p in existing.values() if p.min_quantity != tier.min_quantity]
            wanted.append(tier)
            if price_list_id is None and not any(t.min_quantity == 1 for t in wanted):
                raise invalid(("minQuantity",), "base prices start at minQuantity 1", reason="MISSING_FIRST_TIER")
            stored = await self._replace(tx, tenant.id, variant, currency, price_list_id, existing, wanted, actor_id)
            return next(p for p in stored if p.min_quantity == tier.min_quantity)

    async def remove_price(
        self,
        tenant: TenantContext,
        variant_id: uuid.UUID,
        currency_code: Any,
        *,
        min_quantity: Any = 1,
        price_list_id: uuid.UUID | None = None,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> None:
        """Remove one tier; the first base tier goes only when it is the last one."""
        currency = check_currency(currency_code)
        quantity = check_min_quantity(min_quantity, "minQuantity")
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            variant = await self._lock_variant(tx, variant_id)
            existing = await self._tiers(tx, variant.id, currency, price_list_id)
            if quantity not in existing:
                raise NotFound("no such price", resource="price")
            wanted = [Tier(p.amount, p.min_quantity) for p in existing.values() if p.min_quantity != quantity]
            if price_list_id is None and wanted and quantity == 1:
                raise invalid(
                    ("minQuantity",),
                    "base prices start at minQuantity 1: remove the other tiers first",
                    reason="MISSING_FIRST_TIER",
                )
            await self._replace(tx, tenant.id, variant, currency, price_list_id, existing, wanted, actor_id)

    async def add_prices(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        variant: Variant,
        currency: str,
        tiers: Sequence[Tier],
        *,
        actor_id: uuid.UUID | None,
    ) -> None:
        """Store checked base tiers of a variant being created (in the caller's transaction)."""
        await self._replace(session, tenant_id, variant, currency, None, {}, tiers, actor_id)

    async def _replace(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        variant: Variant,
        currency: str,
        price_list_id: uuid.UUID | None,
        existing: dict[int, Price],
        wanted: Sequence[Tier],
        actor_id: uuid.UUID | None,
    ) -> list[Price]:
        now = datetime.now(UTC)
        wanted_by_quantity = {t.min_quantity: t for t in wanted}
        changed: list[tuple[int, int | None]] = []
        for quantity, price in existing.items():
            if quantity not in wanted_by_quantity:
                await session.delete(price)
                changed.append((quantity, None))
        stored: list[Price] = []
        for quantity, tier in sorted(wanted_by_quantity.items()):
            found = existing.get(quantity)
            if found is None:
                price = Price(
                    variant_id=variant.id,
                    price_list_id=price_list_id,
                    currency_code=currency,
                    amount=tier.amount,
                    min_quantity=quantity,
                    created_at=now,
                    updated_at=now,
                )
                session.add(price)
                changed.append((quantity, tier.amount))
            else:
                price = found
                if price.amount != tier.amount:
                    price.amount = tier.amount
                    price.updated_at = now
                    changed.append((quantity, tier.amount))
            stored.append(price)
        await session.flush()
        for quantity, amount in sorted(changed):
            await self._publish(
                session,
                tenant_id,
                PriceUpdated(
                    variant_id=variant.id,
                    product_id=variant.product_id,
                    currency_code=currency,
                    amount=amount,
                    min_quantity=quantity,
                    price_list_id=price_list_id,
                ),
                actor_id,
            )
        return stored

    async def _lock_variant(self, session: AsyncSession, variant_id: uuid.UUID) -> Variant:
        """The variant, locked against concurrent price changes (and deletion) until the end."""
        variant = await session.scalar(select(Variant).where(Variant.id == variant_id).with_for_update(key_share=True))
        if variant is None:
            raise NotFound("no such variant", resource="variant")
        return variant

    async def _require_list(self, session: AsyncSession, price_list_id: uuid.UUID) -> None:
        # Key-share locked: the list cannot be deleted while prices are put into it.
        query = select(PriceList.id).where(PriceList.id == price_list_id).with_for_update(read=True, key_share=True)
        if await session.scalar(query) is None:
            raise invalid(("priceListId",), "the price list does not exist")

    async def _tiers(
        self, session: AsyncSession, variant_id: uuid.UUID, currency: str, price_list_id: uuid.UUID | None
    ) -> dict[int, Price]:
        query = select(Price).where(Price.variant_id == variant_id, Price.currency_code == currency)
        query = query.where(
            Price.price_list_id.is_(None) if price_list_id is None else Price.price_list_id == price_list_id
        )
        return {p.min_quantity: p for p in (await session.scalars(query)).all()}

    async def prices_of(self, tenant_id: uuid.UUID, variant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Price]]:
        """Every stored price of each variant (one query): base first, then by currency and tier."""
        found: dict[uuid.UUID, list[Price]] = {variant_id: [] for variant_id in variant_ids}
        if not variant_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(Price)
                .where(Price.variant_id.in_(variant_ids))
                .order_by(
                    Price.price_list_id.is_not(None), Price.price_list_id, Price.currency_code, Price.min_quantity
                )
            )
            for price in rows.all():
                found[price.variant_id].append(price)
        return found

    # -- price lists --------------------------------------------------------------------

    async def create_list(
        self,
        tenant: TenantContext,
        *,
        name: str,
        type: str,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        is_active: bool = True,
        actor_id: uuid.UUID | None,
    ) -> PriceList:
        """A new price list (``sale``: applies where lower; ``override``: replaces base prices)."""
        checked_name = check_text(name, ("name",), max_length=MAX_LIST_NAME)
        checked_type = _check_type(type)
        start, end = _check_window(aware(starts_at, "startsAt"), aware(ends_at, "endsAt"))
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            now = datetime.now(UTC)
            price_list = PriceList(
                name=checked_name,
                type=checked_type,
                starts_at=start,
                ends_at=end,
                is_active=bool(is_active),
                created_at=now,
                updated_at=now,
                window_checked_at=now,
            )
            session.add(price_list)
            await session.flush()
            await self._publish(
                session, tenant.id, PriceListChanged(price_list_id=price_list.id, action="created"), actor_id
            )
        return price_list

    async def update_list(
        self,
        tenant: TenantContext,
        price_list_id: uuid.UUID,
        *,
        expected_version: int | None,
        name: str | None = None,
        type: str | None = None,
        starts_at: datetime | Keep | None = KEEP,
        ends_at: datetime | Keep | None = KEEP,
        is_active: bool | None = None,
        actor_id: uuid.UUID | None,
    ) -> PriceList:
        """Change what is given; ``starts_at``/``ends_at`` ``None`` remove a bound of the window."""
        checked_name = check_text(name, ("name",), max_length=MAX_LIST_NAME) if name is not None else None
        checked_type = _check_type(type) if type is not None else None
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            price_list = await self._locked_list(session, price_list_id)
            expect_version(price_list, expected_version)
            start = price_list.starts_at if isinstance(starts_at, Keep) else aware(starts_at, "startsAt")
            end = price_list.ends_at if isinstance(ends_at, Keep) else aware(ends_at, "endsAt")
            start, end = _check_window(start, end)
            changed = False
            for attribute, value in (
                ("name", checked_name),
                ("type", checked_type),
                ("is_active", is_active),
            ):
                if value is not None and getattr(price_list, attribute) != value:
                    setattr(price_list, attribute, value)
                    changed = True
            if (start, end) != (price_list.starts_at, price_list.ends_at):
                price_list.starts_at, price_list.ends_at = start, end
                changed = True
            if not changed:
                return price_list
            price_list.updated_at = datetime.now(UTC)
            # The event below makes everything re-read the list: bounds passed by now are covered.
            price_list.window_checked_at = price_list.updated_at
            await session.flush()
            await self._publish(
                session,
                tenant.id,
                PriceListChanged(
                    price_list_id=price_list.id,
                    action="updated",
                    product_ids=await products_in(session, price_list.id),
                ),
                actor_id,
            )
        return price_list

    async def delete_list(
        self,
        tenant: TenantContext,
        price_list_id: uuid.UUID,
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> None:
        """Delete a price list with every price in it."""
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            price_list = await self._locked_list(session, price_list_id)
            expect_version(price_list, expected_version)
            product_ids = await products_in(session, price_list.id)
            await session.execute(delete(Price).where(Price.price_list_id == price_list.id))
            await session.delete(price_list)
            await self._publish(
                session,
                tenant.id,
                PriceListChanged(price_list_id=price_list.id, action="deleted", product_ids=product_ids),
                actor_id,
            )

    async def get_list(self, tenant_id: uuid.UUID, price_list_id: uuid.UUID) -> PriceList:
        async with self.ctx.db.session(tenant_id) as session:
            price_list = await session.get(PriceList, price_list_id)
        if price_list is None:
            raise NotFound("no such price list", resource="price_list")
        return price_list

    async def lists_page(
        self, tenant_id: uuid.UUID, *, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        """Price lists, newest first, as a Relay connection."""
        size = page_size(first)
        query = select(PriceList)
        cursor = decode_cursor(after)
        if cursor is not None:
            try:
                query = query.where(PriceList.id < uuid.UUID(cursor))
            except ValueError:
                raise invalid(("after",), "invalid cursor") from None
        async with self.ctx.db.session(tenant_id) as session:
            rows = list((await session.scalars(query.order_by(PriceList.id.desc()).limit(size + 1))).all())
        return connection(rows, size, lambda p: str(p.id))

    async def lists_by_ids(self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PriceList]:
        if not ids:
            return {}
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(select(PriceList).where(PriceList.id.in_(ids)))
            return {p.id: p for p in rows.all()}

    async def _locked_list(self, session: AsyncSession, price_list_id: uuid.UUID) -> PriceList:
        price_list = await session.scalar(select(PriceList).where(PriceList.id == price_list_id).with_for_update())
        if price_list is None:
            raise NotFound("no such price list", resource="price_list")
        return price_list


async def products_in(session: AsyncSession, price_list_id: uuid.UUID) -> list[uuid.UUID]:
    """The products with a variant priced in the list (ascending)."""
    rows = await session.scalars(
        select(Variant.product_id)
        .join(Price, Price.variant_id == Variant.id)
        .where(Price.price_list_id == price_list_id)
        .distinct()
        .order_by(Variant.product_id)
    )
    return list(rows.all())


def _check_type(value: Any) -> str:
    if value not in PRICE_LIST_TYPES:
        raise invalid(("type",), f"type must be one of {', '.join(PRICE_LIST_TYPES)}")
    return str(value)


def _check_window(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    if start is not None and end is not None and start >= end:
        raise invalid(("endsAt",), "endsAt must be after startsAt", reason="INVALID_WINDOW")
    return start, end
