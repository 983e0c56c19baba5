"""Categories (translated trees per kind) and tags (with exact use counts) on nodes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes

CREATE_CATEGORY = (
    "mutation($input: CreateCategoryInput!) { createCategory(input: $input) "
    "{ id slug depth parentId version name locale } }"
)
CREATE_NODE = (
    "mutation($input: CreateNodeInput!) { createNode(input: $input) "
    "{ id version tags { slug name } category { slug name } } }"
)
UPDATE_NODE = (
    "mutation($id: UUID!, $version: Int!, $input: UpdateNodeInput!) "
    "{ updateNode(id: $id, version: $version, input: $input) { id version tags { slug } category { slug } } }"
)


@pytest.fixture
async def site(make_tenant: Any, make_user: Any) -> Any:
    tenant = await make_tenant(locales=["en", "de"])
    return tenant, await make_user(tenant, role="editor")


async def tag_counts(platform: Platform, tenant_id: Any) -> dict[str, int]:
    async with platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT slug, use_count FROM tags WHERE tenant_id = :t"), {"t": tenant_id})
        return dict(rows.all())


async def events(platform: Platform, tenant_id: Any, prefix: str) -> list[Any]:
    async with platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT event_type, payload FROM sys_events WHERE tenant_id = :t AND event_type LIKE :p ORDER BY id"),
            {"t": tenant_id, "p": prefix + "%"},
        )
        return list(rows.all())


async def test_a_category_tree_is_translated_and_slugs_are_unique_per_kind(
    rustok_client: RustokClient, site: Any
) -> None:
    tenant, editor = site
    news = (
        await rustok_client.graphql_data(
            CREATE_CATEGORY,
            {"input": {"translations": [{"locale": "en", "name": "News"}, {"locale": "de", "name": "Neuigkeiten"}]}},
            headers=editor.headers,
        )
    )["createCategory"]
    assert (news["slug"], news["depth"], news["name"]) == ("news", 0, "News")
    child = (
        await rustok_client.graphql_data(
            CREATE_CATEGORY,
            {"input": {"parentId": news["id"], "slug": "local", "translations": [{"locale": "en", "name": "Local"}]}},
            headers=editor.headers,
        )
    )["createCategory"]
    assert (child["depth"], child["parentId"]) == (1, news["id"])

    clash = await rustok_client.graphql(
        CREATE_CATEGORY, {"input": {"translations": [{"locale": "en", "name": "News"}]}}, headers=editor.headers
    )
    assert error_codes(clash) == ["CONFLICT"]
    other_kind = await rustok_client.graphql_data(
        CREATE_CATEGORY,
        {"input": {"kind": "forum", "translations": [{"locale": "en", "name": "News"}]}},
        headers=editor.headers,
    )
    assert other_kind["createCategory"]["slug"] == "news"

    german = await rustok_client.graphql_data('{ categories(locale: "de") { slug name locale } }', tenant=tenant)
    assert german["categories"] == [
        {"slug": "news", "name": "Neuigkeiten", "locale": "de"},
        {"slug": "local", "name": "Local", "locale": "en"},
    ]

    # A category with subcategories cannot go; a leaf can, and its nodes lose it.
    refused = await rustok_client.graphql(
        "mutation($id: UUID!) { deleteCategory(id: $id) }", {"id": news["id"]}, headers=editor.headers
    )
    assert error_codes(refused) == ["CONFLICT"]
    node = (
        await rustok_client.graphql_data(
            CREATE_NODE,
            {"input": {"kind": "article", "categoryId": child["id"], "translations": [{"locale": "en", "title": "A"}]}},
            headers=editor.headers,
        )
    )["createNode"]
    assert node["category"]["slug"] == "local"
    await rustok_client.graphql_data(
        "mutation($id: UUID!) { deleteCategory(id: $id) }", {"id": child["id"]}, headers=editor.headers
    )
    after = await rustok_client.graphql_data(
        "query($id: UUID!) { node(id: $id) { category { slug } } }", {"id": node["id"]}, headers=editor.headers
    )
    assert after["node"]["category"] is None


async def test_moving_a_category_below_itself_is_refused(rustok_client: RustokClient, site: Any) -> None:
    _, editor = site
    top = (
        await rustok_client.graphql_data(
            CREATE_CATEGORY, {"input": {"translations": [{"locale": "en", "name": "Top"}]}}, headers=editor.headers
        )
    )["createCategory"]
    below = (
        await rustok_client.graphql_data(
            CREATE_CATEGORY,
            {"input": {"parentId": top["id"], "translations": [{"locale": "en", "name": "Below"}]}},
            headers=editor.headers,
        )
    )["createCategory"]
    move = await rustok_client.graphql(
        "mutation($id: UUID!, $p: UUID) { updateCategory(id: $id, version: 1, input: {parentId: $p}) { depth } }",
        {"id": top["id"], "p": below["id"]},
        headers=editor.headers,
    )
    assert error_codes(move) == ["VALIDATION"]
    assert move["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["parentId"]


async def test_tags_are_attached_and_detached_with_exact_counts_and_events(
    rustok_client: RustokClient, rustok_platform: Platform, site: Any
) -> None:
    tenant, editor = site
    first = (
        await rustok_client.graphql_data(
            CREATE_NODE,
            {
                "input": {
                    "kind": "article",
                    "tags": ["Python", "Web Dev"],
                    "translations": [{"locale": "en", "title": "A"}],
                }
            },
            headers=editor.headers,
        )
    )["createNode"]
    assert [t["slug"] for t in first["tags"]] == ["python", "web-dev"]
    second = (
        await rustok_client.graphql_data(
            CREATE_NODE,
            {"input": {"kind": "article", "tags": ["python"], "translations": [{"locale": "en", "title": "B"}]}},
            headers=editor.headers,
        )
    )["createNode"]
    assert await tag_counts(rustok_platform, tenant.id) == {"python": 2, "web-dev": 1}

    retagged = await rustok_client.graphql_data(
        UPDATE_NODE,
        {"id": first["id"], "version": first["version"], "input": {"tags": ["web dev", "Databases"]}},
        headers=editor.headers,
    )
    assert [t["slug"] for t in retagged["updateNode"]["tags"]] == ["databases", "web-dev"]
    assert await tag_counts(rustok_platform, tenant.id) == {"python": 1, "web-dev": 1, "databases": 1}

    await rustok_client.graphql_data(
        "mutation($id: UUID!) { deleteNode(id: $id) }", {"id": second["id"]}, headers=editor.headers
    )
    assert await tag_counts(rustok_platform, tenant.id) == {"python": 0, "web-dev": 1, "databases": 1}
    logged = [
        (e.event_type, e.payload["tag"], e.payload["target_id"])
        for e in await events(rustok_platform, tenant.id, "content.tag.")
    ]
    assert logged == [
        ("content.tag.attached", "python", first["id"]),
        ("content.tag.attached", "web-dev", first["id"]),
        ("content.tag.attached", "python", second["id"]),
        ("content.tag.attached", "databases", first["id"]),
        ("content.tag.detached", "python", first["id"]),
        ("content.tag.detached", "python", second["id"]),
    ]
    listed = await rustok_client.graphql_data('{ tags(prefix: "da") { slug useCount } }', tenant=tenant)
    assert listed["tags"] == [{"slug": "databases", "useCount": 1}]


async def test_concurrent_tagging_keeps_use_counts_exact(
    rustok_client: RustokClient, rustok_platform: Platform, site: Any
) -> None:
    tenant, editor = site

    async def create(n: int) -> Any:
        return await rustok_client.graphql_data(
            CREATE_NODE,
            {"input": {"kind": "article", "tags": ["shared"], "translations": [{"locale": "en", "title": f"N {n}"}]}},
            headers=editor.headers,
        )

    await asyncio.gather(*(create(n) for n in range(12)))
    assert (await tag_counts(rustok_platform, tenant.id))["shared"] == 12


async def test_bad_tags_are_refused_with_their_path(rustok_client: RustokClient, site: Any) -> None:
    _, editor = site
    body = await rustok_client.graphql(
        CREATE_NODE,
        {"input": {"kind": "article", "tags": ["ok", "   "], "translations": [{"locale": "en", "title": "T"}]}},
        headers=editor.headers,
    )
    assert error_codes(body) == ["VALIDATION"]
    assert body["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["tags", 1]
