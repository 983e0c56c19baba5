"""Cart totals: tier prices by quantity, flat-rate shipping with free_above, tax by country and province.

The service layer is driven directly here (checkout's interface included); the
GraphQL surface is covered in ``test_commerce_carts_api.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from rustok_commerce.models import (
    Cart,
    CartLine,
    InventoryItem,
    Price,
    Product,
    ProductTranslation,
    Variant,
    VariantInventoryItem,
)
from rustok_commerce.services.carts import CartService, PricedCart, Viewer, complete, prepare_checkout
from rustok_commerce.services.store import StoreService
from rustok_core.errors import Conflict, NotFound, Validation
from rustok_server.boot import Platform

GUEST = Viewer()
ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "12345",
    "country_code": "us",
    "province": "ca",
}


@dataclass
class Store:
    platform: Platform
    tenant: Any

    @property
    def carts(self) -> CartService:
        return CartService(self.platform.ctx)

    @property
    def settings(self) -> StoreService:
        return StoreService(self.platform.ctx)

    async def product(
        self,
        title: str,
        prices: dict[str, list[tuple[int, int]]],
        *,
        status: str = "active",
        ships: bool = True,
        weight: int | None = None,
    ) -> uuid.UUID:
        """A product with one variant priced ``{currency: [(min_quantity, amount), ...]}``; the variant id."""
        async with self.platform.ctx.db.session(self.tenant.id) as s, s.begin():
            product = Product(status=status)
            s.add(product)
            await s.flush()
            s.add(ProductTranslation(product_id=product.id, locale="en", title=title, handle=f"p-{uuid.uuid4().hex}"))
            variant = Variant(product_id=product.id, title="Default", sku=f"S-{uuid.uuid4().hex[:12]}", weight=weight)
            s.add(variant)
            await s.flush()
            for currency, tiers in prices.items():
                for min_quantity, amount in tiers:
                    s.add(
                        Price(variant_id=variant.id, currency_code=currency, amount=amount, min_quantity=min_quantity)
                    )
            if not ships:
                item = InventoryItem(sku=variant.sku, requires_shipping=False)
                s.add(item)
                await s.flush()
                s.add(VariantInventoryItem(variant_id=variant.id, inventory_item_id=item.id))
            return variant.id

    async def cart(self, viewer: Viewer = GUEST, currency: str = "EUR", **kwargs: Any) -> PricedCart:
        return await self.carts.create(self.tenant, viewer, currency_code=currency, **kwargs)

    async def checkout_totals(self, cart_id: uuid.UUID) -> PricedCart:
        async with self.platform.ctx.db.session(self.tenant.id) as s, s.begin():
            return await prepare_checkout(self.platform.ctx, s, self.tenant.id, cart_id)


@pytest.fixture
async def store(rustok_platform: Platform, make_tenant: Any) -> Store:
    return Store(rustok_platform, await make_tenant(modules=["commerce"], locales=["en", "de"]))


async def test_a_tier_price_kicks_in_at_its_quantity_and_snapshots_follow(store: Store) -> None:
    variant = await store.product("Mug", {"EUR": [(1, 1000), (5, 800)]})
    cart = await store.cart()
    priced = await store.carts.add_line(store.tenant.id, cart.cart.id, GUEST, variant_id=variant, quantity=4)
    assert (priced.lines[0].unit_price, priced.subtotal) == (1000, 4000)
    line = priced.lines[0].line
    priced = await store.carts.update_line(store.tenant.id, cart.cart.id, GUEST, line_id=line.id, quantity=5)
    assert (priced.lines[0].unit_price, priced.subtotal, priced.total) == (800, 4000, 4000)
    assert priced.lines[0].title == "Mug"
    async with store.platform.ctx.db.session(store.tenant.id) as s:
        stored = await s.scalar(select(CartLine).where(CartLine.id == line.id))
        assert stored is not None and (stored.unit_price, stored.quantity) == (800, 5)
    # Adding to an existing line adds quantities (4 + 1 = 5 → the tier still applies).
    again = await store.carts.add_line(store.tenant.id, cart.cart.id, GUEST, variant_id=variant, quantity=1)
    assert (again.lines[0].quantity, again.lines[0].unit_price) == (6, 800)


async def test_flat_rate_shipping_is_free_from_free_above_and_tax_follows_country_and_province(store: Store) -> None:
    variant = await store.product("Lamp", {"USD": [(1, 2500)]})
    standard = await store.settings.create_shipping_option(
        store.tenant.id,
        code="standard",
        name="Standard",
        currency_code="USD",
        amount=500,
        free_above=10000,
        countries=["US", "CA"],
    )
    await store.settings.upsert_tax_rate(store.tenant.id, country_code="US", province=None, name="US", rate_bp=500)
    await store.settings.upsert_tax_rate(
        store.tenant.id, country_code="US", province="CA", name="California", rate_bp=725, applies_to_shipping=False
    )
    cart = (await store.cart(currency="USD")).cart
    t = store.tenant.id
    await store.carts.add_line(t, cart.id, GUEST, variant_id=variant, quantity=2)
    await store.carts.set_email(t, cart.id, GUEST, email="ada@example.com")
    await store.carts.set_address(t, cart.id, GUEST, kind="shipping", address=ADDRESS)
    priced = await store.carts.set_shipping_option(t, cart.id, GUEST, option_id=standard.id)
    # 2 x 25.00 = 50.00; shipping 5.00; California 7.25% on the goods only = 3.625 → 3.63 (half up).
    assert (priced.subtotal, priced.shipping_total, priced.tax_total, priced.total) == (5000, 500, 363, 5863)
    assert priced.shipping_method == {
        "id": str(standard.id),
        "code": "standard",
        "name": "Standard",
        "provider": "flat_rate",
        "amount": 500,
    }
    # Another state: the country-wide 5% applies, to shipping too.
    other = {**ADDRESS, "province": "NY"}
    priced = await store.carts.set_address(t, cart.id, GUEST, kind="shipping", address=other)
    assert (priced.subtotal, priced.shipping_total, priced.tax_total, priced.total) == (5000, 500, 275, 5775)
    # From 100.00 shipping is free.
    priced = await store.carts.update_line(t, cart.id, GUEST, line_id=priced.lines[0].line.id, quantity=4)
    assert (priced.subtotal, priced.shipping_total, priced.tax_total, priced.total) == (10000, 0, 500, 10500)
    # Checkout sees the very same totals.
    checkout = await store.checkout_totals(cart.id)
    assert (checkout.subtotal, checkout.shipping_total, checkout.tax_total, checkout.total) == (10000, 0, 500, 10500)
    assert [line.tax_total for line in checkout.lines] == [500]
    # A country without a rate: no tax; a country the option does not serve: the choice is dropped.
    priced = await store.carts.set_address(
        t, cart.id, GUEST, kind="shipping", address={**ADDRESS, "country_code": "CA"}
    )
    assert (priced.tax_total, priced.shipping_method is not None) == (0, True)
    priced = await store.carts.set_address(
        t, cart.id, GUEST, kind="shipping", address={**ADDRESS, "country_code": "DE"}
    )
    assert priced.shipping_method is None and priced.cart.shipping_option_id is None
    with pytest.raises(Validation) as caught:
        await store.checkout_totals(cart.id)
    assert caught.value.details["reason"] == "MISSING_SHIPPING_OPTION"


async def test_lines_that_need_no_shipping_need_no_address(store: Store) -> None:
    ebook = await store.product("E-book", {"EUR": [(1, 999)]}, ships=False)
    cart = (await store.cart(email="reader@example.com")).cart
    await store.carts.add_line(store.tenant.id, cart.id, GUEST, variant_id=ebook, quantity=1)
    checkout = await store.checkout_totals(cart.id)
    assert (checkout.total, checkout.shipping_method, checkout.requires_shipping) == (999, None, False)


@pytest.mark.parametrize("quantity", [0, -1, 1001, 2.5, True])
async def test_quantities_outside_one_to_the_store_maximum_are_refused_and_change_nothing(
    store: Store, quantity: Any
) -> None:
    variant = await store.product("Pen", {"EUR": [(1, 100)]})
    cart = (await store.cart()).cart
    priced = await store.carts.add_line(store.tenant.id, cart.id, GUEST, variant_id=variant, quantity=3)
    for call in (
        store.carts.add_line(store.tenant.id, cart.id, GUEST, variant_id=variant, quantity=quantity),
        store.carts.update_line(store.tenant.id, cart.id, GUEST, line_id=priced.lines[0].line.id, quantity=quantity),
    ):
        with pytest.raises(Validation) as caught:
            await call
        assert caught.value.details["reason"] == "INVALID_QUANTITY"
    after = await store.carts.get(store.tenant.id, cart.id, GUEST)
    assert [(line.quantity, line.unit_price) for line in after.lines] == [(3, 100)]
    assert after.cart.version == priced.cart.version


async def test_the_store_maximum_counts_what_the_line_would_hold(store: Store) -> None:
    await store.settings.update_settings(store.tenant.id, max_line_quantity=5)
    variant = await store.product("Pen", {"EUR": [(1, 100)]})
    cart = (await store.cart()).cart
    await store.carts.add_line(store.tenant.id, cart.id, GUEST, variant_id=variant, quantity=4)
    with pytest.raises(Validation) as caught:
        await store.carts.add_line(store.tenant.id, cart.id, GUEST, variant_id=variant, quantity=2)
    assert caught.value.details == {"reason": "INVALID_QUANTITY", "maximum": 5}


async def test_a_completed_cart_refuses_changes_and_a_second_checkout(store: Store) -> None:
    variant = await store.product("Pen", {"EUR": [(1, 100)]})
    cart = (await store.cart(email="a@example.com")).cart
    t = store.tenant.id
    priced = await store.carts.add_line(t, cart.id, GUEST, variant_id=variant, quantity=1)
    await store.carts.set_address(t, cart.id, GUEST, kind="shipping", address=ADDRESS)
    option = await store.settings.create_shipping_option(t, code="any", name="Any", currency_code="EUR", amount=0)
    await store.carts.set_shipping_option(t, cart.id, GUEST, option_id=option.id)
    async with store.platform.ctx.db.session(t) as s, s.begin():
        ready = await prepare_checkout(store.platform.ctx, s, t, cart.id)
        await complete(s, ready.cart)
    with pytest.raises(Conflict) as caught:
        await store.checkout_totals(cart.id)
    assert caught.value.details["reason"] == "CART_COMPLETED"
    for call in (
        store.carts.add_line(t, cart.id, GUEST, variant_id=variant, quantity=1),
        store.carts.update_line(t, cart.id, GUEST, line_id=priced.lines[0].line.id, quantity=2),
        store.carts.remove_line(t, cart.id, GUEST, line_id=priced.lines[0].line.id),
        store.carts.set_email(t, cart.id, GUEST, email="b@example.com"),
        store.carts.set_shipping_option(t, cart.id, GUEST, option_id=None),
    ):
        with pytest.raises(Conflict) as caught:
            await call
        assert caught.value.details["reason"] == "CART_COMPLETED"
    async with store.platform.ctx.db.session(t) as s:
        stored = await s.scalar(select(Cart).where(Cart.id == cart.id))
        assert stored is not None and (stored.status, stored.email) == ("completed", "a@example.com")
        assert stored.completed_at is not None


async def test_checkout_refuses_empty_carts_missing_details_and_unavailable_lines(store: Store) -> None:
    t = store.tenant.id
    variant = await store.product("Pen", {"EUR": [(1, 100)]})
    dollars_only = await store.product("Hat", {"USD": [(1, 100)]})
    cart = (await store.cart()).cart
    reasons = []
    for step in range(4):
        with pytest.raises((Validation, Conflict)) as caught:
            await store.checkout_totals(cart.id)
        reasons.append(caught.value.details["reason"])
        if step == 0:
            await store.carts.add_line(t, cart.id, GUEST, variant_id=variant, quantity=1)
        elif step == 1:
            await store.carts.set_email(t, cart.id, GUEST, email="x@example.com")
        elif step == 2:
            await store.carts.set_address(t, cart.id, GUEST, kind="shipping", address=ADDRESS)
    assert reasons == ["EMPTY_CART", "MISSING_EMAIL", "MISSING_ADDRESS", "MISSING_SHIPPING_OPTION"]
    with pytest.raises(Conflict) as no_price:
        await store.carts.add_line(t, cart.id, GUEST, variant_id=dollars_only, quantity=1)
    assert no_price.value.details == {"reason": "UNAVAILABLE", "variantId": str(dollars_only)}
    option = await store.settings.create_shipping_option(t, code="std", name="Std", currency_code="EUR", amount=300)
    await store.carts.set_shipping_option(t, cart.id, GUEST, option_id=option.id)
    assert (await store.checkout_totals(cart.id)).total == 400
    # The product is archived after it went into the cart: the cart shows it apart, checkout refuses it.
    async with store.platform.ctx.db.session(t) as s, s.begin():
        product = await s.scalar(
            select(Product).join(Variant, Variant.product_id == Product.id).where(Variant.id == variant)
        )
        assert product is not None
        product.status = "archived"
    shown = await store.carts.get(t, cart.id, GUEST)
    assert (shown.lines, [line.variant_id for line in shown.unavailable], shown.subtotal) == ([], [variant], 0)
    with pytest.raises(Conflict) as caught:
        await store.checkout_totals(cart.id)
    assert caught.value.details["reason"] == "UNAVAILABLE"
    assert caught.value.details["variantId"] == str(variant)


async def test_a_draft_product_cannot_be_added(store: Store) -> None:
    draft = await store.product("Secret", {"EUR": [(1, 100)]}, status="draft")
    cart = (await store.cart()).cart
    with pytest.raises(NotFound):
        await store.carts.add_line(store.tenant.id, cart.id, GUEST, variant_id=draft, quantity=1)


async def test_a_customer_cart_is_invisible_to_everyone_else_and_read_only_to_staff(store: Store) -> None:
    owner, stranger = Viewer(uuid.uuid4()), Viewer(uuid.uuid4())
    staff = Viewer(uuid.uuid4(), staff=True)
    variant = await store.product("Pen", {"EUR": [(1, 100)]})
    cart = (await store.cart(owner)).cart
    assert cart.customer_id == owner.user_id
    t = store.tenant.id
    await store.carts.add_line(t, cart.id, owner, variant_id=variant, quantity=1)
    for viewer in (stranger, GUEST):
        with pytest.raises(NotFound):
            await store.carts.get(t, cart.id, viewer)
        with pytest.raises(NotFound):
            await store.carts.add_line(t, cart.id, viewer, variant_id=variant, quantity=1)
    assert (await store.carts.get(t, cart.id, staff)).subtotal == 100
    with pytest.raises(NotFound):
        await store.carts.set_email(t, cart.id, staff, email="staff@example.com")
    # A guest cart is open to whoever holds its id.
    guest_cart = (await store.cart()).cart
    await store.carts.add_line(t, guest_cart.id, stranger, variant_id=variant, quantity=2)
    assert (await store.carts.get(t, guest_cart.id, GUEST)).subtotal == 200


async def test_a_stale_version_is_refused_and_changes_nothing(store: Store) -> None:
    variant = await store.product("Pen", {"EUR": [(1, 100)]})
    created = await store.cart()
    t = store.tenant.id
    first = await store.carts.add_line(
        t, created.cart.id, GUEST, variant_id=variant, quantity=1, expected_version=created.cart.version
    )
    assert first.cart.version == created.cart.version + 1
    with pytest.raises(Conflict):
        await store.carts.set_email(
            t, created.cart.id, GUEST, email="x@example.com", expected_version=created.cart.version
        )
    assert (await store.carts.get(t, created.cart.id, GUEST)).cart.email is None


@pytest.mark.parametrize(
    ("address", "fields"),
    [
        ({}, {"firstName", "lastName", "line1", "city", "postalCode", "countryCode"}),
        ({**ADDRESS, "country_code": "XX"}, {"countryCode"}),
        ({**ADDRESS, "country_code": "EU"}, {"countryCode"}),
        ({**ADDRESS, "postal_code": "  "}, {"postalCode"}),
        ({**ADDRESS, "city": "x" * 101}, {"city"}),
        ({**ADDRESS, "planet": "Mars"}, {"planet"}),
    ],
)
async def test_bad_addresses_name_every_bad_field_and_change_nothing(
    store: Store, address: dict[str, Any], fields: set[str]
) -> None:
    cart = (await store.cart()).cart
    with pytest.raises(Validation) as caught:
        await store.carts.set_address(store.tenant.id, cart.id, GUEST, kind="shipping", address=address)
    assert {error.path[-1] for error in caught.value.field_errors} == fields
    assert (await store.carts.get(store.tenant.id, cart.id, GUEST)).cart.shipping_address is None


async def test_bad_cart_inputs(store: Store) -> None:
    with pytest.raises(Validation) as caught:
        await store.cart(currency="XYZ")
    assert caught.value.details["reason"] == "UNKNOWN_CURRENCY"
    with pytest.raises(Validation) as caught:
        await store.cart(locale="fr")
    assert caught.value.details["reason"] == "UNKNOWN_LOCALE"
    with pytest.raises(Validation) as caught:
        await store.carts.create(store.tenant, GUEST)
    assert caught.value.details["reason"] == "MISSING_CURRENCY"
    await store.settings.update_settings(store.tenant.id, default_currency="chf")
    assert (await store.carts.create(store.tenant, GUEST)).cart.currency_code == "CHF"
    cart = (await store.cart()).cart
    with pytest.raises(Validation):
        await store.carts.set_email(store.tenant.id, cart.id, GUEST, email="not-an-email")
    with pytest.raises(NotFound):
        await store.carts.add_line(store.tenant.id, cart.id, GUEST, variant_id=uuid.uuid4(), quantity=1)
    with pytest.raises(NotFound):
        await store.carts.get(store.tenant.id, uuid.uuid4(), GUEST)
