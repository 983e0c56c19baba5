"""Replies: content nodes of kind ``reply`` below a topic, optionally answering another reply.

The topic is the root of the tree, so content keeps its ``reply_count`` (published
replies) and ``last_activity_at`` in the transaction of every reply added, hidden,
restored or deleted. Each of those writes here runs in one transaction that first
locks the topic row (:func:`rustok_forum.services.locks.hold`) and ends with the
forum's event, so concurrent replies are counted exactly and a refused write leaves
nothing behind.

Hiding is archiving: a hidden reply is no longer published, drops out of the count
and out of the public's view; its metadata records who hid it, when and why.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_content.models import Node
from rustok_content.services import (
    BodyInput,
    NewNode,
    NodeChanges,
    NodeQuery,
    NodeService,
    TranslationInput,
    pick_locale,
)
from rustok_content.services.text import Path, check_locale, check_optional_text, invalid
from rustok_core.context import AppContext, TenantContext
from rustok_core.errors import Conflict, NotFound
from rustok_core.events import DomainEvent, EventPublisher
from rustok_core.ids import generate_id
from rustok_forum.events import ReplyAdded, ReplyModerated
from rustok_forum.services.kinds import REPLY, TOPIC
from rustok_forum.services.locks import hold

MAX_REPLY_CHARS = 50_000
MAX_DEPTH = 8
"""Replies nest at most this deep (1: a reply to the topic)."""
MAX_REASON = 500
MAX_TITLE = 500
REPLY_FORMAT = "markdown"
ACTIONS = {"hide": "archived", "restore": "published"}
MODERATION_KEY = "moderation"


def check_body(text: str, path: Path = ("body",)) -> str:
    """A reply's markdown: not blank, at most :data:`MAX_REPLY_CHARS` characters."""
    if not text.strip():
        raise invalid(path, "a reply cannot be empty")
    if len(text) > MAX_REPLY_CHARS:
        raise invalid(path, f"a reply is at most {MAX_REPLY_CHARS} characters")
    return text


