"""The built-in tax provider: ``tax_table``, rates from ``commerce_tax_rates``.

The rate is the row for the address's country and province, else the country-wide
row (province ``''``); no row, or no address, means no tax. Prices are net: tax is
added per line (``percent_of`` the line's subtotal, rounded half up to the minor
unit) and on shipping when the rate ``applies_to_shipping``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.models import TaxRate
from rustok_commerce.services.money import percent_of
from rustok_commerce.services.providers import TaxRequest, TaxResult


class TaxTableProvider:
    name = "tax_table"

    async def compute(self, session: AsyncSession, request: TaxRequest) -> TaxResult:
        address = request.address or {}
        country = address.get("country_code")
        if not country:
            return TaxResult(line_taxes={})
        province = (address.get("province") or "").upper()
        rows = (
            await session.scalars(
                select(TaxRate).where(TaxRate.country_code == country, TaxRate.province.in_(sorted({province, ""})))
            )
        ).all()
        rate = next((r for r in rows if r.province == province), None) or next(
            (r for r in rows if r.province == ""), None
        )
        if rate is None:
            return TaxResult(line_taxes={})
        return TaxResult(
            line_taxes={line.key: percent_of(line.amount, rate.rate_bp) for line in request.lines},
            shipping_tax=percent_of(request.shipping_amount, rate.rate_bp) if rate.applies_to_shipping else 0,
        )
