"""What callers hand to the catalog services, and the rules every piece of text follows.

Plain data built by the API layers (GraphQL, REST) or by other code. Each rule raises
``VALIDATION`` with the path of the offending field (``("translations", 1, "handle")``)
and never repeats the caller's raw input in its message.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from slugify import slugify

from rustok_core.context import TenantContext
from rustok_core.errors import FieldError, Validation

Path = tuple[str | int, ...]

HANDLE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
SKU_RE = re.compile(r"^[^\s\x00-\x1f\x7f]+\Z")
MAX_HANDLE = 200
MAX_TITLE = 255
MAX_SUBTITLE = 255
MAX_DESCRIPTION = 20_000
MAX_SEO_TITLE = 255
MAX_SEO_DESCRIPTION = 500
MAX_SKU = 64
MAX_OPTION_TITLE = 255
MAX_OPTION_VALUE = 255
MAX_OPTIONS = 10
MAX_VALUES_PER_OPTION = 100
MAX_VARIANTS = 500
MAX_METADATA_BYTES = 16_384
MAX_DIMENSION = 10_000_000
"""The largest weight (grams) or length (millimetres) accepted: ten tonnes, ten kilometres."""


class Keep:
    """Marker for "leave this field as it is" where ``None`` is a real value."""

    _instance: Keep | None = None

    def __new__(cls) -> Keep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()


# -- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductText:
    """A product's text in one locale. On update ``None`` keeps a field and ``""`` clears it."""

    locale: str
    title: str | None = None
    subtitle: str | None = None
    handle: str | None = None
    """Made from the title when omitted on creation."""
    description: str | None = None
    seo_title: str | None = None
    seo_description: str | None = None


@dataclass(frozen=True)
class OptionInput:
    title: str
    values: Sequence[str]


@dataclass(frozen=True)
class PriceInput:
    """A base price of a variant: ``amount`` minor units of ``currency_code`` from ``min_quantity`` units on."""

    currency_code: Any
    amount: Any
    min_quantity: Any = 1


@dataclass(frozen=True)
class VariantInput:
    """A new variant. ``options`` maps each product option's title to the value picked."""

    options: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None
    """Made from the picked values (``"S / red"``), or ``Default`` without options."""
    sku: str | None = None
    barcode: str | None = None
    manage_inventory: bool = True
    allow_backorder: bool = False
    weight: int | None = None
    length: int | None = None
    height: int | None = None
    width: int | None = None
    position: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    prices: Sequence[PriceInput] = ()


@dataclass(frozen=True)
class VariantChanges:
    """Only what is given changes; ``KEEP`` leaves a nullable field alone, ``None`` clears it."""

    options: Mapping[str, str] | None = None
    """The complete new pick: one value for every option of the product."""
    title: str | None = None
    sku: str | Keep | None = KEEP
    barcode: str | Keep | None = KEEP
    manage_inventory: bool | None = None
    allow_backorder: bool | None = None
    weight: int | Keep | None = KEEP
    length: int | Keep | None = KEEP
    height: int | Keep | None = KEEP
    width: int | Keep | None = KEEP
    position: int | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class NewProduct:
    translations: Sequence[ProductText]
    status: str = "draft"
    discountable: bool = True
    metadata: Mapping[str, Any] = field(default_factory=dict)
    options: Sequence[OptionInput] = ()
    variants: Sequence[VariantInput] = ()
    category_ids: Sequence[uuid.UUID] = ()


@dataclass(frozen=True)
class ProductChanges:
    """An update: only what is given changes."""

    translations: Sequence[ProductText] = ()
    remove_locales: Sequence[str] = ()
    discountable: bool | None = None
    metadata: Mapping[str, Any] | None = None
    """Replaces the metadata object."""
    category_ids: Sequence[uuid.UUID] | None = None
    """The complete new set of categories, in order; ``None`` keeps them."""


