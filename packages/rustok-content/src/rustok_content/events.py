"""Domain events of the content module (``content.*``).

Every write of the content services publishes one of these in the same transaction.
Payloads carry ids and what a consumer needs to decide whether to care (kind,
locales, status); consumers that need the content ask the module for it (the index
does so through ``rustok_index_documents``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from rustok_core.events import DomainEvent


class NodeEvent(DomainEvent):
    node_id: uuid.UUID
    kind: str
    parent_id: uuid.UUID | None = None
    root_id: uuid.UUID | None = None


class NodeCreated(NodeEvent):
    event_type = "content.node.created"
    status: str
    locales: list[str]
    author_id: uuid.UUID | None = None


class NodeUpdated(NodeEvent):
    event_type = "content.node.updated"
    version: int
    changed: list[str] = Field(description="What changed: field names and 'translation:<locale>' entries.")
    locales: list[str]


class NodePublished(NodeEvent):
    event_type = "content.node.published"
    published_at: datetime
    locales: list[str]


class NodeUnpublished(NodeEvent):
    event_type = "content.node.unpublished"
    status: str = Field(description="The status it moved to: draft or archived.")


class NodeDeleted(NodeEvent):
    event_type = "content.node.deleted"
    descendants: int = Field(0, description="Nodes below it that were deleted with it.")


class CategoryEvent(DomainEvent):
    category_id: uuid.UUID
    kind: str
    slug: str


class CategoryCreated(CategoryEvent):
    event_type = "content.category.created"


class CategoryUpdated(CategoryEvent):
    event_type = "content.category.updated"


class CategoryDeleted(CategoryEvent):
    event_type = "content.category.deleted"


class TagEvent(DomainEvent):
    tag_id: uuid.UUID
    tag: str = Field(description="The tag's slug.")
    target_type: str
    target_id: uuid.UUID


class TagAttached(TagEvent):
    event_type = "content.tag.attached"


class TagDetached(TagEvent):
    event_type = "content.tag.detached"


class TagRenamed(DomainEvent):
    """A tag's name (and so its slug) changed; every target keeps it under the new slug."""

    event_type = "content.tag.renamed"
    tag_id: uuid.UUID
    tag: str = Field(description="The tag's new slug.")
    previous: str = Field(description="The slug it had before.")


class MetaUpdated(DomainEvent):
    event_type = "content.meta.updated"
    target_type: str
    target_id: uuid.UUID
    locale: str


class MediaEvent(DomainEvent):
    media_id: uuid.UUID
    content_type: str


class MediaUploaded(MediaEvent):
    event_type = "content.media.uploaded"
    size_bytes: int
    uploader_id: uuid.UUID | None = None


class MediaUpdated(MediaEvent):
    event_type = "content.media.updated"
    locales: list[str]


class MediaDeleted(MediaEvent):
    event_type = "content.media.deleted"


EVENT_TYPES: tuple[type[DomainEvent], ...] = (
    NodeCreated,
    NodeUpdated,
    NodePublished,
    NodeUnpublished,
    NodeDeleted,
    CategoryCreated,
    CategoryUpdated,
    CategoryDeleted,
    TagAttached,
    TagDetached,
    TagRenamed,
    MetaUpdated,
    MediaUploaded,
    MediaUpdated,
    MediaDeleted,
)
