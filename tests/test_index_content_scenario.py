"""Scenario: content written through its API reaches the storefront through the index.

tenant (en, de) → an editor writes and publishes articles → the events are delivered
→ ``contentFeed`` / ``contentItem`` / ``search`` answer from the index alone (one SQL
query each) → unpublishing or deleting takes them out → locales fall back per item →
tags and categories filter → German stemming finds "Häuser" by "Haus" → the same
events again, or in another order, change nothing → a rebuild from an empty index
restores every row → another tenant never sees any of it → switching blog off hides its
posts at once and drops them from the index; switching it on brings them back → a
platform that dies right after acknowledging writes leaves nothing behind: the next
one delivers the outbox and the index is complete.

The platform runs with its relay off; ``deliver_events`` delivers what the writes
published, so every step is deterministic (no sleeps).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from starlette.applications import Starlette

from rustok_core.context import TenantContext
from rustok_core.events import EventEnvelope
from rustok_core.interfaces import TenantDirectory
from rustok_index.runtime import runtime_of
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_server.cli import cli
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.events import deliver_events
from rustok_testing.plugin import TEST_JWT_SECRET, BootPlatform, SignedInUser
from rustok_testing.queries import count_queries

FEED = """
query($kind: String!, $locale: String, $category: String, $tag: String, $first: Int, $after: String) {
  contentFeed(kind: $kind, locale: $locale, categorySlug: $category, tag: $tag, first: $first, after: $after) {
    edges { node { id locale title slug excerpt bodyPreview author { name } category { name slug } tags
                   replyCount publishedAt extra } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ITEM = """
query($kind: String!, $slug: String!, $locale: String) {
  contentItem(kind: $kind, slug: $slug, locale: $locale) { id locale title slug bodyHtml bodyPreview seoTitle }
}"""
SEARCH = """
query($q: String!, $locale: String) {
  search(query: $q, locale: $locale, types: [CONTENT]) {
    edges { node { type id title highlight content { slug kind } } }
    didYouMean
  }
}"""
CREATE = """
mutation($input: CreateNodeInput!) { createNode(input: $input) { id version translations { locale slug } } }
"""
CATEGORY = "mutation($input: CreateCategoryInput!) { createCategory(input: $input) { id slug } }"
META = """
mutation($id: UUID!, $locale: String!, $title: String!) {
  upsertMeta(targetType: "node", targetId: $id, locale: $locale, input: {title: $title}) { title }
}"""


@pytest.fixture(scope="module")
def platform(boot_platform: BootPlatform) -> Platform:
    return boot_platform(**{"rustok.events.relay": False})


@pytest.fixture(scope="module")
async def client(platform: Platform) -> AsyncIterator[RustokClient]:
    app: Starlette = create_app(platform)
    async with (
        app.router.lifespan_context(app),
        RustokClient(app, tenant_header=platform.settings.rustok.tenant.header_name) as http,
    ):
        yield http


class Site:
    """A tenant with an editor, writing content through the content GraphQL API."""

    def __init__(self, client: RustokClient, tenant: TenantContext, editor: SignedInUser) -> None:
        self.client = client
        self.tenant = tenant
        self.editor = editor

    async def article(
        self,
        *texts: tuple[str, str, str],
        status: str = "PUBLISHED",
        tags: list[str] | None = None,
        category: str | None = None,
        kind: str = "article",
    ) -> dict[str, Any]:
        translations = [
            {"locale": locale, "title": title, "body": {"format": "MARKDOWN", "source": body}}
            for locale, title, body in texts
        ]
        data = await self.client.graphql_data(
            CREATE,
            {
                "input": {
                    "kind": kind,
                    "status": status,
                    "translations": translations,
                    "tags": tags or [],
                    "categoryId": category,
                }
            },
            headers=self.editor.headers,
        )
        node: dict[str, Any] = data["createNode"]
        return node

    async def mutate(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        return await self.client.graphql_data(document, variables, headers=self.editor.headers)

    async def feed(self, **variables: Any) -> list[dict[str, Any]]:
        data = await self.client.graphql_data(FEED, {"kind": "article", **variables}, tenant=self.tenant)
        return [edge["node"] for edge in data["contentFeed"]["edges"]]

    async def titles(self, **variables: Any) -> list[str]:
        return [node["title"] for node in await self.feed(**variables)]


@pytest.fixture
async def site(client: RustokClient, platform: Platform, make_tenant: Any, make_user: Any) -> Site:
    tenant = await make_tenant(platform=platform, locales=["en", "de"])
    editor = await make_user(tenant, role="admin", platform=platform)
    await deliver_events(platform)
    return Site(client, tenant, editor)


async def index_rows(platform: Platform, tenant: TenantContext) -> list[Any]:
    """The tenant's content rows, without the write time (which every write renews)."""
    async with platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, node_id, locale, module, kind, title, slug, status, excerpt, body_text, body_html, "
                "author_name, category_name, category_slug, tags, parent_id, root_id, reply_count, meta_title, "
                "published_at, listed_at, search_config::text, search_vector::text, extra "
                "FROM index_content WHERE tenant_id = :t ORDER BY node_id, locale"
            ),
            {"t": tenant.id},
        )
        return list(rows.all())


async def stored_events(platform: Platform, tenant: TenantContext) -> list[EventEnvelope]:
    async with platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, event_type, schema_version, tenant_id, occurred_at, payload FROM sys_events "
                "WHERE tenant_id = :t ORDER BY id"
            ),
            {"t": tenant.id},
        )
        return [
            EventEnvelope(r.id, r.event_type, r.schema_version, r.tenant_id, r.occurred_at, r.payload)
            for r in rows.all()
        ]


