"""REST surface of the forum module for integrations, under ``/api/v1/forum/``.

Read topics and their replies (public: published ones), open topics and reply
(safe to retry with ``Idempotency-Key``). Moderation stays in GraphQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from rustok_content.models import Body, Node, NodeTranslation, Tag
from rustok_content.services import NodeService, TagService, pick_locale
from rustok_content.services.nodes import NODE_TARGET
from rustok_core.context import RequestContext, request_context
from rustok_core.errors import NotFound
from rustok_core.rest import RestRoute
from rustok_forum.access import can_see, visible_statuses
from rustok_forum.forms import in_short_form, topic_translations
from rustok_forum.permissions import REPLIES_CREATE, TOPICS_CREATE
from rustok_forum.services import NewTopic, ReplyService, TopicService

Status = Literal["draft", "published", "archived"]


class Camel(BaseModel):
    """JSON in camelCase; Python by field name; unknown fields refused."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class CreateTopicRequest(Camel):
    category_id: uuid.UUID = Field(alias="categoryId")
    title: str
    body: str = Field(description="The first post, in markdown.")
    locale: str | None = Field(None, description="The tenant's default locale when omitted.")
    slug: str | None = Field(None, description="Made from the title when omitted.")
    tags: list[str] = Field(default_factory=list)


class CreateReplyRequest(Camel):
    body: str = Field(description="Markdown.")
    parent_id: uuid.UUID | None = Field(None, alias="parentId", description="The reply answered, if not the topic.")
    locale: str | None = None


class TopicListQuery(Camel):
    category_id: uuid.UUID | None = Field(None, alias="categoryId")
    tag: str | None = None
    locale: str | None = None
    first: int = Field(20, ge=1, le=100)
    after: str | None = None


class LocaleQuery(Camel):
    locale: str | None = None


class ReplyListQuery(Camel):
    locale: str | None = None
    first: int = Field(20, ge=1, le=100)
    after: str | None = None


class TopicResponse(Camel):
    id: uuid.UUID
    status: Status
    version: int
    category_id: uuid.UUID | None = Field(alias="categoryId")
    author_id: uuid.UUID | None = Field(alias="authorId")
    locale: str | None
    title: str
    slug: str
    body_html: str | None = Field(alias="bodyHtml", description="The first post as sanitized HTML.")
    tags: list[str]
    reply_count: int = Field(alias="replyCount")
    pinned: bool
    locked: bool
    last_activity_at: datetime | None = Field(alias="lastActivityAt")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class TopicPage(Camel):
    items: list[TopicResponse]
    next_cursor: str | None = Field(alias="nextCursor")


class ReplyResponse(Camel):
    id: uuid.UUID
    topic_id: uuid.UUID = Field(alias="topicId")
    parent_id: uuid.UUID | None = Field(alias="parentId", description="The reply answered; null for the topic.")
    author_id: uuid.UUID | None = Field(alias="authorId")
    locale: str | None
    body_html: str | None = Field(alias="bodyHtml", description="Sanitized HTML.")
    hidden: bool
    version: int
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class ReplyPage(Camel):
    items: list[ReplyResponse]
    next_cursor: str | None = Field(alias="nextCursor")


# -- mapping -----------------------------------------------------------------------------------


class _Texts:
    """Translations, bodies and tags of a batch of nodes: three queries, however many nodes."""

    def __init__(
        self,
        translations: dict[uuid.UUID, list[NodeTranslation]],
        bodies: dict[uuid.UUID, Body],
        tags: dict[uuid.UUID, list[Tag]],
    ) -> None:
        self.translations, self.bodies, self.tags = translations, bodies, tags

    @classmethod
    async def load(cls, ctx: RequestContext, nodes: Sequence[Node], *, with_tags: bool) -> _Texts:
        tenant_id = ctx.require_tenant().id
        service = NodeService(ctx.app)
        ids = [node.id for node in nodes]
        translations = await service.translations_of(tenant_id, ids)
        bodies = await service.bodies_of(tenant_id, [t.id for ts in translations.values() for t in ts])
        tags = await TagService(ctx.app).tags_of(tenant_id, NODE_TARGET, ids) if with_tags else {}
        return cls(translations, bodies, tags)

    def pick(self, ctx: RequestContext, node: Node, locale: str | None) -> NodeTranslation | None:
        available = self.translations.get(node.id, [])
        chosen = pick_locale([t.locale for t in available], locale, ctx.require_tenant().default_locale)
        return next((t for t in available if t.locale == chosen), None)

    def html(self, found: NodeTranslation | None) -> str | None:
        body = self.bodies.get(found.id) if found else None
        return body.html if body else None


async def topic_responses(ctx: RequestContext, nodes: Sequence[Node], locale: str | None) -> list[TopicResponse]:
    texts = await _Texts.load(ctx, nodes, with_tags=True)
    responses = []
    for node in nodes:
        found = texts.pick(ctx, node, locale)
        responses.append(
            TopicResponse(
                id=node.id,
                status=node.status,
                version=node.version,
                category_id=node.category_id,
                author_id=node.author_id,
                locale=found.locale if found else None,
                title=found.title if found else "",
                slug=found.slug if found else "",
                body_html=texts.html(found),
                tags=[tag.slug for tag in texts.tags.get(node.id, [])],
                reply_count=node.reply_count,
                pinned=node.pinned,
                locked=node.locked,
                last_activity_at=node.last_activity_at,
                created_at=node.created_at,
                updated_at=node.updated_at,
            )
        )
    return responses


