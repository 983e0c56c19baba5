"""Posts through the blog API: two locales with fallback, listing by category and tag, versions.

Real PostgreSQL; the scenario of the issue first.
"""

from __future__ import annotations

from typing import Any

from rustok_testing.client import error_codes

from .conftest import GET_POST, UPDATE_POST, translation


async def test_a_post_in_two_locales_is_published_and_read_back_per_locale_with_fallback(blog: Any, site: Any) -> None:
    news = await blog.category(site.editor, "news", ("en", "News"), ("de", "Neuigkeiten"))
    post = await blog.create_post(
        site.editor,
        translation("en", "Hello blog", "# Hello\n\nFirst **post**.", excerpt="The first one"),
        translation("de", "Hallo Blog", "# Hallo\n\nErster **Beitrag**.", slug="hallo-blog"),
        categoryId=news["id"],
        tags=["Release Notes", "python"],
    )
    assert (post["status"], post["version"], post["slug"], post["locale"]) == ("DRAFT", 1, "hello-blog", "en")
    assert post["authorId"] == str(site.editor.id)
    assert sorted(post["availableLocales"]) == ["de", "en"]
    assert {t["slug"] for t in post["tags"]} == {"release-notes", "python"}

    # A draft is invisible to the public, by id and by slug, and in listings.
    assert await blog.post(site.tenant, id=post["id"]) is None
    assert await blog.post(site.tenant, slug="hello-blog") is None
    assert await blog.posts(site.tenant) == []

    published = await blog.publish(site.editor, post)
    assert published["status"] == "PUBLISHED" and published["version"] == 2 and published["publishedAt"]

    german = await blog.post(site.tenant, id=post["id"], locale="de")
    assert (german["locale"], german["title"], german["slug"]) == ("de", "Hallo Blog", "hallo-blog")
    assert "<strong>Beitrag</strong>" in german["body"]["html"] and german["body"]["source"] is None
    assert german["category"]["name"] == "Neuigkeiten"
    # A locale the post lacks falls back to the tenant's default.
    french = await blog.post(site.tenant, id=post["id"], locale="fr")
    assert (french["locale"], french["title"]) == ("en", "Hello blog")
    assert french["category"]["name"] == "News"
    # By slug: the German slug finds it and serves German.
    by_slug = await blog.post(site.tenant, slug="hallo-blog", locale="de")
    assert by_slug["id"] == post["id"] and by_slug["title"] == "Hallo Blog"
    by_english_slug = await blog.post(site.tenant, slug="hello-blog")
    assert by_english_slug["id"] == post["id"] and by_english_slug["locale"] == "en"

    listed = await blog.posts(site.tenant, locale="de")
    assert [(p["id"], p["title"]) for p in listed] == [(post["id"], "Hallo Blog")]


