"""Read-model documents: what an owning module hands the index for one entity.

The index never reads another module's tables. When an entity changes, the index
calls ``rustok_index_documents(ctx, session, tenant_id, entity_type, entity_ids)``
and the module that owns ``entity_type`` answers with one document per (entity,
locale) it wants on the storefront. An entity with no document (deleted, draft,
archived) leaves the index. For a rebuild the index pages through the owner's ids
with ``rustok_index_entity_ids``. The shapes below are the contract between the
owners (content, commerce, ...) and the index module.

``module`` on a document names the module that shows it to the public when that is
not the owner (a blog post is a content node shown by ``blog``): the storefront
hides documents of modules a tenant has disabled, and the index drops them when the
tenant disables that module. Left ``None``, it is the owning module.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PRODUCT = "product"
CONTENT = "content"
ENTITY_TYPES = (PRODUCT, CONTENT)


@dataclass(frozen=True)
class PriceRange:
    """The cheapest and dearest unit price of a product's variants in one currency (minor units)."""

    min: int
    max: int


@dataclass(frozen=True)
class CategoryRef:
    id: uuid.UUID
    handle: str
    name: str


@dataclass(frozen=True)
class ProductDocument:
    """A product as the storefront shows it in one locale."""

    product_id: uuid.UUID
    locale: str
    handle: str
    title: str
    status: str
    subtitle: str | None = None
    description: str | None = None
    prices: Mapping[str, PriceRange] = field(default_factory=dict)
    """Per ISO-4217 currency code."""
    total_stock: int = 0
    has_stock: bool = False
    """Whether any variant can be bought now (stock available, backorders or unmanaged)."""
    categories: Sequence[CategoryRef] = ()
    """The product's categories; list their ancestors too when a filter by a parent
    category should find it (the index matches ``categoryHandle`` against these)."""
    tags: Sequence[str] = ()
    seo_title: str | None = None
    seo_description: str | None = None
    thumbnail: str | None = None
    """URL of the first image."""
    published_at: datetime | None = None
    created_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """More fields the storefront may show (JSON-serializable)."""
    module: str | None = None
    """The module that shows the product publicly (``None``: the owner)."""

    @property
    def entity_id(self) -> uuid.UUID:
        return self.product_id


@dataclass(frozen=True)
class ContentDocument:
    """A content node (article, post, page, topic, ...) as the storefront shows it in one locale."""

    node_id: uuid.UUID
    locale: str
    kind: str
    title: str
    slug: str
    status: str
    excerpt: str | None = None
    body_text: str = ""
    """The body as plain text (searched; its start is the preview)."""
    body_html: str = ""
    """The body as sanitized HTML, safe to insert into a page (what an item page shows)."""
    author_id: uuid.UUID | None = None
    author_name: str | None = None
    category_id: uuid.UUID | None = None
    category_name: str | None = None
    category_slug: str | None = None
    tags: Sequence[str] = ()
    parent_id: uuid.UUID | None = None
    root_id: uuid.UUID | None = None
    """The top of the node's tree (``None`` for a root): deleting a subtree reaches it."""
    reply_count: int = 0
    seo_title: str | None = None
    seo_description: str | None = None
    published_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """More fields the storefront may show (a page's path, a topic's pinned flag)."""
    module: str | None = None
    """The module that shows this kind publicly (``blog`` for posts; ``None``: the owner)."""

    @property
    def entity_id(self) -> uuid.UUID:
        return self.node_id


IndexDocument = ProductDocument | ContentDocument
DOCUMENT_CLASSES: Mapping[str, type[ProductDocument] | type[ContentDocument]] = {
    PRODUCT: ProductDocument,
    CONTENT: ContentDocument,
}
"""The document class each entity type's owner returns."""
