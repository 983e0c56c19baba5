"""REST surface of the blog module for integrations, under ``/api/v1/blog/``.

Posts: list, create (safe to retry with ``Idempotency-Key``), get, patch (with the
version read), delete. Comments are a GraphQL matter (readers and moderators).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from rustok_blog.access import authorize_on, missing_post, post_statuses, sees_post
from rustok_blog.permissions import POSTS_CREATE, POSTS_DELETE, POSTS_PUBLISH, POSTS_READ, POSTS_UPDATE
from rustok_blog.services import NewPost, PostChanges, PostQuery, PostService
from rustok_content.models import Body, Node, NodeTranslation
from rustok_content.rest import TranslationIn, TranslationOut
from rustok_content.services import KEEP, NODE_TARGET, NodeService, TagService
from rustok_core.context import RequestContext, request_context
from rustok_core.rest import RestRoute

PostStatus = Literal["draft", "published", "archived"]


class Camel(BaseModel):
    """JSON in camelCase; Python by field name; unknown fields refused (as content's REST models)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class PostListQuery(Camel):
    status: PostStatus | None = None
    category_id: uuid.UUID | None = Field(None, alias="categoryId")
    category_slug: str | None = Field(None, alias="categorySlug")
    tag: str | None = Field(None, description="A tag's slug.")
    author_id: uuid.UUID | None = Field(None, alias="authorId")
    first: int = Field(20, ge=1, le=100)
    after: str | None = None


class CreatePostRequest(Camel):
    translations: list[TranslationIn] = Field(min_length=1)
    status: PostStatus = Field("draft", description="published needs blog_posts:publish too.")
    category_id: uuid.UUID | None = Field(None, alias="categoryId", description="A category of kind blog.")
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    pinned: bool = False
    locked: bool = Field(False, description="Closed for comments.")


class UpdatePostRequest(Camel):
    """Only the fields sent change; ``categoryId`` sent as null takes the post out of its category."""

    version: int = Field(description="The version you read; a stale one answers 409.")
    translations: list[TranslationIn] = Field(default_factory=list)
    remove_locales: list[str] = Field(default_factory=list, alias="removeLocales")
    category_id: uuid.UUID | None = Field(None, alias="categoryId")
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None
    pinned: bool | None = None
    locked: bool | None = None
    status: PostStatus | None = Field(None, description="Publish, unpublish or archive in the same call.")


class DeletePostQuery(Camel):
    version: int | None = None


class PostResponse(Camel):
    id: uuid.UUID
    status: PostStatus
    version: int
    category_id: uuid.UUID | None = Field(alias="categoryId")
    author_id: uuid.UUID | None = Field(alias="authorId")
    tags: list[str] = Field(description="Tag slugs.")
    translations: list[TranslationOut]
    comment_count: int = Field(alias="commentCount", description="Approved comments.")
    pinned: bool
    locked: bool
    metadata: dict[str, Any]
    published_at: datetime | None = Field(alias="publishedAt")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class PostPage(Camel):
    items: list[PostResponse]
    next_cursor: str | None = Field(alias="nextCursor")


async def post_responses(ctx: RequestContext, posts: Sequence[Node]) -> list[PostResponse]:
    """Responses for ``posts`` with three queries, however many there are."""
    tenant_id = ctx.require_tenant().id
    nodes = NodeService(ctx.app)
    ids = [post.id for post in posts]
    translations = await nodes.translations_of(tenant_id, ids)
    bodies = await nodes.bodies_of(tenant_id, [t.id for ts in translations.values() for t in ts])
    tags = await TagService(ctx.app).tags_of(tenant_id, NODE_TARGET, ids)
    return [
        PostResponse.model_validate(
            {
                "id": post.id,
                "status": post.status,
                "version": post.version,
                "category_id": post.category_id,
                "author_id": post.author_id,
                "tags": [tag.slug for tag in tags[post.id]],
                "translations": [_translation(t, bodies.get(t.id)) for t in translations[post.id]],
                "comment_count": post.reply_count,
                "pinned": post.pinned,
                "locked": post.locked,
                "metadata": post.node_metadata,
                "published_at": post.published_at,
                "created_at": post.created_at,
                "updated_at": post.updated_at,
            }
        )
        for post in posts
    ]


def _translation(translation: NodeTranslation, body: Body | None) -> dict[str, Any]:
    return {
        "locale": translation.locale,
        "title": translation.title,
        "slug": translation.slug,
        "excerpt": translation.excerpt,
        "body": {"format": body.format, "source": body.source, "html": body.html} if body is not None else None,
    }


async def _one(ctx: RequestContext, post: Node) -> PostResponse:
    return (await post_responses(ctx, [post]))[0]


async def list_posts(request: Request, query: PostListQuery) -> PostPage:
    """Posts, latest published first (an ``own`` read grant lists one's own drafts with ``authorId``)."""
    ctx = request_context(request)
    page = await PostService(ctx.app).page(
        ctx.require_tenant().id,
        PostQuery(
            statuses=await post_statuses(ctx, query.status, query.author_id),
            category_id=query.category_id,
            category_slug=query.category_slug,
            tag=query.tag,
            author_id=query.author_id,
            first=query.first,
            after=query.after,
        ),
    )
    items = await post_responses(ctx, [edge["node"] for edge in page["edges"]])
    info = page["page_info"]
    return PostPage(items=items, next_cursor=info["end_cursor"] if info["has_next_page"] else None)


async def create_post(request: Request, body: CreatePostRequest) -> PostResponse:
    """Create a post; send ``Idempotency-Key`` to make retries safe."""
    ctx = request_context(request)
    if body.status == "published":
        await ctx.authorize(POSTS_PUBLISH)
    post = await PostService(ctx.app).create(
        ctx.require_tenant(),
        NewPost(
            translations=[t.value() for t in body.translations],
            status=body.status,
            category_id=body.category_id,
            tags=body.tags,
            metadata=body.metadata,
            pinned=body.pinned,
            locked=body.locked,
            author_id=ctx.actor_id,
        ),
        actor_id=ctx.actor_id,
    )
    return await _one(ctx, post)


async def get_post(request: Request, post_id: uuid.UUID) -> PostResponse:
    """One post with every translation."""
    ctx = request_context(request)
    post = await PostService(ctx.app).get(ctx.require_tenant().id, post_id)
    if not await sees_post(ctx, post):
        raise missing_post()
    return await _one(ctx, post)


async def update_post(request: Request, post_id: uuid.UUID, body: UpdatePostRequest) -> PostResponse:
    """Change what is sent; ``version`` must be the one you read."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    service = PostService(ctx.app)
    post = await service.get(tenant.id, post_id)
    await authorize_on(ctx, POSTS_UPDATE, post)
    if body.status is not None and body.status != post.status:
        await authorize_on(ctx, POSTS_PUBLISH, post)
    sent = body.model_fields_set
    changes = PostChanges(
        translations=[t.value() for t in body.translations],
        remove_locales=body.remove_locales,
        category_id=body.category_id if "category_id" in sent else KEEP,
        tags=body.tags,
        metadata=body.metadata,
        pinned=body.pinned,
        locked=body.locked,
    )
    post = await service.update(
        tenant, post_id, changes, expected_version=body.version, actor_id=ctx.actor_id, status=body.status
    )
    return await _one(ctx, post)


async def delete_post(request: Request, post_id: uuid.UUID, query: DeletePostQuery) -> None:
    """Delete a post with its comments."""
    ctx = request_context(request)
    service = PostService(ctx.app)
    await authorize_on(ctx, POSTS_DELETE, await service.get(ctx.require_tenant().id, post_id))
    await service.delete(ctx.require_tenant(), post_id, expected_version=query.version, actor_id=ctx.actor_id)


def routes() -> list[RestRoute]:
    tags = ["blog"]
    return [
        RestRoute(
            "/posts",
            list_posts,
            summary="List posts",
            query=PostListQuery,
            response=PostPage,
            permission=POSTS_READ,
            tags=tags,
        ),
        RestRoute(
            "/posts",
            create_post,
            methods=["POST"],
            summary="Create a post",
            body=CreatePostRequest,
            response=PostResponse,
            status_code=201,
            permission=POSTS_CREATE,
            idempotent=True,
            tags=tags,
            name="create_post",
        ),
        RestRoute(
            "/posts/{post_id:uuid}",
            get_post,
            summary="Get a post",
            response=PostResponse,
            permission=POSTS_READ,
            tags=tags,
        ),
        RestRoute(
            "/posts/{post_id:uuid}",
            update_post,
            methods=["PATCH"],
            summary="Change a post",
            body=UpdatePostRequest,
            response=PostResponse,
            permission=POSTS_UPDATE,
            tags=tags,
            name="update_post",
        ),
        RestRoute(
            "/posts/{post_id:uuid}",
            delete_post,
            methods=["DELETE"],
            summary="Delete a post with its comments",
            query=DeletePostQuery,
            status_code=204,
            permission=POSTS_DELETE,
            tags=tags,
            name="delete_post",
        ),
    ]