async def test_published_articles_are_listed_read_and_found_from_the_index(site: Site, platform: Platform) -> None:
    category = (
        await site.mutate(
            CATEGORY,
            {"input": {"translations": [{"locale": "en", "name": "News"}, {"locale": "de", "name": "Neuigkeiten"}]}},
        )
    )["createCategory"]
    shipped = await site.article(
        ("en", "We shipped the release", "It is **out** now, <b>finally</b> & for real."),
        ("de", "Die Version ist da", "Sie ist **draußen**."),
        tags=["release"],
        category=category["id"],
    )
    await site.article(("en", "A draft nobody sees", "Not yet."), status="DRAFT")
    await site.mutate(META, {"id": shipped["id"], "locale": "de", "title": "Version 1.0"})
    # Nothing reaches the storefront before the events are delivered.
    assert await site.titles() == []
    await deliver_events(platform)

    [english] = await site.feed()
    assert english["title"] == "We shipped the release"
    assert english["author"]["name"] and english["category"] == {"name": "News", "slug": category["slug"]}
    assert english["tags"] == ["release"] and english["publishedAt"]
    assert english["bodyPreview"] == "It is out now, finally & for real."
    assert english["extra"]["pinned"] is False
    [german] = await site.feed(locale="de")
    assert (german["title"], german["category"]["name"]) == ("Die Version ist da", "Neuigkeiten")

    slug_en = next(t["slug"] for t in shipped["translations"] if t["locale"] == "en")
    item = (
        await site.client.graphql_data(ITEM, {"kind": "article", "slug": slug_en, "locale": "de"}, tenant=site.tenant)
    )["contentItem"]
    assert (item["locale"], item["title"], item["seoTitle"]) == ("de", "Die Version ist da", "Version 1.0")
    assert "<strong>draußen</strong>" in item["bodyHtml"]

    found = (await site.client.graphql_data(SEARCH, {"q": "finally"}, tenant=site.tenant))["search"]
    [hit] = [edge["node"] for edge in found["edges"]]
    assert (hit["type"], hit["id"], hit["content"]["kind"]) == ("CONTENT", shipped["id"], "article")
    # The body's markup is escaped in the highlight; only <mark> is markup.
    assert "<mark>finally</mark>" in hit["highlight"] and "<b>" not in hit["highlight"]


async def test_unpublished_archived_and_deleted_articles_leave_the_storefront(site: Site, platform: Platform) -> None:
    first = await site.article(("en", "First", "one"))
    second = await site.article(("en", "Second", "two"))
    third = await site.article(("en", "Third", "three"))
    await deliver_events(platform)
    assert await site.titles() == ["Third", "Second", "First"]

    await site.mutate("mutation($id: UUID!) { unpublishNode(id: $id) { status } }", {"id": first["id"]})
    await site.mutate("mutation($id: UUID!) { unpublishNode(id: $id, archive: true) { status } }", {"id": second["id"]})
    await site.mutate("mutation($id: UUID!) { deleteNode(id: $id) }", {"id": third["id"]})
    await deliver_events(platform)
    assert await site.titles() == []
    assert (await site.client.graphql_data(SEARCH, {"q": "first"}, tenant=site.tenant))["search"]["edges"] == []

    await site.mutate("mutation($id: UUID!) { publishNode(id: $id) { status } }", {"id": first["id"]})
    await deliver_events(platform)
    assert await site.titles() == ["First"]


