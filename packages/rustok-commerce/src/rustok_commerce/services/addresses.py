"""Postal addresses of carts (and, copied, of orders): checked once, stored as JSON.

A stored address is a dict with snake_case keys: ``first_name``, ``last_name``,
``company``, ``line1``, ``line2``, ``city``, ``province``, ``postal_code``,
``country_code`` (ISO 3166-1 alpha-2, upper case), ``phone``. Optional keys are
present with ``None``. ``province`` is upper-cased, as tax rates are keyed by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel import Locale

from rustok_core.errors import FieldError, Validation

# CLDR territories that are not ISO 3166-1 alpha-2 country codes (groupings, reserved codes).
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"})
COUNTRIES = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)
"""Every ISO 3166-1 alpha-2 code (249)."""

# field -> (required, maximum length)
ADDRESS_FIELDS: dict[str, tuple[bool, int]] = {
    "first_name": (True, 100),
    "last_name": (True, 100),
    "company": (False, 255),
    "line1": (True, 255),
    "line2": (False, 255),
    "city": (True, 100),
    "province": (False, 64),
    "postal_code": (True, 32),
    "country_code": (True, 2),
    "phone": (False, 32),
}
_CAMEL = {
    "first_name": "firstName",
    "last_name": "lastName",
    "postal_code": "postalCode",
    "country_code": "countryCode",
}


def check_country(code: Any, field: str = "countryCode") -> str:
    """The upper-case ISO 3166-1 alpha-2 code ``code`` names, or ``VALIDATION`` (``UNKNOWN_COUNTRY``)."""
    if not isinstance(code, str) or code.strip().upper() not in COUNTRIES:
        raise Validation(
            "unknown country: give an ISO 3166-1 alpha-2 code such as DE or US", field=field, reason="UNKNOWN_COUNTRY"
        )
    return code.strip().upper()


def check_address(given: Mapping[str, Any], prefix: str = "address") -> dict[str, Any]:
    """``given`` (snake_case keys) as a stored address; every bad field reported at once."""
    errors: list[FieldError] = []
    address: dict[str, Any] = {}
    unknown = sorted(set(given) - set(ADDRESS_FIELDS))
    for key in unknown:
        errors.append(FieldError((prefix, key), "not an address field"))
    for key, (required, maximum) in ADDRESS_FIELDS.items():
        path = (prefix, _CAMEL.get(key, key))
        value = given.get(key)
        if value is not None and not isinstance(value, str):
            errors.append(FieldError(path, "must be text"))
            continue
        text = (value or "").strip()
        if not text:
            if required:
                errors.append(FieldError(path, "is required"))
            address[key] = None
            continue
        if len(text) > maximum:
            errors.append(FieldError(path, f"must be at most {maximum} characters"))
            continue
        if any(ord(ch) < 32 for ch in text):
            errors.append(FieldError(path, "must not contain control characters"))
            continue
        address[key] = text
    country = address.get("country_code")
    if country is not None:
        if country.upper() not in COUNTRIES:
            errors.append(FieldError((prefix, "countryCode"), "must be an ISO 3166-1 alpha-2 code such as DE or US"))
        else:
            address["country_code"] = country.upper()
    if address.get("province") is not None:
        address["province"] = address["province"].upper()
    if errors:
        raise Validation("the address is incomplete or invalid", errors=errors, reason="INVALID_ADDRESS")
    return address
