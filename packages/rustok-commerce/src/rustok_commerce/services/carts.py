"""Carts: lines with price snapshots, addresses, a shipping choice, and their totals.

One function prices a cart, :func:`price_cart`: the totals a shopper sees and the
totals checkout turns into an order come from the same code. Prices come from
:func:`services.pricing.resolve_prices` (tiers by line quantity), shipping from the
provider of the chosen option, tax from the tax provider in use. Prices are net:
``total = subtotal + shipping_total + tax_total - discount_total``; there is no
discount engine yet, so ``discount_total`` is always 0.

Access: a cart with a ``customer_id`` is visible and changeable only by that user
(anyone else gets ``NOT_FOUND``, so ids leak nothing); a guest cart is reachable by
whoever holds its id (an unguessable UUID, the shopper's secret); staff holding
``commerce_carts:read`` may read any cart but change none. A completed cart refuses
every change (``CONFLICT``, ``CART_COMPLETED``). Writes lock the cart row; a client
that sends the ``version`` it read gets optimistic concurrency on top.

Carts publish no domain events: nothing outside the shopper's session depends on a
cart until it becomes an order (``commerce.order.placed``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.models import Cart, CartLine, InventoryItem, ShippingOption, VariantInventoryItem
from rustok_commerce.services.addresses import check_address
from rustok_commerce.services.catalog import VariantSnapshot, variant_snapshots
from rustok_commerce.services.money import check_currency
from rustok_commerce.services.pricing import resolve_prices
from rustok_commerce.services.providers import (
    CommerceProviders,
    ShippingOptionSnapshot,
    ShippingRequest,
    TaxLine,
    TaxRequest,
)
from rustok_commerce.services.store import store_config
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict, NotFound, Validation

MAX_LINES = 100
"""Distinct variants one cart may hold."""
MAX_EMAIL = 320
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
ADDRESS_KINDS = ("shipping", "billing")


@dataclass(frozen=True)
class Viewer:
    """Who is asking for a cart: the signed-in user (if any) and whether they may read every cart."""

    user_id: uuid.UUID | None = None
    staff: bool = False


@dataclass
class PricedLine:
    line: CartLine
    product_id: uuid.UUID
    title: str
    sku: str | None
    quantity: int
    unit_price: int
    subtotal: int
    tax_total: int
    total: int
    requires_shipping: bool


@dataclass
class PricedCart:
    cart: Cart
    lines: list[PricedLine]
    subtotal: int
    shipping_total: int
    tax_total: int
    discount_total: int
    total: int
    shipping_method: dict[str, Any] | None
    """Snapshot of the shipping option priced: ``id``, ``code``, ``name``, ``provider``, ``amount``."""
    unavailable: list[CartLine] = field(default_factory=list)
    """Lines that cannot be bought now (product not active, no price in the currency): not in the totals."""

    @property
    def requires_shipping(self) -> bool:
        return any(line.requires_shipping for line in self.lines)


# -- pricing (shared by the shopper's totals and checkout) --------------------------------------


def option_snapshot(option: ShippingOption) -> ShippingOptionSnapshot:
    return ShippingOptionSnapshot(
        id=option.id,
        code=option.code,
        name=option.name,
        provider=option.provider,
        currency_code=option.currency_code,
        amount=option.amount,
        free_above=option.free_above,
        countries=tuple(option.countries) if option.countries is not None else None,
        metadata=dict(option.option_metadata),
    )


def option_serves(option: ShippingOption, cart: Cart) -> bool:
    """Whether ``option`` may ship ``cart``: active, same currency, the address's country served."""
    if not option.is_active or option.currency_code != cart.currency_code:
        return False
    if option.countries is None:
        return True
    country = (cart.shipping_address or {}).get("country_code")
    return country is not None and country in option.countries


async def cart_lines(session: AsyncSession, cart_id: uuid.UUID) -> list[CartLine]:
    return list(
        (await session.scalars(select(CartLine).where(CartLine.cart_id == cart_id).order_by(CartLine.id))).all()
    )


