"""Comments: content nodes of kind ``comment`` in a post's tree, with moderation.

A comment's parent is the post (a comment on the post) or another comment of the
same post (a reply), so the post is the root of the thread and content keeps its
``reply_count`` (= approved comments) and ``last_activity_at`` in the same
transaction as every change. Moderation is the node's status — ``approved`` is
``published``, ``pending`` is ``draft``, ``spam`` is ``archived`` — and the word,
who set it and when are kept in the comment's metadata. Bodies are Markdown, rendered
and sanitized by content.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_blog.events import CommentAdded, CommentDeleted, CommentModerated, Moderation
from rustok_blog.services.posts import POST_KIND
from rustok_content.models import Node
from rustok_content.services import BodyInput, NewNode, NodeChanges, NodeQuery, NodeService, TranslationInput
from rustok_core.context import AppContext, TenantContext
from rustok_core.errors import Conflict, FieldError, NotFound, Validation
from rustok_core.events import DomainEvent, EventPublisher
from rustok_core.ids import generate_id

COMMENT_KIND = "comment"
MODERATION_STATUS: Final[dict[str, str]] = {"approved": "published", "pending": "draft", "spam": "archived"}
STATUS_MODERATION: Final[dict[str, str]] = {status: word for word, status in MODERATION_STATUS.items()}
MODERATIONS = tuple(MODERATION_STATUS)
MAX_COMMENT_CHARS = 10_000
MAX_THREAD_DEPTH = 8
"""Levels of comments below a post: a comment on the post is level 0."""
TITLE_WORDS = 8
TITLE_CHARS = 80
MODERATION_ATTEMPTS = 3

_TAGS = re.compile(r"<[^>]*>")
_MARKUP = re.compile(r"[\\`*_#>\[\]()!~|]+")


def invalid(field: str, message: str) -> Validation:
    return Validation(message, errors=[FieldError((field,), message)])


def moderation_of(node: Node) -> Moderation:
    """A comment's moderation state, read from its status (the status decides who sees it)."""
    word: Moderation = STATUS_MODERATION[node.status]  # type: ignore[assignment]
    return word


def comment_title(source: str) -> str:
    """The title a comment's translation carries: its first words as plain text.

    Comments have no title of their own, but every node translation needs one (content
    lists, revisions and the index show it).
    """
    text = _MARKUP.sub(" ", _TAGS.sub(" ", source))
    title = " ".join(text.split()[:TITLE_WORDS])
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    return title or "Comment"


def comment_slug() -> str:
    """A slug no other comment has (slugs are unique per kind and locale)."""
    return f"comment-{generate_id().hex}"


@dataclass(frozen=True)
class NewComment:
    post_id: uuid.UUID
    body: str
    """Markdown."""
    parent_id: uuid.UUID | None = None
    """The comment answered; ``None`` for a comment on the post itself."""
    locale: str | None = None
    """The language it is written in (default: the tenant's default locale)."""
    author_id: uuid.UUID | None = None
    approved: bool = False
    """Publish it at once (its author may moderate); otherwise it waits as ``pending``."""


