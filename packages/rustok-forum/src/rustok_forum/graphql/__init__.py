"""GraphQL surface of the forum module (thin: parse, authorize, call a service, map)."""

from __future__ import annotations

import uuid
from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

from rustok_content.graphql import category_changes, connection_of, new_category_fields
from rustok_content.graphql.views import CategoryView, NodeView, request, tenant_of
from rustok_core.context import RequestContext
from rustok_core.errors import Conflict, NotFound, Validation
from rustok_core.graphql import GraphQLContribution
from rustok_forum.access import authorize_change, can_see, visible_statuses
from rustok_forum.forms import in_short_form, is_short_form, topic_translations
from rustok_forum.graphql.views import BINDABLES
from rustok_forum.permissions import REPLIES_UPDATE, TOPICS_UPDATE
from rustok_forum.services import (
    ForumCategoryService,
    NewTopic,
    ReplyService,
    TopicChanges,
    TopicService,
)

query = QueryType()
mutation = MutationType()

# -- input mapping -----------------------------------------------------------------------------


# -- queries -----------------------------------------------------------------------------------


@query.field("forumCategories")
async def resolve_forum_categories(_: Any, info: GraphQLResolveInfo, locale: str | None = None) -> list[CategoryView]:
    ctx = request(info)
    return [CategoryView(c, locale) for c in await ForumCategoryService(ctx.app).tree(tenant_of(ctx).id)]


@query.field("forumCategory")
async def resolve_forum_category(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID | None = None, slug: str | None = None, locale: str | None = None
) -> CategoryView | None:
    ctx = request(info)
    service = ForumCategoryService(ctx.app)
    if id is None and slug is None:
        raise Validation("give the category's id or slug", field="id")
    try:
        found = (
            await service.get(tenant_of(ctx).id, id)
            if id
            else await service.find_by_slug(tenant_of(ctx).id, slug or "")
        )
    except NotFound:
        return None
    return CategoryView(found, locale)


@query.field("topic")
async def resolve_topic(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID | None = None, slug: str | None = None, locale: str | None = None
) -> NodeView | None:
    ctx = request(info)
    service = TopicService(ctx.app)
    if id is None and slug is None:
        raise Validation("give the topic's id or slug", field="id")
    try:
        node = (
            await service.get(tenant_of(ctx).id, id)
            if id
            else await service.find_by_slug(tenant_of(ctx), slug or "", locale=locale)
        )
    except NotFound:
        return None
    return NodeView(node, locale) if await can_see(ctx, node) else None


@query.field("topics")
async def resolve_topics(
    _: Any,
    info: GraphQLResolveInfo,
    category_id: uuid.UUID | None = None,
    tag: str | None = None,
    locale: str | None = None,
    first: int = 20,
    after: str | None = None,
) -> dict[str, Any]:
    ctx = request(info)
    page = await TopicService(ctx.app).page(
        tenant_of(ctx).id,
        statuses=await visible_statuses(ctx),
        category_id=category_id,
        tag=tag,
        first=first,
        after=after,
    )
    connection: dict[str, Any] = connection_of(page, lambda node: NodeView(node, locale))
    return connection


# -- categories --------------------------------------------------------------------------------


