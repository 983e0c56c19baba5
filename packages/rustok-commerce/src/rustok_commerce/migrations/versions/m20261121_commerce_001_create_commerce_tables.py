"""create the commerce tables: catalog, prices, inventory, carts, checkouts, orders, payments

Revision ID: commerce_001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "commerce_001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("commerce",)
# The tenants table comes from the tenant module's first revision.
depends_on: str | Sequence[str] | None = ("tenant_001",)


def upgrade() -> None:
    op.create_table(
        "commerce_categories",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_internal", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("rank", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("depth", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["commerce_categories.id"],
            name=op.f("fk_commerce_categories_parent_id_commerce_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_categories_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_categories")),
        sa.UniqueConstraint("tenant_id", "handle", name=op.f("uq_commerce_categories_tenant_id_handle")),
    )
    op.create_index(op.f("ix_commerce_categories_tenant_id"), "commerce_categories", ["tenant_id"], unique=False)
    op.create_index(
        "ix_commerce_categories_tenant_id_parent_id_rank",
        "commerce_categories",
        ["tenant_id", "parent_id", "rank"],
        unique=False,
    )
    op.create_table(
        "commerce_inventory_items",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("requires_shipping", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_inventory_items_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_inventory_items")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_commerce_inventory_items_tenant_id_sku")),
    )
    op.create_index(
        op.f("ix_commerce_inventory_items_tenant_id"), "commerce_inventory_items", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_order_counters",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("last_value", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_order_counters_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_order_counters")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_commerce_order_counters_tenant_id")),
    )
    op.create_index(
        op.f("ix_commerce_order_counters_tenant_id"), "commerce_order_counters", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_orders",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("display_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=True),
        sa.Column("cart_id", sa.UUID(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("tax_total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("shipping_total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("discount_total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("refunded_total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("shipping_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("billing_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("shipping_method", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'paid', 'fulfilled', 'completed', 'cancelled', 'refunded')",
            name=op.f("ck_commerce_orders_status"),
        ),
        sa.CheckConstraint(
            "subtotal >= 0 AND tax_total >= 0 AND shipping_total >= 0 AND discount_total >= 0 AND total >= 0 AND refunded_total >= 0 AND refunded_total <= total",
            name=op.f("ck_commerce_orders_totals"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_orders_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", "created_at", name=op.f("pk_commerce_orders")),
    )
    op.create_index("ix_commerce_orders_id", "commerce_orders", ["id"], unique=False)
    op.create_index(op.f("ix_commerce_orders_tenant_id"), "commerce_orders", ["tenant_id"], unique=False)
    op.create_index(
        "ix_commerce_orders_tenant_id_created_at", "commerce_orders", ["tenant_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_commerce_orders_tenant_id_customer_id_created_at",
        "commerce_orders",
        ["tenant_id", "customer_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_commerce_orders_tenant_id_display_id", "commerce_orders", ["tenant_id", "display_id"], unique=False
    )
    op.create_index("ix_commerce_orders_tenant_id_status", "commerce_orders", ["tenant_id", "status"], unique=False)
    op.create_table(
        "commerce_price_lists",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("type IN ('sale', 'override')", name=op.f("ck_commerce_price_lists_type")),
        sa.CheckConstraint(
            "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name=op.f("ck_commerce_price_lists_window")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_price_lists_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_price_lists")),
    )
    op.create_index(op.f("ix_commerce_price_lists_tenant_id"), "commerce_price_lists", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_products",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("discountable", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'active', 'archived')", name=op.f("ck_commerce_products_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_products_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_products")),
    )
    op.create_index(op.f("ix_commerce_products_tenant_id"), "commerce_products", ["tenant_id"], unique=False)
    op.create_index(
        "ix_commerce_products_tenant_id_status_created_at",
        "commerce_products",
        ["tenant_id", "status", "created_at"],
        unique=False,
    )
    op.create_table(
        "commerce_shipping_options",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=64), server_default="flat_rate", nullable=False),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("free_above", sa.BigInteger(), nullable=True),
        sa.Column("countries", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_commerce_shipping_options_amount")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_shipping_options_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_shipping_options")),
        sa.UniqueConstraint(
            "tenant_id", "code", "currency_code", name=op.f("uq_commerce_shipping_options_tenant_id_code_currency_code")
        ),
    )
    op.create_index(
        op.f("ix_commerce_shipping_options_tenant_id"), "commerce_shipping_options", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_stock_locations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_stock_locations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_stock_locations")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_commerce_stock_locations_tenant_id_name")),
    )
    op.create_index(
        op.f("ix_commerce_stock_locations_tenant_id"), "commerce_stock_locations", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_store_settings",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("low_stock_threshold", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column("default_currency", sa.String(length=3), nullable=True),
        sa.Column("max_line_quantity", sa.Integer(), server_default=sa.text("1000"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_store_settings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_store_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_commerce_store_settings_tenant_id")),
    )
    op.create_index(
        op.f("ix_commerce_store_settings_tenant_id"), "commerce_store_settings", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_tax_rates",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("province", sa.String(length=64), server_default="", nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("applies_to_shipping", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("rate_bp >= 0 AND rate_bp <= 100000", name=op.f("ck_commerce_tax_rates_rate")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_tax_rates_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_tax_rates")),
        sa.UniqueConstraint(
            "tenant_id", "country_code", "province", name=op.f("uq_commerce_tax_rates_tenant_id_country_code_province")
        ),
    )
    op.create_index(op.f("ix_commerce_tax_rates_tenant_id"), "commerce_tax_rates", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_carts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("shipping_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("billing_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("shipping_option_id", sa.UUID(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("status IN ('active', 'completed')", name=op.f("ck_commerce_carts_status")),
        sa.ForeignKeyConstraint(
            ["shipping_option_id"],
            ["commerce_shipping_options.id"],
            name=op.f("fk_commerce_carts_shipping_option_id_commerce_shipping_options"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_carts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_carts")),
    )
    op.create_index(op.f("ix_commerce_carts_tenant_id"), "commerce_carts", ["tenant_id"], unique=False)
    op.create_index(
        "ix_commerce_carts_tenant_id_customer_id", "commerce_carts", ["tenant_id", "customer_id"], unique=False
    )
    op.create_table(
        "commerce_category_translations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["commerce_categories.id"],
            name=op.f("fk_commerce_category_translations_category_id_commerce_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_category_translations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_category_translations")),
        sa.UniqueConstraint("category_id", "locale", name=op.f("uq_commerce_category_translations_category_id_locale")),
    )
    op.create_index(
        op.f("ix_commerce_category_translations_tenant_id"),
        "commerce_category_translations",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "commerce_inventory_levels",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("inventory_item_id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("stocked_quantity", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reserved_quantity", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("incoming_quantity", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "stocked_quantity >= 0 AND reserved_quantity >= 0 AND incoming_quantity >= 0",
            name=op.f("ck_commerce_inventory_levels_quantities"),
        ),
        sa.ForeignKeyConstraint(
            ["inventory_item_id"],
            ["commerce_inventory_items.id"],
            name=op.f("fk_commerce_inventory_levels_inventory_item_id_commerce_inventory_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["commerce_stock_locations.id"],
            name=op.f("fk_commerce_inventory_levels_location_id_commerce_stock_locations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_inventory_levels_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_inventory_levels")),
        sa.UniqueConstraint(
            "inventory_item_id", "location_id", name=op.f("uq_commerce_inventory_levels_inventory_item_id_location_id")
        ),
    )
    op.create_index(
        "ix_commerce_inventory_levels_location_id", "commerce_inventory_levels", ["location_id"], unique=False
    )
    op.create_index(
        op.f("ix_commerce_inventory_levels_tenant_id"), "commerce_inventory_levels", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_options",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("product_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_options_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_options_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_options")),
        sa.UniqueConstraint("product_id", "title", name=op.f("uq_commerce_options_product_id_title")),
    )
    op.create_index(op.f("ix_commerce_options_tenant_id"), "commerce_options", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_order_status_history",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("order_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id", "order_created_at"],
            ["commerce_orders.id", "commerce_orders.created_at"],
            name=op.f("fk_commerce_order_status_history_order_id_order_created_at_commerce_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_order_status_history_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_order_status_history")),
    )
    op.create_index(
        "ix_commerce_order_status_history_order_id", "commerce_order_status_history", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_commerce_order_status_history_tenant_id"), "commerce_order_status_history", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_payments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("captured_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("provider_reference", sa.String(length=255), nullable=True),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("order_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "status IN ('authorized', 'captured', 'partially_refunded', 'refunded', 'cancelled')",
            name=op.f("ck_commerce_payments_status"),
        ),
        sa.CheckConstraint(
            "amount >= 0 AND captured_amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= captured_amount AND captured_amount <= amount",
            name=op.f("ck_commerce_payments_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id", "order_created_at"],
            ["commerce_orders.id", "commerce_orders.created_at"],
            name=op.f("fk_commerce_payments_order_id_order_created_at_commerce_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_payments_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_payments")),
    )
    op.create_index("ix_commerce_payments_order_id", "commerce_payments", ["order_id"], unique=False)
    op.create_index(op.f("ix_commerce_payments_tenant_id"), "commerce_payments", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_product_categories",
        sa.Column("product_id", sa.UUID(), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["commerce_categories.id"],
            name=op.f("fk_commerce_product_categories_category_id_commerce_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_product_categories_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_product_categories_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "category_id", name=op.f("pk_commerce_product_categories")),
    )
    op.create_index(
        "ix_commerce_product_categories_category_id", "commerce_product_categories", ["category_id"], unique=False
    )
    op.create_index(
        op.f("ix_commerce_product_categories_tenant_id"), "commerce_product_categories", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_product_images",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("product_id", sa.UUID(), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column(
            "alt", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_product_images_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_product_images_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_product_images")),
    )
    op.create_index(
        "ix_commerce_product_images_product_id_position",
        "commerce_product_images",
        ["product_id", "position"],
        unique=False,
    )
    op.create_index(
        op.f("ix_commerce_product_images_tenant_id"), "commerce_product_images", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_product_translations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("product_id", sa.UUID(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("subtitle", sa.String(length=255), nullable=True),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("seo_title", sa.String(length=255), nullable=True),
        sa.Column("seo_description", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_product_translations_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_product_translations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_product_translations")),
        sa.UniqueConstraint("product_id", "locale", name=op.f("uq_commerce_product_translations_product_id_locale")),
        sa.UniqueConstraint(
            "tenant_id", "locale", "handle", name=op.f("uq_commerce_product_translations_tenant_id_locale_handle")
        ),
    )
    op.create_index(
        op.f("ix_commerce_product_translations_tenant_id"), "commerce_product_translations", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_variants",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("product_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("manage_inventory", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("allow_backorder", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=True),
        sa.Column("length", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "coalesce(weight, 0) >= 0 AND coalesce(length, 0) >= 0 AND coalesce(height, 0) >= 0 AND coalesce(width, 0) >= 0",
            name=op.f("ck_commerce_variants_dimensions"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_variants_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_variants_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_variants")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_commerce_variants_tenant_id_sku")),
    )
    op.create_index(
        "ix_commerce_variants_product_id_position", "commerce_variants", ["product_id", "position"], unique=False
    )
    op.create_index(op.f("ix_commerce_variants_tenant_id"), "commerce_variants", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_cart_lines",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("cart_id", sa.UUID(), nullable=False),
        sa.Column("variant_id", sa.UUID(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_commerce_cart_lines_quantity")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_commerce_cart_lines_unit_price")),
        sa.ForeignKeyConstraint(
            ["cart_id"],
            ["commerce_carts.id"],
            name=op.f("fk_commerce_cart_lines_cart_id_commerce_carts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_cart_lines_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_cart_lines_variant_id_commerce_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_cart_lines")),
        sa.UniqueConstraint("cart_id", "variant_id", name=op.f("uq_commerce_cart_lines_cart_id_variant_id")),
    )
    op.create_index(op.f("ix_commerce_cart_lines_tenant_id"), "commerce_cart_lines", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_checkouts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("cart_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("order_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cart_id"],
            ["commerce_carts.id"],
            name=op.f("fk_commerce_checkouts_cart_id_commerce_carts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id", "order_created_at"],
            ["commerce_orders.id", "commerce_orders.created_at"],
            name=op.f("fk_commerce_checkouts_order_id_order_created_at_commerce_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_checkouts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_checkouts")),
        sa.UniqueConstraint("cart_id", name=op.f("uq_commerce_checkouts_cart_id")),
        sa.UniqueConstraint(
            "tenant_id", "idempotency_key", name=op.f("uq_commerce_checkouts_tenant_id_idempotency_key")
        ),
    )
    op.create_index(op.f("ix_commerce_checkouts_tenant_id"), "commerce_checkouts", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_inventory_adjustments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("level_id", sa.UUID(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("stocked_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('restock', 'correction', 'damage', 'return', 'count', 'sale', 'transfer')",
            name=op.f("ck_commerce_inventory_adjustments_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["level_id"],
            ["commerce_inventory_levels.id"],
            name=op.f("fk_commerce_inventory_adjustments_level_id_commerce_inventory_levels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_inventory_adjustments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_inventory_adjustments")),
    )
    op.create_index(
        "ix_commerce_inventory_adjustments_level_id_created_at",
        "commerce_inventory_adjustments",
        ["level_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_commerce_inventory_adjustments_tenant_id"),
        "commerce_inventory_adjustments",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "commerce_option_values",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("option_id", sa.UUID(), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["option_id"],
            ["commerce_options.id"],
            name=op.f("fk_commerce_option_values_option_id_commerce_options"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_option_values_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_option_values")),
        sa.UniqueConstraint("option_id", "value", name=op.f("uq_commerce_option_values_option_id_value")),
    )
    op.create_index(op.f("ix_commerce_option_values_tenant_id"), "commerce_option_values", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_order_items",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("variant_id", sa.UUID(), nullable=True),
        sa.Column("product_id", sa.UUID(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("tax_total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("order_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_commerce_order_items_quantity")),
        sa.CheckConstraint(
            "unit_price >= 0 AND subtotal >= 0 AND tax_total >= 0 AND total >= 0",
            name=op.f("ck_commerce_order_items_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id", "order_created_at"],
            ["commerce_orders.id", "commerce_orders.created_at"],
            name=op.f("fk_commerce_order_items_order_id_order_created_at_commerce_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_order_items_product_id_commerce_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_order_items_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_order_items_variant_id_commerce_variants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_order_items")),
    )
    op.create_index("ix_commerce_order_items_order_id", "commerce_order_items", ["order_id"], unique=False)
    op.create_index(op.f("ix_commerce_order_items_tenant_id"), "commerce_order_items", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_prices",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("variant_id", sa.UUID(), nullable=False),
        sa.Column("price_list_id", sa.UUID(), nullable=True),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("min_quantity", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("currency_code ~ '^[A-Z]{3}$'", name=op.f("ck_commerce_prices_currency_code")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_commerce_prices_amount")),
        sa.CheckConstraint("min_quantity >= 1", name=op.f("ck_commerce_prices_min_quantity")),
        sa.ForeignKeyConstraint(
            ["price_list_id"],
            ["commerce_price_lists.id"],
            name=op.f("fk_commerce_prices_price_list_id_commerce_price_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_prices_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_prices_variant_id_commerce_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_prices")),
    )
    op.create_index(op.f("ix_commerce_prices_tenant_id"), "commerce_prices", ["tenant_id"], unique=False)
    op.create_index(
        "ix_commerce_prices_tenant_id_variant_id_currency_code",
        "commerce_prices",
        ["tenant_id", "variant_id", "currency_code"],
        unique=False,
    )
    op.create_index(
        "uq_commerce_prices_base",
        "commerce_prices",
        ["variant_id", "currency_code", "min_quantity"],
        unique=True,
        postgresql_where=sa.text("price_list_id IS NULL"),
    )
    op.create_index(
        "uq_commerce_prices_listed",
        "commerce_prices",
        ["variant_id", "currency_code", "price_list_id", "min_quantity"],
        unique=True,
        postgresql_where=sa.text("price_list_id IS NOT NULL"),
    )
    op.create_table(
        "commerce_refunds",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("order_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_commerce_refunds_amount")),
        sa.ForeignKeyConstraint(
            ["order_id", "order_created_at"],
            ["commerce_orders.id", "commerce_orders.created_at"],
            name=op.f("fk_commerce_refunds_order_id_order_created_at_commerce_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["commerce_payments.id"],
            name=op.f("fk_commerce_refunds_payment_id_commerce_payments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_refunds_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_refunds")),
    )
    op.create_index(op.f("ix_commerce_refunds_payment_id"), "commerce_refunds", ["payment_id"], unique=False)
    op.create_index(op.f("ix_commerce_refunds_tenant_id"), "commerce_refunds", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_reservations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("level_id", sa.UUID(), nullable=False),
        sa.Column("order_line_id", sa.UUID(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("order_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_commerce_reservations_quantity")),
        sa.ForeignKeyConstraint(
            ["level_id"],
            ["commerce_inventory_levels.id"],
            name=op.f("fk_commerce_reservations_level_id_commerce_inventory_levels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id", "order_created_at"],
            ["commerce_orders.id", "commerce_orders.created_at"],
            name=op.f("fk_commerce_reservations_order_id_order_created_at_commerce_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_commerce_reservations_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_reservations")),
    )
    op.create_index("ix_commerce_reservations_level_id", "commerce_reservations", ["level_id"], unique=False)
    op.create_index("ix_commerce_reservations_order_id", "commerce_reservations", ["order_id"], unique=False)
    op.create_index(op.f("ix_commerce_reservations_tenant_id"), "commerce_reservations", ["tenant_id"], unique=False)
    op.create_table(
        "commerce_variant_inventory",
        sa.Column("variant_id", sa.UUID(), nullable=False),
        sa.Column("inventory_item_id", sa.UUID(), nullable=False),
        sa.Column("required_quantity", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("required_quantity >= 1", name=op.f("ck_commerce_variant_inventory_required_quantity")),
        sa.ForeignKeyConstraint(
            ["inventory_item_id"],
            ["commerce_inventory_items.id"],
            name=op.f("fk_commerce_variant_inventory_inventory_item_id_commerce_inventory_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_variant_inventory_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_variant_inventory_variant_id_commerce_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("variant_id", "inventory_item_id", name=op.f("pk_commerce_variant_inventory")),
    )
    op.create_index(
        "ix_commerce_variant_inventory_inventory_item_id",
        "commerce_variant_inventory",
        ["inventory_item_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_commerce_variant_inventory_tenant_id"), "commerce_variant_inventory", ["tenant_id"], unique=False
    )
    op.create_table(
        "commerce_variant_options",
        sa.Column("variant_id", sa.UUID(), nullable=False),
        sa.Column("option_value_id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["option_value_id"],
            ["commerce_option_values.id"],
            name=op.f("fk_commerce_variant_options_option_value_id_commerce_option_values"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_variant_options_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_variant_options_variant_id_commerce_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("variant_id", "option_value_id", name=op.f("pk_commerce_variant_options")),
    )
    op.create_index(
        "ix_commerce_variant_options_option_value_id", "commerce_variant_options", ["option_value_id"], unique=False
    )
    op.create_index(
        op.f("ix_commerce_variant_options_tenant_id"), "commerce_variant_options", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_commerce_variant_options_tenant_id"), table_name="commerce_variant_options")
    op.drop_index("ix_commerce_variant_options_option_value_id", table_name="commerce_variant_options")
    op.drop_table("commerce_variant_options")
    op.drop_index(op.f("ix_commerce_variant_inventory_tenant_id"), table_name="commerce_variant_inventory")
    op.drop_index("ix_commerce_variant_inventory_inventory_item_id", table_name="commerce_variant_inventory")
    op.drop_table("commerce_variant_inventory")
    op.drop_index(op.f("ix_commerce_reservations_tenant_id"), table_name="commerce_reservations")
    op.drop_index("ix_commerce_reservations_order_id", table_name="commerce_reservations")
    op.drop_index("ix_commerce_reservations_level_id", table_name="commerce_reservations")
    op.drop_table("commerce_reservations")
    op.drop_index(op.f("ix_commerce_refunds_tenant_id"), table_name="commerce_refunds")
    op.drop_index(op.f("ix_commerce_refunds_payment_id"), table_name="commerce_refunds")
    op.drop_table("commerce_refunds")
    op.drop_index(
        "uq_commerce_prices_listed", table_name="commerce_prices", postgresql_where=sa.text("price_list_id IS NOT NULL")
    )
    op.drop_index(
        "uq_commerce_prices_base", table_name="commerce_prices", postgresql_where=sa.text("price_list_id IS NULL")
    )
    op.drop_index("ix_commerce_prices_tenant_id_variant_id_currency_code", table_name="commerce_prices")
    op.drop_index(op.f("ix_commerce_prices_tenant_id"), table_name="commerce_prices")
    op.drop_table("commerce_prices")
    op.drop_index(op.f("ix_commerce_order_items_tenant_id"), table_name="commerce_order_items")
    op.drop_index("ix_commerce_order_items_order_id", table_name="commerce_order_items")
    op.drop_table("commerce_order_items")
    op.drop_index(op.f("ix_commerce_option_values_tenant_id"), table_name="commerce_option_values")
    op.drop_table("commerce_option_values")
    op.drop_index(op.f("ix_commerce_inventory_adjustments_tenant_id"), table_name="commerce_inventory_adjustments")
    op.drop_index("ix_commerce_inventory_adjustments_level_id_created_at", table_name="commerce_inventory_adjustments")
    op.drop_table("commerce_inventory_adjustments")
    op.drop_index(op.f("ix_commerce_checkouts_tenant_id"), table_name="commerce_checkouts")
    op.drop_table("commerce_checkouts")
    op.drop_index(op.f("ix_commerce_cart_lines_tenant_id"), table_name="commerce_cart_lines")
    op.drop_table("commerce_cart_lines")
    op.drop_index(op.f("ix_commerce_variants_tenant_id"), table_name="commerce_variants")
    op.drop_index("ix_commerce_variants_product_id_position", table_name="commerce_variants")
    op.drop_table("commerce_variants")
    op.drop_index(op.f("ix_commerce_product_translations_tenant_id"), table_name="commerce_product_translations")
    op.drop_table("commerce_product_translations")
    op.drop_index(op.f("ix_commerce_product_images_tenant_id"), table_name="commerce_product_images")
    op.drop_index("ix_commerce_product_images_product_id_position", table_name="commerce_product_images")
    op.drop_table("commerce_product_images")
    op.drop_index(op.f("ix_commerce_product_categories_tenant_id"), table_name="commerce_product_categories")
    op.drop_index("ix_commerce_product_categories_category_id", table_name="commerce_product_categories")
    op.drop_table("commerce_product_categories")
    op.drop_index(op.f("ix_commerce_payments_tenant_id"), table_name="commerce_payments")
    op.drop_index("ix_commerce_payments_order_id", table_name="commerce_payments")
    op.drop_table("commerce_payments")
    op.drop_index(op.f("ix_commerce_order_status_history_tenant_id"), table_name="commerce_order_status_history")
    op.drop_index("ix_commerce_order_status_history_order_id", table_name="commerce_order_status_history")
    op.drop_table("commerce_order_status_history")
    op.drop_index(op.f("ix_commerce_options_tenant_id"), table_name="commerce_options")
    op.drop_table("commerce_options")
    op.drop_index(op.f("ix_commerce_inventory_levels_tenant_id"), table_name="commerce_inventory_levels")
    op.drop_index("ix_commerce_inventory_levels_location_id", table_name="commerce_inventory_levels")
    op.drop_table("commerce_inventory_levels")
    op.drop_index(op.f("ix_commerce_category_translations_tenant_id"), table_name="commerce_category_translations")
    op.drop_table("commerce_category_translations")
    op.drop_index("ix_commerce_carts_tenant_id_customer_id", table_name="commerce_carts")
    op.drop_index(op.f("ix_commerce_carts_tenant_id"), table_name="commerce_carts")
    op.drop_table("commerce_carts")
    op.drop_index(op.f("ix_commerce_tax_rates_tenant_id"), table_name="commerce_tax_rates")
    op.drop_table("commerce_tax_rates")
    op.drop_index(op.f("ix_commerce_store_settings_tenant_id"), table_name="commerce_store_settings")
    op.drop_table("commerce_store_settings")
    op.drop_index(op.f("ix_commerce_stock_locations_tenant_id"), table_name="commerce_stock_locations")
    op.drop_table("commerce_stock_locations")
    op.drop_index(op.f("ix_commerce_shipping_options_tenant_id"), table_name="commerce_shipping_options")
    op.drop_table("commerce_shipping_options")
    op.drop_index("ix_commerce_products_tenant_id_status_created_at", table_name="commerce_products")
    op.drop_index(op.f("ix_commerce_products_tenant_id"), table_name="commerce_products")
    op.drop_table("commerce_products")
    op.drop_index(op.f("ix_commerce_price_lists_tenant_id"), table_name="commerce_price_lists")
    op.drop_table("commerce_price_lists")
    op.drop_index("ix_commerce_orders_tenant_id_status", table_name="commerce_orders")
    op.drop_index("ix_commerce_orders_tenant_id_display_id", table_name="commerce_orders")
    op.drop_index("ix_commerce_orders_tenant_id_customer_id_created_at", table_name="commerce_orders")
    op.drop_index("ix_commerce_orders_tenant_id_created_at", table_name="commerce_orders")
    op.drop_index(op.f("ix_commerce_orders_tenant_id"), table_name="commerce_orders")
    op.drop_index("ix_commerce_orders_id", table_name="commerce_orders")
    op.drop_table("commerce_orders")
    op.drop_index(op.f("ix_commerce_order_counters_tenant_id"), table_name="commerce_order_counters")
    op.drop_table("commerce_order_counters")
    op.drop_index(op.f("ix_commerce_inventory_items_tenant_id"), table_name="commerce_inventory_items")
    op.drop_table("commerce_inventory_items")
    op.drop_index("ix_commerce_categories_tenant_id_parent_id_rank", table_name="commerce_categories")
    op.drop_index(op.f("ix_commerce_categories_tenant_id"), table_name="commerce_categories")
    op.drop_table("commerce_categories")