class CommentService:
    """Writes and reads comments; every method names its tenant."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.nodes = NodeService(ctx)

    async def _publish(
        self, session: AsyncSession, tenant_id: uuid.UUID, event: DomainEvent, actor_id: uuid.UUID | None
    ) -> None:
        await self.ctx.services.get(EventPublisher).publish(session, event, tenant_id=tenant_id, actor_id=actor_id)

    # -- writes ---------------------------------------------------------------------------

    async def add(self, tenant: TenantContext, comment: NewComment, *, actor_id: uuid.UUID | None) -> Node:
        """Add a comment to a published post (``CONFLICT`` ``LOCKED`` when the post is closed)."""
        if not comment.body.strip():
            raise invalid("body", "a comment needs some text")
        if len(comment.body) > MAX_COMMENT_CHARS:
            raise invalid("body", f"a comment must be at most {MAX_COMMENT_CHARS} characters")
        locale = comment.locale or tenant.default_locale
        if locale not in tenant.locales:
            raise invalid("locale", f"locale {locale[:20]!r} is not one of this tenant's locales")
        post = await self.nodes.get(tenant.id, comment.post_id, kind=POST_KIND)
        if post.status != "published":
            raise Conflict("comments can only be added to published posts", reason="NOT_PUBLISHED")
        parent = await self._parent(tenant.id, post, comment.parent_id) if comment.parent_id else post
        moderation: Moderation = "approved" if comment.approved else "pending"
        metadata: dict[str, Any] = {"moderation": moderation, "moderated_by": None, "moderated_at": None}
        if comment.approved:
            metadata |= {"moderated_by": _text(actor_id), "moderated_at": datetime.now(UTC).isoformat()}
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            node = await self.nodes.create(
                tenant,
                NewNode(
                    kind=COMMENT_KIND,
                    translations=[
                        TranslationInput(
                            locale,
                            title=comment_title(comment.body),
                            slug=comment_slug(),
                            body=BodyInput("markdown", comment.body),
                        )
                    ],
                    status=MODERATION_STATUS[moderation],
                    parent_id=parent.id,
                    metadata=metadata,
                    author_id=comment.author_id,
                ),
                actor_id=actor_id,
                session=session,
            )
            await self._publish(
                session,
                tenant.id,
                CommentAdded(
                    comment_id=node.id,
                    post_id=post.id,
                    parent_id=None if parent is post else parent.id,
                    moderation=moderation,
                    author_id=comment.author_id,
                ),
                actor_id,
            )
        return node

    async def moderate(
        self, tenant: TenantContext, comment_id: uuid.UUID, to: str, *, actor_id: uuid.UUID | None
    ) -> Node:
        """Move a comment to ``to`` (``pending``, ``approved`` or ``spam``); nothing happens if it is there."""
        if to not in MODERATIONS:
            raise invalid("status", f"status must be one of {', '.join(MODERATIONS)}")
        target: Moderation = to  # type: ignore[assignment]
        for attempt in range(1, MODERATION_ATTEMPTS + 1):
            current = await self.get(tenant.id, comment_id)
            before = moderation_of(current)
            if before == target:
                return current
            metadata = {
                **current.node_metadata,
                "moderation": target,
                "moderated_by": _text(actor_id),
                "moderated_at": datetime.now(UTC).isoformat(),
            }
            try:
                async with self.ctx.db.session(tenant.id) as session, session.begin():
                    # The version read above guards "from": a moderator who got there first wins.
                    await self.nodes.update(
                        tenant,
                        comment_id,
                        NodeChanges(metadata=metadata),
                        expected_version=current.version,
                        actor_id=actor_id,
                        kind=COMMENT_KIND,
                        session=session,
                    )
                    node = await self.nodes.set_status(
                        tenant,
                        comment_id,
                        MODERATION_STATUS[target],
                        actor_id=actor_id,
                        kind=COMMENT_KIND,
                        session=session,
                    )
                    await self._publish(
                        session,
                        tenant.id,
                        CommentModerated(comment_id=node.id, post_id=_post_of(node), from_=before, to=target),
                        actor_id,
                    )
                return node
            except Conflict as exc:
                if "currentVersion" not in exc.details or attempt == MODERATION_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def delete(
        self, tenant: TenantContext, comment_id: uuid.UUID, *, actor_id: uuid.UUID | None, keep_threads: bool = False
    ) -> Node:
        """Delete a comment and every reply below it.

        With ``keep_threads`` a comment that has replies is refused (``CONFLICT``
        ``HAS_REPLIES``): its author may take back their words, not other people's.
        """
        if keep_threads:
            replies = await self.nodes.page(tenant.id, NodeQuery(kind=COMMENT_KIND, parent_id=comment_id, first=1))
            if replies["edges"]:
                raise Conflict("the comment has replies; a moderator can delete the thread", reason="HAS_REPLIES")
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            node = await self.nodes.delete(tenant, comment_id, actor_id=actor_id, kind=COMMENT_KIND, session=session)
            await self._publish(
                session,
                tenant.id,
                CommentDeleted(
                    comment_id=node.id,
                    post_id=_post_of(node),
                    parent_id=None if node.parent_id == node.root_id else node.parent_id,
                    moderation=moderation_of(node),
                ),
                actor_id,
            )
        return node

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, comment_id: uuid.UUID) -> Node:
        return await self.nodes.get(tenant_id, comment_id, kind=COMMENT_KIND)

    async def page(
        self,
        tenant_id: uuid.UUID,
        post_id: uuid.UUID,
        *,
        moderations: Sequence[str] | None,
        first: int = 20,
        after: str | None = None,
    ) -> dict[str, Any]:
        """The comments of a post, oldest first, as a Relay connection (``None``: any moderation state)."""
        statuses = None if moderations is None else [MODERATION_STATUS[m] for m in moderations]
        page: dict[str, Any] = await self.nodes.page(
            tenant_id,
            NodeQuery(
                kind=COMMENT_KIND,
                root_id=post_id,
                statuses=statuses,
                # Every comment has position 0, so this is id order: oldest first (ids are ULIDs).
                order="position",
                first=first,
                after=after,
            ),
        )
        return page

    async def _parent(self, tenant_id: uuid.UUID, post: Node, parent_id: uuid.UUID) -> Node:
        """The comment answered: an approved comment of the same post, not too deep."""
        try:
            parent: Node | None = await self.get(tenant_id, parent_id)
        except NotFound:
            parent = None
        if parent is None or parent.root_id != post.id or parent.status != "published":
            raise invalid("parentId", "no approved comment with this id on this post")
        if parent.depth >= MAX_THREAD_DEPTH:
            raise invalid("parentId", f"replies nest at most {MAX_THREAD_DEPTH} levels deep")
        return parent


def _post_of(node: Node) -> uuid.UUID:
    if node.root_id is None:
        raise Conflict("the comment is not on a post", reason="DETACHED")
    post_id: uuid.UUID = node.root_id
    return post_id


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None
