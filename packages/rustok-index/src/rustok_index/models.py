"""The read-model tables (all tenant-owned, written only by :mod:`rustok_index.services.writer`).

One row per (entity, locale), shaped for the storefront: everything a listing, a
detail page or a search hit shows is on the row, so a read is one indexed query with
no join against a write table. ``search_vector`` is built in SQL on every write with
the locale's text-search configuration (``search_config``), weighted: title A;
subtitle, excerpt and tags B; description or body C.

Prices per currency live beside the product rows in ``index_product_prices`` (one
row per product, locale and currency) so that a price filter or sort in any currency
walks one B-tree ``(tenant_id, locale, currency, min_price, product_id)`` instead of
reading a JSON document per product.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, REGCONFIG, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from rustok_core.db import Base, TenantOwned
from rustok_core.db.base import id_column


class _IndexRow(TenantOwned):
    """Columns every read-model row has."""

    id: Mapped[uuid.UUID] = id_column()
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    locales: Mapped[list[str]] = mapped_column(
        ARRAY(String(10)), nullable=False, server_default=text("'{}'::varchar[]")
    )
    """Every locale the entity has a row in: a read falls back to the default locale
    for entities that lack the asked one without looking at their other rows."""
    module: Mapped[str] = mapped_column(String(32), nullable=False)
    """The module that shows the document; the storefront hides modules a tenant has off."""
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))
    meta_title: Mapped[str | None] = mapped_column(Text)
    meta_description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    listed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    """What NEWEST sorts by: ``published_at``, else the source's creation, else first indexing."""
    search_config: Mapped[str] = mapped_column(REGCONFIG, nullable=False)
    search_vector: Mapped[str] = mapped_column(TSVECTOR, nullable=False)
    indexed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=text("now()"))


class IndexProduct(_IndexRow, Base):
    __tablename__ = "index_products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "product_id", "locale"),
        Index("ix_index_products_tenant_id_handle_locale", "tenant_id", "handle", "locale"),
        Index("ix_index_products_tenant_id_locale_listed_at", "tenant_id", "locale", "listed_at", "product_id"),
        Index("ix_index_products_tenant_id_locale_title", "tenant_id", "locale", "title", "product_id"),
        Index("ix_index_products_category_handles", "category_handles", postgresql_using="gin"),
        Index("ix_index_products_tags", "tags", postgresql_using="gin"),
        Index("ix_index_products_search_vector", "search_vector", postgresql_using="gin"),
        Index(
            "ix_index_products_title_trgm", "title", postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"}
        ),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    handle: Mapped[str] = mapped_column(Text, nullable=False)
    subtitle: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    prices: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    """``{"EUR": {"min": 1999, "max": 2499}}`` in minor units (display; filters use the price rows)."""
    currencies: Mapped[list[str]] = mapped_column(
        ARRAY(String(3)), nullable=False, server_default=text("'{}'::varchar[]")
    )
    total_stock: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    has_stock: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    categories: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    """``[{"id": ..., "handle": ..., "name": ...}]``."""
    category_handles: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    thumbnail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IndexProductPrice(TenantOwned, Base):
    """A product's price range in one currency and locale (the filterable, sortable copy)."""

    __tablename__ = "index_product_prices"
    __table_args__ = (
        Index(
            "ix_index_product_prices_tenant_id_locale_currency_min_price",
            "tenant_id",
            "locale",
            "currency",
            "min_price",
            "product_id",
        ),
    )

    index_product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("index_products.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    min_price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    max_price: Mapped[int] = mapped_column(BigInteger, nullable=False)


class IndexContent(_IndexRow, Base):
    __tablename__ = "index_content"
    __table_args__ = (
        UniqueConstraint("tenant_id", "node_id", "locale"),
        Index("ix_index_content_tenant_id_kind_slug", "tenant_id", "kind", "slug"),
        Index("ix_index_content_tenant_id_kind_listed_at", "tenant_id", "kind", "listed_at", "node_id"),
        Index(
            "ix_index_content_tenant_id_kind_category_slug_listed_at",
            "tenant_id",
            "kind",
            "category_slug",
            "listed_at",
            "node_id",
        ),
        Index("ix_index_content_tenant_id_category_id", "tenant_id", "category_id"),
        Index("ix_index_content_tenant_id_root_id", "tenant_id", "root_id"),
        Index("ix_index_content_tags", "tags", postgresql_using="gin"),
        Index("ix_index_content_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_index_content_title_trgm", "title", postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"}),
    )

    node_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    slug: Mapped[str] = mapped_column(Text, nullable=False)
    excerpt: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("''"))
    """The whole body as plain text (highlights are cut from it); listings read the preview."""
    body_preview: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("''"))
    body_html: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("''"))
    """The sanitized HTML body, for item pages (listings never read it)."""
    author_id: Mapped[uuid.UUID | None] = mapped_column()
    author_name: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[uuid.UUID | None] = mapped_column()
    category_name: Mapped[str | None] = mapped_column(Text)
    category_slug: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[uuid.UUID | None] = mapped_column()
    root_id: Mapped[uuid.UUID | None] = mapped_column()
    reply_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
