"""The tables the commerce module owns (all tenant-owned, all prefixed ``commerce_``).

Money is always an integer amount in the currency's minor unit (cents) beside an
ISO-4217 code; no float ever holds money. Catalog text is per locale in
``commerce_product_translations`` (handles unique per tenant and locale). Stock is
kept per inventory item and location; a reservation holds units for an order until
it is fulfilled (stock leaves) or cancelled (units return).

Orders are keyed by ``(id, created_at)`` so that ``commerce_orders`` can be turned
into range partitions by ``created_at`` (see ``services/partitioning.py``); the
tables that belong to an order carry ``order_created_at`` and refer to both columns.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from rustok_core.db import Base, TenantOwned, Timestamped, Versioned
from rustok_core.db.base import id_column
from rustok_core.ids import generate_id

PRODUCT_STATUSES = ("draft", "active", "archived")
PRICE_LIST_TYPES = ("sale", "override")
CART_STATUSES = ("active", "completed")
ORDER_STATUSES = ("pending", "confirmed", "paid", "fulfilled", "completed", "cancelled", "refunded")
PAYMENT_STATUSES = ("authorized", "captured", "partially_refunded", "refunded", "cancelled")
ADJUSTMENT_REASONS = ("restock", "correction", "damage", "return", "count", "sale", "transfer")


def _jsonb() -> Mapped[dict[str, Any]]:
    return mapped_column("metadata", JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb"))


def _zero() -> Mapped[int]:
    return mapped_column(Integer, nullable=False, default=0, server_default=text("0"))


def _money() -> Mapped[int]:
    return mapped_column(BigInteger, nullable=False, default=0, server_default=text("0"))


class _BelongsToOrder:
    """Rows of an order refer to its whole key, ``(order_id, order_created_at)``."""

    order_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    order_created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


def _order_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["order_id", "order_created_at"],
        ["commerce_orders.id", "commerce_orders.created_at"],
        ondelete="CASCADE",
    )


# -- catalog -----------------------------------------------------------------------------------


class Product(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "commerce_products"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'active', 'archived')", name="status"),
        Index("ix_commerce_products_tenant_id_status_created_at", "tenant_id", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft", server_default="draft")
    discountable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=text("true"))
    product_metadata: Mapped[dict[str, Any]] = _jsonb()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When it last became ``active``."""


class ProductTranslation(TenantOwned, Timestamped, Base):
    """A product's text in one locale, with its handle and the SEO fields commerce owns."""

    __tablename__ = "commerce_product_translations"
    __table_args__ = (
        UniqueConstraint("product_id", "locale"),
        UniqueConstraint("tenant_id", "locale", "handle"),
    )

    id: Mapped[uuid.UUID] = id_column()
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), nullable=False
    )
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    subtitle: Mapped[str | None] = mapped_column(String(255))
    handle: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    seo_title: Mapped[str | None] = mapped_column(String(255))
    seo_description: Mapped[str | None] = mapped_column(String(500))


class ProductOption(TenantOwned, Base):
    """An axis variants differ on (Size, Color), with its ordered values."""

    __tablename__ = "commerce_options"
    __table_args__ = (UniqueConstraint("product_id", "title"),)

    id: Mapped[uuid.UUID] = id_column()
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    position: Mapped[int] = _zero()


class ProductOptionValue(TenantOwned, Base):
    __tablename__ = "commerce_option_values"
    __table_args__ = (UniqueConstraint("option_id", "value"),)

    id: Mapped[uuid.UUID] = id_column()
    option_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_options.id", ondelete="CASCADE"), nullable=False)
    value: Mapped[str] = mapped_column(String(255), nullable=False)
    position: Mapped[int] = _zero()