async def test_items_and_feeds_fall_back_to_the_default_locale(site: Site, platform: Platform) -> None:
    only_english = await site.article(("en", "Only in English", "text"))
    both = await site.article(("en", "In both", "text"), ("de", "In beiden", "Text"))
    await deliver_events(platform)
    feed = await site.feed(locale="de")
    assert [(n["title"], n["locale"]) for n in feed] == [("In beiden", "de"), ("Only in English", "en")]
    item = (
        await site.client.graphql_data(
            ITEM,
            {"kind": "article", "slug": only_english["translations"][0]["slug"], "locale": "de"},
            tenant=site.tenant,
        )
    )["contentItem"]
    assert (item["locale"], item["title"]) == ("en", "Only in English")
    german_slug = next(t["slug"] for t in both["translations"] if t["locale"] == "de")
    item = (await site.client.graphql_data(ITEM, {"kind": "article", "slug": german_slug}, tenant=site.tenant))[
        "contentItem"
    ]
    assert (item["locale"], item["title"]) == ("en", "In both")


async def test_tags_and_categories_filter_and_follow_renames(site: Site, platform: Platform) -> None:
    guides = (
        await site.mutate(CATEGORY, {"input": {"slug": "guides", "translations": [{"locale": "en", "name": "Guides"}]}})
    )["createCategory"]
    await site.article(("en", "Tagged python", "x"), tags=["python"], category=guides["id"])
    await site.article(("en", "Tagged rust", "x"), tags=["rust"])
    await deliver_events(platform)
    assert await site.titles(tag="python") == ["Tagged python"]
    assert await site.titles(category="guides") == ["Tagged python"]

    await site.mutate(
        'mutation($id: UUID!) { updateCategory(id: $id, version: 1, input: {slug: "howtos", '
        'translations: [{locale: "en", name: "How-tos"}]}) { slug } }',
        {"id": guides["id"]},
    )
    tags = await site.client.graphql_data('{ tags(prefix: "rust") { id slug } }', tenant=site.tenant)
    await site.mutate(
        'mutation($id: UUID!) { renameTag(id: $id, name: "Rust lang") { slug } }', {"id": tags["tags"][0]["id"]}
    )
    await deliver_events(platform)
    assert await site.titles(category="guides") == []
    [moved] = await site.feed(category="howtos")
    assert moved["category"]["name"] == "How-tos"
    assert await site.titles(tag="rust") == [] and await site.titles(tag="rust-lang") == ["Tagged rust"]


async def test_german_stemming_finds_haeuser_by_haus(site: Site, platform: Platform) -> None:
    await site.article(("de", "Häuser am See", "Die schönsten Gärten der Stadt."), ("en", "Houses", "Gardens."))
    await site.article(("de", "Autos", "Nichts über Gebäude."))
    await deliver_events(platform)
    found = (await site.client.graphql_data(SEARCH, {"q": "Haus", "locale": "de"}, tenant=site.tenant))["search"]
    assert [edge["node"]["title"] for edge in found["edges"]] == ["Häuser am See"]
    gardens = (await site.client.graphql_data(SEARCH, {"q": "Garten", "locale": "de"}, tenant=site.tenant))["search"]
    assert [edge["node"]["title"] for edge in gardens["edges"]] == ["Häuser am See"]
    typo = (await site.client.graphql_data(SEARCH, {"q": "Autoz", "locale": "de"}, tenant=site.tenant))["search"]
    assert typo["edges"] == [] and typo["didYouMean"] == "autos"


