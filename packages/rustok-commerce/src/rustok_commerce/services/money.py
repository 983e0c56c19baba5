"""Money: integer amounts in a currency's minor unit beside an ISO-4217 code.

Every amount that enters the module passes :func:`check_amount` (an ``int`` — never
a float, a bool or a string — within range) and every currency :func:`check_currency`
(a code ISO-4217 knows, taken from Babel's CLDR data, upper case).
"""

from __future__ import annotations

from typing import Any

from babel.numbers import get_currency_precision, is_currency

from rustok_core.errors import Validation

MAX_AMOUNT = 10**15
"""The largest amount accepted (10^13 units of a two-decimal currency): far below BIGINT."""


def check_currency(code: Any, field: str = "currencyCode") -> str:
    """The ISO-4217 code ``code`` names, or ``VALIDATION`` (reason ``UNKNOWN_CURRENCY``)."""
    if not isinstance(code, str) or len(code) != 3 or not code.isalpha() or not is_currency(code.upper()):
        raise Validation(
            "unknown currency: give an ISO-4217 code such as EUR or USD", field=field, reason="UNKNOWN_CURRENCY"
        )
    return code.upper()


def check_amount(amount: Any, field: str = "amount", *, positive: bool = False) -> int:
    """``amount`` as minor units: an integer, not negative (or > 0 when ``positive``), within range."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Validation(
            "money is an integer number of minor units (cents), not a fraction or text",
            field=field,
            reason="INVALID_AMOUNT",
        )
    if amount < 0 or (positive and amount == 0):
        raise Validation(
            f"the amount must be {'greater than zero' if positive else 'zero or more'}",
            field=field,
            reason="INVALID_AMOUNT",
        )
    if amount > MAX_AMOUNT:
        raise Validation(f"the amount must not exceed {MAX_AMOUNT}", field=field, reason="INVALID_AMOUNT")
    return amount


def minor_digits(currency: str) -> int:
    """Digits after the decimal point in ``currency`` (EUR 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


def percent_of(amount: int, basis_points: int) -> int:
    """``amount * basis_points`` / 10 000, rounded half up (to the minor unit)."""
    return (amount * basis_points + 5_000) // 10_000
