"""create the index tables: products (with per-currency price rows) and content, searchable

Revision ID: index_001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "index_001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("index",)
# The tenants table comes from the tenant module's first revision.
depends_on: str | Sequence[str] | None = ("tenant_001",)


def upgrade() -> None:
    # Trigram operators for the did-you-mean suggestions (a trusted extension: the
    # database owner may create it). Left in place on downgrade: others may use it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "index_content",
        sa.Column("node_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("body_preview", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("body_html", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("author_id", sa.UUID(), nullable=True),
        sa.Column("author_name", sa.Text(), nullable=True),
        sa.Column("category_id", sa.UUID(), nullable=True),
        sa.Column("category_name", sa.Text(), nullable=True),
        sa.Column("category_slug", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("root_id", sa.UUID(), nullable=True),
        sa.Column("reply_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("locales", sa.ARRAY(sa.String(length=10)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("tags", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("meta_title", sa.Text(), nullable=True),
        sa.Column("meta_description", sa.Text(), nullable=True),
        sa.Column(
            "extra", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("search_config", postgresql.REGCONFIG(), nullable=False),
        sa.Column("search_vector", postgresql.TSVECTOR(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_index_content_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_content")),
        sa.UniqueConstraint("tenant_id", "node_id", "locale", name=op.f("uq_index_content_tenant_id_node_id_locale")),
    )
    op.create_index(
        "ix_index_content_search_vector", "index_content", ["search_vector"], unique=False, postgresql_using="gin"
    )
    op.create_index("ix_index_content_tags", "index_content", ["tags"], unique=False, postgresql_using="gin")
    op.create_index(op.f("ix_index_content_tenant_id"), "index_content", ["tenant_id"], unique=False)
    op.create_index(
        "ix_index_content_tenant_id_category_id", "index_content", ["tenant_id", "category_id"], unique=False
    )
    op.create_index(
        "ix_index_content_tenant_id_kind_category_slug_listed_at",
        "index_content",
        ["tenant_id", "kind", "category_slug", "listed_at", "node_id"],
        unique=False,
    )
    op.create_index(
        "ix_index_content_tenant_id_kind_listed_at",
        "index_content",
        ["tenant_id", "kind", "listed_at", "node_id"],
        unique=False,
    )
    op.create_index(
        "ix_index_content_tenant_id_kind_slug", "index_content", ["tenant_id", "kind", "slug"], unique=False
    )
    op.create_index("ix_index_content_tenant_id_root_id", "index_content", ["tenant_id", "root_id"], unique=False)
    op.create_index(
        "ix_index_content_title_trgm",
        "index_content",
        ["title"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_table(
        "index_products",
        sa.Column("product_id", sa.UUID(), nullable=False),
        sa.Column("handle", sa.Text(), nullable=False),
        sa.Column("subtitle", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "prices", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column(
            "currencies", sa.ARRAY(sa.String(length=3)), server_default=sa.text("'{}'::varchar[]"), nullable=False
        ),
        sa.Column("total_stock", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("has_stock", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "categories", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("category_handles", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("thumbnail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("locales", sa.ARRAY(sa.String(length=10)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("tags", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("meta_title", sa.Text(), nullable=True),
        sa.Column("meta_description", sa.Text(), nullable=True),
        sa.Column(
            "extra", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("search_config", postgresql.REGCONFIG(), nullable=False),
        sa.Column("search_vector", postgresql.TSVECTOR(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_index_products_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_products")),
        sa.UniqueConstraint(
            "tenant_id", "product_id", "locale", name=op.f("uq_index_products_tenant_id_product_id_locale")
        ),
    )
    op.create_index(
        "ix_index_products_category_handles",
        "index_products",
        ["category_handles"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_index_products_search_vector", "index_products", ["search_vector"], unique=False, postgresql_using="gin"
    )
    op.create_index("ix_index_products_tags", "index_products", ["tags"], unique=False, postgresql_using="gin")
    op.create_index(op.f("ix_index_products_tenant_id"), "index_products", ["tenant_id"], unique=False)
    op.create_index(
        "ix_index_products_tenant_id_handle_locale", "index_products", ["tenant_id", "handle", "locale"], unique=False
    )
    op.create_index(
        "ix_index_products_tenant_id_locale_listed_at",
        "index_products",
        ["tenant_id", "locale", "listed_at", "product_id"],
        unique=False,
    )
    op.create_index(
        "ix_index_products_tenant_id_locale_title",
        "index_products",
        ["tenant_id", "locale", "title", "product_id"],
        unique=False,
    )
    op.create_index(
        "ix_index_products_title_trgm",
        "index_products",
        ["title"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_table(
        "index_product_prices",
        sa.Column("index_product_id", sa.UUID(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("product_id", sa.UUID(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("min_price", sa.BigInteger(), nullable=False),
        sa.Column("max_price", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["index_product_id"],
            ["index_products.id"],
            name=op.f("fk_index_product_prices_index_product_id_index_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_index_product_prices_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("index_product_id", "currency", name=op.f("pk_index_product_prices")),
    )
    op.create_index(op.f("ix_index_product_prices_tenant_id"), "index_product_prices", ["tenant_id"], unique=False)
    op.create_index(
        "ix_index_product_prices_tenant_id_locale_currency_min_price",
        "index_product_prices",
        ["tenant_id", "locale", "currency", "min_price", "product_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_index_product_prices_tenant_id_locale_currency_min_price", table_name="index_product_prices")
    op.drop_index(op.f("ix_index_product_prices_tenant_id"), table_name="index_product_prices")
    op.drop_table("index_product_prices")
    op.drop_index(
        "ix_index_products_title_trgm",
        table_name="index_products",
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.drop_index("ix_index_products_tenant_id_locale_title", table_name="index_products")
    op.drop_index("ix_index_products_tenant_id_locale_listed_at", table_name="index_products")
    op.drop_index("ix_index_products_tenant_id_handle_locale", table_name="index_products")
    op.drop_index(op.f("ix_index_products_tenant_id"), table_name="index_products")
    op.drop_index("ix_index_products_tags", table_name="index_products", postgresql_using="gin")
    op.drop_index("ix_index_products_search_vector", table_name="index_products", postgresql_using="gin")
    op.drop_index("ix_index_products_category_handles", table_name="index_products", postgresql_using="gin")
    op.drop_table("index_products")
    op.drop_index(
        "ix_index_content_title_trgm",
        table_name="index_content",
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.drop_index("ix_index_content_tenant_id_root_id", table_name="index_content")
    op.drop_index("ix_index_content_tenant_id_kind_slug", table_name="index_content")
    op.drop_index("ix_index_content_tenant_id_kind_listed_at", table_name="index_content")
    op.drop_index("ix_index_content_tenant_id_kind_category_slug_listed_at", table_name="index_content")
    op.drop_index("ix_index_content_tenant_id_category_id", table_name="index_content")
    op.drop_index(op.f("ix_index_content_tenant_id"), table_name="index_content")
    op.drop_index("ix_index_content_tags", table_name="index_content", postgresql_using="gin")
    op.drop_index("ix_index_content_search_vector", table_name="index_content", postgresql_using="gin")
    op.drop_table("index_content")