class ReplyService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.nodes = NodeService(ctx)

    async def _publish(
        self, session: AsyncSession, tenant_id: uuid.UUID, event: DomainEvent, actor_id: uuid.UUID | None
    ) -> None:
        await self.ctx.services.get(EventPublisher).publish(session, event, tenant_id=tenant_id, actor_id=actor_id)

    # -- writes ---------------------------------------------------------------------------

    async def add(
        self,
        tenant: TenantContext,
        topic_id: uuid.UUID,
        body: str,
        *,
        parent_id: uuid.UUID | None = None,
        locale: str | None = None,
        author_id: uuid.UUID | None,
        actor_id: uuid.UUID | None,
    ) -> Node:
        """Reply in a published topic (to ``parent_id``, a published reply of it, if given).

        A locked topic refuses with ``CONFLICT`` (reason ``LOCKED``) and nothing is
        written. The reply is published at once; the topic's count and last activity
        move in the same transaction, with ``forum.reply.added``.
        """
        text = check_body(body)
        chosen = check_locale(tenant, locale, ("locale",)) if locale is not None else tenant.default_locale
        topic = await self._topic(tenant.id, topic_id)
        parent = await self._answerable(tenant.id, parent_id, topic.id) if parent_id is not None else None
        title = await self._title(tenant, topic.id, chosen)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            current = await hold(self.nodes, tenant, topic.id, kind=TOPIC, session=session, actor_id=actor_id)
            if current.status != "published":
                raise NotFound("no such topic", resource=TOPIC)
            if current.locked:
                raise Conflict("the topic is locked: no replies can be added", reason="LOCKED")
            reply = await self.nodes.create(
                tenant,
                NewNode(
                    kind=REPLY,
                    status="published",
                    parent_id=parent.id if parent is not None else topic.id,
                    translations=[
                        TranslationInput(chosen, title=title, slug=_reply_slug(), body=BodyInput(REPLY_FORMAT, text))
                    ],
                    author_id=author_id,
                ),
                actor_id=actor_id,
                session=session,
            )
            await self._publish(
                session,
                tenant.id,
                ReplyAdded(
                    topic_id=topic.id,
                    reply_id=reply.id,
                    parent_id=parent.id if parent is not None else None,
                    author_id=author_id,
                ),
                actor_id,
            )
        return reply

    async def update(
        self,
        tenant: TenantContext,
        reply_id: uuid.UUID,
        body: str,
        *,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
    ) -> Node:
        """Replace a reply's text (a stale ``expected_version`` is a ``CONFLICT``); the old text stays a revision."""
        text = check_body(body)
        translations = (await self.nodes.translations_of(tenant.id, [reply_id]))[reply_id]
        if not translations:
            raise NotFound("no such reply", resource=REPLY)
        locale = pick_locale([t.locale for t in translations], None, tenant.default_locale)
        assert locale is not None
        return await self.nodes.update(
            tenant,
            reply_id,
            NodeChanges(translations=[TranslationInput(locale, body=BodyInput(REPLY_FORMAT, text))]),
            expected_version=expected_version,
            actor_id=actor_id,
            kind=REPLY,
        )

    async def moderate(
        self,
        tenant: TenantContext,
        reply_id: uuid.UUID,
        action: str,
        *,
        reason: str | None = None,
        actor_id: uuid.UUID | None,
    ) -> Node:
        """Hide (``hide``) or restore (``restore``) a reply.

        Nothing is written when the reply already is in that state. Otherwise its
        status, the topic's count and the reply's moderation record change together,
        with ``forum.reply.moderated``.
        """
        status = ACTIONS.get(action)
        if status is None:
            raise invalid(("action",), f"action must be one of {', '.join(ACTIONS)}")
        note = check_optional_text(reason, ("reason",), max_length=MAX_REASON)
        reply = await self.get(tenant.id, reply_id)
        topic_id = _topic_of(reply)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            await hold(self.nodes, tenant, topic_id, kind=TOPIC, session=session, actor_id=actor_id)
            current = await hold(self.nodes, tenant, reply_id, kind=REPLY, session=session, actor_id=actor_id)
            if current.status == status:
                return current
            record = {
                "action": action,
                "moderator_id": str(actor_id) if actor_id is not None else None,
                "at": datetime.now(UTC).isoformat(),
                "reason": note,
            }
            metadata = {**current.node_metadata, MODERATION_KEY: record}
            await self.nodes.set_status(tenant, reply_id, status, actor_id=actor_id, kind=REPLY, session=session)
            moderated = await self.nodes.update(
                tenant,
                reply_id,
                NodeChanges(metadata=metadata),
                expected_version=None,
                actor_id=actor_id,
                kind=REPLY,
                session=session,
            )
            await self._publish(
                session,
                tenant.id,
                ReplyModerated(reply_id=reply_id, topic_id=topic_id, action=action, reason=note),
                actor_id,
            )
        return moderated

    async def delete(self, tenant: TenantContext, reply_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> Node:
        """Delete a reply with every answer below it; the topic's count drops by the published ones."""
        reply = await self.get(tenant.id, reply_id)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            await hold(self.nodes, tenant, _topic_of(reply), kind=TOPIC, session=session, actor_id=actor_id)
            return await self.nodes.delete(tenant, reply_id, kind=REPLY, actor_id=actor_id, session=session)

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, reply_id: uuid.UUID) -> Node:
        reply = await self.nodes.get(tenant_id, reply_id, kind=REPLY)
        if reply.root_id is None:
            raise NotFound("no such reply", resource=REPLY)
        return reply

    async def page(
        self,
        tenant_id: uuid.UUID,
        topic_id: uuid.UUID,
        *,
        statuses: Sequence[str] | None,
        first: int = 20,
        after: str | None = None,
    ) -> dict[str, Any]:
        """A topic's replies at any depth, oldest first (a Relay connection)."""
        page: dict[str, Any] = await self.nodes.page(
            tenant_id,
            NodeQuery(kind=REPLY, root_id=topic_id, statuses=statuses, order="position", first=first, after=after),
        )
        return page

    async def has_answers(self, tenant_id: uuid.UUID, reply_id: uuid.UUID) -> bool:
        """Whether another reply (in any status) answers this one."""
        found = await self.nodes.page(tenant_id, NodeQuery(kind=REPLY, parent_id=reply_id, first=1))
        return bool(found["edges"])

    # -- helpers --------------------------------------------------------------------------

    async def _topic(self, tenant_id: uuid.UUID, topic_id: uuid.UUID) -> Node:
        topic = await self.nodes.get(tenant_id, topic_id, kind=TOPIC)
        if topic.status != "published":
            raise NotFound("no such topic", resource=TOPIC)
        return topic

    async def _answerable(self, tenant_id: uuid.UUID, parent_id: uuid.UUID, topic_id: uuid.UUID) -> Node:
        """The published reply of this topic that a new reply answers."""
        try:
            parent = await self.nodes.get(tenant_id, parent_id, kind=REPLY)
        except NotFound:
            parent = None
        if parent is None or parent.root_id != topic_id or parent.status != "published":
            raise invalid(("parentId",), "no such reply in this topic")
        if parent.depth >= MAX_DEPTH:
            raise invalid(("parentId",), f"replies nest at most {MAX_DEPTH} levels deep: answer a reply further up")
        return parent

    async def _title(self, tenant: TenantContext, topic_id: uuid.UUID, locale: str) -> str:
        """``Re: <topic title>`` in the reply's locale (else the usual fallback)."""
        translations = (await self.nodes.translations_of(tenant.id, [topic_id]))[topic_id]
        chosen = pick_locale([t.locale for t in translations], locale, tenant.default_locale)
        title = next((t.title for t in translations if t.locale == chosen), "")
        return f"Re: {title}"[:MAX_TITLE].strip() or "Re:"


def _topic_of(reply: Node) -> uuid.UUID:
    root: uuid.UUID | None = reply.root_id
    assert root is not None  # ReplyService.get refuses replies outside a tree
    return root


def _reply_slug() -> str:
    # Replies are reached through their topic; the slug only has to be unique.
    return f"reply-{generate_id().hex}"


def moderation_record(reply: Node) -> dict[str, Any] | None:
    """The last moderation of a reply (action, moderator_id, at, reason), if any."""
    record = reply.node_metadata.get(MODERATION_KEY)
    return dict(record) if isinstance(record, dict) else None