class Variant(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "commerce_variants"
    __table_args__ = (
        # NULL SKUs do not collide: a variant may go without one.
        UniqueConstraint("tenant_id", "sku"),
        CheckConstraint(
            "coalesce(weight, 0) >= 0 AND coalesce(length, 0) >= 0 AND coalesce(height, 0) >= 0 "
            "AND coalesce(width, 0) >= 0",
            name="dimensions",
        ),
        Index("ix_commerce_variants_product_id_position", "product_id", "position"),
    )

    id: Mapped[uuid.UUID] = id_column()
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    sku: Mapped[str | None] = mapped_column(String(64))
    barcode: Mapped[str | None] = mapped_column(String(64))
    manage_inventory: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=text("true"))
    allow_backorder: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    weight: Mapped[int | None] = mapped_column(Integer)
    """Grams."""
    length: Mapped[int | None] = mapped_column(Integer)
    """Millimetres, as are height and width."""
    height: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = _zero()
    variant_metadata: Mapped[dict[str, Any]] = _jsonb()


class VariantOptionValue(TenantOwned, Base):
    __tablename__ = "commerce_variant_options"
    __table_args__ = (Index("ix_commerce_variant_options_option_value_id", "option_value_id"),)

    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_variants.id", ondelete="CASCADE"), primary_key=True
    )
    option_value_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_option_values.id", ondelete="CASCADE"), primary_key=True
    )


class ProductCategory(TenantOwned, Timestamped, Versioned, Base):
    """Commerce's own category tree (not content's): handles unique per tenant."""

    __tablename__ = "commerce_categories"
    __table_args__ = (
        UniqueConstraint("tenant_id", "handle"),
        Index("ix_commerce_categories_tenant_id_parent_id_rank", "tenant_id", "parent_id", "rank"),
    )

    id: Mapped[uuid.UUID] = id_column()
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("commerce_categories.id", ondelete="CASCADE"))
    handle: Mapped[str] = mapped_column(String(255), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=text("true"))
    is_internal: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    rank: Mapped[int] = _zero()
    depth: Mapped[int] = _zero()
    category_metadata: Mapped[dict[str, Any]] = _jsonb()


class ProductCategoryTranslation(TenantOwned, Base):
    __tablename__ = "commerce_category_translations"
    __table_args__ = (UniqueConstraint("category_id", "locale"),)

    id: Mapped[uuid.UUID] = id_column()
    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_categories.id", ondelete="CASCADE"), nullable=False
    )
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)


class ProductCategoryLink(TenantOwned, Base):
    __tablename__ = "commerce_product_categories"
    __table_args__ = (Index("ix_commerce_product_categories_category_id", "category_id"),)

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_categories.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = _zero()


class ProductImage(TenantOwned, Base):
    """An image stored through the platform's media storage (``ctx.storage``)."""

    __tablename__ = "commerce_product_images"
    __table_args__ = (Index("ix_commerce_product_images_product_id_position", "product_id", "position"),)

    id: Mapped[uuid.UUID] = id_column()
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), nullable=False
    )
    storage_key: Mapped[str] = mapped_column(String(512), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    alt: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb"))
    """Alt text per locale: ``{"en": "...", "de": "..."}``."""
    position: Mapped[int] = _zero()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


# -- prices ------------------------------------------------------------------------------------


class PriceList(TenantOwned, Timestamped, Versioned, Base):
    """Prices that apply instead of the base prices: ``sale`` (only when lower) or ``override``."""

    __tablename__ = "commerce_price_lists"
    __table_args__ = (
        CheckConstraint("type IN ('sale', 'override')", name="type"),
        CheckConstraint("starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name="window"),
    )

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=text("true"))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_checked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    """Bounds of the window up to this moment are announced (``commerce.price_list.changed``):
    by the write that set them, or by :mod:`rustok_commerce.services.price_windows` when the
    clock passed them."""


class Price(TenantOwned, Base):
    """One amount for a variant in a currency from ``min_quantity`` units on (a tier)."""

    __tablename__ = "commerce_prices"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("min_quantity >= 1", name="min_quantity"),
        CheckConstraint("currency_code ~ '^[A-Z]{3}$'", name="currency_code"),
        # One amount per (variant, currency, list, tier); the base list is the NULL one.
        Index(
            "uq_commerce_prices_base",
            "variant_id",
            "currency_code",
            "min_quantity",
            unique=True,
            postgresql_where=text("price_list_id IS NULL"),
        ),
        Index(
            "uq_commerce_prices_listed",
            "variant_id",
            "currency_code",
            "price_list_id",
            "min_quantity",
            unique=True,
            postgresql_where=text("price_list_id IS NOT NULL"),
        ),
        Index("ix_commerce_prices_tenant_id_variant_id_currency_code", "tenant_id", "variant_id", "currency_code"),
    )

    id: Mapped[uuid.UUID] = id_column()
    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_variants.id", ondelete="CASCADE"), nullable=False
    )
    price_list_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("commerce_price_lists.id", ondelete="CASCADE"))
    currency_code: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    min_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