@mutation.field("createForumCategory")
async def resolve_create_forum_category(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> CategoryView:
    ctx = request(info)
    created = await ForumCategoryService(ctx.app).create(
        tenant_of(ctx), **new_category_fields(input), actor_id=ctx.actor_id
    )
    return CategoryView(created)


@mutation.field("updateForumCategory")
async def resolve_update_forum_category(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, input: dict[str, Any]
) -> CategoryView:
    ctx = request(info)
    updated = await ForumCategoryService(ctx.app).update(
        tenant_of(ctx), id, expected_version=version, **category_changes(input), actor_id=ctx.actor_id
    )
    return CategoryView(updated)


@mutation.field("deleteForumCategory")
async def resolve_delete_forum_category(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    ctx = request(info)
    await ForumCategoryService(ctx.app).delete(tenant_of(ctx), id, actor_id=ctx.actor_id)
    return True


# -- topics ------------------------------------------------------------------------------------


@mutation.field("createTopic")
async def resolve_create_topic(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> NodeView:
    ctx = request(info)
    tenant = tenant_of(ctx)
    short = is_short_form(input)
    draft = NewTopic(
        category_id=input["category_id"],
        translations=topic_translations(tenant, input, creating=True),
        tags=input.get("tags") or (),
        author_id=ctx.actor_id,
    )
    node = await in_short_form(short, TopicService(ctx.app).create(tenant, draft, actor_id=ctx.actor_id))
    return NodeView(node, input.get("locale"))


@mutation.field("updateTopic")
async def resolve_update_topic(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, input: dict[str, Any]
) -> NodeView:
    ctx = request(info)
    tenant = tenant_of(ctx)
    service = TopicService(ctx.app)
    topic = await service.get(tenant.id, id)
    await authorize_change(ctx, TOPICS_UPDATE, topic, topic=topic)
    short = is_short_form(input)
    changes = TopicChanges(
        translations=topic_translations(tenant, input, creating=False),
        category_id=input.get("category_id"),
        tags=input.get("tags"),
    )
    node = await in_short_form(
        short, service.update(tenant, id, changes, expected_version=version, actor_id=ctx.actor_id)
    )
    return NodeView(node, input.get("locale"))


@mutation.field("deleteTopic")
async def resolve_delete_topic(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    ctx = request(info)
    tenant = tenant_of(ctx)
    service = TopicService(ctx.app)
    topic = await service.get(tenant.id, id)
    moderator = await authorize_change(ctx, TOPICS_UPDATE, topic, topic=topic)
    if not moderator and await service.has_replies(tenant.id, id):
        raise Conflict("the topic has replies: only a moderator can delete it now", reason="HAS_REPLIES")
    await service.delete(tenant, id, actor_id=ctx.actor_id)
    return True


@mutation.field("lockTopic")
async def resolve_lock_topic(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, locked: bool) -> NodeView:
    ctx = request(info)
    return NodeView(await TopicService(ctx.app).set_locked(tenant_of(ctx), id, locked, actor_id=ctx.actor_id))


@mutation.field("pinTopic")
async def resolve_pin_topic(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, pinned: bool) -> NodeView:
    ctx = request(info)
    return NodeView(await TopicService(ctx.app).set_pinned(tenant_of(ctx), id, pinned, actor_id=ctx.actor_id))


# -- replies -----------------------------------------------------------------------------------


@mutation.field("replyToTopic")
async def resolve_reply_to_topic(
    _: Any,
    info: GraphQLResolveInfo,
    topic_id: uuid.UUID,
    body: str,
    parent_id: uuid.UUID | None = None,
    locale: str | None = None,
) -> NodeView:
    ctx = request(info)
    reply = await ReplyService(ctx.app).add(
        tenant_of(ctx),
        topic_id,
        body,
        parent_id=parent_id,
        locale=locale,
        author_id=ctx.actor_id,
        actor_id=ctx.actor_id,
    )
    return NodeView(reply, locale)


async def _reply_and_topic(ctx: RequestContext, reply_id: uuid.UUID) -> tuple[Any, Any]:
    tenant_id = tenant_of(ctx).id
    reply = await ReplyService(ctx.app).get(tenant_id, reply_id)
    assert reply.root_id is not None
    return reply, await TopicService(ctx.app).get(tenant_id, reply.root_id)


@mutation.field("updateReply")
async def resolve_update_reply(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, body: str) -> NodeView:
    ctx = request(info)
    reply, topic = await _reply_and_topic(ctx, id)
    await authorize_change(ctx, REPLIES_UPDATE, reply, topic=topic)
    node = await ReplyService(ctx.app).update(tenant_of(ctx), id, body, expected_version=version, actor_id=ctx.actor_id)
    return NodeView(node)


@mutation.field("deleteReply")
async def resolve_delete_reply(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    ctx = request(info)
    service = ReplyService(ctx.app)
    reply, topic = await _reply_and_topic(ctx, id)
    moderator = await authorize_change(ctx, REPLIES_UPDATE, reply, topic=topic)
    if not moderator and await service.has_answers(tenant_of(ctx).id, id):
        raise Conflict("the reply has been answered: only a moderator can delete it now", reason="HAS_REPLIES")
    await service.delete(tenant_of(ctx), id, actor_id=ctx.actor_id)
    return True


@mutation.field("moderateReply")
async def resolve_moderate_reply(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, action: str, reason: str | None = None
) -> NodeView:
    ctx = request(info)
    node = await ReplyService(ctx.app).moderate(tenant_of(ctx), id, action, reason=reason, actor_id=ctx.actor_id)
    return NodeView(node)


def contribution() -> GraphQLContribution:
    return GraphQLContribution.from_package("rustok_forum", query, mutation, *BINDABLES)


__all__ = ["contribution"]
