"""The tables the content module owns (all tenant-owned).

Nodes carry what every kind of content shares (kind, status, tree position,
counters, flags); translatable text lives in ``node_translations`` with one
``bodies`` row per translation; every change of a translation leaves the previous
text in ``node_revisions``. Categories, tags, SEO meta and media are separate
aggregates that nodes (and other modules' entities, by ``target_type``) refer to.
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

NODE_STATUSES = ("draft", "published", "archived")
BODY_FORMATS = ("markdown", "html", "json")


class Node(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "nodes"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'archived')", name="status"),
        CheckConstraint("depth >= 0 AND reply_count >= 0", name="counters"),
        Index("ix_nodes_tenant_id_kind_status_published_at", "tenant_id", "kind", "status", "published_at"),
        Index("ix_nodes_tenant_id_parent_id_position", "tenant_id", "parent_id", "position"),
        Index("ix_nodes_tenant_id_root_id", "tenant_id", "root_id"),
        Index("ix_nodes_tenant_id_category_id", "tenant_id", "category_id"),
        Index("ix_nodes_tenant_id_author_id", "tenant_id", "author_id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="draft", default="draft")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    root_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    """The top of the node's tree (``None`` for a root); replies are counted there."""
    author_id: Mapped[uuid.UUID | None] = mapped_column()
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    depth: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    reply_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    """Published descendants of a root node (comments of a post, replies of a topic)."""
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    """Closed for replies: no node may be added below it."""
    node_metadata: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NodeTranslation(TenantOwned, Timestamped, Base):
    __tablename__ = "node_translations"
    __table_args__ = (
        UniqueConstraint("node_id", "locale"),
        # Slugs are unique per tenant, locale and kind (a post and a page may share one).
        UniqueConstraint("tenant_id", "kind", "locale", "slug"),
    )

    id: Mapped[uuid.UUID] = id_column()
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    title: Mapped[str] = mapped_column(String(512), nullable=False)
    slug: Mapped[str] = mapped_column(String(512), nullable=False)
    excerpt: Mapped[str | None] = mapped_column(Text)


class Body(TenantOwned, Base):
    """The text of one translation: the source as written and its sanitized HTML."""

    __tablename__ = "bodies"
    __table_args__ = (CheckConstraint("format IN ('markdown', 'html', 'json')", name="format"),)

    translation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("node_translations.id", ondelete="CASCADE"), primary_key=True
    )
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    html: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class NodeRevision(TenantOwned, Base):
    """A translation as it was before an update (restorable)."""

    __tablename__ = "node_revisions"
    __table_args__ = (Index("ix_node_revisions_tenant_id_node_id_locale", "tenant_id", "node_id", "locale"),)

    id: Mapped[uuid.UUID] = id_column()
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False)
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    node_version: Mapped[int] = mapped_column(Integer, nullable=False)
    """The node's version while this text was current."""
    title: Mapped[str] = mapped_column(String(512), nullable=False)
    slug: Mapped[str] = mapped_column(String(512), nullable=False)
    excerpt: Mapped[str | None] = mapped_column(Text)
    body_format: Mapped[str | None] = mapped_column(String(16))
    body_source: Mapped[str | None] = mapped_column(Text)
    edited_by: Mapped[uuid.UUID | None] = mapped_column()
    """Who replaced this text (the author of the change that archived it)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Category(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "categories"
    # ``kind`` scopes a category tree to one use (blog, forum, ...): slugs are unique within it.
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "slug"),
        Index("ix_categories_tenant_id_parent_id", "tenant_id", "parent_id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    kind: Mapped[str] = mapped_column(String(32), nullable=False, default="content", server_default="content")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    slug: Mapped[str] = mapped_column(String(200), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    depth: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))


class CategoryTranslation(TenantOwned, Base):
    __tablename__ = "category_translations"
    __table_args__ = (UniqueConstraint("category_id", "locale"),)

    id: Mapped[uuid.UUID] = id_column()
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), nullable=False)
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)


class Tag(TenantOwned, Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"), CheckConstraint("use_count >= 0", name="use_count"))

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    slug: Mapped[str] = mapped_column(String(100), nullable=False)
    use_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Taggable(TenantOwned, Base):
    """A tag on a target (``target_type`` + ``target_id``; nodes use ``node``)."""

    __tablename__ = "taggables"
    __table_args__ = (Index("ix_taggables_tenant_id_target_type_target_id", "tenant_id", "target_type", "target_id"),)

    tag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    target_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    target_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Meta(TenantOwned, Timestamped, Versioned, Base):
    """SEO and OpenGraph data of one target in one locale."""

    __tablename__ = "meta"
    __table_args__ = (UniqueConstraint("tenant_id", "target_type", "target_id", "locale"),)

    id: Mapped[uuid.UUID] = id_column()
    target_type: Mapped[str] = mapped_column(String(32), nullable=False)
    target_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    title: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[str | None] = mapped_column(String(500))
    canonical_url: Mapped[str | None] = mapped_column(String(2000))
    og_title: Mapped[str | None] = mapped_column(String(300))
    og_description: Mapped[str | None] = mapped_column(Text)
    og_image_url: Mapped[str | None] = mapped_column(String(2000))
    noindex: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    nofollow: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    structured_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Media(TenantOwned, Timestamped, Versioned, Base):
    __tablename__ = "media"

    id: Mapped[uuid.UUID] = id_column()
    uploader_id: Mapped[uuid.UUID | None] = mapped_column()
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    storage_key: Mapped[str] = mapped_column(String(500), nullable=False)
    checksum_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)


class MediaTranslation(TenantOwned, Base):
    __tablename__ = "media_translations"
    __table_args__ = (UniqueConstraint("media_id", "locale"),)

    id: Mapped[uuid.UUID] = id_column()
    media_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), nullable=False)
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    alt_text: Mapped[str | None] = mapped_column(String(500))
    caption: Mapped[str | None] = mapped_column(Text)
