"""Posts: content nodes of kind ``post``, filed in blog categories (content categories of kind ``blog``).

Everything is written through content's services, so a post gets translations with
rendered bodies, revisions, tags, slugs unique per locale, versions and content's
``content.node.*`` events for free. What this service adds is the blog's rules: a
post is always a root node and its category must be a blog category.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rustok_content.models import Node
from rustok_content.services import (
    KEEP,
    CategoryService,
    Keep,
    NewNode,
    NodeChanges,
    NodeQuery,
    NodeService,
    TranslationInput,
    make_slug,
)
from rustok_core.context import AppContext, TenantContext
from rustok_core.errors import FieldError, NotFound, Validation
from rustok_core.pagination import connection, page_size

POST_KIND = "post"
CATEGORY_KIND = "blog"
MAX_TAG_SLUG = 100


@dataclass(frozen=True)
class NewPost:
    translations: Sequence[TranslationInput]
    status: str = "draft"
    category_id: uuid.UUID | None = None
    tags: Sequence[str] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    pinned: bool = False
    locked: bool = False
    """Closed for comments."""
    author_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PostChanges:
    """An update: only what is given changes (``KEEP``/``None`` leave a field alone)."""

    translations: Sequence[TranslationInput] = ()
    remove_locales: Sequence[str] = ()
    category_id: uuid.UUID | Keep | None = KEEP
    """``None`` takes the post out of its category."""
    tags: Sequence[str] | None = None
    """The complete new set of tags; ``None`` keeps them."""
    metadata: Mapping[str, Any] | None = None
    pinned: bool | None = None
    locked: bool | None = None

    def as_node_changes(self) -> NodeChanges:
        return NodeChanges(
            translations=self.translations,
            remove_locales=self.remove_locales,
            category_id=self.category_id,
            tags=self.tags,
            metadata=self.metadata,
            pinned=self.pinned,
            locked=self.locked,
        )


@dataclass(frozen=True)
class PostQuery:
    """Posts to list, latest published first (drafts by creation time)."""

    statuses: Sequence[str] | None = ("published",)
    """``None``: any status."""
    category_id: uuid.UUID | None = None
    category_slug: str | None = None
    tag: str | None = None
    """A tag's slug (a tag name is turned into its slug)."""
    author_id: uuid.UUID | None = None
    first: int = 20
    after: str | None = None


class PostService:
    """Writes and reads posts; every method names its tenant."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.nodes = NodeService(ctx)
        self.categories = CategoryService(ctx)

    async def create(self, tenant: TenantContext, draft: NewPost, *, actor_id: uuid.UUID | None) -> Node:
        """Create a post (``draft`` or ``published`` right away) with its translations and tags."""
        if draft.category_id is not None:
            await self._require_category(tenant.id, draft.category_id)
        return await self.nodes.create(
            tenant,
            NewNode(
                kind=POST_KIND,
                translations=draft.translations,
                status=draft.status,
                category_id=draft.category_id,
                tags=draft.tags,
                metadata=draft.metadata,
                pinned=draft.pinned,
                locked=draft.locked,
                author_id=draft.author_id,
            ),
            actor_id=actor_id,
        )

    async def update(
        self,
        tenant: TenantContext,
        post_id: uuid.UUID,
        changes: PostChanges,
        *,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
        status: str | None = None,
    ) -> Node:
        """Apply ``changes`` (and move to ``status`` when given) in one transaction."""
        if isinstance(changes.category_id, uuid.UUID):
            await self._require_category(tenant.id, changes.category_id)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            node = await self.nodes.update(
                tenant,
                post_id,
                changes.as_node_changes(),
                expected_version=expected_version,
                actor_id=actor_id,
                kind=POST_KIND,
                session=session,
            )
            if status is not None:
                node = await self.nodes.set_status(
                    tenant, post_id, status, actor_id=actor_id, kind=POST_KIND, session=session
                )
        return node

    async def set_status(
        self,
        tenant: TenantContext,
        post_id: uuid.UUID,
        status: str,
        *,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
    ) -> Node:
        """Publish (``published``), unpublish (``draft``) or archive (``archived``)."""
        return await self.nodes.set_status(
            tenant, post_id, status, expected_version=expected_version, actor_id=actor_id, kind=POST_KIND
        )

    async def delete(
        self, tenant: TenantContext, post_id: uuid.UUID, *, expected_version: int | None, actor_id: uuid.UUID | None
    ) -> Node:
        """Delete a post with all its comments."""
        return await self.nodes.delete(
            tenant, post_id, expected_version=expected_version, actor_id=actor_id, kind=POST_KIND
        )

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, post_id: uuid.UUID) -> Node:
        return await self.nodes.get(tenant_id, post_id, kind=POST_KIND)

    async def find_by_slug(self, tenant: TenantContext, slug: str, *, locale: str | None) -> Node:
        """The post with ``slug`` in ``locale``, else in the tenant's default locale, else in any."""
        return await self.nodes.find_by_slug(tenant, POST_KIND, slug, locale=locale)

    async def page(self, tenant_id: uuid.UUID, query: PostQuery) -> dict[str, Any]:
        """A Relay connection of posts; an unknown category slug or tag gives an empty page."""
        category_id = query.category_id
        if query.category_slug is not None:
            if category_id is not None:
                message = "give categoryId or categorySlug, not both"
                raise Validation(message, errors=[FieldError(("categorySlug",), message)])
            try:
                category = await self.categories.find_by_slug(tenant_id, CATEGORY_KIND, query.category_slug)
            except NotFound:
                return connection([], page_size(query.first), str)
            category_id = category.id
        tag = None
        if query.tag is not None:
            tag = make_slug(query.tag, max_length=MAX_TAG_SLUG)
            if not tag:
                return connection([], page_size(query.first), str)
        page: dict[str, Any] = await self.nodes.page(
            tenant_id,
            NodeQuery(
                kind=POST_KIND,
                statuses=query.statuses,
                parent_id=None,
                category_id=category_id,
                tag=tag,
                author_id=query.author_id,
                order="published",
                first=query.first,
                after=query.after,
            ),
        )
        return page

    async def _require_category(self, tenant_id: uuid.UUID, category_id: uuid.UUID) -> None:
        try:
            await self.categories.get(tenant_id, category_id, kind=CATEGORY_KIND)
        except NotFound:
            message = "no blog category with this id"
            raise Validation(message, errors=[FieldError(("categoryId",), message)]) from None
