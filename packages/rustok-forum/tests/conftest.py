"""Fixtures for the forum's tests: a tenant with a forum category, an editor and two customers.

Helpers live on the :class:`Forum` object the ``forum`` fixture returns (test modules
cannot import each other). Everything runs against the real platform on PostgreSQL;
events are read back from the outbox (``sys_events``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from rustok_core.context import TenantContext
from rustok_core.events import EventRegistry
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.plugin import SignedInUser

TOPIC_FIELDS = (
    "id status version locale title slug replyCount pinned locked lastActivityAt authorId categoryId "
    "body { html } bodySource tags { slug } category { id name topicCount }"
)
REPLY_FIELDS = (
    "id topicId parentId depth authorId hidden version createdAt body { html } bodySource "
    "moderation { action moderatorId at reason }"
)

CREATE_CATEGORY = (
    "mutation($input: CreateForumCategoryInput!) { createForumCategory(input: $input) { id slug version } }"
)
CREATE_TOPIC = f"mutation($input: CreateTopicInput!) {{ createTopic(input: $input) {{ {TOPIC_FIELDS} }} }}"
REPLY = (
    "mutation($topic: UUID!, $body: String!, $parent: UUID, $locale: String) "
    "{ replyToTopic(topicId: $topic, body: $body, parentId: $parent, locale: $locale) { " + REPLY_FIELDS + " } }"
)
UPDATE_REPLY = (
    "mutation($id: UUID!, $version: Int!, $body: String!) "
    "{ updateReply(id: $id, version: $version, body: $body) { " + REPLY_FIELDS + " } }"
)
LOCK = f"mutation($id: UUID!, $locked: Boolean!) {{ lockTopic(id: $id, locked: $locked) {{ {TOPIC_FIELDS} }} }}"
PIN = f"mutation($id: UUID!, $pinned: Boolean!) {{ pinTopic(id: $id, pinned: $pinned) {{ {TOPIC_FIELDS} }} }}"
MODERATE = (
    "mutation($id: UUID!, $action: ReplyModerationAction!, $reason: String) "
    "{ moderateReply(id: $id, action: $action, reason: $reason) { " + REPLY_FIELDS + " } }"
)
DELETE_REPLY = "mutation($id: UUID!) { deleteReply(id: $id) }"
DELETE_TOPIC = "mutation($id: UUID!) { deleteTopic(id: $id) }"
TOPIC = (
    "query($id: UUID, $slug: String, $locale: String, $first: Int) "
    "{ topic(id: $id, slug: $slug, locale: $locale) { " + TOPIC_FIELDS + " replies(first: $first) "
    "{ edges { node { " + REPLY_FIELDS + " } } pageInfo { hasNextPage endCursor } } } }"
)


@dataclass
class Forum:
    client: RustokClient
    platform: Platform
    tenant: TenantContext
    editor: SignedInUser
    alice: SignedInUser
    bob: SignedInUser
    category_id: str

    # -- GraphQL ---------------------------------------------------------------------------

    async def gql(self, document: str, variables: dict[str, Any] | None = None, *, user: Any = None) -> dict[str, Any]:
        """The whole response; ``user=None`` calls as the public (tenant header only)."""
        if user is None:
            return await self.client.graphql(document, variables, tenant=self.tenant)
        return await self.client.graphql(document, variables, headers=user.headers)

    async def data(self, document: str, variables: dict[str, Any] | None = None, *, user: Any = None) -> dict[str, Any]:
        body = await self.gql(document, variables, user=user)
        assert not body.get("errors"), body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    async def create_category(self, name: str, **extra: Any) -> dict[str, Any]:
        data = await self.data(
            CREATE_CATEGORY,
            {"input": {"translations": [{"locale": "en", "name": name}], **extra}},
            user=self.editor,
        )
        return data["createForumCategory"]

    async def create_topic(
        self, title: str = "A question", body: str = "What do you think?", *, user: Any = None, **extra: Any
    ) -> dict[str, Any]:
        given = {"categoryId": self.category_id, "title": title, "body": body, **extra}
        data = await self.data(CREATE_TOPIC, {"input": given}, user=user or self.alice)
        return data["createTopic"]

    async def reply(
        self, topic_id: str, body: str = "I agree.", *, user: Any = None, parent_id: str | None = None
    ) -> dict[str, Any]:
        data = await self.data(REPLY, {"topic": topic_id, "body": body, "parent": parent_id}, user=user or self.bob)
        return data["replyToTopic"]

    async def topic(self, topic_id: str, *, user: Any = None, first: int = 100) -> dict[str, Any] | None:
        data = await self.data(TOPIC, {"id": topic_id, "first": first}, user=user)
        result: dict[str, Any] | None = data["topic"]
        return result

    async def lock(self, topic_id: str, locked: bool = True) -> dict[str, Any]:
        return (await self.data(LOCK, {"id": topic_id, "locked": locked}, user=self.editor))["lockTopic"]

    async def pin(self, topic_id: str, pinned: bool = True) -> dict[str, Any]:
        return (await self.data(PIN, {"id": topic_id, "pinned": pinned}, user=self.editor))["pinTopic"]

    async def moderate(self, reply_id: str, action: str, reason: str | None = None) -> dict[str, Any]:
        variables = {"id": reply_id, "action": action, "reason": reason}
        return (await self.data(MODERATE, variables, user=self.editor))["moderateReply"]

    # -- the outbox --------------------------------------------------------------------------

    async def events(self, *types: str) -> list[Any]:
        """This tenant's stored events of ``types`` (all of them without), in the order they happened."""
        query = (
            "SELECT id, event_type, schema_version, payload, actor_id, occurred_at FROM sys_events WHERE tenant_id = :t"
        )
        params: dict[str, Any] = {"t": self.tenant.id}
        if types:
            query += " AND event_type = ANY(:types)"
            params["types"] = list(types)
        async with self.platform.ctx.db.engine.connect() as conn:
            return list((await conn.execute(text(query + " ORDER BY occurred_at, id"), params)).all())

    async def event_count(self) -> int:
        async with self.platform.ctx.db.engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT count(*) FROM sys_events WHERE tenant_id = :t"), {"t": self.tenant.id}
            )
        return int(found or 0)

    def registry(self) -> EventRegistry:
        registry: EventRegistry = self.platform.ctx.state["events"].registry
        return registry

    def check_payloads(self, rows: list[Any]) -> None:
        """Every stored payload loads through the registry (shape and invariants)."""
        for row in rows:
            self.registry().load(row.event_type, dict(row.payload), row.schema_version)


@pytest.fixture
async def forum(rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any) -> Forum:
    tenant = await make_tenant(locales=["en", "de"])
    editor = await make_user(tenant, role="editor")
    alice = await make_user(tenant, role="customer")
    bob = await make_user(tenant, role="customer")
    site = Forum(rustok_client, rustok_platform, tenant, editor, alice, bob, category_id="")
    site.category_id = (await site.create_category("General", slug=f"general-{secrets.token_hex(2)}"))["id"]
    return site
