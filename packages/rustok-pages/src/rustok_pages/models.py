"""The tables the pages module owns (all tenant-owned).

Pages are content nodes (kind ``page``): the content module stores them. Pages own
what content has no notion of: the typed blocks of a page in a locale, and menus.
Page and node ids in these tables are plain UUID columns: modules never reference
another module's tables (only ``tenants``), so the services check ids through the
content services and an event handler removes links to deleted nodes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
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

BLOCK_TYPES = ("hero", "text", "image", "gallery", "cta", "product_list")


class PageBlock(TenantOwned, Timestamped, Base):
    """One typed block of a page in one locale; ``data`` was validated against its type's schema."""

    __tablename__ = "pages_blocks"
    __table_args__ = (
        # Leads with tenant_id: it is also the index that serves "the blocks of these pages".
        UniqueConstraint("tenant_id", "page_id", "locale", "position"),
        CheckConstraint(
            "type IN ('hero', 'text', 'image', 'gallery', 'cta', 'product_list')",
            name="type",
        ),
        CheckConstraint("position >= 0", name="position"),
    )

    id: Mapped[uuid.UUID] = id_column()
    page_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    """The page (a content node of kind ``page``); no foreign key across the module boundary."""
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    html: Mapped[str | None] = mapped_column(Text)
    """Sanitized HTML rendered from a text block's source (``None`` for other types)."""


class Menu(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "pages_menus"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[uuid.UUID] = id_column()
    slug: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)


class MenuItem(TenantOwned, Base):
    """A link in a menu's tree: to a page, to any content node, or to a URL (exactly one)."""

    __tablename__ = "pages_menu_items"
    __table_args__ = (
        CheckConstraint("num_nonnulls(page_id, node_id, url) = 1", name="one_link"),
        CheckConstraint("position >= 0", name="position"),
        Index("ix_pages_menu_items_tenant_id_menu_id_position", "tenant_id", "menu_id", "position"),
        Index("ix_pages_menu_items_tenant_id_page_id", "tenant_id", "page_id"),
        Index("ix_pages_menu_items_tenant_id_node_id", "tenant_id", "node_id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    menu_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pages_menus.id", ondelete="CASCADE"), nullable=False)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pages_menu_items.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    labels: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )
    """``{locale: label}``; page and node links fall back to the node's title."""
    page_id: Mapped[uuid.UUID | None] = mapped_column()
    node_id: Mapped[uuid.UUID | None] = mapped_column()
    url: Mapped[str | None] = mapped_column(String(2048))
    open_in_new_tab: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