# -- inventory ---------------------------------------------------------------------------------


class StockLocation(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "commerce_stock_locations"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    priority: Mapped[int] = _zero()
    """Reservations take stock from locations in ascending priority."""
    location_metadata: Mapped[dict[str, Any]] = _jsonb()


class InventoryItem(TenantOwned, Timestamped, Base):
    """A stock-keeping unit as the warehouse knows it; variants point at one (or several, kits)."""

    __tablename__ = "commerce_inventory_items"
    __table_args__ = (UniqueConstraint("tenant_id", "sku"),)

    id: Mapped[uuid.UUID] = id_column()
    sku: Mapped[str | None] = mapped_column(String(64))
    requires_shipping: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=text("true"))
    item_metadata: Mapped[dict[str, Any]] = _jsonb()


class VariantInventoryItem(TenantOwned, Base):
    __tablename__ = "commerce_variant_inventory"
    __table_args__ = (
        CheckConstraint("required_quantity >= 1", name="required_quantity"),
        Index("ix_commerce_variant_inventory_inventory_item_id", "inventory_item_id"),
    )

    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_variants.id", ondelete="CASCADE"), primary_key=True
    )
    inventory_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_inventory_items.id", ondelete="CASCADE"), primary_key=True
    )
    required_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default=text("1"))
    """Units of the item one unit of the variant takes."""


class InventoryLevel(TenantOwned, Versioned, Base):
    """Stock of one item at one location. Available = stocked - reserved."""

    __tablename__ = "commerce_inventory_levels"
    __table_args__ = (
        UniqueConstraint("inventory_item_id", "location_id"),
        CheckConstraint(
            "stocked_quantity >= 0 AND reserved_quantity >= 0 AND incoming_quantity >= 0", name="quantities"
        ),
        Index("ix_commerce_inventory_levels_location_id", "location_id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    inventory_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_inventory_items.id", ondelete="CASCADE"), nullable=False
    )
    location_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_stock_locations.id", ondelete="CASCADE"), nullable=False
    )
    stocked_quantity: Mapped[int] = _zero()
    reserved_quantity: Mapped[int] = _zero()
    incoming_quantity: Mapped[int] = _zero()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class InventoryAdjustment(TenantOwned, Base):
    """Why stock changed: one row per change of ``stocked_quantity`` (an audit trail)."""

    __tablename__ = "commerce_inventory_adjustments"
    __table_args__ = (
        CheckConstraint(
            "reason IN ('restock', 'correction', 'damage', 'return', 'count', 'sale', 'transfer')", name="reason"
        ),
        Index("ix_commerce_inventory_adjustments_level_id_created_at", "level_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    level_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_inventory_levels.id", ondelete="CASCADE"), nullable=False
    )
    delta: Mapped[int] = mapped_column(Integer, nullable=False)
    stocked_after: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Reservation(_BelongsToOrder, TenantOwned, Base):
    """Units of an item held at a location for an order until fulfilment or cancellation."""

    __tablename__ = "commerce_reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        _order_fk(),
        Index("ix_commerce_reservations_order_id", "order_id"),
        Index("ix_commerce_reservations_level_id", "level_id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    level_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_inventory_levels.id", ondelete="CASCADE"), nullable=False
    )
    order_line_id: Mapped[uuid.UUID | None] = mapped_column()
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


