"""Field resolvers of the forum's types: ``Topic``, ``Reply``, ``ForumCategory``.

Topics and replies travel as content's :class:`NodeView`, categories as its
:class:`CategoryView`; every relation is read through a per-request dataloader, so a
list of any length costs one query per relation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from ariadne import EnumType, ObjectType
from graphql import GraphQLResolveInfo

from rustok_content.access import is_author
from rustok_content.graphql import connection_of
from rustok_content.graphql.views import (
    CategoryView,
    NodeView,
    bind_node_fields,
    body,
    category,
    category_translations,
    in_locale,
    request,
    tenant_of,
    translation,
)
from rustok_core.context import RequestContext
from rustok_core.loaders import load_one
from rustok_forum.access import is_moderator, visible_statuses
from rustok_forum.services import ForumCategoryService, ReplyService, moderation_record

TOPIC_NODE_FIELDS = (
    "id",
    "status",
    "version",
    "locale",
    "title",
    "slug",
    "excerpt",
    "body",
    "translations",
    "availableLocales",
    "replyCount",
    "pinned",
    "locked",
    "authorId",
    "author",
    "tags",
    "meta",
    "publishedAt",
    "lastActivityAt",
    "createdAt",
    "updatedAt",
)
REPLY_NODE_FIELDS = ("id", "depth", "authorId", "author", "locale", "body", "version", "createdAt", "updatedAt")

topic_type: ObjectType = bind_node_fields(ObjectType("Topic"), only=TOPIC_NODE_FIELDS)
reply_type: ObjectType = bind_node_fields(ObjectType("Reply"), only=REPLY_NODE_FIELDS)
forum_category_type = ObjectType("ForumCategory")
moderation_action = EnumType("ReplyModerationAction", {"HIDE": "hide", "RESTORE": "restore"})


# -- loaders -----------------------------------------------------------------------------


async def topic_count(ctx: RequestContext, category_id: uuid.UUID) -> int:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[int]:
        counts = await ForumCategoryService(ctx.app).topic_counts(tenant_id, ids)
        return [counts.get(i, 0) for i in ids]

    return await load_one(ctx, "forum.topic_counts", batch, category_id)


async def _source(view: NodeView, info: GraphQLResolveInfo) -> str | None:
    """The text as written, for its author and for moderators."""
    ctx = request(info)
    if not (is_author(ctx, view.node) or await is_moderator(ctx)):
        return None
    found = await translation(ctx, view)
    written = await body(ctx, found.id) if found else None
    return written.source if written else None


# -- Topic -------------------------------------------------------------------------------


topic_type.set_field("bodySource", _source)
topic_type.set_field("categoryId", lambda view, _: view.node.category_id)


@topic_type.field("category")
async def resolve_topic_category(view: NodeView, info: GraphQLResolveInfo) -> CategoryView | None:
    if view.node.category_id is None:
        return None
    found = await category(request(info), view.node.category_id)
    return CategoryView(found, view.locale) if found else None


@topic_type.field("replies")
async def resolve_topic_replies(
    view: NodeView, info: GraphQLResolveInfo, first: int = 20, after: str | None = None
) -> dict[str, Any]:
    ctx = request(info)
    page = await ReplyService(ctx.app).page(
        tenant_of(ctx).id, view.node.id, statuses=await visible_statuses(ctx), first=first, after=after
    )
    connection: dict[str, Any] = connection_of(page, lambda node: NodeView(node, view.locale))
    return connection


# -- Reply -------------------------------------------------------------------------------


reply_type.set_field("bodySource", _source)
reply_type.set_field("topicId", lambda view, _: view.node.root_id)
reply_type.set_field(
    "parentId", lambda view, _: view.node.parent_id if view.node.parent_id != view.node.root_id else None
)
reply_type.set_field("hidden", lambda view, _: view.node.status != "published")


@reply_type.field("moderation")
async def resolve_reply_moderation(view: NodeView, info: GraphQLResolveInfo) -> dict[str, Any] | None:
    if not await is_moderator(request(info)):
        return None
    return moderation_record(view.node)


# -- ForumCategory -------------------------------------------------------------------------


def _category_attribute(name: str) -> Any:
    return lambda view, _: getattr(view.category, name)


for _field, _attribute in (
    ("id", "id"),
    ("kind", "kind"),
    ("slug", "slug"),
    ("parentId", "parent_id"),
    ("position", "position"),
    ("depth", "depth"),
    ("version", "version"),
):
    forum_category_type.set_field(_field, _category_attribute(_attribute))


async def _category_text(view: CategoryView, info: GraphQLResolveInfo) -> Any:
    ctx = request(info)
    return in_locale(ctx, await category_translations(ctx, view.category.id), view.locale)


@forum_category_type.field("locale")
async def resolve_category_locale(view: CategoryView, info: GraphQLResolveInfo) -> str | None:
    found = await _category_text(view, info)
    return found.locale if found else None


@forum_category_type.field("name")
async def resolve_category_name(view: CategoryView, info: GraphQLResolveInfo) -> str:
    found = await _category_text(view, info)
    return str(found.name if found else view.category.slug)


@forum_category_type.field("description")
async def resolve_category_description(view: CategoryView, info: GraphQLResolveInfo) -> str | None:
    found = await _category_text(view, info)
    return found.description if found else None


@forum_category_type.field("translations")
async def resolve_category_translations(view: CategoryView, info: GraphQLResolveInfo) -> list[Any]:
    return list(await category_translations(request(info), view.category.id))


@forum_category_type.field("topicCount")
async def resolve_topic_count(view: CategoryView, info: GraphQLResolveInfo) -> int:
    return await topic_count(request(info), view.category.id)


BINDABLES = (topic_type, reply_type, forum_category_type, moderation_action)
