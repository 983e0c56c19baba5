"""The pages APIs around the services: REST for integrations, access, the module toggle,
query counts of lists, and the demo data."""

from __future__ import annotations

import uuid
from typing import Any

from rustok_pages.demo import seed
from rustok_testing.client import error_codes
from rustok_testing.events import deliver_events
from rustok_testing.queries import count_queries

# Relays and handlers share the engine; their polling is not the query under test.
BACKGROUND = (r"sys_events", r"event_receipts", r"pg_notify", r"LISTEN")


async def test_rest_creates_reads_changes_and_deletes_pages_with_their_blocks(site: Any) -> None:
    client, headers = site.client, site.editor.headers
    body = {
        "translations": [
            {
                "locale": "en",
                "title": "Services",
                "segment": "services",
                "blocks": [{"type": "cta", "data": {"label": "Book", "url": "/book"}}],
            },
            {"locale": "de", "title": "Leistungen", "segment": "leistungen"},
        ],
        "status": "published",
    }
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    created = await client.post("/api/v1/pages/pages", json=body, headers={**headers, **key})
    assert created.status_code == 201, created.text
    again = await client.post("/api/v1/pages/pages", json=body, headers={**headers, **key})
    assert again.status_code == 201 and again.json()["id"] == created.json()["id"]
    page = created.json()
    assert [(t["locale"], t["path"]) for t in page["translations"]] == [("de", "leistungen"), ("en", "services")]
    assert page["translations"][1]["blocks"][0]["data"] == {"label": "Book", "url": "/book", "style": "primary"}

    child = await client.post(
        "/api/v1/pages/pages",
        json={"parentId": page["id"], "translations": [{"locale": "en", "title": "Repairs"}]},
        headers=headers,
    )
    assert child.status_code == 201, child.text
    assert child.json()["translations"][0]["path"] == "services/repairs"

    listed = await client.get("/api/v1/pages/pages", params={"parentId": page["id"]}, headers=headers)
    assert [p["id"] for p in listed.json()["items"]] == [child.json()["id"]]

    renamed = await client.patch(
        f"/api/v1/pages/pages/{page['id']}",
        json={
            "version": page["version"],
            "status": "draft",
            "translations": [{"locale": "en", "segment": "what-we-do", "blocks": []}],
        },
        headers=headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["status"] == "draft" and renamed.json()["translations"][1]["blocks"] == []
    fetched = await client.get(f"/api/v1/pages/pages/{child.json()['id']}", headers=headers)
    assert fetched.json()["translations"][0]["path"] == "what-we-do/repairs"

    invalid = await client.patch(
        f"/api/v1/pages/pages/{page['id']}",
        json={
            "version": renamed.json()["version"],
            "translations": [
                {"locale": "en", "blocks": [{"type": "image", "data": {"url": "javascript:x", "alt": ""}}]}
            ],
        },
        headers=headers,
    )
    assert invalid.status_code == 422
    assert "javascript" not in invalid.text or "url" in invalid.text
    stale = await client.delete(f"/api/v1/pages/pages/{page['id']}", params={"version": 1}, headers=headers)
    assert stale.status_code == 409
    gone = await client.delete(
        f"/api/v1/pages/pages/{page['id']}", params={"version": renamed.json()["version"]}, headers=headers
    )
    assert gone.status_code == 204
    missing = await client.get(f"/api/v1/pages/pages/{child.json()['id']}", headers=headers)
    assert missing.status_code == 404


async def test_access_follows_the_declared_permissions(site: Any, make_user: Any) -> None:
    customer = await make_user(site.tenant, role="customer")
    manager = await make_user(site.tenant, role="manager")
    draft = await site.create_page({"locale": "en", "title": "Draft"}, status="DRAFT")
    create = {"input": {"translations": [{"locale": "en", "title": "Mine"}]}}

    as_customer = await site.client.graphql(site.CREATE_PAGE, create, headers=customer.headers)
    assert error_codes(as_customer) == ["FORBIDDEN"]
    anonymous = await site.client.graphql(
        site.UPSERT_MENU, {"input": {"slug": "m", "name": "m", "items": []}}, tenant=site.tenant
    )
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    as_manager = await site.client.graphql(site.CREATE_PAGE, create, headers=manager.headers)
    assert error_codes(as_manager) == ["FORBIDDEN"]
    # Managers read drafts (pages:read); customers do not.
    read = "query($id: UUID!) { pageById(id: $id) { id } }"
    assert (await site.client.graphql(read, {"id": draft["id"]}, headers=manager.headers))["data"]["pageById"]
    assert (await site.client.graphql(read, {"id": draft["id"]}, headers=customer.headers))["data"]["pageById"] is None
    # Content's generic API does not write pages: the pages module keeps their paths.
    generic = await site.gql(
        'mutation($id: UUID!) { updateNode(id: $id, version: 1, input: {translations: [{locale: "en", slug: "x"}]}) '
        "{ id } }",
        {"id": draft["id"]},
    )
    assert error_codes(generic) == ["FORBIDDEN"]


async def test_an_own_grant_changes_only_the_authors_pages_over_rest(
    site: Any, make_user: Any, make_tenant: Any
) -> None:
    admin = await make_user(site.tenant, role="admin")
    await site.client.graphql_data(
        'mutation { createRole(input: {slug: "writer", name: "Writer", grants: ['
        '{permission: "pages:create"}, {permission: "pages:update", scope: OWN}, '
        '{permission: "pages:delete", scope: OWN}]}) { slug } }',
        headers=admin.headers,
    )
    writer = await make_user(site.tenant, role="writer")
    created = await site.client.post(
        "/api/v1/pages/pages", json={"translations": [{"locale": "en", "title": "Mine"}]}, headers=writer.headers
    )
    assert created.status_code == 201, created.text
    mine = created.json()
    theirs = await site.create_page({"locale": "en", "title": "Theirs"}, status="DRAFT")
    # Seeded pages have no author: nobody's own.
    await seed(site.platform.ctx, site.tenant.id)
    home = (await site.data(site.PAGE_BY_PATH, {"slug": "home", "locale": "en"}))["page"]

    rename = {"translations": [{"locale": "en", "title": "Renamed"}]}
    ok = await site.client.patch(
        f"/api/v1/pages/pages/{mine['id']}", json={"version": mine["version"], **rename}, headers=writer.headers
    )
    assert ok.status_code == 200, ok.text
    for other in (theirs, home):
        refused = await site.client.patch(
            f"/api/v1/pages/pages/{other['id']}", json={"version": other["version"], **rename}, headers=writer.headers
        )
        assert refused.status_code == 403 and "FORBIDDEN" in refused.text, refused.text
        deleted = await site.client.delete(
            f"/api/v1/pages/pages/{other['id']}", params={"version": other["version"]}, headers=writer.headers
        )
        assert deleted.status_code == 403
        kept = await site.page_by_id(other["id"])
        assert kept["title"] == other["title"] and kept["version"] == other["version"]


async def test_a_tenant_without_the_module_gets_module_disabled(site: Any, make_tenant: Any, make_user: Any) -> None:
    tenant = await make_tenant(modules=["content"])
    admin = await make_user(tenant, role="admin")
    for document in ("{ pages { edges { node { id } } } }", "{ menus { slug } }", '{ page(slug: "home") { id } }'):
        body = await site.client.graphql(document, headers=admin.headers)
        assert error_codes(body) == ["MODULE_DISABLED"], body
    body = await site.client.graphql(
        site.CREATE_PAGE, {"input": {"translations": [{"locale": "en", "title": "x"}]}}, headers=admin.headers
    )
    assert error_codes(body) == ["MODULE_DISABLED"]
    response = await site.client.get("/api/v1/pages/pages", headers=admin.headers)
    assert response.status_code == 403 and "MODULE_DISABLED" in response.text


async def test_menu_and_page_lists_cost_the_same_number_of_queries_whatever_their_size(site: Any) -> None:
    parent = await site.create_page({"locale": "en", "title": "Catalog"}, {"locale": "de", "title": "Katalog"})
    children = []
    for n in range(8):
        child = await site.create_page(
            {
                "locale": "en",
                "title": f"Section {n}",
                "blocks": [{"type": "TEXT", "data": {"format": "markdown", "source": f"# {n}"}}],
            },
            {"locale": "de", "title": f"Abschnitt {n}"},
            parent=parent,
            position=n,
        )
        await site.create_page({"locale": "en", "title": f"Leaf {n}"}, parent=child)
        children.append(child)

    async def menu_with(count: int) -> None:
        items = [
            {"pageId": c["id"], "children": [{"url": f"/x/{c['id']}", "labels": [{"locale": "en", "label": "x"}]}]}
            for c in children[:count]
        ]
        body = await site.gql(site.UPSERT_MENU, {"input": {"slug": f"m{count}", "name": "m", "items": items}})
        assert "errors" not in body, body

    menu_query = (
        'query($slug: String!) { menu(slug: $slug, locale: "de") '
        "{ items { label url nodeKind children { label url } } } }"
    )
    pages_query = (
        'query($p: UUID, $first: Int) { pages(parentId: $p, first: $first, locale: "de") { edges { node { '
        "title path parent { path } breadcrumbs { title } children { title path } blocks { type data } } } } }"
    )
    await menu_with(2)
    await menu_with(8)

    await deliver_events(site.platform)  # the index applies the writes' events in the background

    async def cost(document: str, variables: dict[str, Any]) -> int:
        await site.gql(document, variables, public=True)  # warm: caches of the tenant and permissions
        async with count_queries(site.platform, ignore=BACKGROUND) as counted:
            body = await site.gql(document, variables, public=True)
        assert "errors" not in body, body
        return counted.count

    small = await cost(menu_query, {"slug": "m2"})
    large = await cost(menu_query, {"slug": "m8"})
    assert small == large == 4, (small, large)  # menu, items, linked nodes, their translations
    every_menu = await cost("{ menus { items { label url children { url } } } }", {})
    assert every_menu == 4, every_menu

    # Dataloaders batch per resolution wave (the pages, then their parents and children);
    # depending on timing a wave's lookups may be split in two batches, never more. An
    # N+1 would cost at least six more statements for six more pages.
    small = await cost(pages_query, {"p": parent["id"], "first": 2})
    large = await cost(pages_query, {"p": parent["id"], "first": 8})
    assert abs(large - small) <= 1 and max(small, large) <= 8, (small, large)


async def test_demo_data_seeds_a_page_tree_with_blocks_and_a_main_menu(site: Any, make_tenant: Any) -> None:
    tenant = await make_tenant()
    await seed(site.platform.ctx, tenant.id)
    team = await site.client.graphql(
        '{ page(slug: "about/team") { title breadcrumbs { path } blocks { type } } }', tenant=tenant
    )
    assert team["data"]["page"] == {
        "title": "Our team",
        "breadcrumbs": [{"path": "about"}, {"path": "about/team"}],
        "blocks": [{"type": "GALLERY"}],
    }
    menu = await site.client.graphql(
        '{ menu(slug: "main") { items { label url children { label url } } } }', tenant=tenant
    )
    assert menu["data"]["menu"]["items"] == [
        {"label": "Home", "url": "/home", "children": []},
        {"label": "About us", "url": "/about", "children": [{"label": "Our team", "url": "/about/team"}]},
        {"label": "Blog", "url": "https://blog.example.com", "children": []},
    ]