# -- store settings, shipping and tax ----------------------------------------------------------


class StoreSettings(TenantOwned, Versioned, Base):
    """Per-tenant commerce settings (one row per tenant, created on first use)."""

    __tablename__ = "commerce_store_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[uuid.UUID] = id_column()
    low_stock_threshold: Mapped[int] = mapped_column(Integer, nullable=False, default=5, server_default=text("5"))
    """``commerce.inventory.low`` fires when available stock falls to or below this."""
    default_currency: Mapped[str | None] = mapped_column(String(3))
    max_line_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1000, server_default=text("1000"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class OrderCounter(TenantOwned, Base):
    """The last ``display_id`` handed out per tenant (bumped outside the checkout transaction)."""

    __tablename__ = "commerce_order_counters"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[uuid.UUID] = id_column()
    last_value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default=text("0"))


class ShippingOption(TenantOwned, Timestamped, Versioned, Base):
    """A way to ship, priced by its provider (built in: ``flat_rate``)."""

    __tablename__ = "commerce_shipping_options"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code", "currency_code"),
        CheckConstraint("amount >= 0", name="amount"),
    )

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    provider: Mapped[str] = mapped_column(String(64), nullable=False, default="flat_rate", server_default="flat_rate")
    currency_code: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[int] = _money()
    free_above: Mapped[int | None] = mapped_column(BigInteger)
    """Subtotal (minor units) from which shipping is free."""
    countries: Mapped[list[str] | None] = mapped_column(JSONB)
    """Countries (ISO 3166-1 alpha-2) it ships to; ``None``: everywhere."""
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=text("true"))
    option_metadata: Mapped[dict[str, Any]] = _jsonb()


class TaxRate(TenantOwned, Timestamped, Versioned, Base):
    """The built-in tax table: a rate in basis points (2000 = 20%) per country and province."""

    __tablename__ = "commerce_tax_rates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "country_code", "province"),
        CheckConstraint("rate_bp >= 0 AND rate_bp <= 100000", name="rate"),
    )

    id: Mapped[uuid.UUID] = id_column()
    country_code: Mapped[str] = mapped_column(String(2), nullable=False)
    province: Mapped[str] = mapped_column(String(64), nullable=False, default="", server_default="")
    """Empty: the whole country."""
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    rate_bp: Mapped[int] = mapped_column(Integer, nullable=False)
    applies_to_shipping: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=text("true")
    )


# -- carts -------------------------------------------------------------------------------------