async def reply_responses(ctx: RequestContext, nodes: Sequence[Node], locale: str | None) -> list[ReplyResponse]:
    texts = await _Texts.load(ctx, nodes, with_tags=False)
    responses = []
    for node in nodes:
        found = texts.pick(ctx, node, locale)
        assert node.root_id is not None
        responses.append(
            ReplyResponse(
                id=node.id,
                topic_id=node.root_id,
                parent_id=node.parent_id if node.parent_id != node.root_id else None,
                author_id=node.author_id,
                locale=found.locale if found else None,
                body_html=texts.html(found),
                hidden=node.status != "published",
                version=node.version,
                created_at=node.created_at,
                updated_at=node.updated_at,
            )
        )
    return responses


def _next_cursor(page: dict[str, object]) -> str | None:
    info = page["page_info"]
    assert isinstance(info, dict)
    return info["end_cursor"] if info["has_next_page"] else None


async def _visible_topic(ctx: RequestContext, topic_id: uuid.UUID) -> Node:
    topic = await TopicService(ctx.app).get(ctx.require_tenant().id, topic_id)
    if not await can_see(ctx, topic):
        raise NotFound("no such topic", resource="topic")
    return topic


# -- endpoints ---------------------------------------------------------------------------------


async def list_topics(request: Request, query: TopicListQuery) -> TopicPage:
    """Topics, pinned first, then by latest activity (published ones unless you moderate)."""
    ctx = request_context(request)
    page = await TopicService(ctx.app).page(
        ctx.require_tenant().id,
        statuses=await visible_statuses(ctx),
        category_id=query.category_id,
        tag=query.tag,
        first=query.first,
        after=query.after,
    )
    nodes = [edge["node"] for edge in page["edges"]]
    return TopicPage(items=await topic_responses(ctx, nodes, query.locale), next_cursor=_next_cursor(page))


async def get_topic(request: Request, topic_id: uuid.UUID, query: LocaleQuery) -> TopicResponse:
    """One topic with its first post."""
    ctx = request_context(request)
    return (await topic_responses(ctx, [await _visible_topic(ctx, topic_id)], query.locale))[0]


async def list_replies(request: Request, topic_id: uuid.UUID, query: ReplyListQuery) -> ReplyPage:
    """A topic's replies, oldest first (hidden ones only for moderators)."""
    ctx = request_context(request)
    topic = await _visible_topic(ctx, topic_id)
    page = await ReplyService(ctx.app).page(
        ctx.require_tenant().id, topic.id, statuses=await visible_statuses(ctx), first=query.first, after=query.after
    )
    nodes = [edge["node"] for edge in page["edges"]]
    return ReplyPage(items=await reply_responses(ctx, nodes, query.locale), next_cursor=_next_cursor(page))


async def create_topic(request: Request, body: CreateTopicRequest) -> TopicResponse:
    """Open a topic; send ``Idempotency-Key`` to make retries safe."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    given = body.model_dump(exclude={"category_id", "tags"})
    draft = NewTopic(
        category_id=body.category_id,
        translations=topic_translations(tenant, given, creating=True),
        tags=body.tags,
        author_id=ctx.actor_id,
    )
    node = await in_short_form(True, TopicService(ctx.app).create(tenant, draft, actor_id=ctx.actor_id))
    return (await topic_responses(ctx, [node], body.locale))[0]


async def create_reply(request: Request, topic_id: uuid.UUID, body: CreateReplyRequest) -> ReplyResponse:
    """Reply in a topic; a locked topic answers 409 (reason ``LOCKED``)."""
    ctx = request_context(request)
    reply = await ReplyService(ctx.app).add(
        ctx.require_tenant(),
        topic_id,
        body.body,
        parent_id=body.parent_id,
        locale=body.locale,
        author_id=ctx.actor_id,
        actor_id=ctx.actor_id,
    )
    return (await reply_responses(ctx, [reply], body.locale))[0]


def routes() -> list[RestRoute]:
    tags = ["forum"]
    return [
        RestRoute(
            "/topics",
            list_topics,
            summary="List topics",
            query=TopicListQuery,
            response=TopicPage,
            public=True,
            tags=tags,
        ),
        RestRoute(
            "/topics",
            create_topic,
            methods=["POST"],
            summary="Open a topic",
            body=CreateTopicRequest,
            response=TopicResponse,
            status_code=201,
            permission=TOPICS_CREATE,
            idempotent=True,
            tags=tags,
            name="create_topic",
        ),
        RestRoute(
            "/topics/{topic_id:uuid}",
            get_topic,
            summary="Get a topic",
            query=LocaleQuery,
            response=TopicResponse,
            public=True,
            tags=tags,
        ),
        RestRoute(
            "/topics/{topic_id:uuid}/replies",
            list_replies,
            summary="List a topic's replies",
            query=ReplyListQuery,
            response=ReplyPage,
            public=True,
            tags=tags,
        ),
        RestRoute(
            "/topics/{topic_id:uuid}/replies",
            create_reply,
            methods=["POST"],
            summary="Reply in a topic",
            body=CreateReplyRequest,
            response=ReplyResponse,
            status_code=201,
            permission=REPLIES_CREATE,
            idempotent=True,
            tags=tags,
            name="create_reply",
        ),
    ]
