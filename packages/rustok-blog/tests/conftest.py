"""Shared fixtures of the blog tests: a site with two locales, its people, and the blog's GraphQL calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from rustok_server.boot import Platform
from rustok_testing.client import RustokClient

POST_FIELDS = (
    "id status version locale title slug excerpt body { format html source } availableLocales "
    "commentCount locked publishedAt authorId category { id slug name } tags { slug }"
)
COMMENT_FIELDS = "id postId parentId depth moderation locale html source authorId author { id displayName } moderatedAt"

CREATE_POST = f"mutation($input: CreatePostInput!) {{ createPost(input: $input) {{ {POST_FIELDS} }} }}"
UPDATE_POST = (
    "mutation($id: UUID!, $version: Int!, $input: UpdatePostInput!) "
    f"{{ updatePost(id: $id, version: $version, input: $input) {{ {POST_FIELDS} }} }}"
)
PUBLISH_POST = f"mutation($id: UUID!, $version: Int) {{ publishPost(id: $id, version: $version) {{ {POST_FIELDS} }} }}"
DELETE_POST = "mutation($id: UUID!, $version: Int) { deletePost(id: $id, version: $version) }"
GET_POST = (
    "query($id: UUID, $slug: String, $locale: String) "
    f"{{ post(id: $id, slug: $slug, locale: $locale) {{ {POST_FIELDS} }} }}"
)
LIST_POSTS = (
    "query($locale: String, $categoryId: UUID, $categorySlug: String, $tag: String, $authorId: UUID, "
    "$status: NodeStatus, $first: Int, $after: String) "
    "{ posts(locale: $locale, categoryId: $categoryId, categorySlug: $categorySlug, tag: $tag, authorId: $authorId, "
    "status: $status, first: $first, after: $after) "
    f"{{ edges {{ cursor node {{ {POST_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
)
ADD_COMMENT = (
    "mutation($postId: UUID!, $parentId: UUID, $body: String!, $locale: String) "
    "{ addComment(postId: $postId, parentId: $parentId, body: $body, locale: $locale) "
    f"{{ {COMMENT_FIELDS} }} }}"
)
MODERATE = (
    "mutation($id: UUID!, $status: CommentModeration!) "
    f"{{ moderateComment(id: $id, status: $status) {{ {COMMENT_FIELDS} }} }}"
)
DELETE_COMMENT = "mutation($id: UUID!) { deleteComment(id: $id) }"
LIST_COMMENTS = (
    "query($postId: UUID!, $status: CommentModeration, $first: Int, $after: String) "
    "{ comments(postId: $postId, status: $status, first: $first, after: $after) "
    f"{{ edges {{ cursor node {{ {COMMENT_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
)
CREATE_CATEGORY = (
    "mutation($input: CreateCategoryInput!) { createCategory(input: $input) { id slug kind name version } }"
)


def translation(locale: str, title: str, body: str | None = None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"locale": locale, "title": title, **extra}
    if body is not None:
        item["body"] = {"format": "MARKDOWN", "source": body}
    return item


@dataclass
class BlogApi:
    """The blog's GraphQL calls, each as a caller (``as_`` = a signed-in user, or a tenant for the public)."""

    client: RustokClient
    platform: Platform

    async def call(self, document: str, variables: dict[str, Any], as_: Any) -> dict[str, Any]:
        if hasattr(as_, "headers"):
            return await self.client.graphql(document, variables, headers=as_.headers)
        return await self.client.graphql(document, variables, tenant=as_)

    async def data(self, document: str, variables: dict[str, Any], as_: Any) -> dict[str, Any]:
        body = await self.call(document, variables, as_)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def category(self, as_: Any, slug: str, *names: tuple[str, str]) -> dict[str, Any]:
        translations = [{"locale": locale, "name": name} for locale, name in names] or [{"locale": "en", "name": slug}]
        created = await self.data(
            CREATE_CATEGORY, {"input": {"kind": "blog", "slug": slug, "translations": translations}}, as_
        )
        return created["createCategory"]

    async def create_post(self, as_: Any, *translations: dict[str, Any], **fields: Any) -> dict[str, Any]:
        items = list(translations) or [translation("en", "A post")]
        data = await self.data(CREATE_POST, {"input": {"translations": items, **fields}}, as_)
        return data["createPost"]

    async def publish(self, as_: Any, post: dict[str, Any]) -> dict[str, Any]:
        data = await self.data(PUBLISH_POST, {"id": post["id"], "version": post["version"]}, as_)
        return data["publishPost"]

    async def post(self, as_: Any, **variables: Any) -> dict[str, Any] | None:
        found: dict[str, Any] | None = (await self.data(GET_POST, variables, as_))["post"]
        return found

    async def posts(self, as_: Any, **variables: Any) -> list[dict[str, Any]]:
        data = await self.data(LIST_POSTS, variables, as_)
        return [edge["node"] for edge in data["posts"]["edges"]]

    async def comment(self, as_: Any, post: dict[str, Any], body: str, **variables: Any) -> dict[str, Any]:
        data = await self.data(ADD_COMMENT, {"postId": post["id"], "body": body, **variables}, as_)
        return data["addComment"]

    async def moderate(self, as_: Any, comment: dict[str, Any], status: str) -> dict[str, Any]:
        data = await self.data(MODERATE, {"id": comment["id"], "status": status}, as_)
        return data["moderateComment"]

    async def comments(self, as_: Any, post: dict[str, Any], **variables: Any) -> list[dict[str, Any]]:
        data = await self.data(LIST_COMMENTS, {"postId": post["id"], **variables}, as_)
        return [edge["node"] for edge in data["comments"]["edges"]]


@pytest.fixture
def blog(rustok_client: RustokClient, rustok_platform: Platform) -> BlogApi:
    return BlogApi(rustok_client, rustok_platform)


@dataclass
class Site:
    tenant: Any
    editor: Any
    customer: Any


@pytest.fixture
async def site(make_tenant: Any, make_user: Any) -> Site:
    tenant = await make_tenant(locales=["en", "de"])
    return Site(tenant, await make_user(tenant, role="editor"), await make_user(tenant, role="customer"))


@pytest.fixture
def outbox(rustok_platform: Platform) -> Any:
    """``await outbox(tenant_id, *event_types)``: the tenant's outbox rows in order.

    Each row has ``id, event_type, payload, schema_version, actor_id``; no types: every event.
    """

    async def read(tenant_id: Any, *types: str) -> list[Any]:
        query = "SELECT id, event_type, payload, schema_version, actor_id FROM sys_events WHERE tenant_id = :t"
        params: dict[str, Any] = {"t": tenant_id}
        if types:
            query += " AND event_type = ANY(:types)"
            params["types"] = list(types)
        async with rustok_platform.ctx.db.engine.connect() as conn:
            return list((await conn.execute(text(query + " ORDER BY id"), params)).all())

    return read
