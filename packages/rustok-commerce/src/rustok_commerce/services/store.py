"""Store settings, shipping options and tax rates: how a tenant's shop is configured.

Settings are one row per tenant, created on first write (reads of a tenant without
a row see the defaults). Shipping options are priced by their provider (built in:
``flat_rate``, see :mod:`services.shipping`); tax rates feed the built-in
``tax_table`` provider (see :mod:`services.tax`). None of these writes publishes a
domain event: they change how future carts are priced, not anything already sold.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.models import ShippingOption, StoreSettings, TaxRate
from rustok_commerce.services.addresses import check_country
from rustok_commerce.services.money import check_amount, check_currency
from rustok_commerce.services.providers import CommerceProviders
from rustok_core.context import AppContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict, NotFound, Validation

DEFAULT_LOW_STOCK_THRESHOLD = 5
DEFAULT_MAX_LINE_QUANTITY = 1000
MAX_LINE_QUANTITY_LIMIT = 1_000_000
"""The largest per-line quantity a store may allow (keeps line totals far inside BIGINT)."""
MAX_RATE_BP = 100_000
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")
MAX_NAME = 255
MAX_PROVINCE = 64


@dataclass(frozen=True)
class StoreConfig:
    """The settings as services read them (the defaults when the tenant has no row yet)."""

    low_stock_threshold: int = DEFAULT_LOW_STOCK_THRESHOLD
    default_currency: str | None = None
    max_line_quantity: int = DEFAULT_MAX_LINE_QUANTITY
    version: int = 0
    """0 when no row exists yet."""


async def store_config(session: AsyncSession) -> StoreConfig:
    """The tenant's settings (one query, no write); ``session`` is scoped to the tenant."""
    row = await session.scalar(select(StoreSettings))
    if row is None:
        return StoreConfig()
    return StoreConfig(row.low_stock_threshold, row.default_currency, row.max_line_quantity, row.version)