async def test_post_takes_exactly_one_of_id_and_slug(blog: Any, site: Any) -> None:
    neither = await blog.call(GET_POST, {}, site.tenant)
    both = await blog.call(GET_POST, {"id": "01890f4e-8d4b-7cc3-9f4c-3b3c3b3c3b3c", "slug": "x"}, site.tenant)
    for answer in (neither, both):
        assert error_codes(answer) == ["VALIDATION"]
        assert answer["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["id"]


async def test_posts_are_listed_by_category_and_tag_latest_published_first(blog: Any, site: Any) -> None:
    travel = await blog.category(site.editor, "travel", ("en", "Travel"))
    food = await blog.category(site.editor, "food", ("en", "Food"))
    posts = {}
    for name, category, tags in (
        ("lisbon", travel, ["europe", "city"]),
        ("tapas", food, ["europe"]),
        ("kyoto", travel, ["asia", "city"]),
        ("ramen", food, ["asia"]),
    ):
        created = await blog.create_post(
            site.editor, translation("en", name.title()), categoryId=category["id"], tags=tags
        )
        posts[name] = await blog.publish(site.editor, created)
    draft = await blog.create_post(site.editor, translation("en", "Secret"), categoryId=travel["id"], tags=["city"])

    def titles(found: list[dict[str, Any]]) -> list[str]:
        return [p["title"] for p in found]

    assert titles(await blog.posts(site.tenant)) == ["Ramen", "Kyoto", "Tapas", "Lisbon"]
    assert titles(await blog.posts(site.tenant, categoryId=travel["id"])) == ["Kyoto", "Lisbon"]
    assert titles(await blog.posts(site.tenant, categorySlug="food")) == ["Ramen", "Tapas"]
    assert titles(await blog.posts(site.tenant, tag="city")) == ["Kyoto", "Lisbon"]
    assert titles(await blog.posts(site.tenant, tag="Europe")) == ["Tapas", "Lisbon"]  # a tag name finds its slug
    assert titles(await blog.posts(site.tenant, categorySlug="travel", tag="asia")) == ["Kyoto"]
    assert await blog.posts(site.tenant, categorySlug="no-such-category") == []
    assert await blog.posts(site.tenant, tag="no-such-tag") == []

    # The editor sees drafts too, and may ask for them alone; the public may not.
    assert titles(await blog.posts(site.editor, categoryId=travel["id"])) == ["Secret", "Kyoto", "Lisbon"]
    assert [p["id"] for p in await blog.posts(site.editor, status="DRAFT", tag="city")] == [draft["id"]]
    assert await blog.posts(site.tenant, status="DRAFT") == []

    # Pages: keyset cursors, no duplicates, no gaps.
    first = await blog.data(
        "query { posts(first: 3) { edges { node { title } } pageInfo { hasNextPage endCursor } } }", {}, site.tenant
    )
    page = first["posts"]
    assert [e["node"]["title"] for e in page["edges"]] == ["Ramen", "Kyoto", "Tapas"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await blog.posts(site.tenant, first=3, after=page["pageInfo"]["endCursor"])
    assert titles(rest) == ["Lisbon"]

    # Both category filters at once is a mistake with a field path.
    both = await blog.call(
        "query($c: UUID, $s: String) { posts(categoryId: $c, categorySlug: $s) { edges { cursor } } }",
        {"c": travel["id"], "s": "travel"},
        site.tenant,
    )
    assert error_codes(both) == ["VALIDATION"]
    assert both["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["categorySlug"]


async def test_a_post_needs_a_blog_category(blog: Any, site: Any) -> None:
    other = await blog.data(
        'mutation { createCategory(input: {kind: "content", slug: "guides", '
        'translations: [{locale: "en", name: "Guides"}]}) { id } }',
        {},
        site.editor,
    )
    refused = await blog.call(
        "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }",
        {"input": {"translations": [translation("en", "T")], "categoryId": other["createCategory"]["id"]}},
        site.editor,
    )
    assert error_codes(refused) == ["VALIDATION"]
    assert refused["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["categoryId"]
    assert await blog.posts(site.editor) == []


async def test_a_stale_version_is_refused_and_nothing_changes(blog: Any, site: Any, outbox: Any) -> None:
    post = await blog.create_post(site.editor, translation("en", "First title"))
    updated = await blog.data(
        UPDATE_POST,
        {"id": post["id"], "version": 1, "input": {"translations": [{"locale": "en", "title": "Second title"}]}},
        site.editor,
    )
    assert updated["updatePost"]["version"] == 2 and updated["updatePost"]["title"] == "Second title"
    events_before = await outbox(site.tenant.id)

    stale = await blog.call(
        UPDATE_POST,
        {
            "id": post["id"],
            "version": 1,
            "input": {"translations": [{"locale": "en", "title": "Third"}], "tags": ["x"]},
        },
        site.editor,
    )
    assert error_codes(stale) == ["CONFLICT"]
    assert stale["errors"][0]["extensions"]["currentVersion"] == 2
    stale_publish = await blog.call(
        "mutation($id: UUID!) { publishPost(id: $id, version: 1) { id } }", {"id": post["id"]}, site.editor
    )
    assert error_codes(stale_publish) == ["CONFLICT"]
    stale_delete = await blog.call(
        "mutation($id: UUID!) { deletePost(id: $id, version: 1) }", {"id": post["id"]}, site.editor
    )
    assert error_codes(stale_delete) == ["CONFLICT"]

    current = await blog.post(site.editor, id=post["id"])
    assert (current["title"], current["version"], current["status"], current["tags"]) == (
        "Second title",
        2,
        "DRAFT",
        [],
    )
    assert await outbox(site.tenant.id) == events_before


async def test_a_post_is_unpublished_archived_and_deleted_with_its_comments(blog: Any, site: Any) -> None:
    post = await blog.publish(site.editor, await blog.create_post(site.editor, translation("en", "Short-lived")))
    await blog.comment(site.editor, post, "A comment")
    hidden = await blog.data(
        "mutation($id: UUID!) { unpublishPost(id: $id, archive: true) { status version } }",
        {"id": post["id"]},
        site.editor,
    )
    assert hidden["unpublishPost"] == {"status": "ARCHIVED", "version": 3}
    assert await blog.post(site.tenant, id=post["id"]) is None
    assert await blog.data(
        "mutation($id: UUID!) { deletePost(id: $id, version: 3) }", {"id": post["id"]}, site.editor
    ) == {"deletePost": True}
    assert await blog.post(site.editor, id=post["id"]) is None
    gone = await blog.call(
        "query($p: UUID!) { comments(postId: $p) { edges { cursor } } }", {"p": post["id"]}, site.editor
    )
    assert error_codes(gone) == ["NOT_FOUND"]
