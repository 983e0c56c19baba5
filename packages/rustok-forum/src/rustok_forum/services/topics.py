"""Topics: content nodes of kind ``topic``, each in a forum category, opened by a first post.

Topics are published when they are created. Their ``reply_count`` and
``last_activity_at`` are kept by content (see :mod:`rustok_forum.services.replies`);
pinning and locking are node flags changed here, each with its forum event in the
same transaction.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rustok_content.models import Node
from rustok_content.services import KEEP, NewNode, NodeChanges, NodeQuery, NodeService, TranslationInput, make_slug
from rustok_content.services.text import invalid
from rustok_core.context import AppContext, TenantContext
from rustok_core.errors import RustokError
from rustok_core.events import DomainEvent, EventPublisher
from rustok_forum.events import TopicLocked, TopicPinned, TopicUnlocked, TopicUnpinned
from rustok_forum.services.categories import ForumCategoryService
from rustok_forum.services.kinds import REPLY, TOPIC
from rustok_forum.services.locks import hold

SLUG_ATTEMPTS = 4
MAX_MADE_SLUG = 120
FLAG_EVENTS: dict[tuple[str, bool], type[TopicLocked | TopicUnlocked | TopicPinned | TopicUnpinned]] = {
    ("locked", True): TopicLocked,
    ("locked", False): TopicUnlocked,
    ("pinned", True): TopicPinned,
    ("pinned", False): TopicUnpinned,
}


@dataclass(frozen=True)
class NewTopic:
    """A topic to open: its category, its title and first post per locale, its tags."""

    category_id: uuid.UUID
    translations: Sequence[TranslationInput]
    tags: Sequence[str] = ()
    author_id: uuid.UUID | None = None


@dataclass(frozen=True)
class TopicChanges:
    """An edit: new text per locale, another category, the complete new set of tags."""

    translations: Sequence[TranslationInput] = ()
    category_id: uuid.UUID | None = None
    """``None`` keeps the category (a topic always has one)."""
    tags: Sequence[str] | None = None


class TopicService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.nodes = NodeService(ctx)
        self.categories = ForumCategoryService(ctx)

    # -- writes ---------------------------------------------------------------------------

    async def create(self, tenant: TenantContext, draft: NewTopic, *, actor_id: uuid.UUID | None) -> Node:
        """Open a published topic.

        Each translation needs a title and a body (the first post). Without a given
        slug one is made from the title; when another topic already uses it a short
        random suffix tells them apart (titles repeat in forums, slugs may not).
        """
        if not draft.translations:
            raise invalid(("translations",), "a topic needs a title and a body")
        for index, translation in enumerate(draft.translations):
            if translation.body is None or not translation.body.source.strip():
                raise invalid(("translations", index, "body"), "a topic needs its first post's text")
        await self.categories.require(tenant.id, draft.category_id, ("categoryId",))
        made = {i for i, t in enumerate(draft.translations) if t.slug is None or not t.slug.strip()}
        translations = [_with_made_slug(t, suffix=False) if i in made else t for i, t in enumerate(draft.translations)]
        for attempt in range(SLUG_ATTEMPTS):
            try:
                return await self.nodes.create(
                    tenant,
                    NewNode(
                        kind=TOPIC,
                        status="published",
                        translations=translations,
                        category_id=draft.category_id,
                        tags=draft.tags,
                        author_id=draft.author_id,
                    ),
                    actor_id=actor_id,
                )
            except RustokError as exc:
                clashing = _slug_clashes(exc)
                if not clashing or not clashing <= made or attempt == SLUG_ATTEMPTS - 1:
                    raise
                translations = [
                    _with_made_slug(t, suffix=True) if i in clashing else t for i, t in enumerate(translations)
                ]
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def update(
        self,
        tenant: TenantContext,
        topic_id: uuid.UUID,
        changes: TopicChanges,
        *,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
    ) -> Node:
        """Edit a topic's text, category or tags (a stale ``expected_version`` is a ``CONFLICT``)."""
        for index, translation in enumerate(changes.translations):
            if translation.body is not None and not translation.body.source.strip():
                raise invalid(("translations", index, "body"), "the first post cannot be empty")
        if changes.category_id is not None:
            await self.categories.require(tenant.id, changes.category_id, ("categoryId",))
        return await self.nodes.update(
            tenant,
            topic_id,
            NodeChanges(
                translations=changes.translations,
                category_id=changes.category_id if changes.category_id is not None else KEEP,
                tags=changes.tags,
            ),
            expected_version=expected_version,
            actor_id=actor_id,
            kind=TOPIC,
        )

    async def set_locked(
        self, tenant: TenantContext, topic_id: uuid.UUID, locked: bool, *, actor_id: uuid.UUID | None
    ) -> Node:
        """Close (``True``) or reopen a topic; nothing is written when it already is."""
        return await self._set_flag(tenant, topic_id, "locked", locked, actor_id)

    async def set_pinned(
        self, tenant: TenantContext, topic_id: uuid.UUID, pinned: bool, *, actor_id: uuid.UUID | None
    ) -> Node:
        """Pin (``True``) or unpin a topic; nothing is written when it already is."""
        return await self._set_flag(tenant, topic_id, "pinned", pinned, actor_id)

    async def _set_flag(
        self, tenant: TenantContext, topic_id: uuid.UUID, name: str, value: bool, actor_id: uuid.UUID | None
    ) -> Node:
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            current = await hold(self.nodes, tenant, topic_id, kind=TOPIC, session=session, actor_id=actor_id)
            if getattr(current, name) == value:
                return current
            changes: dict[str, Any] = {name: value}
            topic = await self.nodes.update(
                tenant,
                topic_id,
                NodeChanges(**changes),
                expected_version=None,
                actor_id=actor_id,
                kind=TOPIC,
                session=session,
            )
            event: DomainEvent = FLAG_EVENTS[(name, value)](topic_id=topic.id, category_id=topic.category_id)
            await self.ctx.services.get(EventPublisher).publish(session, event, tenant_id=tenant.id, actor_id=actor_id)
        return topic

    async def delete(self, tenant: TenantContext, topic_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> Node:
        """Delete a topic with every reply in it."""
        return await self.nodes.delete(tenant, topic_id, kind=TOPIC, actor_id=actor_id)

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, topic_id: uuid.UUID) -> Node:
        return await self.nodes.get(tenant_id, topic_id, kind=TOPIC)

    async def find_by_slug(self, tenant: TenantContext, slug: str, *, locale: str | None = None) -> Node:
        return await self.nodes.find_by_slug(tenant, TOPIC, slug, locale=locale)

    async def page(
        self,
        tenant_id: uuid.UUID,
        *,
        statuses: Sequence[str] | None,
        category_id: uuid.UUID | None = None,
        tag: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> dict[str, Any]:
        """Topics, pinned first, then by latest activity (a Relay connection)."""
        page: dict[str, Any] = await self.nodes.page(
            tenant_id,
            NodeQuery(
                kind=TOPIC,
                statuses=statuses,
                parent_id=None,
                category_id=category_id,
                tag=tag,
                order="activity",
                first=first,
                after=after,
            ),
        )
        return page

    async def has_replies(self, tenant_id: uuid.UUID, topic_id: uuid.UUID) -> bool:
        """Whether any reply (in any status) is below the topic."""
        found = await self.nodes.page(tenant_id, NodeQuery(kind=REPLY, root_id=topic_id, first=1))
        return bool(found["edges"])


def _with_made_slug(translation: TranslationInput, *, suffix: bool) -> TranslationInput:
    if translation.title is None:
        return translation  # content reports the missing title
    base = make_slug(translation.title, max_length=MAX_MADE_SLUG) or "topic"
    return replace(translation, slug=f"{base}-{secrets.token_hex(3)}" if suffix else base)


def _slug_clashes(exc: RustokError) -> set[int]:
    """Indexes of the translations whose slug another topic took (empty for other errors)."""
    if exc.details.get("reason") != "SLUG_TAKEN":
        return set()
    return {
        e.path[1]
        for e in exc.field_errors
        if len(e.path) >= 3 and e.path[0] == "translations" and isinstance(e.path[1], int)
    }
