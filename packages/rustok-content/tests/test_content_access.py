"""Who may do what with content; what the public sees; safe output; SEO meta; module toggles."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from rustok_core.interfaces import TenantDirectory
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes

CREATE = "mutation($input: CreateNodeInput!) { createNode(input: $input) { id version body { html } } }"
UPDATE = (
    "mutation($id: UUID!, $v: Int!, $input: UpdateNodeInput!) "
    "{ updateNode(id: $id, version: $v, input: $input) { id version } }"
)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parsed(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


@pytest.fixture
async def site(make_tenant: Any, make_user: Any) -> Any:
    tenant = await make_tenant()
    return tenant, await make_user(tenant, role="editor")


@pytest.mark.parametrize(
    ("fmt", "source"),
    [
        ("MARKDOWN", "Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"),
        (
            "HTML",
            '<p onclick="steal()">ok</p><iframe src="https://evil.example"></iframe><a href=" JaVaScRiPt:x">y</a>',
        ),
        ("JSON", '{"blocks": [{"type": "paragraph", "text": "<script>alert(1)</script>"}]}'),
    ],
)
async def test_script_in_a_body_never_reaches_the_output(
    rustok_client: RustokClient, site: Any, fmt: str, source: str
) -> None:
    tenant, editor = site
    created = await rustok_client.graphql_data(
        CREATE,
        {
            "input": {
                "kind": "article",
                "status": "PUBLISHED",
                "translations": [{"locale": "en", "title": "XSS", "body": {"format": fmt, "source": source}}],
            }
        },
        headers=editor.headers,
    )
    html = created["createNode"]["body"]["html"]
    public = await rustok_client.graphql_data(
        "query($id: UUID!) { node(id: $id) { body { html source } } }",
        {"id": created["createNode"]["id"]},
        tenant=tenant,
    )
    assert public["node"]["body"] == {"html": html, "source": None}
    for tag, attrs in parsed(html):
        assert tag not in ("script", "iframe")
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not any("javascript" in (value or "").lower() for value in attrs.values()), (tag, attrs)


async def test_an_author_with_own_scope_edits_only_their_own_nodes(
    rustok_client: RustokClient, site: Any, make_user: Any
) -> None:
    tenant, editor = site
    admin = await make_user(tenant, role="admin")
    await rustok_client.graphql_data(
        'mutation { createRole(input: {slug: "author", name: "Author", grants: ['
        '{permission: "content_nodes:create"}, {permission: "content_nodes:update", scope: OWN}]}) { slug } }',
        headers=admin.headers,
    )
    author = await make_user(tenant, role="author")
    mine = (
        await rustok_client.graphql_data(
            CREATE,
            {"input": {"kind": "article", "translations": [{"locale": "en", "title": "Mine"}]}},
            headers=author.headers,
        )
    )["createNode"]
    theirs = (
        await rustok_client.graphql_data(
            CREATE,
            {"input": {"kind": "article", "translations": [{"locale": "en", "title": "Theirs"}]}},
            headers=editor.headers,
        )
    )["createNode"]
    change = {"translations": [{"locale": "en", "title": "Changed"}]}
    ok = await rustok_client.graphql_data(UPDATE, {"id": mine["id"], "v": 1, "input": change}, headers=author.headers)
    assert ok["updateNode"]["version"] == 2
    refused = await rustok_client.graphql(UPDATE, {"id": theirs["id"], "v": 1, "input": change}, headers=author.headers)
    assert error_codes(refused) == ["FORBIDDEN"]
    publish = await rustok_client.graphql(
        "mutation($id: UUID!) { publishNode(id: $id) { id } }", {"id": mine["id"]}, headers=author.headers
    )
    assert error_codes(publish) == ["FORBIDDEN"]
    untouched = await rustok_client.graphql_data(
        "query($id: UUID!) { node(id: $id) { title version } }", {"id": theirs["id"]}, headers=editor.headers
    )
    assert untouched["node"] == {"title": "Theirs", "version": 1}


async def test_the_public_lists_only_published_nodes(rustok_client: RustokClient, site: Any) -> None:
    tenant, editor = site
    for title, status in (("Out", "PUBLISHED"), ("In work", "DRAFT")):
        await rustok_client.graphql_data(
            CREATE,
            {"input": {"kind": "note", "status": status, "translations": [{"locale": "en", "title": title}]}},
            headers=editor.headers,
        )
    query = 'query($s: NodeStatus) { nodes(kind: "note", status: $s) { edges { node { title status } } } }'
    public = await rustok_client.graphql_data(query, {"s": "DRAFT"}, tenant=tenant)
    assert [e["node"]["title"] for e in public["nodes"]["edges"]] == ["Out"]
    staff = await rustok_client.graphql_data(query, {"s": "DRAFT"}, headers=editor.headers)
    assert [e["node"]["title"] for e in staff["nodes"]["edges"]] == ["In work"]
    revisions = await rustok_client.graphql(
        'query { nodes(kind: "note") { edges { node { revisions { id } } } } }', tenant=tenant
    )
    assert set(error_codes(revisions)) == {"UNAUTHENTICATED"}


async def test_seo_meta_is_set_per_locale_and_checked(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant(locales=["en", "de"])
    editor = await make_user(tenant, role="editor")
    node = (
        await rustok_client.graphql_data(
            CREATE,
            {"input": {"kind": "article", "status": "PUBLISHED", "translations": [{"locale": "en", "title": "SEO"}]}},
            headers=editor.headers,
        )
    )["createNode"]
    upsert = (
        'mutation($id: UUID!, $l: String!, $i: MetaInput!, $v: Int) { upsertMeta(targetType: "node", '
        "targetId: $id, locale: $l, input: $i, version: $v) "
        "{ locale title noindex canonicalUrl structuredData version } }"
    )
    first = await rustok_client.graphql_data(
        upsert,
        {
            "id": node["id"],
            "l": "de",
            "i": {
                "title": "Titel",
                "noindex": True,
                "canonicalUrl": "https://example.com/seo",
                "structuredData": {"@type": "Article"},
            },
        },
        headers=editor.headers,
    )
    assert first["upsertMeta"] == {
        "locale": "de",
        "title": "Titel",
        "noindex": True,
        "canonicalUrl": "https://example.com/seo",
        "structuredData": {"@type": "Article"},
        "version": 1,
    }
    stale = await rustok_client.graphql(
        upsert, {"id": node["id"], "l": "de", "i": {"title": "X"}, "v": 5}, headers=editor.headers
    )
    assert error_codes(stale) == ["CONFLICT"]
    bad = await rustok_client.graphql(
        upsert,
        {
            "id": node["id"],
            "l": "de",
            "i": {"canonicalUrl": "javascript:alert(1)", "structuredData": {"x": "</script>"}},
        },
        headers=editor.headers,
    )
    assert error_codes(bad) == ["VALIDATION"]
    read = await rustok_client.graphql_data(
        'query($id: UUID!) { de: node(id: $id, locale: "de") { meta { title } } en: node(id: $id, locale: "en") '
        "{ meta { title } } }",
        {"id": node["id"]},
        tenant=tenant,
    )
    # Only German meta exists: English falls back to it rather than to nothing.
    assert read == {"de": {"meta": {"title": "Titel"}}, "en": {"meta": {"title": "Titel"}}}


async def test_a_tenant_without_content_gets_module_disabled(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant(modules=[])
    admin = await make_user(tenant, role="admin")
    body = await rustok_client.graphql("{ nodes { edges { node { id } } } }", headers=admin.headers)
    assert error_codes(body) == ["MODULE_DISABLED"]
    response = await rustok_client.get("/api/v1/content/nodes", headers=admin.headers)
    assert response.status_code == 403 and response.json()["code"] == "MODULE_DISABLED"
    directory = rustok_platform.ctx.services.get(TenantDirectory)
    await directory.set_module_enabled(tenant.id, "content", True)
    enabled = await rustok_client.graphql_data("{ nodes { edges { node { id } } } }", headers=admin.headers)
    assert enabled["nodes"]["edges"] == []
