"""GraphQL for carts (thin: parse, call the cart service with the caller as ``Viewer``, map).

Every shopper field is ``@public``; the ownership rules live in
:mod:`rustok_commerce.services.carts` (a customer's cart answers ``NOT_FOUND`` to
anyone else, a guest cart is reached by its id, ``commerce_carts:read`` reads any).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType
from ariadne.types import SchemaBindable
from graphql import GraphQLResolveInfo

from rustok_commerce.graphql.inventory import MoneyView, request, tenant_id_of
from rustok_commerce.models import CartLine, ShippingOption
from rustok_commerce.permissions import CARTS_READ
from rustok_commerce.services.carts import CartService, PricedCart, PricedLine, Viewer

query = QueryType()
mutation = MutationType()
cart_status = EnumType("CartStatus", {"ACTIVE": "active", "COMPLETED": "completed"})
address_kind = EnumType("AddressKind", {"SHIPPING": "shipping", "BILLING": "billing"})
cart_type = ObjectType("Cart")
line_type = ObjectType("CartLine")
method_type = ObjectType("ShippingMethod")
address_type = ObjectType("Address")
address_type.set_field("line1", lambda address, _: address.get("line1"))
address_type.set_field("line2", lambda address, _: address.get("line2"))


@dataclass(frozen=True)
class LineView:
    line: CartLine
    currency_code: str
    priced: PricedLine | None = None
    """``None``: the line cannot be bought now."""


async def viewer_of(info: GraphQLResolveInfo, *, reading: bool = False) -> Viewer:
    """The caller as the cart service knows it; staff rights only matter for reads."""
    ctx = request(info)
    user_id = ctx.principal.user_id if ctx.principal is not None and ctx.principal.is_user else None
    return Viewer(user_id=user_id, staff=reading and await ctx.may(CARTS_READ))


# Ariadne's name conversion turns ``line1`` into ``line_1``; stored addresses say ``line1``.
_ADDRESS_KEYS = {"line_1": "line1", "line_2": "line2"}


def _address_input(given: dict[str, Any] | None) -> dict[str, Any] | None:
    if given is None:
        return None
    return {_ADDRESS_KEYS.get(key, key): value for key, value in given.items()}


# -- types -------------------------------------------------------------------------------------


def _cart_field(name: str) -> Any:
    def resolve(priced: PricedCart, _: GraphQLResolveInfo) -> Any:
        return getattr(priced.cart, name)

    return resolve


for _name in (
    "id",
    "status",
    "version",
    "customer_id",
    "email",
    "currency_code",
    "locale",
    "shipping_address",
    "billing_address",
    "created_at",
    "updated_at",
    "completed_at",
):
    head, *rest = _name.split("_")
    cart_type.set_field(head + "".join(word.title() for word in rest), _cart_field(_name))


def _cart_money(name: str) -> Any:
    def resolve(priced: PricedCart, _: GraphQLResolveInfo) -> MoneyView:
        return MoneyView(getattr(priced, name), priced.cart.currency_code)

    return resolve


for _total, _field in (
    ("subtotal", "subtotal"),
    ("shipping_total", "shippingTotal"),
    ("tax_total", "taxTotal"),
    ("discount_total", "discountTotal"),
    ("total", "total"),
):
    cart_type.set_field(_field, _cart_money(_total))


@cart_type.field("lines")
def resolve_cart_lines(priced: PricedCart, _: GraphQLResolveInfo) -> list[LineView]:
    return [LineView(p.line, priced.cart.currency_code, p) for p in priced.lines]


@cart_type.field("unavailableLines")
def resolve_cart_unavailable(priced: PricedCart, _: GraphQLResolveInfo) -> list[LineView]:
    return [LineView(line, priced.cart.currency_code) for line in priced.unavailable]


@cart_type.field("itemCount")
def resolve_cart_item_count(priced: PricedCart, _: GraphQLResolveInfo) -> int:
    return sum(p.quantity for p in priced.lines)


@cart_type.field("requiresShipping")
def resolve_cart_requires_shipping(priced: PricedCart, _: GraphQLResolveInfo) -> bool:
    return priced.requires_shipping


@cart_type.field("shippingMethod")
def resolve_cart_shipping_method(priced: PricedCart, _: GraphQLResolveInfo) -> dict[str, Any] | None:
    if priced.shipping_method is None:
        return None
    return {**priced.shipping_method, "currency_code": priced.cart.currency_code}


@cart_type.field("availableShippingOptions")
async def resolve_cart_shipping_options(priced: PricedCart, info: GraphQLResolveInfo) -> list[ShippingOption]:
    return await CartService(request(info).app).shipping_options_for(tenant_id_of(info), priced.cart)


method_type.set_field("shippingOptionId", lambda method, _: uuid.UUID(method["id"]))
method_type.set_field("price", lambda method, _: MoneyView(method["amount"], method["currency_code"]))


def _line_field(name: str) -> Any:
    def resolve(view: LineView, _: GraphQLResolveInfo) -> Any:
        return getattr(view.line, name)

    return resolve


line_type.set_field("id", _line_field("id"))
line_type.set_field("variantId", _line_field("variant_id"))
line_type.set_field("quantity", _line_field("quantity"))


@line_type.field("title")
def resolve_line_title(view: LineView, _: GraphQLResolveInfo) -> str:
    return view.priced.title if view.priced is not None else view.line.title


@line_type.field("sku")
def resolve_line_sku(view: LineView, _: GraphQLResolveInfo) -> str | None:
    return view.priced.sku if view.priced is not None else view.line.sku


@line_type.field("productId")
def resolve_line_product(view: LineView, _: GraphQLResolveInfo) -> uuid.UUID | None:
    return view.priced.product_id if view.priced is not None else None


@line_type.field("available")
def resolve_line_available(view: LineView, _: GraphQLResolveInfo) -> bool:
    return view.priced is not None


@line_type.field("requiresShipping")
def resolve_line_requires_shipping(view: LineView, _: GraphQLResolveInfo) -> bool:
    return view.priced.requires_shipping if view.priced is not None else True


def _line_money(name: str) -> Any:
    def resolve(view: LineView, _: GraphQLResolveInfo) -> MoneyView:
        if view.priced is not None:
            return MoneyView(getattr(view.priced, name), view.currency_code)
        # Not buyable now: what it cost when last priced, without tax.
        amount = view.line.unit_price * (1 if name == "unit_price" else view.line.quantity)
        return MoneyView(0 if name == "tax_total" else amount, view.currency_code)

    return resolve


for _money, _field in (
    ("unit_price", "unitPrice"),
    ("subtotal", "subtotal"),
    ("tax_total", "taxTotal"),
    ("total", "total"),
):
    line_type.set_field(_field, _line_money(_money))


# -- queries and mutations ---------------------------------------------------------------------


@query.field("cart")
async def resolve_cart(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> PricedCart:
    return await CartService(request(info).app).get(tenant_id_of(info), id, await viewer_of(info, reading=True))


@mutation.field("createCart")
async def resolve_create_cart(_: Any, info: GraphQLResolveInfo, input: dict[str, Any] | None = None) -> PricedCart:
    given = input or {}
    return await CartService(request(info).app).create(
        request(info).require_tenant(),
        await viewer_of(info),
        currency_code=given.get("currency_code"),
        locale=given.get("locale"),
        email=given.get("email"),
    )


@mutation.field("addCartLine")
async def resolve_add_cart_line(
    _: Any,
    info: GraphQLResolveInfo,
    cart_id: uuid.UUID,
    variant_id: uuid.UUID,
    quantity: int = 1,
    version: int | None = None,
) -> PricedCart:
    return await CartService(request(info).app).add_line(
        tenant_id_of(info),
        cart_id,
        await viewer_of(info),
        variant_id=variant_id,
        quantity=quantity,
        expected_version=version,
    )


@mutation.field("updateCartLine")
async def resolve_update_cart_line(
    _: Any,
    info: GraphQLResolveInfo,
    cart_id: uuid.UUID,
    line_id: uuid.UUID,
    quantity: int,
    version: int | None = None,
) -> PricedCart:
    return await CartService(request(info).app).update_line(
        tenant_id_of(info),
        cart_id,
        await viewer_of(info),
        line_id=line_id,
        quantity=quantity,
        expected_version=version,
    )


@mutation.field("removeCartLine")
async def resolve_remove_cart_line(
    _: Any, info: GraphQLResolveInfo, cart_id: uuid.UUID, line_id: uuid.UUID, version: int | None = None
) -> PricedCart:
    return await CartService(request(info).app).remove_line(
        tenant_id_of(info), cart_id, await viewer_of(info), line_id=line_id, expected_version=version
    )


@mutation.field("setCartEmail")
async def resolve_set_cart_email(
    _: Any, info: GraphQLResolveInfo, cart_id: uuid.UUID, email: str, version: int | None = None
) -> PricedCart:
    return await CartService(request(info).app).set_email(
        tenant_id_of(info), cart_id, await viewer_of(info), email=email, expected_version=version
    )


@mutation.field("setCartAddress")
async def resolve_set_cart_address(
    _: Any,
    info: GraphQLResolveInfo,
    cart_id: uuid.UUID,
    kind: str = "shipping",
    address: dict[str, Any] | None = None,
    version: int | None = None,
) -> PricedCart:
    return await CartService(request(info).app).set_address(
        tenant_id_of(info),
        cart_id,
        await viewer_of(info),
        kind=kind,
        address=_address_input(address),
        expected_version=version,
    )


@mutation.field("setShippingOption")
async def resolve_set_shipping_option(
    _: Any,
    info: GraphQLResolveInfo,
    cart_id: uuid.UUID,
    shipping_option_id: uuid.UUID | None = None,
    version: int | None = None,
) -> PricedCart:
    return await CartService(request(info).app).set_shipping_option(
        tenant_id_of(info), cart_id, await viewer_of(info), option_id=shipping_option_id, expected_version=version
    )


BINDABLES: list[SchemaBindable] = [
    query,
    mutation,
    cart_status,
    address_kind,
    cart_type,
    line_type,
    method_type,
    address_type,
]