async def test_the_same_events_again_or_reordered_change_nothing(site: Site, platform: Platform) -> None:
    post = await site.article(("en", "Once", "body"), ("de", "Einmal", "Text"), tags=["a"])
    await site.mutate(
        'mutation($id: UUID!, $v: Int!) { updateNode(id: $id, version: $v, input: {tags: ["b"]}) { version } }',
        {"id": post["id"], "v": post["version"]},
    )
    await deliver_events(platform)
    before = await index_rows(platform, site.tenant)
    envelopes = await stored_events(platform, site.tenant)
    assert len(before) == 2 and envelopes

    # Redelivery through the dispatcher: the receipts skip every event.
    dispatcher = runtime_of_events(platform).collect_handlers()
    results = await dispatcher.deliver_many(envelopes)
    assert all(result.ok for result in results)
    assert await index_rows(platform, site.tenant) == before

    # The handler itself, given the events again and backwards: the owner's current
    # state is asked for, so the rows converge to the same thing.
    handler = next(h for h in dispatcher.handlers if h.name == "index.documents")
    for batch in (envelopes, list(reversed(envelopes))):
        async with platform.ctx.db.session(site.tenant.id) as session, session.begin():
            await handler.handle_batch(batch, session)  # type: ignore[attr-defined]
        assert await index_rows(platform, site.tenant) == before


def runtime_of_events(platform: Platform) -> Any:
    from rustok_outbox.runtime import runtime_of as events_runtime

    return events_runtime(platform.ctx)


async def test_a_rebuild_from_an_empty_index_restores_every_row(
    site: Site, platform: Platform, rustok_database_url: str, tmp_path: Path
) -> None:
    for n in range(7):
        await site.article(("en", f"Article {n}", f"Body {n}"), ("de", f"Artikel {n}", f"Text {n}"), tags=[f"t{n % 3}"])
    await deliver_events(platform)
    before = await index_rows(platform, site.tenant)
    assert len(before) == 14

    async with platform.ctx.db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM index_content WHERE tenant_id = :t"), {"t": site.tenant.id})
    result = await site.mutate("mutation { rebuildIndex(type: CONTENT) { types entities written removed } }", {})
    assert result["rebuildIndex"] == {"types": ["CONTENT"], "entities": 7, "written": 14, "removed": 0}
    assert strip_ids(await index_rows(platform, site.tenant)) == strip_ids(before)

    # The CLI: batches with a progress bar, then a summary line; stale rows go.
    async with platform.ctx.db.engine.begin() as conn:
        await conn.execute(text("UPDATE index_content SET title = 'stale' WHERE tenant_id = :t"), {"t": site.tenant.id})
    run = await rustok(
        rustok_database_url,
        tmp_path,
        "index",
        "rebuild",
        "--tenant",
        site.tenant.slug,
        "--type",
        "content",
        "--batch-size",
        "3",
    )
    assert run.exit_code == 0, run.output
    assert "rebuilt content for 1 tenant(s): 7 entities, 14 documents written, 0 removed" in run.output
    assert strip_ids(await index_rows(platform, site.tenant)) == strip_ids(before)
    status = await rustok(rustok_database_url, tmp_path, "index", "status", "--tenant", site.tenant.slug)
    assert status.exit_code == 0, status.output
    assert "content  documents=14 " in status.output and "pending_events=0" in status.output


def strip_ids(rows: list[Any]) -> list[tuple[Any, ...]]:
    """Rows without their row id (a rebuilt row is a new row with the same content)."""
    return [tuple(row)[1:] for row in rows]


async def rustok(database_url: str, tmp_path: Path, *args: str) -> Result:
    (tmp_path / "test.yaml").write_text("{}\n")
    env = {
        "DATABASE_URL": database_url,
        "RUSTOK_ENV": "test",
        "RUSTOK_CONFIG_DIR": str(tmp_path),
        "RUSTOK__AUTH__JWT_SECRET": TEST_JWT_SECRET,
        "RUSTOK__RUSTOK__EVENTS__RELAY": "false",
    }
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env, catch_exceptions=True)


async def test_another_tenant_never_sees_the_documents(
    site: Site, platform: Platform, make_tenant: Any, client: RustokClient
) -> None:
    secret = await site.article(("en", "Internal memo", "confidential plans"))
    await deliver_events(platform)
    other = await make_tenant(platform=platform)
    assert (await client.graphql_data(FEED, {"kind": "article"}, tenant=other))["contentFeed"]["edges"] == []
    slug = secret["translations"][0]["slug"]
    assert (await client.graphql_data(ITEM, {"kind": "article", "slug": slug}, tenant=other))["contentItem"] is None
    assert (await client.graphql_data(SEARCH, {"q": "confidential"}, tenant=other))["search"]["edges"] == []
    assert await site.titles() == ["Internal memo"]


