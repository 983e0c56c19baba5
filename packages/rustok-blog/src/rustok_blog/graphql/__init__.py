"""GraphQL surface of the blog module (thin: parse, authorize, call a service, map).

``Post`` reuses content's node resolvers (``bind_node_fields``), so its relations
(translations, bodies, author, category, tags, meta) go through content's per-request
dataloaders: a page of posts costs one query per relation, whatever its size.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from rustok_blog.access import (
    authorize_on,
    can_moderate,
    comment_moderations,
    missing_post,
    post_statuses,
    sees_post,
)
from rustok_blog.permissions import COMMENTS_DELETE, COMMENTS_MODERATE, POSTS_DELETE, POSTS_PUBLISH, POSTS_UPDATE
from rustok_blog.services import (
    CommentService,
    NewComment,
    NewPost,
    PostChanges,
    PostQuery,
    PostService,
    moderation_of,
)
from rustok_content.graphql import connection_of, translation_inputs
from rustok_content.graphql.views import NodeView, author, bind_node_fields, body, request, tenant_of, translation
from rustok_content.models import Node
from rustok_content.services import KEEP
from rustok_core.context import RequestContext
from rustok_core.errors import FieldError, NotFound, Validation
from rustok_core.graphql import GraphQLContribution

query = QueryType()
mutation = MutationType()
comment_moderation = EnumType("CommentModeration", {"PENDING": "pending", "APPROVED": "approved", "SPAM": "spam"})

POST_NODE_FIELDS = (
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
    "pinned",
    "locked",
    "metadata",
    "authorId",
    "author",
    "category",
    "tags",
    "meta",
    "publishedAt",
    "lastActivityAt",
    "createdAt",
    "updatedAt",
    "revisions",
)
post_type: ObjectType = bind_node_fields(ObjectType("Post"), only=POST_NODE_FIELDS)
comment_type = ObjectType("Comment")


async def visible_post(ctx: RequestContext, post_id: uuid.UUID) -> Node:
    """The post if the caller may see it; others' drafts look missing."""
    post = await PostService(ctx.app).get(tenant_of(ctx).id, post_id)
    if not await sees_post(ctx, post):
        raise missing_post()
    return post


async def _comment_page(ctx: RequestContext, post: Node, status: str | None, first: int, after: str | None) -> Any:
    page = await CommentService(ctx.app).page(
        tenant_of(ctx).id, post.id, moderations=await comment_moderations(ctx, status), first=first, after=after
    )
    return connection_of(page, NodeView)


# -- queries -------------------------------------------------------------------------------


@query.field("post")
async def resolve_post(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID | None = None, slug: str | None = None, locale: str | None = None
) -> NodeView | None:
    ctx = request(info)
    if (id is None) == (slug is None):
        message = "give exactly one of id and slug"
        raise Validation(message, errors=[FieldError(("id",), message), FieldError(("slug",), message)])
    service = PostService(ctx.app)
    try:
        if id is not None:
            post = await service.get(tenant_of(ctx).id, id)
        else:
            assert slug is not None
            post = await service.find_by_slug(tenant_of(ctx), slug, locale=locale)
    except NotFound:
        return None
    return NodeView(post, locale) if await sees_post(ctx, post) else None


@query.field("posts")
async def resolve_posts(
    _: Any,
    info: GraphQLResolveInfo,
    locale: str | None = None,
    category_id: uuid.UUID | None = None,
    category_slug: str | None = None,
    tag: str | None = None,
    author_id: uuid.UUID | None = None,
    status: str | None = None,
    first: int = 20,
    after: str | None = None,
) -> dict[str, Any]:
    ctx = request(info)
    page = await PostService(ctx.app).page(
        tenant_of(ctx).id,
        PostQuery(
            statuses=await post_statuses(ctx, status, author_id),
            category_id=category_id,
            category_slug=category_slug,
            tag=tag,
            author_id=author_id,
            first=first,
            after=after,
        ),
    )
    result: dict[str, Any] = connection_of(page, lambda node: NodeView(node, locale))
    return result


