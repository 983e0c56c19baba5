"""Menus: trees of links to pages, nodes and URLs, resolved per locale when read.

A menu is replaced whole and atomically; links follow pages when they move; links to
deleted nodes disappear once the ``content.node.deleted`` event is delivered (the
handler is idempotent: delivery is at least once).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from rustok_core.events import EventEnvelope
from rustok_outbox.runtime import runtime_of
from rustok_pages.handlers import DeletedNodeCleanup
from rustok_testing.client import error_codes
from rustok_testing.events import eventually

CREATE_ARTICLE = (
    'mutation($title: String!) { createNode(input: {kind: "article", status: PUBLISHED, '
    'translations: [{locale: "en", title: $title}]}) { id slug } }'
)


async def shop_site(site: Any) -> dict[str, Any]:
    about = await site.create_page(
        {"locale": "en", "title": "About us", "segment": "about"},
        {"locale": "de", "title": "Über uns", "segment": "ueber-uns"},
    )
    team = await site.create_page(
        {"locale": "en", "title": "Our team", "segment": "team"},
        {"locale": "de", "title": "Unser Team", "segment": "team"},
        parent=about,
    )
    drafts = await site.create_page({"locale": "en", "title": "Coming soon"}, status="DRAFT")
    article = (await site.data(CREATE_ARTICLE, {"title": "Release notes"}))["createNode"]
    return {"about": about, "team": team, "draft": drafts, "article": article}


def main_menu(pages: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": "main",
        "name": "Main navigation",
        "items": [
            {
                "pageId": pages["about"]["id"],
                "labels": [{"locale": "en", "label": "About"}],
                "children": [
                    {"pageId": pages["team"]["id"]},
                    {"pageId": pages["draft"]["id"]},
                ],
            },
            {"nodeId": pages["article"]["id"]},
            {
                "url": "https://shop.example.com",
                "labels": [{"locale": "en", "label": "Shop"}, {"locale": "de", "label": "Laden"}],
                "openInNewTab": True,
            },
        ],
    }


def flat(items: list[dict[str, Any]]) -> list[tuple[str, str | None, int]]:
    """(label, url, depth) of every item, depth first."""
    out: list[tuple[str, str | None, int]] = []

    def walk(level: list[dict[str, Any]], depth: int) -> None:
        for item in level:
            out.append((item["label"], item["url"], depth))
            walk(item.get("children") or [], depth + 1)

    walk(items, 0)
    return out


async def test_a_menu_resolves_page_paths_node_links_and_urls_per_locale(site: Any) -> None:
    pages = await shop_site(site)
    seen = await site.event_ids()
    created = await site.data(site.UPSERT_MENU, {"input": main_menu(pages)})
    menu_id = created["upsertMenu"]["id"]
    assert created["upsertMenu"]["version"] == 1
    events = await site.events_since(seen)
    assert [(e.event_type, e.payload) for e in events] == [
        ("pages.menu.updated", {"menu_id": menu_id, "slug": "main", "version": 1})
    ]

    english = await site.menu("main", "en", public=True)
    assert flat(english["items"]) == [
        ("About", "/about", 0),
        ("Our team", "/about/team", 1),
        ("Release notes", None, 0),
        ("Shop", "https://shop.example.com", 0),
    ]
    about, article, shop = english["items"]
    assert (about["kind"], about["path"], about["pageId"], about["nodeKind"]) == (
        "PAGE",
        "about",
        pages["about"]["id"],
        "page",
    )
    assert (article["kind"], article["nodeKind"], article["path"]) == ("NODE", "article", pages["article"]["slug"])
    assert shop["openInNewTab"] is True and shop["kind"] == "URL"

    # German: page paths and titles in German; the explicit English label of About falls
    # back to the page's German title; the URL has its own German label.
    german = await site.menu("main", "de", public=True)
    assert flat(german["items"]) == [
        ("Über uns", "/ueber-uns", 0),
        ("Unser Team", "/ueber-uns/team", 1),
        ("Release notes", None, 0),
        ("Laden", "https://shop.example.com", 0),
    ]

    # Editors also see the link to the draft page.
    editor = await site.menu("main", "en")
    assert ("Coming soon", "/coming-soon", 1) in flat(editor["items"])

    listed = await site.data('{ menus(locale: "de") { slug items { label } } }', public=True)
    assert listed["menus"] == [
        {"slug": "main", "items": [{"label": "Über uns"}, {"label": "Release notes"}, {"label": "Laden"}]}
    ]


async def test_moving_a_page_moves_its_links_and_replacing_a_menu_needs_its_version(site: Any) -> None:
    pages = await shop_site(site)
    await site.data(site.UPSERT_MENU, {"input": main_menu(pages)})
    company = await site.create_page({"locale": "en", "title": "Company"}, {"locale": "de", "title": "Firma"})
    moved = await site.update_page(pages["about"], {"parentId": company["id"]})
    assert "errors" not in moved, moved
    assert flat((await site.menu("main", "de", public=True))["items"])[:2] == [
        ("Über uns", "/firma/ueber-uns", 0),
        ("Unser Team", "/firma/ueber-uns/team", 1),
    ]

    replacement = {
        "slug": "main",
        "name": "Main",
        "items": [{"url": "/sale", "labels": [{"locale": "en", "label": "Sale"}]}],
    }
    without_version = await site.gql(site.UPSERT_MENU, {"input": replacement})
    assert error_codes(without_version) == ["CONFLICT"]
    assert without_version["errors"][0]["extensions"]["currentVersion"] == 1
    stale = await site.gql(site.UPSERT_MENU, {"input": replacement, "version": 7})
    assert error_codes(stale) == ["CONFLICT"]
    replaced = await site.data(site.UPSERT_MENU, {"input": replacement, "version": 1})
    assert replaced["upsertMenu"]["version"] == 2
    assert flat((await site.menu("main", "en"))["items"]) == [("Sale", "/sale", 0)]

    seen = await site.event_ids()
    deleted = await site.data('mutation { deleteMenu(slug: "main") }')
    assert deleted["deleteMenu"] is True
    events = await site.events_since(seen)
    assert [(e.event_type, e.payload["slug"]) for e in events] == [("pages.menu.deleted", "main")]
    assert await site.menu("main") is None
    gone = await site.gql('mutation { deleteMenu(slug: "main") }')
    assert error_codes(gone) == ["NOT_FOUND"]


async def test_an_invalid_menu_is_refused_with_the_item_that_is_wrong_and_nothing_changes(site: Any) -> None:
    pages = await shop_site(site)
    await site.data(site.UPSERT_MENU, {"input": main_menu(pages)})
    before = await site.menu("main", "en")
    seen = await site.event_ids()
    missing = str(uuid.uuid4())

    def item(**link: Any) -> dict[str, Any]:
        return {"labels": [{"locale": "en", "label": "x"}], **link}

    cases = [
        ([item(url="/a", pageId=pages["about"]["id"])], ["input", "items", 0]),
        ([item()], ["input", "items", 0]),
        ([item(url="javascript:alert(1)")], ["input", "items", 0, "url"]),
        ([{"url": "/no-label"}], ["input", "items", 0, "labels"]),
        ([item(url="/a", labels=[{"locale": "fr", "label": "x"}])], ["input", "items", 0, "labels", 0, "locale"]),
        ([item(url="/a", labels=[{"locale": "en", "label": "  "}])], ["input", "items", 0, "labels", 0, "label"]),
        ([item(url="/a"), item(pageId=missing)], ["input", "items", 1, "pageId"]),
        ([item(pageId=pages["article"]["id"])], ["input", "items", 0, "pageId"]),
        ([item(nodeId=missing)], ["input", "items", 0, "nodeId"]),
        (
            [item(url="/1", children=[item(url="/2", children=[item(url="/3", children=[item(url="/4")])])])],
            ["input", "items", 0, "children", 0, "children", 0, "children"],
        ),
        ([item(url=f"/{n}") for n in range(201)], ["input", "items"]),
    ]
    for items, path in cases:
        body = await site.gql(
            site.UPSERT_MENU, {"input": {"slug": "main", "name": "Main", "items": items}, "version": 1}
        )
        assert error_codes(body) == ["VALIDATION"], (path, body)
        assert body["errors"][0]["extensions"]["fieldErrors"][0]["path"] == path, body
    bad_slug = await site.gql(site.UPSERT_MENU, {"input": {"slug": "Main Menu!", "name": "x", "items": []}})
    assert bad_slug["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["input", "slug"]

    assert await site.menu("main", "en") == before
    assert await site.events_since(seen) == []


async def test_deleting_a_page_removes_its_blocks_at_once_and_its_menu_links_after_delivery(site: Any) -> None:
    pages = await shop_site(site)
    blocks = [{"type": "CTA", "data": {"label": "Join", "url": "/jobs"}}]
    await site.update_page(pages["team"], {"translations": [{"locale": "en", "blocks": blocks}]})
    await site.update_page(pages["about"], {"translations": [{"locale": "de", "blocks": blocks}]})
    contact = await site.create_page({"locale": "en", "title": "Contact"})
    menu = main_menu(pages)
    # A URL below the team link: it stays when the team page goes (it moves up).
    menu["items"][0]["children"][0]["children"] = [
        {"url": "/careers", "labels": [{"locale": "en", "label": "Careers"}]}
    ]
    menu["items"].append({"pageId": contact["id"]})
    await site.data(site.UPSERT_MENU, {"input": menu})
    footer = {
        "slug": "footer",
        "name": "Footer",
        "items": [
            {"pageId": pages["team"]["id"]},
            {"url": "/imprint", "labels": [{"locale": "en", "label": "Imprint"}]},
        ],
    }
    await site.data(site.UPSERT_MENU, {"input": footer})
    seen = await site.event_ids()

    about = await site.page_by_id(pages["about"]["id"])
    deleted = await site.gql(
        "mutation($id: UUID!, $v: Int!) { deletePage(id: $id, version: $v) }",
        {"id": about["id"], "v": about["version"]},
    )
    assert deleted["data"]["deletePage"] is True
    # Blocks of the page and of the page below it went in the same transaction.
    async with site.platform.ctx.db.engine.connect() as conn:
        left = await conn.scalar(
            text("SELECT count(*) FROM pages_blocks WHERE page_id = ANY(:ids)"),
            {"ids": [uuid.UUID(pages["about"]["id"]), uuid.UUID(pages["team"]["id"])]},
        )
    assert left == 0
    # Reads skip links to deleted pages at once; the items below take their place.
    assert flat((await site.menu("main", "en", public=True))["items"]) == [
        ("Careers", "/careers", 0),
        ("Release notes", None, 0),
        ("Shop", "https://shop.example.com", 0),
        ("Contact", "/contact", 0),
    ]

    async def cleaned() -> bool:
        async with site.platform.ctx.db.engine.connect() as conn:
            linked = await conn.scalar(
                text("SELECT count(*) FROM pages_menu_items WHERE tenant_id = :t AND page_id = ANY(:ids)"),
                {"t": site.tenant.id, "ids": [uuid.UUID(pages["about"]["id"]), uuid.UUID(pages["team"]["id"])]},
            )
        return linked == 0

    assert await eventually(cleaned), "the menu links to the deleted pages were not removed"
    events = await eventually(lambda: _menu_updates(site, seen))
    node_deleted = [e for e in await site.events_since(seen) if e.event_type == "content.node.deleted"]
    assert len(node_deleted) == 1 and node_deleted[0].payload["descendants"] == 1
    assert sorted(e.payload["slug"] for e in events) == ["footer", "main"]
    assert {e.causation_id for e in events} == {node_deleted[0].id}
    assert {e.payload["version"] for e in events} == {2}
    # Stored positions are renumbered: the link to the draft (editors see it) moved up too.
    editor_view = await site.menu("main", "en")
    assert [(item["label"], item["position"]) for item in editor_view["items"]] == [
        ("Careers", 0),
        ("Coming soon", 1),
        ("Release notes", 2),
        ("Shop", 3),
        ("Contact", 4),
    ]
    assert editor_view["version"] == 2
    async with site.platform.ctx.db.engine.connect() as conn:
        stored = await conn.execute(
            text("SELECT position FROM pages_menu_items WHERE menu_id = :m AND parent_id IS NULL ORDER BY position"),
            {"m": uuid.UUID(editor_view["id"])},
        )
        assert [row.position for row in stored] == [0, 1, 2, 3, 4]
    assert flat((await site.menu("footer", "en"))["items"]) == [("Imprint", "/imprint", 0)]


async def _menu_updates(site: Any, seen: set[uuid.UUID]) -> list[Any]:
    found = [e for e in await site.events_since(seen) if e.event_type == "pages.menu.updated"]
    return found if len(found) >= 2 else []


async def test_links_to_a_deleted_node_go_and_a_repeated_delivery_changes_nothing(site: Any) -> None:
    pages = await shop_site(site)
    await site.data(site.UPSERT_MENU, {"input": main_menu(pages)})
    article_id = pages["article"]["id"]
    deleted = await site.gql("mutation($id: UUID!) { deleteNode(id: $id) }", {"id": article_id})
    assert deleted["data"]["deleteNode"] is True

    async def unlinked() -> bool:
        menu = await site.menu("main", "en")
        return menu["version"] == 2

    assert await eventually(unlinked)
    assert "Release notes" not in [label for label, _, _ in flat((await site.menu("main", "en"))["items"])]

    # The same event again (a redelivery): the dispatcher's receipt skips it, and the
    # handler itself finds nothing left to do.
    rows = [e for e in await site.events_since(set()) if e.event_type == "content.node.deleted"]
    envelope = EventEnvelope(
        id=rows[0].id,
        event_type=rows[0].event_type,
        schema_version=rows[0].schema_version,
        tenant_id=site.tenant.id,
        occurred_at=datetime.now(UTC),
        payload=rows[0].payload,
    )
    seen = await site.event_ids()
    result = await runtime_of(site.platform.ctx).collect_handlers().deliver(envelope)
    assert result.ok
    handler = DeletedNodeCleanup(site.platform.ctx)
    async with site.platform.ctx.db.session(site.tenant.id) as session, session.begin():
        await handler.handle(envelope, session)
    assert await site.events_since(seen) == []
    assert (await site.menu("main", "en"))["version"] == 2