async def _shipping_free_variants(session: AsyncSession, variant_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Variants that need no shipping: every item they link says ``requires_shipping = false``."""
    if not variant_ids:
        return set()
    rows = (
        await session.execute(
            select(VariantInventoryItem.variant_id, func.bool_or(InventoryItem.requires_shipping))
            .join(InventoryItem, InventoryItem.id == VariantInventoryItem.inventory_item_id)
            .where(VariantInventoryItem.variant_id.in_(variant_ids))
            .group_by(VariantInventoryItem.variant_id)
        )
    ).all()
    return {variant_id for variant_id, ships in rows if not ships}


def _unavailable(snapshot: VariantSnapshot | None, has_price: bool) -> bool:
    return snapshot is None or snapshot.product_status != "active" or not has_price


async def price_cart(
    ctx: AppContext,
    session: AsyncSession,
    cart: Cart,
    *,
    checkout: bool = False,
    persist: bool = False,
    lines: Sequence[CartLine] | None = None,
) -> PricedCart:
    """The cart's lines and totals, priced now.

    ``persist`` writes each line's new price, title and SKU snapshot (in a writing
    transaction). ``checkout`` is strict: an empty cart, a missing email, an
    unavailable line, a missing address or shipping choice is an error instead of
    something the totals leave out. Queries: lines, snapshots (2), prices, shipping
    needs, the option, tax rates — a constant number for any cart size.
    """
    rows = list(lines) if lines is not None else await cart_lines(session, cart.id)
    if checkout:
        if not rows:
            raise Validation("the cart is empty", field="cartId", reason="EMPTY_CART")
        if not cart.email and cart.customer_id is None:
            raise Validation("give an email address before checking out", field="email", reason="MISSING_EMAIL")
    variant_ids = [line.variant_id for line in rows]
    snapshots = await variant_snapshots(session, variant_ids, cart.locale)
    prices = await resolve_prices(
        session, variant_ids, cart.currency_code, {line.variant_id: line.quantity for line in rows}
    )
    no_shipping = await _shipping_free_variants(session, variant_ids)
    priced: list[PricedLine] = []
    unavailable: list[CartLine] = []
    for line in rows:
        snapshot = snapshots.get(line.variant_id)
        price = prices.get(line.variant_id)
        if _unavailable(snapshot, price is not None):
            if checkout:
                raise Conflict(
                    "a product in the cart can no longer be bought; remove it first",
                    reason="UNAVAILABLE",
                    variantId=str(line.variant_id),
                    lineId=str(line.id),
                )
            unavailable.append(line)
            continue
        assert snapshot is not None
        assert price is not None
        if persist and (line.unit_price, line.title, line.sku) != (price.amount, snapshot.title, snapshot.sku):
            line.unit_price, line.title, line.sku = price.amount, snapshot.title, snapshot.sku
        subtotal = price.amount * line.quantity
        priced.append(
            PricedLine(
                line=line,
                product_id=snapshot.product_id,
                title=snapshot.title,
                sku=snapshot.sku,
                quantity=line.quantity,
                unit_price=price.amount,
                subtotal=subtotal,
                tax_total=0,
                total=subtotal,
                requires_shipping=line.variant_id not in no_shipping,
            )
        )
    subtotal = sum(p.subtotal for p in priced)
    shipping_total = 0
    method: dict[str, Any] | None = None
    providers = ctx.services.get(CommerceProviders)
    if any(p.requires_shipping for p in priced):
        option = (
            await session.scalar(select(ShippingOption).where(ShippingOption.id == cart.shipping_option_id))
            if cart.shipping_option_id is not None
            else None
        )
        if checkout:
            if not cart.shipping_address:
                raise Validation(
                    "give a shipping address before checking out", field="shippingAddress", reason="MISSING_ADDRESS"
                )
            if option is None or not option_serves(option, cart):
                raise Validation(
                    "choose a shipping option that serves the address before checking out",
                    field="shippingOptionId",
                    reason="MISSING_SHIPPING_OPTION",
                )
        if option is not None and option_serves(option, cart):
            request = ShippingRequest(
                tenant_id=cart.tenant_id,
                currency_code=cart.currency_code,
                subtotal=subtotal,
                item_count=sum(p.quantity for p in priced if p.requires_shipping),
                weight=sum(
                    (snapshots[p.line.variant_id].weight or 0) * p.quantity for p in priced if p.requires_shipping
                ),
                address=cart.shipping_address,
            )
            shipping_total = await providers.shipping(option.provider).quote(option_snapshot(option), request)
            method = {
                "id": str(option.id),
                "code": option.code,
                "name": option.name,
                "provider": option.provider,
                "amount": shipping_total,
            }
    tax = await providers.tax().compute(
        session,
        TaxRequest(
            tenant_id=cart.tenant_id,
            currency_code=cart.currency_code,
            address=cart.shipping_address or cart.billing_address,
            lines=[TaxLine(str(p.line.id), p.subtotal) for p in priced],
            shipping_amount=shipping_total,
        ),
    )
    for p in priced:
        p.tax_total = tax.line_taxes.get(str(p.line.id), 0)
        p.total = p.subtotal + p.tax_total
    tax_total = sum(p.tax_total for p in priced) + tax.shipping_tax
    discount_total = 0
    return PricedCart(
        cart=cart,
        lines=priced,
        subtotal=subtotal,
        shipping_total=shipping_total,
        tax_total=tax_total,
        discount_total=discount_total,
        total=subtotal + shipping_total + tax_total - discount_total,
        shipping_method=method,
        unavailable=unavailable,
    )


# -- the checkout interface ---------------------------------------------------------------------


def check_access(cart: Cart | None, viewer: Viewer, *, write: bool) -> Cart:
    """``cart`` if ``viewer`` may see it (``write``: change it), else ``NOT_FOUND``."""
    if cart is None:
        raise NotFound("no such cart", resource="cart")
    if cart.customer_id is not None and cart.customer_id != viewer.user_id and (write or not viewer.staff):
        raise NotFound("no such cart", resource="cart")
    return cart


async def prepare_checkout(
    ctx: AppContext,
    session: AsyncSession,
    tenant_id: uuid.UUID,
    cart_id: uuid.UUID,
    *,
    viewer: Viewer | None = None,
) -> PricedCart:
    """Lock the cart and price it strictly for checkout (in the caller's transaction).

    Refuses a completed cart (``CONFLICT``, ``CART_COMPLETED``), an empty one
    (``EMPTY_CART``), one without email or customer (``MISSING_EMAIL``), without a
    shipping address or a valid shipping choice when a line ships
    (``MISSING_ADDRESS``, ``MISSING_SHIPPING_OPTION``) and lines that cannot be
    bought (``CONFLICT``, ``UNAVAILABLE``). Every line's price snapshot is
    refreshed. With ``viewer``, the ownership rules apply (``NOT_FOUND``).
    """
    cart = await session.scalar(
        select(Cart).where(Cart.id == cart_id).with_for_update().execution_options(populate_existing=True)
    )
    if viewer is not None:
        check_access(cart, viewer, write=True)
    if cart is None:
        raise NotFound("no such cart", resource="cart")
    if cart.status == "completed":
        raise Conflict("the cart has already been checked out", reason="CART_COMPLETED")
    return await price_cart(ctx, session, cart, checkout=True, persist=True)


async def complete(session: AsyncSession, cart: Cart) -> None:
    """Mark ``cart`` checked out: it refuses every later change."""
    cart.status = "completed"
    cart.completed_at = datetime.now(UTC)
    await session.flush()


# -- the shopper's operations -------------------------------------------------------------------


def _check_quantity(quantity: Any, maximum: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= maximum:
        raise Validation(
            f"the quantity must be a whole number from 1 to {maximum}",
            field="quantity",
            reason="INVALID_QUANTITY",
            maximum=maximum,
        )
    return quantity


def _check_email(email: Any) -> str:
    if not isinstance(email, str) or len(email.strip()) > MAX_EMAIL or not EMAIL_RE.match(email.strip()):
        raise Validation("give a valid email address", field="email", reason="INVALID_EMAIL")
    return email.strip()


class CartService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def create(
        self,
        tenant: TenantContext,
        viewer: Viewer,
        *,
        currency_code: str | None = None,
        locale: str | None = None,
        email: str | None = None,
    ) -> PricedCart:
        """A new empty cart: the signed-in user's, or a guest cart when nobody is signed in."""
        chosen_locale = locale or tenant.default_locale
        if chosen_locale not in tenant.locales:
            raise Validation("the shop does not offer that locale", field="locale", reason="UNKNOWN_LOCALE")
        checked_email = _check_email(email) if email is not None else None
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            if currency_code is None:
                default = (await store_config(session)).default_currency
                if default is None:
                    raise Validation(
                        "give a currency: the store has no default currency",
                        field="currencyCode",
                        reason="MISSING_CURRENCY",
                    )
                currency = default
            else:
                currency = check_currency(currency_code)
            cart = Cart(
                customer_id=viewer.user_id,
                email=checked_email,
                currency_code=currency,
                locale=chosen_locale,
                status="active",
            )
            session.add(cart)
            await session.flush()
            return await price_cart(self.ctx, session, cart, lines=[])

    async def get(self, tenant_id: uuid.UUID, cart_id: uuid.UUID, viewer: Viewer) -> PricedCart:
        """The cart with its totals priced now (nothing written)."""
        async with self.ctx.db.session(tenant_id) as session:
            cart = check_access(await session.scalar(select(Cart).where(Cart.id == cart_id)), viewer, write=False)
            return await price_cart(self.ctx, session, cart)

    async def add_line(
        self,
        tenant_id: uuid.UUID,
        cart_id: uuid.UUID,
        viewer: Viewer,
        *,
        variant_id: uuid.UUID,
        quantity: int,
        expected_version: int | None = None,
    ) -> PricedCart:
        """Add ``quantity`` of a variant (to the line it already has, if any)."""
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            cart = await self._for_write(session, cart_id, viewer, expected_version)
            maximum = (await store_config(session)).max_line_quantity
            _check_quantity(quantity, maximum)
            lines = await cart_lines(session, cart.id)
            snapshot = (await variant_snapshots(session, [variant_id], cart.locale)).get(variant_id)
            if snapshot is None or snapshot.product_status != "active":
                raise NotFound("no such variant", resource="variant")
            existing = next((line for line in lines if line.variant_id == variant_id), None)
            total = quantity + (existing.quantity if existing is not None else 0)
            _check_quantity(total, maximum)
            if existing is None and len(lines) >= MAX_LINES:
                raise Validation(
                    f"a cart holds at most {MAX_LINES} different items", field="variantId", reason="TOO_MANY_LINES"
                )
            price = (await resolve_prices(session, [variant_id], cart.currency_code, {variant_id: total})).get(
                variant_id
            )
            if price is None:
                raise Conflict(
                    "the variant cannot be bought in the cart's currency",
                    reason="UNAVAILABLE",
                    variantId=str(variant_id),
                )
            if existing is None:
                existing = CartLine(
                    cart_id=cart.id,
                    variant_id=variant_id,
                    quantity=total,
                    unit_price=price.amount,
                    title=snapshot.title,
                    sku=snapshot.sku,
                )
                session.add(existing)
                lines.append(existing)
            else:
                existing.quantity = total
            return await self._changed(session, cart, lines)

    async def update_line(
        self,
        tenant_id: uuid.UUID,
        cart_id: uuid.UUID,
        viewer: Viewer,
        *,
        line_id: uuid.UUID,
        quantity: int,
        expected_version: int | None = None,
    ) -> PricedCart:
        """Set a line's quantity (1 to the store's ``max_line_quantity``; remove a line with :meth:`remove_line`)."""
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            cart = await self._for_write(session, cart_id, viewer, expected_version)
            _check_quantity(quantity, (await store_config(session)).max_line_quantity)
            lines = await cart_lines(session, cart.id)
            line = self._line(lines, line_id)
            line.quantity = quantity
            return await self._changed(session, cart, lines)

    async def remove_line(
        self,
        tenant_id: uuid.UUID,
        cart_id: uuid.UUID,
        viewer: Viewer,
        *,
        line_id: uuid.UUID,
        expected_version: int | None = None,
    ) -> PricedCart:
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            cart = await self._for_write(session, cart_id, viewer, expected_version)
            lines = await cart_lines(session, cart.id)
            line = self._line(lines, line_id)
            await session.delete(line)
            lines.remove(line)
            return await self._changed(session, cart, lines)

    async def set_email(
        self,
        tenant_id: uuid.UUID,
        cart_id: uuid.UUID,
        viewer: Viewer,
        *,
        email: str,
        expected_version: int | None = None,
    ) -> PricedCart:
        checked = _check_email(email)
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            cart = await self._for_write(session, cart_id, viewer, expected_version)
            cart.email = checked
            return await self._changed(session, cart)

    async def set_address(
        self,
        tenant_id: uuid.UUID,
        cart_id: uuid.UUID,
        viewer: Viewer,
        *,
        kind: str,
        address: dict[str, Any] | None,
        expected_version: int | None = None,
    ) -> PricedCart:
        """Set (or clear, with ``None``) the shipping or billing address.

        A new shipping address that the chosen shipping option does not serve drops
        that choice (the shopper picks again from ``availableShippingOptions``).
        """
        if kind not in ADDRESS_KINDS:
            raise Validation("the address kind is shipping or billing", field="kind")
        checked = check_address(address, "address") if address is not None else None
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            cart = await self._for_write(session, cart_id, viewer, expected_version)
            if kind == "shipping":
                cart.shipping_address = checked
                if cart.shipping_option_id is not None:
                    option = await session.scalar(
                        select(ShippingOption).where(ShippingOption.id == cart.shipping_option_id)
                    )
                    if option is None or not option_serves(option, cart):
                        cart.shipping_option_id = None
            else:
                cart.billing_address = checked
            return await self._changed(session, cart)

    async def set_shipping_option(
        self,
        tenant_id: uuid.UUID,
        cart_id: uuid.UUID,
        viewer: Viewer,
        *,
        option_id: uuid.UUID | None,
        expected_version: int | None = None,
    ) -> PricedCart:
        """Choose how the cart ships (``None`` clears the choice)."""
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            cart = await self._for_write(session, cart_id, viewer, expected_version)
            if option_id is not None:
                option = await session.scalar(select(ShippingOption).where(ShippingOption.id == option_id))
                if option is None or not option.is_active:
                    raise NotFound("no such shipping option", resource="shippingOption")
                if option.currency_code != cart.currency_code:
                    raise Validation(
                        "the shipping option is priced in another currency than the cart",
                        field="shippingOptionId",
                        reason="CURRENCY_MISMATCH",
                    )
                if option.countries is not None:
                    country = (cart.shipping_address or {}).get("country_code")
                    if country is None:
                        raise Validation(
                            "set a shipping address before choosing shipping",
                            field="shippingAddress",
                            reason="MISSING_ADDRESS",
                        )
                    if country not in option.countries:
                        raise Validation(
                            "the shipping option does not ship to the address's country",
                            field="shippingOptionId",
                            reason="COUNTRY_NOT_SERVED",
                        )
            cart.shipping_option_id = option_id
            return await self._changed(session, cart)

    async def shipping_options_for(self, tenant_id: uuid.UUID, cart: Cart) -> list[ShippingOption]:
        """The options the cart may choose now (active, its currency, serving its address)."""
        async with self.ctx.db.session(tenant_id) as session:
            options = (
                await session.scalars(
                    select(ShippingOption)
                    .where(ShippingOption.is_active.is_(True), ShippingOption.currency_code == cart.currency_code)
                    .order_by(ShippingOption.amount, ShippingOption.code)
                )
            ).all()
        country = (cart.shipping_address or {}).get("country_code")
        return [o for o in options if o.countries is None or (country is not None and country in o.countries)]

    # -- helpers --------------------------------------------------------------------------

    async def _for_write(
        self, session: AsyncSession, cart_id: uuid.UUID, viewer: Viewer, expected_version: int | None
    ) -> Cart:
        cart = check_access(
            await session.scalar(
                select(Cart).where(Cart.id == cart_id).with_for_update().execution_options(populate_existing=True)
            ),
            viewer,
            write=True,
        )
        if cart.status == "completed":
            raise Conflict("the cart has been checked out and can no longer change", reason="CART_COMPLETED")
        expect_version(cart, expected_version)
        return cart

    @staticmethod
    def _line(lines: Sequence[CartLine], line_id: uuid.UUID) -> CartLine:
        line = next((line for line in lines if line.id == line_id), None)
        if line is None:
            raise NotFound("no such cart line", resource="cartLine")
        return line

    async def _changed(self, session: AsyncSession, cart: Cart, lines: Sequence[CartLine] | None = None) -> PricedCart:
        """Reprice the cart (refreshing line snapshots) and bump its version."""
        cart.updated_at = datetime.now(UTC)
        await session.flush()
        return await price_cart(self.ctx, session, cart, persist=True, lines=lines)
