"""Nodes through GraphQL: translations with fallback, slugs, versions, revisions, publishing.

Real PostgreSQL; the events each write publishes are read back from the outbox.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes

NODE_FIELDS = "id kind status version locale title slug excerpt body { format html source } availableLocales"

CREATE = f"mutation($input: CreateNodeInput!) {{ createNode(input: $input) {{ {NODE_FIELDS} }} }}"
UPDATE = (
    "mutation($id: UUID!, $version: Int!, $input: UpdateNodeInput!) "
    f"{{ updateNode(id: $id, version: $version, input: $input) {{ {NODE_FIELDS} }} }}"
)
GET = f"query($id: UUID!, $locale: String) {{ node(id: $id, locale: $locale) {{ {NODE_FIELDS} }} }}"


@pytest.fixture
async def site(make_tenant: Any, make_user: Any) -> Any:
    tenant = await make_tenant(locales=["en", "de"])
    editor = await make_user(tenant, role="editor")
    return tenant, editor


async def outbox(platform: Platform, tenant_id: Any, *types: str) -> list[Any]:
    async with platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT event_type, payload FROM sys_events WHERE tenant_id = :t AND event_type = ANY(:types) "
                "ORDER BY id"
            ),
            {"t": tenant_id, "types": list(types)},
        )
        return list(rows.all())


async def test_a_node_in_two_locales_is_served_per_locale_with_fallback(
    rustok_client: RustokClient, rustok_platform: Platform, site: Any
) -> None:
    tenant, editor = site
    created = await rustok_client.graphql_data(
        CREATE,
        {
            "input": {
                "kind": "article",
                "translations": [
                    {"locale": "en", "title": "Hello world", "body": {"format": "MARKDOWN", "source": "# Hi"}},
                    {"locale": "de", "title": "Hallo Welt", "slug": "hallo-welt"},
                ],
            }
        },
        headers=editor.headers,
    )
    node = created["createNode"]
    assert node["status"] == "DRAFT" and node["version"] == 1
    assert node["slug"] == "hello-world" and node["locale"] == "en"
    assert node["body"]["html"].strip() == "<h1>Hi</h1>" and node["body"]["source"] == "# Hi"
    assert sorted(node["availableLocales"]) == ["de", "en"]

    german = (await rustok_client.graphql_data(GET, {"id": node["id"], "locale": "de"}, headers=editor.headers))["node"]
    assert (german["title"], german["slug"], german["locale"]) == ("Hallo Welt", "hallo-welt", "de")
    french = (await rustok_client.graphql_data(GET, {"id": node["id"], "locale": "fr"}, headers=editor.headers))["node"]
    assert french["locale"] == "en" and french["title"] == "Hello world"

    # The public sees drafts as missing; once published, they see it without its source.
    public = await rustok_client.graphql_data(GET, {"id": node["id"]}, tenant=tenant)
    assert public["node"] is None
    await rustok_client.graphql_data(
        "mutation($id: UUID!) { publishNode(id: $id) { status } }", {"id": node["id"]}, headers=editor.headers
    )
    public = await rustok_client.graphql_data(GET, {"id": node["id"], "locale": "de"}, tenant=tenant)
    assert public["node"]["title"] == "Hallo Welt" and public["node"]["body"] is None
    english = await rustok_client.graphql_data(GET, {"id": node["id"]}, tenant=tenant)
    assert english["node"]["body"]["source"] is None and english["node"]["body"]["html"].strip() == "<h1>Hi</h1>"

    events = await outbox(rustok_platform, tenant.id, "content.node.created", "content.node.published")
    assert [(e.event_type, e.payload["node_id"]) for e in events] == [
        ("content.node.created", node["id"]),
        ("content.node.published", node["id"]),
    ]
    assert events[0].payload["locales"] == ["de", "en"]


async def test_a_stale_version_is_refused_and_nothing_changes(
    rustok_client: RustokClient, rustok_platform: Platform, site: Any
) -> None:
    tenant, editor = site
    node = (
        await rustok_client.graphql_data(
            CREATE,
            {"input": {"kind": "article", "translations": [{"locale": "en", "title": "First"}]}},
            headers=editor.headers,
        )
    )["createNode"]
    first = await rustok_client.graphql_data(
        UPDATE,
        {"id": node["id"], "version": 1, "input": {"translations": [{"locale": "en", "title": "Second"}]}},
        headers=editor.headers,
    )
    assert first["updateNode"]["version"] == 2 and first["updateNode"]["title"] == "Second"
    stale = await rustok_client.graphql(
        UPDATE,
        {"id": node["id"], "version": 1, "input": {"translations": [{"locale": "en", "title": "Third"}]}},
        headers=editor.headers,
    )
    assert error_codes(stale) == ["CONFLICT"]
    assert stale["errors"][0]["extensions"]["currentVersion"] == 2
    current = (await rustok_client.graphql_data(GET, {"id": node["id"]}, headers=editor.headers))["node"]
    assert (current["title"], current["version"]) == ("Second", 2)
    updates = await outbox(rustok_platform, tenant.id, "content.node.updated")
    assert [e.payload["node_id"] for e in updates] == [node["id"]]

    revisions = await rustok_client.graphql_data(
        "query($id: UUID!) { nodeRevisions(id: $id) { id title nodeVersion } }",
        {"id": node["id"]},
        headers=editor.headers,
    )
    assert [(r["title"], r["nodeVersion"]) for r in revisions["nodeRevisions"]] == [("First", 1)]
    restored = await rustok_client.graphql_data(
        f"mutation($r: UUID!) {{ restoreNodeRevision(revisionId: $r, version: 2) {{ {NODE_FIELDS} }} }}",
        {"r": revisions["nodeRevisions"][0]["id"]},
        headers=editor.headers,
    )
    assert (restored["restoreNodeRevision"]["title"], restored["restoreNodeRevision"]["version"]) == ("First", 3)


async def test_slugs_collide_per_locale_and_kind_only(rustok_client: RustokClient, site: Any) -> None:
    _, editor = site

    async def create(kind: str, locale: str, slug: str) -> dict[str, Any]:
        return await rustok_client.graphql(
            CREATE,
            {"input": {"kind": kind, "translations": [{"locale": locale, "title": "T", "slug": slug}]}},
            headers=editor.headers,
        )

    assert "errors" not in await create("article", "en", "same")
    assert "errors" not in await create("article", "de", "same")
    clash = await create("article", "en", "same")
    assert error_codes(clash) == ["CONFLICT"]
    assert clash["errors"][0]["extensions"]["reason"] == "SLUG_TAKEN"
    assert "errors" not in await create("snippet", "en", "same")


async def test_an_update_of_many_things_raises_the_version_by_one(rustok_client: RustokClient, site: Any) -> None:
    _, editor = site
    category = await rustok_client.graphql_data(
        'mutation { createCategory(input: {translations: [{locale: "en", name: "Cat"}]}) { id } }',
        headers=editor.headers,
    )
    node = (
        await rustok_client.graphql_data(
            CREATE,
            {"input": {"kind": "article", "tags": ["a"], "translations": [{"locale": "en", "title": "Many"}]}},
            headers=editor.headers,
        )
    )["createNode"]
    changed = await rustok_client.graphql_data(
        UPDATE,
        {
            "id": node["id"],
            "version": 1,
            "input": {
                "categoryId": category["createCategory"]["id"],
                "tags": ["b", "c"],
                "position": 4,
                "metadata": {"featured": True},
                "translations": [{"locale": "de", "title": "Viele"}, {"locale": "en", "excerpt": "x"}],
            },
        },
        headers=editor.headers,
    )
    assert changed["updateNode"]["version"] == 2


async def test_kinds_owned_by_another_module_are_not_written_through_the_generic_api(
    rustok_client: RustokClient, site: Any
) -> None:
    from rustok_content.kinds import claim_kind

    _, editor = site
    claim_kind("owned_by_test", "testing")
    refused = await rustok_client.graphql(
        CREATE,
        {"input": {"kind": "owned_by_test", "translations": [{"locale": "en", "title": "Nope"}]}},
        headers=editor.headers,
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    assert refused["errors"][0]["extensions"]["reason"] == "KIND_OWNED"
    rest = await rustok_client.post(
        "/api/v1/content/nodes",
        json={"kind": "owned_by_test", "translations": [{"locale": "en", "title": "Nope"}]},
        headers=editor.headers,
    )
    assert rest.status_code == 403


async def test_an_author_reads_the_source_of_their_own_node(
    rustok_client: RustokClient, site: Any, make_user: Any
) -> None:
    tenant, editor = site
    admin = await make_user(tenant, role="admin")
    await rustok_client.graphql_data(
        'mutation { createRole(input: {slug: "writer", name: "Writer", grants: ['
        '{permission: "content_nodes:create"}]}) { slug } }',
        headers=admin.headers,
    )
    writer = await make_user(tenant, role="writer")
    created = await rustok_client.graphql_data(
        CREATE,
        {
            "input": {
                "kind": "article",
                "translations": [{"locale": "en", "title": "Mine", "body": {"format": "MARKDOWN", "source": "*x*"}}],
            }
        },
        headers=writer.headers,
    )
    assert created["createNode"]["body"]["source"] == "*x*"
    others = await rustok_client.graphql_data(
        CREATE,
        {
            "input": {
                "kind": "article",
                "status": "PUBLISHED",
                "translations": [{"locale": "en", "title": "Theirs", "body": {"format": "MARKDOWN", "source": "*y*"}}],
            }
        },
        headers=editor.headers,
    )
    seen = await rustok_client.graphql_data(GET, {"id": others["createNode"]["id"]}, headers=writer.headers)
    assert seen["node"]["body"]["source"] is None
