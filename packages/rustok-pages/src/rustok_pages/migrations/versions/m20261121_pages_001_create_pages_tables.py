"""create the pages tables: blocks, menus, menu items

Revision ID: pages_001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "pages_001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("pages",)
# The tenants table comes from the tenant module's first revision. Page and node ids
# are plain UUID columns: no foreign keys into the content module's tables.
depends_on: str | Sequence[str] | None = ("tenant_001",)


def upgrade() -> None:
    op.create_table(
        "pages_blocks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("page_id", sa.UUID(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "type IN ('hero', 'text', 'image', 'gallery', 'cta', 'product_list')", name=op.f("ck_pages_blocks_type")
        ),
        sa.CheckConstraint("position >= 0", name=op.f("ck_pages_blocks_position")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pages_blocks_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages_blocks")),
        sa.UniqueConstraint(
            "tenant_id", "page_id", "locale", "position", name=op.f("uq_pages_blocks_tenant_id_page_id_locale_position")
        ),
    )
    op.create_index(op.f("ix_pages_blocks_tenant_id"), "pages_blocks", ["tenant_id"], unique=False)

    op.create_table(
        "pages_menus",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pages_menus_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages_menus")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_pages_menus_tenant_id_slug")),
    )
    op.create_index(op.f("ix_pages_menus_tenant_id"), "pages_menus", ["tenant_id"], unique=False)

    op.create_table(
        "pages_menu_items",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("menu_id", sa.UUID(), nullable=False),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "labels", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("page_id", sa.UUID(), nullable=True),
        sa.Column("node_id", sa.UUID(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("open_in_new_tab", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("num_nonnulls(page_id, node_id, url) = 1", name=op.f("ck_pages_menu_items_one_link")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_pages_menu_items_position")),
        sa.ForeignKeyConstraint(
            ["menu_id"], ["pages_menus.id"], name=op.f("fk_pages_menu_items_menu_id_pages_menus"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["pages_menu_items.id"],
            name=op.f("fk_pages_menu_items_parent_id_pages_menu_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pages_menu_items_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages_menu_items")),
    )
    op.create_index(op.f("ix_pages_menu_items_tenant_id"), "pages_menu_items", ["tenant_id"], unique=False)
    op.create_index(
        "ix_pages_menu_items_tenant_id_menu_id_position",
        "pages_menu_items",
        ["tenant_id", "menu_id", "position"],
        unique=False,
    )
    op.create_index("ix_pages_menu_items_tenant_id_page_id", "pages_menu_items", ["tenant_id", "page_id"], unique=False)
    op.create_index("ix_pages_menu_items_tenant_id_node_id", "pages_menu_items", ["tenant_id", "node_id"], unique=False)


def downgrade() -> None:
    op.drop_table("pages_menu_items")
    op.drop_table("pages_menus")
    op.drop_table("pages_blocks")