@dataclass(frozen=True)
class ProductQuery:
    """A filtered slice of products, newest first.

    ``statuses`` ``None``: any status. ``search`` matches titles in any locale.
    """

    statuses: Sequence[str] | None = None
    category_id: uuid.UUID | None = None
    category_handle: str | None = None
    search: str | None = None
    first: int | None = 20
    after: str | None = None


# -- rules -----------------------------------------------------------------------------------


def invalid(path: Path, message: str, **details: Any) -> Validation:
    return Validation(message, errors=[FieldError(path, message)], **details)


def make_handle(text: str) -> str:
    """A URL handle from any text (transliterated to ASCII, lowercase, dashes)."""
    return str(slugify(text, max_length=MAX_HANDLE, word_boundary=True, save_order=True))


def check_handle(handle: str, path: Path) -> str:
    cleaned = handle.strip()
    if not cleaned or len(cleaned) > MAX_HANDLE or not HANDLE_RE.match(cleaned):
        raise invalid(
            path,
            "invalid handle: use lowercase words of letters and digits joined by '-' "
            f"(at most {MAX_HANDLE} characters)",
        )
    return cleaned


def check_text(value: Any, path: Path, *, max_length: int) -> str:
    """Required one-line text: whitespace collapsed, not empty, not too long."""
    if not isinstance(value, str):
        raise invalid(path, "must be text")
    cleaned = " ".join(value.split())
    if not cleaned:
        raise invalid(path, "must not be empty")
    if len(cleaned) > max_length:
        raise invalid(path, f"must be at most {max_length} characters")
    return cleaned


def check_optional_text(value: str | None, path: Path, *, max_length: int) -> str | None:
    """Optional text, stripped; ``""`` stays ``""`` (it clears a field on update)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(path, "must be text")
    stripped = value.strip()
    if len(stripped) > max_length:
        raise invalid(path, f"must be at most {max_length} characters")
    return stripped


def check_locale(tenant: TenantContext, locale: Any, path: Path) -> str:
    """``locale`` if the tenant serves it."""
    if not isinstance(locale, str) or locale not in tenant.locales:
        raise invalid(path, f"not one of this tenant's locales ({', '.join(tenant.locales)})")
    return locale


def check_unique_locales(locales: Sequence[str], path: Path) -> None:
    seen: set[str] = set()
    for index, locale in enumerate(locales):
        if locale in seen:
            raise invalid((*path, index, "locale"), "this locale is given twice")
        seen.add(locale)


def check_sku(value: str | None, path: Path) -> str | None:
    """A SKU (1-64 characters, no whitespace), or ``None`` for an empty one."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(path, "must be text")
    cleaned = value.strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_SKU or not SKU_RE.match(cleaned):
        raise invalid(path, f"a SKU is 1-{MAX_SKU} characters without spaces or control characters")
    return cleaned


def check_measure(value: Any, path: Path) -> int | None:
    """A weight or a length: a whole, non-negative number (grams, millimetres)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DIMENSION:
        raise invalid(path, f"must be a whole number from 0 to {MAX_DIMENSION}")
    return value


def check_position(value: Any, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise invalid(path, "must be a whole number from 0 to 1000000")
    return value


def check_metadata(metadata: Any, path: Path = ("metadata",)) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        raise invalid(path, "metadata must be a JSON object")
    try:
        encoded = orjson.dumps(dict(metadata))
    except TypeError:
        raise invalid(path, "metadata must be JSON") from None
    if len(encoded) > MAX_METADATA_BYTES:
        raise invalid(path, f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
    result: dict[str, Any] = orjson.loads(encoded)
    return result


def pick_locale(available: Sequence[str], wanted: str | None, default: str) -> str | None:
    """The locale to serve: the wanted one, else the tenant's default, else the first there is."""
    if wanted is not None and wanted in available:
        return wanted
    if default in available:
        return default
    return sorted(available)[0] if available else None