async def test_switching_blog_off_takes_its_posts_off_the_storefront_and_back(site: Site, platform: Platform) -> None:
    created = await site.mutate(
        "mutation($input: CreatePostInput!) { createPost(input: $input) { id version } }",
        {
            "input": {
                "translations": [{"locale": "en", "title": "Blog news", "body": {"format": "MARKDOWN", "source": "hi"}}]
            }
        },
    )
    post = created["createPost"]
    await site.mutate(
        "mutation($id: UUID!, $v: Int) { publishPost(id: $id, version: $v) { status } }",
        {"id": post["id"], "v": post["version"]},
    )
    await deliver_events(platform)
    assert await site.titles(kind="post") == ["Blog news"]

    toggle = 'mutation($on: Boolean!) { toggleModule(slug: "blog", enabled: $on) { slug } }'
    await site.mutate(toggle, {"on": False})
    assert await site.titles(kind="post") == []  # hidden at once, before the index hears of it
    await deliver_events(platform)
    assert [r for r in await index_rows(platform, site.tenant) if r.kind == "post"] == []
    found = (await site.client.graphql_data(SEARCH, {"q": "blog news"}, tenant=site.tenant))["search"]["edges"]
    assert found == []

    await site.mutate(toggle, {"on": True})
    await deliver_events(platform)
    assert await site.titles(kind="post") == ["Blog news"]


async def test_each_content_read_is_one_sql_query(site: Site, platform: Platform) -> None:
    created = await site.article(("en", "Counted", "words"), ("de", "Gezählt", "Wörter"), tags=["x"])
    await deliver_events(platform)
    slug = created["translations"][0]["slug"]
    reads = [
        (FEED, {"kind": "article", "locale": "de", "tag": "x"}),
        (ITEM, {"kind": "article", "slug": slug, "locale": "de"}),
        (SEARCH, {"q": "wortr", "locale": "de"}),
    ]
    for document, variables in reads:
        await site.client.graphql_data(document, variables, tenant=site.tenant)  # warm the tenant cache
        runtime_of(platform.ctx).invalidation.changed(site.tenant.id)  # forget the cached answer
        async with count_queries(platform) as counted:
            await site.client.graphql_data(document, variables, tenant=site.tenant)
        assert counted.count == 1, counted
        async with count_queries(platform) as cached:
            await site.client.graphql_data(document, variables, tenant=site.tenant)
        assert cached.count == 0, cached  # the response cache answers until the index changes


async def test_writes_acknowledged_before_a_crash_reach_the_index_after_restart(
    site: Site, platform: Platform, boot_platform: BootPlatform
) -> None:
    # The writes commit with their events (the outbox); this process never delivers them,
    # as if it died right after answering.
    await site.article(("en", "Written before the crash", "durable"))
    await site.article(("en", "Also before the crash", "durable"))
    assert await site.titles() == []

    status = "{ indexStatus { type pendingEvents lagSeconds } }"
    waiting = {s["type"]: s for s in (await site.mutate(status, {}))["indexStatus"]}
    assert waiting["CONTENT"]["pendingEvents"] >= 2 and waiting["CONTENT"]["lagSeconds"] > 0

    restarted = boot_platform(**{"rustok.events.relay": False})
    assert await deliver_events(restarted) >= 2
    await restarted.ctx.db.dispose()
    # Reading through the first platform's app stands for reading from the restarted
    # server: the crashed process's memory, its cached storefront answers, died with it.
    runtime_of(platform.ctx).response_cache.clear()  # type: ignore[union-attr]
    assert await site.titles() == ["Also before the crash", "Written before the crash"]
    done = {s["type"]: s for s in (await site.mutate(status, {}))["indexStatus"]}
    assert done["CONTENT"]["pendingEvents"] == 0


async def test_a_tenant_whose_owner_module_is_disabled_has_no_documents(site: Site, platform: Platform) -> None:
    await site.article(("en", "Content goes", "x"))
    await deliver_events(platform)
    directory = platform.ctx.services.get(TenantDirectory)
    for module in ("blog", "forum", "pages", "content"):
        await directory.set_module_enabled(site.tenant.id, module, False)
    await deliver_events(platform)
    assert await index_rows(platform, site.tenant) == []
    await directory.set_module_enabled(site.tenant.id, "content", True)
    await deliver_events(platform)
    assert await site.titles() == ["Content goes"]
    assert error_codes(await site.client.graphql(FEED, {"kind": "article", "locale": "<x>"}, tenant=site.tenant)) == [
        "VALIDATION"
    ]