class Cart(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "commerce_carts"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'completed')", name="status"),
        Index("ix_commerce_carts_tenant_id_customer_id", "tenant_id", "customer_id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    customer_id: Mapped[uuid.UUID | None] = mapped_column()
    """``None``: a guest cart, reachable by its id only."""
    email: Mapped[str | None] = mapped_column(String(320))
    currency_code: Mapped[str] = mapped_column(String(3), nullable=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active", server_default="active")
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    shipping_option_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("commerce_shipping_options.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cart_metadata: Mapped[dict[str, Any]] = _jsonb()


class CartLine(TenantOwned, Timestamped, Base):
    """A variant in a cart with the price it had when last (re)priced."""

    __tablename__ = "commerce_cart_lines"
    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
    )

    id: Mapped[uuid.UUID] = id_column()
    cart_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_carts.id", ondelete="CASCADE"), nullable=False)
    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_variants.id", ondelete="CASCADE"), nullable=False
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[int] = _money()
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    """Product and variant title when last priced (in the cart's locale)."""
    sku: Mapped[str | None] = mapped_column(String(64))


class Checkout(_BelongsToOrder, TenantOwned, Base):
    """The idempotency record of ``checkout(cartId, idempotencyKey)``: one order per cart, per key."""

    __tablename__ = "commerce_checkouts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        UniqueConstraint("cart_id"),
        _order_fk(),
    )

    id: Mapped[uuid.UUID] = id_column()
    idempotency_key: Mapped[str] = mapped_column(String(255), nullable=False)
    cart_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_carts.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


# -- orders ------------------------------------------------------------------------------------


class Order(TenantOwned, Versioned, Base):
    __tablename__ = "commerce_orders"
    __table_args__ = (
        PrimaryKeyConstraint("id", "created_at"),
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'paid', 'fulfilled', 'completed', 'cancelled', 'refunded')",
            name="status",
        ),
        CheckConstraint(
            "subtotal >= 0 AND tax_total >= 0 AND shipping_total >= 0 AND discount_total >= 0 AND total >= 0 "
            "AND refunded_total >= 0 AND refunded_total <= total",
            name="totals",
        ),
        Index("ix_commerce_orders_tenant_id_created_at", "tenant_id", "created_at"),
        Index("ix_commerce_orders_tenant_id_status", "tenant_id", "status"),
        Index("ix_commerce_orders_tenant_id_customer_id_created_at", "tenant_id", "customer_id", "created_at"),
        Index("ix_commerce_orders_tenant_id_display_id", "tenant_id", "display_id"),
        Index("ix_commerce_orders_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(default=generate_id)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )
    display_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    """The human order number, per tenant (unique; gaps allowed)."""
    customer_id: Mapped[uuid.UUID | None] = mapped_column()
    cart_id: Mapped[uuid.UUID | None] = mapped_column()
    email: Mapped[str | None] = mapped_column(String(320))
    locale: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", server_default="pending")
    currency_code: Mapped[str] = mapped_column(String(3), nullable=False)
    subtotal: Mapped[int] = _money()
    tax_total: Mapped[int] = _money()
    shipping_total: Mapped[int] = _money()
    discount_total: Mapped[int] = _money()
    total: Mapped[int] = _money()
    refunded_total: Mapped[int] = _money()
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    shipping_method: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """A snapshot of the shipping option chosen (code, name, provider, amount)."""
    order_metadata: Mapped[dict[str, Any]] = _jsonb()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OrderItem(_BelongsToOrder, TenantOwned, Base):
    """A line of an order: a snapshot of what was bought at which price."""

    __tablename__ = "commerce_order_items"
    __table_args__ = (
        _order_fk(),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0 AND subtotal >= 0 AND tax_total >= 0 AND total >= 0", name="amounts"),
        Index("ix_commerce_order_items_order_id", "order_id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    variant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("commerce_variants.id", ondelete="SET NULL"))
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("commerce_products.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    sku: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[int] = _money()
    subtotal: Mapped[int] = _money()
    tax_total: Mapped[int] = _money()
    total: Mapped[int] = _money()
    position: Mapped[int] = _zero()
    item_metadata: Mapped[dict[str, Any]] = _jsonb()


class OrderStatusChange(_BelongsToOrder, TenantOwned, Base):
    """The order's history: every transition with who made it."""

    __tablename__ = "commerce_order_status_history"
    __table_args__ = (_order_fk(), Index("ix_commerce_order_status_history_order_id", "order_id"))

    id: Mapped[uuid.UUID] = id_column()
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Payment(_BelongsToOrder, TenantOwned, Timestamped, Versioned, Base):
    """Money for an order through a payment provider (built in: ``manual``)."""

    __tablename__ = "commerce_payments"
    __table_args__ = (
        _order_fk(),
        CheckConstraint(
            "status IN ('authorized', 'captured', 'partially_refunded', 'refunded', 'cancelled')", name="status"
        ),
        CheckConstraint(
            "amount >= 0 AND captured_amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= captured_amount "
            "AND captured_amount <= amount",
            name="amounts",
        ),
        Index("ix_commerce_payments_order_id", "order_id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    currency_code: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[int] = _money()
    captured_amount: Mapped[int] = _money()
    refunded_amount: Mapped[int] = _money()
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )


class Refund(_BelongsToOrder, TenantOwned, Base):
    __tablename__ = "commerce_refunds"
    __table_args__ = (_order_fk(), CheckConstraint("amount > 0", name="amount"))

    id: Mapped[uuid.UUID] = id_column()
    payment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_payments.id", ondelete="CASCADE"), nullable=False, index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
