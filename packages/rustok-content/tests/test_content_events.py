"""Every content write publishes its events exactly once, in its transaction, with valid payloads.

A failed write publishes nothing: the events live in the same transaction as the rows.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text

from rustok_content.events import EVENT_TYPES
from rustok_core.events import EventRegistry
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes


@pytest.fixture
async def site(make_tenant: Any, make_user: Any) -> Any:
    tenant = await make_tenant(locales=["en", "de"])
    return tenant, await make_user(tenant, role="editor")


async def stored_events(platform: Platform, tenant_id: Any) -> list[Any]:
    async with platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, event_type, schema_version, payload, actor_id FROM sys_events "
                "WHERE tenant_id = :t AND event_type LIKE 'content.%' ORDER BY id"
            ),
            {"t": tenant_id},
        )
        return list(rows.all())


async def gql(client: RustokClient, headers: dict[str, str], document: str, **variables: Any) -> dict[str, Any]:
    return await client.graphql_data(document, variables, headers=headers)


async def test_each_write_publishes_its_events_once_with_valid_payloads(
    rustok_client: RustokClient, rustok_platform: Platform, site: Any
) -> None:
    tenant, editor = site
    h = editor.headers
    category = (
        await gql(
            rustok_client,
            h,
            "mutation($i: CreateCategoryInput!) { createCategory(input: $i) { id version } }",
            i={"translations": [{"locale": "en", "name": "Events"}]},
        )
    )["createCategory"]
    await gql(
        rustok_client,
        h,
        "mutation($id: UUID!) { updateCategory(id: $id, version: 1, input: {position: 2}) { id } }",
        id=category["id"],
    )
    node = (
        await gql(
            rustok_client,
            h,
            "mutation($i: CreateNodeInput!) { createNode(input: $i) { id version } }",
            i={
                "kind": "article",
                "categoryId": category["id"],
                "tags": ["one"],
                "translations": [{"locale": "en", "title": "E"}],
            },
        )
    )["createNode"]
    updated = (
        await gql(
            rustok_client,
            h,
            'mutation($id: UUID!) { updateNode(id: $id, version: 1, input: {tags: ["two"]}) { version } }',
            id=node["id"],
        )
    )["updateNode"]
    await gql(rustok_client, h, "mutation($id: UUID!) { publishNode(id: $id) { id } }", id=node["id"])
    await gql(rustok_client, h, "mutation($id: UUID!) { unpublishNode(id: $id, archive: true) { id } }", id=node["id"])
    await gql(
        rustok_client,
        h,
        'mutation($id: UUID!) { upsertMeta(targetType: "node", targetId: $id, locale: "en", '
        'input: {title: "SEO"}) { version } }',
        id=node["id"],
    )
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG")
    media = (
        await rustok_client.post(
            "/api/v1/content/media", files={"file": ("e.png", buffer.getvalue(), "image/png")}, headers=h
        )
    ).json()
    await gql(
        rustok_client,
        h,
        "mutation($id: UUID!) { updateMedia(id: $id, version: 1, "
        'translations: [{locale: "en", altText: "A"}]) { id } }',
        id=media["id"],
    )
    await gql(rustok_client, h, "mutation($id: UUID!) { deleteMedia(id: $id) }", id=media["id"])
    await gql(rustok_client, h, "mutation($id: UUID!) { deleteNode(id: $id) }", id=node["id"])
    await gql(rustok_client, h, "mutation($id: UUID!) { deleteCategory(id: $id) }", id=category["id"])
    assert updated["version"] == 2

    events = await stored_events(rustok_platform, tenant.id)
    assert Counter(e.event_type for e in events) == Counter(
        {
            "content.category.created": 1,
            "content.category.updated": 1,
            "content.node.created": 1,
            "content.tag.attached": 2,
            "content.node.updated": 1,
            "content.tag.detached": 2,
            "content.node.published": 1,
            "content.node.unpublished": 1,
            "content.meta.updated": 1,
            "content.media.uploaded": 1,
            "content.media.updated": 1,
            "content.media.deleted": 1,
            "content.node.deleted": 1,
            "content.category.deleted": 1,
        }
    )
    registry = EventRegistry(("content", event) for event in EVENT_TYPES)
    for event in events:
        loaded = registry.load(event.event_type, event.payload, event.schema_version)
        assert loaded.payload() == event.payload
        assert event.actor_id == editor.id
    assert len({event.id for event in events}) == len(events)


async def test_a_refused_write_publishes_nothing(
    rustok_client: RustokClient, rustok_platform: Platform, site: Any
) -> None:
    tenant, editor = site
    first = await rustok_client.graphql_data(
        'mutation { createNode(input: {kind: "article", translations: [{locale: "en", title: "Taken"}]}) { id } }',
        headers=editor.headers,
    )
    before = await stored_events(rustok_platform, tenant.id)
    # The second translation's slug clashes after the first was already prepared: nothing may remain.
    refused = await rustok_client.graphql(
        'mutation { createNode(input: {kind: "article", tags: ["x"], translations: ['
        '{locale: "de", title: "Frei"}, {locale: "en", title: "Other", slug: "taken"}]}) { id } }',
        headers=editor.headers,
    )
    assert error_codes(refused) == ["CONFLICT"]
    assert refused["errors"][0]["extensions"]["fieldErrors"] == [
        {"path": ["translations", 1, "slug"], "message": "slug 'taken' is already used in locale en"}
    ]
    assert await stored_events(rustok_platform, tenant.id) == before
    async with rustok_platform.ctx.db.engine.connect() as conn:
        counts = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM nodes WHERE tenant_id = :t), "
                    "(SELECT count(*) FROM tags WHERE tenant_id = :t)"
                ),
                {"t": tenant.id},
            )
        ).one()
    assert tuple(counts) == (1, 0)
    assert first["createNode"]["id"]