@query.field("comments")
async def resolve_comments(
    _: Any,
    info: GraphQLResolveInfo,
    post_id: uuid.UUID,
    status: str | None = None,
    first: int = 20,
    after: str | None = None,
) -> Any:
    ctx = request(info)
    return await _comment_page(ctx, await visible_post(ctx, post_id), status, first, after)


# -- post mutations ----------------------------------------------------------------------------


@mutation.field("createPost")
async def resolve_create_post(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> NodeView:
    ctx = request(info)
    status = input.get("status") or "draft"
    if status == "published":
        await ctx.authorize(POSTS_PUBLISH)
    post = await PostService(ctx.app).create(
        tenant_of(ctx),
        NewPost(
            translations=translation_inputs(input["translations"]),
            status=status,
            category_id=input.get("category_id"),
            tags=input.get("tags") or (),
            metadata=input.get("metadata") or {},
            pinned=bool(input.get("pinned")),
            locked=bool(input.get("locked")),
            author_id=ctx.actor_id,
        ),
        actor_id=ctx.actor_id,
    )
    return NodeView(post)


@mutation.field("updatePost")
async def resolve_update_post(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, input: dict[str, Any]
) -> NodeView:
    ctx = request(info)
    service = PostService(ctx.app)
    await authorize_on(ctx, POSTS_UPDATE, await service.get(tenant_of(ctx).id, id))
    changes = PostChanges(
        translations=translation_inputs(input.get("translations")),
        remove_locales=list(input.get("remove_locales") or ()),
        category_id=input.get("category_id", KEEP),
        tags=input.get("tags"),
        metadata=input.get("metadata"),
        pinned=input.get("pinned"),
        locked=input.get("locked"),
    )
    post = await service.update(tenant_of(ctx), id, changes, expected_version=version, actor_id=ctx.actor_id)
    return NodeView(post)


async def _set_status(ctx: RequestContext, post_id: uuid.UUID, status: str, version: int | None) -> NodeView:
    service = PostService(ctx.app)
    await authorize_on(ctx, POSTS_PUBLISH, await service.get(tenant_of(ctx).id, post_id))
    post = await service.set_status(tenant_of(ctx), post_id, status, expected_version=version, actor_id=ctx.actor_id)
    return NodeView(post)


@mutation.field("publishPost")
async def resolve_publish_post(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None) -> NodeView:
    return await _set_status(request(info), id, "published", version)


@mutation.field("unpublishPost")
async def resolve_unpublish_post(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None, archive: bool = False
) -> NodeView:
    return await _set_status(request(info), id, "archived" if archive else "draft", version)


@mutation.field("deletePost")
async def resolve_delete_post(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None) -> bool:
    ctx = request(info)
    service = PostService(ctx.app)
    await authorize_on(ctx, POSTS_DELETE, await service.get(tenant_of(ctx).id, id))
    await service.delete(tenant_of(ctx), id, expected_version=version, actor_id=ctx.actor_id)
    return True


# -- comment mutations ----------------------------------------------------------------------


@mutation.field("addComment")
async def resolve_add_comment(
    _: Any,
    info: GraphQLResolveInfo,
    post_id: uuid.UUID,
    body: str,
    parent_id: uuid.UUID | None = None,
    locale: str | None = None,
) -> NodeView:
    ctx = request(info)
    post = await visible_post(ctx, post_id)
    comment = await CommentService(ctx.app).add(
        tenant_of(ctx),
        NewComment(
            post_id=post.id,
            body=body,
            parent_id=parent_id,
            locale=locale,
            author_id=ctx.actor_id,
            approved=await can_moderate(ctx),
        ),
        actor_id=ctx.actor_id,
    )
    return NodeView(comment)


@mutation.field("moderateComment")
async def resolve_moderate_comment(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, status: str) -> NodeView:
    ctx = request(info)
    service = CommentService(ctx.app)
    await authorize_on(ctx, COMMENTS_MODERATE, await service.get(tenant_of(ctx).id, id))
    return NodeView(await service.moderate(tenant_of(ctx), id, status, actor_id=ctx.actor_id))


@mutation.field("deleteComment")
async def resolve_delete_comment(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    ctx = request(info)
    service = CommentService(ctx.app)
    scope = await authorize_on(ctx, COMMENTS_DELETE, await service.get(tenant_of(ctx).id, id))
    await service.delete(tenant_of(ctx), id, actor_id=ctx.actor_id, keep_threads=scope == "own")
    return True


# -- object fields ---------------------------------------------------------------------------


@post_type.field("commentCount")
def resolve_comment_count(view: NodeView, _: GraphQLResolveInfo) -> int:
    count: int = view.node.reply_count
    return count


@post_type.field("comments")
async def resolve_post_comments(
    view: NodeView, info: GraphQLResolveInfo, first: int = 20, after: str | None = None
) -> Any:
    return await _comment_page(request(info), view.node, None, first, after)


def _comment_attribute(name: str) -> Any:
    def resolve(view: NodeView, _: GraphQLResolveInfo) -> Any:
        return getattr(view.node, name)

    return resolve


for _field, _attribute in (
    ("id", "id"),
    ("postId", "root_id"),
    ("authorId", "author_id"),
    ("createdAt", "created_at"),
    ("updatedAt", "updated_at"),
):
    comment_type.set_field(_field, _comment_attribute(_attribute))


@comment_type.field("parentId")
def resolve_comment_parent(view: NodeView, _: GraphQLResolveInfo) -> uuid.UUID | None:
    node = view.node
    return None if node.parent_id == node.root_id else node.parent_id


@comment_type.field("depth")
def resolve_comment_depth(view: NodeView, _: GraphQLResolveInfo) -> int:
    depth: int = view.node.depth
    return max(depth - 1, 0)


@comment_type.field("moderation")
def resolve_comment_moderation(view: NodeView, _: GraphQLResolveInfo) -> str:
    return moderation_of(view.node)


@comment_type.field("moderatedAt")
def resolve_comment_moderated_at(view: NodeView, _: GraphQLResolveInfo) -> datetime | None:
    stamp = view.node.node_metadata.get("moderated_at")
    return datetime.fromisoformat(stamp) if isinstance(stamp, str) else None


@comment_type.field("locale")
async def resolve_comment_locale(view: NodeView, info: GraphQLResolveInfo) -> str | None:
    found = await translation(request(info), view)
    return found.locale if found else None


async def _comment_body(view: NodeView, info: GraphQLResolveInfo) -> Any:
    ctx = request(info)
    found = await translation(ctx, view)
    return await body(ctx, found.id) if found else None


@comment_type.field("html")
async def resolve_comment_html(view: NodeView, info: GraphQLResolveInfo) -> str:
    found = await _comment_body(view, info)
    return found.html if found else ""


@comment_type.field("source")
async def resolve_comment_source(view: NodeView, info: GraphQLResolveInfo) -> str | None:
    ctx = request(info)
    mine = view.node.author_id is not None and view.node.author_id == ctx.actor_id
    if not (mine or await can_moderate(ctx)):
        return None
    found = await _comment_body(view, info)
    return found.source if found else None


@comment_type.field("author")
async def resolve_comment_author(view: NodeView, info: GraphQLResolveInfo) -> dict[str, Any] | None:
    if view.node.author_id is None:
        return None
    found: dict[str, Any] | None = await author(request(info), view.node.author_id)
    return found


def contribution() -> GraphQLContribution:
    return GraphQLContribution.from_package("rustok_blog", query, mutation, post_type, comment_type, comment_moderation)


__all__ = ["contribution", "visible_post"]
