"""The built-in shipping provider: ``flat_rate``.

An option priced by ``flat_rate`` costs its ``amount``, nothing once the cart's
subtotal reaches ``free_above``, and refuses addresses outside its ``countries``
(``None``: it ships everywhere).
"""

from __future__ import annotations

from rustok_commerce.services.providers import ShippingOptionSnapshot, ShippingRequest
from rustok_core.errors import Validation


class FlatRateShipping:
    name = "flat_rate"

    async def quote(self, option: ShippingOptionSnapshot, request: ShippingRequest) -> int:
        if option.currency_code != request.currency_code:
            raise Validation(
                "the shipping option is priced in another currency",
                field="shippingOptionId",
                reason="CURRENCY_MISMATCH",
            )
        if option.countries is not None:
            country = (request.address or {}).get("country_code")
            if country is None:
                raise Validation(
                    "set a shipping address before choosing shipping", field="shippingAddress", reason="MISSING_ADDRESS"
                )
            if country not in option.countries:
                raise Validation(
                    "the shipping option does not ship to that country",
                    field="shippingOptionId",
                    reason="COUNTRY_NOT_SERVED",
                )
        if option.free_above is not None and request.subtotal >= option.free_above:
            return 0
        return option.amount