def _check_int(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise Validation(f"{field} must be a whole number from {minimum} to {maximum}", field=field)
    return value


def _check_text(value: Any, field: str, *, maximum: int = MAX_NAME) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Validation(f"{field} must not be empty", field=field)
    text = value.strip()
    if len(text) > maximum:
        raise Validation(f"{field} must be at most {maximum} characters", field=field)
    return text


class StoreService:
    """Store settings, shipping options and tax rates of a tenant."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # -- settings -------------------------------------------------------------------------

    async def settings(self, tenant_id: uuid.UUID) -> StoreConfig:
        async with self.ctx.db.session(tenant_id) as session:
            return await store_config(session)

    async def update_settings(
        self,
        tenant_id: uuid.UUID,
        *,
        expected_version: int | None = None,
        low_stock_threshold: int | None = None,
        default_currency: str | None = None,
        max_line_quantity: int | None = None,
    ) -> StoreConfig:
        """Change what is given; ``expected_version`` (the version read, 0 before any write) guards races."""
        threshold = (
            None
            if low_stock_threshold is None
            else _check_int(low_stock_threshold, "lowStockThreshold", minimum=0, maximum=1_000_000_000)
        )
        currency = None if default_currency is None else check_currency(default_currency, "defaultCurrency")
        max_quantity = (
            None
            if max_line_quantity is None
            else _check_int(max_line_quantity, "maxLineQuantity", minimum=1, maximum=MAX_LINE_QUANTITY_LIMIT)
        )
        changes: dict[str, Any] = {
            key: value
            for key, value in (
                ("low_stock_threshold", threshold),
                ("default_currency", currency),
                ("max_line_quantity", max_quantity),
            )
            if value is not None
        }
        stale = Conflict("the store settings were changed by someone else; reload and retry", reason="STALE_VERSION")
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            query = select(StoreSettings).with_for_update().execution_options(populate_existing=True)
            row = await session.scalar(query)
            if row is None:
                # The first change creates the row with it (version 1); a concurrent first change conflicts.
                if expected_version not in (None, 0):
                    raise stale
                created = await session.scalar(
                    pg_insert(StoreSettings)
                    .on_conflict_do_nothing(index_elements=["tenant_id"])
                    .returning(StoreSettings.id),
                    {
                        "low_stock_threshold": DEFAULT_LOW_STOCK_THRESHOLD,
                        "max_line_quantity": DEFAULT_MAX_LINE_QUANTITY,
                        **changes,
                    },
                )
                if created is None and expected_version == 0:
                    raise stale
                row = await session.scalar(query)
                assert row is not None
                if created is not None:
                    return StoreConfig(
                        row.low_stock_threshold, row.default_currency, row.max_line_quantity, row.version
                    )
            elif expected_version == 0:
                raise stale
            expect_version(row, expected_version)
            for key, value in changes.items():
                setattr(row, key, value)
            await session.flush()
            return StoreConfig(row.low_stock_threshold, row.default_currency, row.max_line_quantity, row.version)

    # -- shipping options -----------------------------------------------------------------

    async def shipping_options(
        self,
        tenant_id: uuid.UUID,
        *,
        currency: str | None = None,
        country: str | None = None,
        active_only: bool = False,
    ) -> list[ShippingOption]:
        """Options by code; ``currency``/``country`` keep those that could serve them."""
        query = select(ShippingOption).order_by(ShippingOption.code, ShippingOption.currency_code)
        if currency is not None:
            query = query.where(ShippingOption.currency_code == check_currency(currency))
        if active_only:
            query = query.where(ShippingOption.is_active.is_(True))
        async with self.ctx.db.session(tenant_id) as session:
            options = list((await session.scalars(query)).all())
        if country is not None:
            wanted = check_country(country, "country")
            options = [o for o in options if o.countries is None or wanted in o.countries]
        return options

    async def shipping_option(self, tenant_id: uuid.UUID, option_id: uuid.UUID) -> ShippingOption:
        async with self.ctx.db.session(tenant_id) as session:
            return await self._option(session, option_id, lock=False)

    async def create_shipping_option(
        self,
        tenant_id: uuid.UUID,
        *,
        code: str,
        name: str,
        currency_code: str,
        amount: int,
        provider: str = "flat_rate",
        free_above: int | None = None,
        countries: Sequence[str] | None = None,
        is_active: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> ShippingOption:
        option = ShippingOption(
            code=self._code(code),
            name=_check_text(name, "name"),
            provider=self._provider(provider),
            currency_code=check_currency(currency_code),
            amount=check_amount(amount),
            free_above=None if free_above is None else check_amount(free_above, "freeAbove"),
            countries=self._countries(countries),
            is_active=bool(is_active),
            option_metadata=dict(metadata or {}),
        )
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            await self._code_free(session, option.code, option.currency_code, None)
            session.add(option)
            await session.flush()
        return option

    async def update_shipping_option(
        self,
        tenant_id: uuid.UUID,
        option_id: uuid.UUID,
        *,
        expected_version: int | None,
        changes: dict[str, Any],
    ) -> ShippingOption:
        """Apply ``changes`` (keys: code, name, provider, currency_code, amount, free_above, countries,
        is_active, metadata; ``free_above``/``countries`` may be ``None`` to clear)."""
        checked: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "code":
                checked[key] = self._code(value)
            elif key == "name":
                checked[key] = _check_text(value, "name")
            elif key == "provider":
                checked[key] = self._provider(value)
            elif key == "currency_code":
                checked[key] = check_currency(value)
            elif key == "amount":
                checked[key] = check_amount(value)
            elif key == "free_above":
                checked[key] = None if value is None else check_amount(value, "freeAbove")
            elif key == "countries":
                checked[key] = self._countries(value)
            elif key == "is_active":
                if not isinstance(value, bool):
                    raise Validation("isActive must be true or false", field="isActive")
                checked[key] = value
            elif key == "metadata":
                checked["option_metadata"] = dict(value or {})
            else:
                raise Validation("unknown shipping option field", field=key)
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            option = await self._option(session, option_id, lock=True)
            expect_version(option, expected_version)
            code = checked.get("code", option.code)
            currency = checked.get("currency_code", option.currency_code)
            if (code, currency) != (option.code, option.currency_code):
                await self._code_free(session, code, currency, option.id)
            for key, value in checked.items():
                setattr(option, key, value)
            await session.flush()
        return option

    async def delete_shipping_option(
        self, tenant_id: uuid.UUID, option_id: uuid.UUID, *, expected_version: int | None = None
    ) -> None:
        """Delete an option; carts that had chosen it lose the choice (orders keep their snapshot)."""
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            option = await self._option(session, option_id, lock=True)
            expect_version(option, expected_version)
            await session.delete(option)

    # -- tax rates ------------------------------------------------------------------------

    async def tax_rates(self, tenant_id: uuid.UUID, *, country: str | None = None) -> list[TaxRate]:
        query = select(TaxRate).order_by(TaxRate.country_code, TaxRate.province)
        if country is not None:
            query = query.where(TaxRate.country_code == check_country(country, "country"))
        async with self.ctx.db.session(tenant_id) as session:
            return list((await session.scalars(query)).all())

    async def upsert_tax_rate(
        self,
        tenant_id: uuid.UUID,
        *,
        country_code: str,
        province: str | None,
        name: str,
        rate_bp: int,
        applies_to_shipping: bool = True,
        expected_version: int | None = None,
    ) -> TaxRate:
        """Create or replace the rate of (country, province); province empty/None = the whole country."""
        country = check_country(country_code, "countryCode")
        region = (province or "").strip().upper()
        if len(region) > MAX_PROVINCE:
            raise Validation(f"province must be at most {MAX_PROVINCE} characters", field="province")
        label = _check_text(name, "name")
        rate = _check_int(rate_bp, "rateBp", minimum=0, maximum=MAX_RATE_BP)
        if not isinstance(applies_to_shipping, bool):
            raise Validation("appliesToShipping must be true or false", field="appliesToShipping")
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            await session.execute(
                pg_insert(TaxRate).on_conflict_do_nothing(index_elements=["tenant_id", "country_code", "province"]),
                {"country_code": country, "province": region, "name": label, "rate_bp": rate},
            )
            row = await session.scalar(
                select(TaxRate)
                .where(TaxRate.country_code == country, TaxRate.province == region)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            assert row is not None
            expect_version(row, expected_version)
            row.name, row.rate_bp, row.applies_to_shipping = label, rate, applies_to_shipping
            await session.flush()
        return row

    async def delete_tax_rate(self, tenant_id: uuid.UUID, rate_id: uuid.UUID) -> None:
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            row = await session.scalar(select(TaxRate).where(TaxRate.id == rate_id).with_for_update())
            if row is None:
                raise NotFound("no such tax rate", resource="taxRate")
            await session.delete(row)

    # -- helpers --------------------------------------------------------------------------

    async def _option(self, session: AsyncSession, option_id: uuid.UUID, *, lock: bool) -> ShippingOption:
        query = select(ShippingOption).where(ShippingOption.id == option_id)
        if lock:
            query = query.with_for_update()
        option = await session.scalar(query)
        if option is None:
            raise NotFound("no such shipping option", resource="shippingOption")
        return option

    async def _code_free(self, session: AsyncSession, code: str, currency: str, own: uuid.UUID | None) -> None:
        query = select(ShippingOption.id).where(ShippingOption.code == code, ShippingOption.currency_code == currency)
        if own is not None:
            query = query.where(ShippingOption.id != own)
        if await session.scalar(query) is not None:
            raise Conflict("another shipping option has this code in this currency", reason="CODE_TAKEN", field="code")

    def _code(self, code: Any) -> str:
        if not isinstance(code, str) or not CODE_RE.match(code):
            raise Validation(
                "code must be 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit",
                field="code",
            )
        return code

    def _provider(self, name: Any) -> str:
        if not isinstance(name, str):
            raise Validation("provider must be a provider name", field="provider", reason="UNKNOWN_PROVIDER")
        self.ctx.services.get(CommerceProviders).shipping(name)
        return name

    def _countries(self, countries: Sequence[str] | None) -> list[str] | None:
        if countries is None:
            return None
        if isinstance(countries, str):
            raise Validation("countries must be a list of country codes", field="countries")
        if not countries:
            raise Validation("give at least one country, or none at all to ship everywhere", field="countries")
        return sorted({check_country(c, f"countries.{i}") for i, c in enumerate(countries)})
