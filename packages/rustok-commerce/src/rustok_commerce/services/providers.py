"""Provider hooks: how shipping is priced, tax computed and payments taken.

Each kind of provider is a protocol; a :class:`CommerceProviders` registry on the
app's service container (``ctx.services.get(CommerceProviders)``) holds them by name.
The commerce module registers its built-ins (``flat_rate`` shipping, the ``tax_table``
tax provider, the ``manual`` payment provider) when the platform boots; another module
adds its own from its ``rustok_startup`` hook::

    @hookimpl
    async def rustok_startup(self, ctx):
        ctx.services.get(CommerceProviders).add_payment(StripeProvider(...))

Providers receive plain snapshots (no ORM objects) and return amounts in minor
units. Calls happen inside the writing transaction (checkout, capture, refund): a
provider that talks to a remote service must be quick and idempotent by reference.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.errors import Validation

T = TypeVar("T")

# -- shipping ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippingOptionSnapshot:
    id: uuid.UUID
    code: str
    name: str
    provider: str
    currency_code: str
    amount: int
    free_above: int | None
    countries: Sequence[str] | None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ShippingRequest:
    """What a shipping provider may price on."""

    tenant_id: uuid.UUID
    currency_code: str
    subtotal: int
    item_count: int
    weight: int
    """Grams, summed over lines whose variants state a weight."""
    address: Mapping[str, Any] | None


class ShippingProvider(Protocol):
    name: str

    async def quote(self, option: ShippingOptionSnapshot, request: ShippingRequest) -> int:
        """The shipping amount (minor units); raise ``Validation`` when the option cannot serve."""
        ...


# -- tax ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxLine:
    key: str
    """The caller's key for the line (a cart line id, ``"shipping"``)."""
    amount: int


@dataclass(frozen=True)
class TaxRequest:
    tenant_id: uuid.UUID
    currency_code: str
    address: Mapping[str, Any] | None
    lines: Sequence[TaxLine]
    shipping_amount: int


@dataclass(frozen=True)
class TaxResult:
    line_taxes: Mapping[str, int]
    """Tax per line key (minor units); a missing key is no tax."""
    shipping_tax: int = 0


class TaxProvider(Protocol):
    name: str

    async def compute(self, session: AsyncSession, request: TaxRequest) -> TaxResult:
        """Tax for the lines and shipping; ``session`` is scoped to the tenant."""
        ...


# -- payment -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    tenant_id: uuid.UUID
    order_id: uuid.UUID
    display_id: int
    currency_code: str
    amount: int
    email: str | None
    data: Mapping[str, Any] = field(default_factory=dict)
    """What the shopper's client sent for this provider (a token, a method id)."""


@dataclass(frozen=True)
class PaymentSnapshot:
    id: uuid.UUID
    provider: str
    currency_code: str
    amount: int
    captured_amount: int
    refunded_amount: int
    provider_reference: str | None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentResult:
    reference: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str

    async def authorize(self, request: PaymentRequest) -> PaymentResult: ...

    async def capture(self, payment: PaymentSnapshot, amount: int) -> PaymentResult: ...

    async def refund(self, payment: PaymentSnapshot, amount: int) -> PaymentResult: ...

    async def cancel(self, payment: PaymentSnapshot) -> PaymentResult: ...


# -- the registry ------------------------------------------------------------------------------


class CommerceProviders:
    """The providers of one running platform, by name."""

    def __init__(self) -> None:
        self._shipping: dict[str, ShippingProvider] = {}
        self._tax: dict[str, TaxProvider] = {}
        self._payment: dict[str, PaymentProvider] = {}
        self.tax_provider = "tax_table"
        """The tax provider in use."""

    def add_shipping(self, provider: ShippingProvider) -> None:
        self._shipping[provider.name] = provider

    def add_tax(self, provider: TaxProvider, *, use: bool = False) -> None:
        self._tax[provider.name] = provider
        if use:
            self.tax_provider = provider.name

    def add_payment(self, provider: PaymentProvider) -> None:
        self._payment[provider.name] = provider

    def shipping(self, name: str) -> ShippingProvider:
        return _named(self._shipping, name, "shipping")

    def tax(self) -> TaxProvider:
        return _named(self._tax, self.tax_provider, "tax")

    def payment(self, name: str) -> PaymentProvider:
        return _named(self._payment, name, "payment")

    def names(self) -> dict[str, list[str]]:
        return {"shipping": sorted(self._shipping), "tax": sorted(self._tax), "payment": sorted(self._payment)}


def _named(providers: Mapping[str, T], name: str, kind: str) -> T:
    try:
        return providers[name]
    except KeyError:
        raise Validation(
            f"no {kind} provider of that name is installed (installed: {', '.join(sorted(providers)) or 'none'})",
            field="provider",
            reason="UNKNOWN_PROVIDER",
        ) from None
