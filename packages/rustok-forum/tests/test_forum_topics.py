"""Topics: opening, locking, pinning, categories — scenarios against the real platform."""

from __future__ import annotations

from typing import Any

from rustok_testing.client import error_codes

CATEGORIES = (
    "query($locale: String) { forumCategories(locale: $locale) { id slug name locale depth parentId topicCount } }"
)


async def test_a_locked_topic_refuses_replies_and_nothing_is_written_until_it_is_unlocked(forum: Any) -> None:
    topic = await forum.create_topic("Shipping to Norway?", "Does the shop ship to Norway?")
    await forum.reply(topic["id"], "Yes, in 5 days.")
    locked = await forum.lock(topic["id"])
    assert locked["locked"] is True and locked["replyCount"] == 1

    events_before = await forum.event_count()
    refused = await forum.gql(
        'mutation($t: UUID!) { replyToTopic(topicId: $t, body: "Me too!") { id } }', {"t": topic["id"]}, user=forum.bob
    )
    assert error_codes(refused) == ["CONFLICT"]
    assert refused["errors"][0]["extensions"]["reason"] == "LOCKED"
    # The refused call left nothing: no event, no reply, the count as it was.
    assert await forum.event_count() == events_before
    current = await forum.topic(topic["id"])
    assert current["replyCount"] == 1 and len(current["replies"]["edges"]) == 1
    assert current["locked"] is True

    # Not even a moderator can add below a locked topic.
    by_editor = await forum.gql(
        'mutation($t: UUID!) { replyToTopic(topicId: $t, body: "Closing note") { id } }',
        {"t": topic["id"]},
        user=forum.editor,
    )
    assert error_codes(by_editor) == ["CONFLICT"]

    unlocked = await forum.lock(topic["id"], False)
    assert unlocked["locked"] is False
    reply = await forum.reply(topic["id"], "Me too!")
    current = await forum.topic(topic["id"])
    assert current["replyCount"] == 2
    assert [edge["node"]["id"] for edge in current["replies"]["edges"]][-1] == reply["id"]

    events = await forum.events("forum.topic.locked", "forum.topic.unlocked")
    assert [(e.event_type, e.payload["topic_id"]) for e in events] == [
        ("forum.topic.locked", topic["id"]),
        ("forum.topic.unlocked", topic["id"]),
    ]
    assert events[0].payload["category_id"] == forum.category_id


async def test_locking_twice_writes_once(forum: Any) -> None:
    topic = await forum.create_topic()
    first = await forum.lock(topic["id"])
    again = await forum.lock(topic["id"])
    assert again["version"] == first["version"]
    assert len(await forum.events("forum.topic.locked")) == 1


async def test_only_moderators_lock_and_pin(forum: Any) -> None:
    topic = await forum.create_topic()
    for document in (
        "mutation($id: UUID!) { lockTopic(id: $id, locked: true) { id } }",
        "mutation($id: UUID!) { pinTopic(id: $id, pinned: true) { id } }",
    ):
        assert error_codes(await forum.gql(document, {"id": topic["id"]}, user=forum.alice)) == ["FORBIDDEN"]
        assert error_codes(await forum.gql(document, {"id": topic["id"]})) == ["UNAUTHENTICATED"]
    assert (await forum.topic(topic["id"]))["locked"] is False


async def test_pinned_topics_come_first_then_latest_activity(forum: Any) -> None:
    category = await forum.create_category("Ordering")
    ids = {}
    for title in ("oldest", "middle", "newest"):
        ids[title] = (await forum.create_topic(title, categoryId=category["id"]))["id"]

    async def order() -> list[str]:
        data = await forum.data(TOPICS_IN, {"category": category["id"], "first": 10})
        return [edge["node"]["title"] for edge in data["topics"]["edges"]]

    assert await order() == ["newest", "middle", "oldest"]
    # A reply is activity: the oldest topic moves to the top.
    await forum.reply(ids["oldest"])
    assert await order() == ["oldest", "newest", "middle"]
    # Pinned beats activity.
    await forum.pin(ids["middle"])
    assert await order() == ["middle", "oldest", "newest"]
    await forum.reply(ids["newest"])
    assert await order() == ["middle", "newest", "oldest"]

    # Pages follow the same order with keyset cursors.
    first = await forum.data(TOPICS_IN, {"category": category["id"], "first": 2})
    assert [e["node"]["title"] for e in first["topics"]["edges"]] == ["middle", "newest"]
    assert first["topics"]["pageInfo"]["hasNextPage"] is True
    rest = await forum.data(
        TOPICS_IN, {"category": category["id"], "first": 2, "after": first["topics"]["pageInfo"]["endCursor"]}
    )
    assert [e["node"]["title"] for e in rest["topics"]["edges"]] == ["oldest"]
    assert rest["topics"]["pageInfo"]["hasNextPage"] is False

    await forum.pin(ids["middle"], False)
    assert await order() == ["newest", "oldest", "middle"]
    events = await forum.events("forum.topic.pinned", "forum.topic.unpinned")
    assert [(e.event_type, e.payload["topic_id"]) for e in events] == [
        ("forum.topic.pinned", ids["middle"]),
        ("forum.topic.unpinned", ids["middle"]),
    ]


TOPICS_IN = (
    "query($category: UUID, $first: Int, $after: String) { topics(categoryId: $category, first: $first, after: $after) "
    "{ edges { node { title } } pageInfo { hasNextPage endCursor } } }"
)


async def test_a_topic_needs_a_forum_category_a_title_and_a_body(forum: Any) -> None:
    async def create(given: dict[str, Any]) -> dict[str, Any]:
        return await forum.gql(
            "mutation($input: CreateTopicInput!) { createTopic(input: $input) { id } }",
            {"input": given},
            user=forum.alice,
        )

    def paths(body: dict[str, Any]) -> list[list[Any]]:
        assert error_codes(body) == ["VALIDATION"], body
        return [e["path"] for e in body["errors"][0]["extensions"]["fieldErrors"]]

    assert paths(await create({"categoryId": forum.category_id})) == [["title"], ["body"]]
    assert paths(await create({"categoryId": forum.category_id, "title": "T", "body": "   "})) == [["body"]]
    assert paths(await create({"categoryId": forum.category_id, "title": "   ", "body": "B"})) == [["title"]]
    assert paths(await create({"categoryId": forum.category_id, "title": "T", "body": "B", "locale": "fr"})) == [
        ["locale"]
    ]
    both = {"categoryId": forum.category_id, "title": "T", "translations": [{"locale": "en", "title": "T"}]}
    assert paths(await create(both)) == [["translations"]]
    no_body = {"categoryId": forum.category_id, "translations": [{"locale": "en", "title": "T"}]}
    assert paths(await create(no_body)) == [["translations", 0, "body"]]

    # A content category of another kind is no forum category.
    other = await forum.data(
        'mutation { createCategory(input: {kind: "blog", translations: [{locale: "en", name: "News"}]}) { id } }',
        user=forum.editor,
    )
    wrong = {"categoryId": other["createCategory"]["id"], "title": "T", "body": "B"}
    assert paths(await create(wrong)) == [["categoryId"]]
    assert (await forum.events("content.node.created")) == []


async def test_topics_in_two_locales_and_repeated_titles_get_distinct_slugs(forum: Any) -> None:
    created = await forum.data(
        "mutation($input: CreateTopicInput!) { createTopic(input: $input) { id slug availableLocales } }",
        {
            "input": {
                "categoryId": forum.category_id,
                "translations": [
                    {"locale": "en", "title": "Opening hours", "body": {"format": "MARKDOWN", "source": "When?"}},
                    {"locale": "de", "title": "Öffnungszeiten", "body": {"format": "MARKDOWN", "source": "Wann?"}},
                ],
                "tags": ["Store", "hours"],
            }
        },
        user=forum.alice,
    )
    topic = created["createTopic"]
    assert topic["slug"] == "opening-hours" and sorted(topic["availableLocales"]) == ["de", "en"]
    german = await forum.data(
        "query($slug: String, $locale: String) "
        "{ topic(slug: $slug, locale: $locale) { id title locale body { html } } }",
        {"slug": "offnungszeiten", "locale": "de"},
    )
    assert german["topic"]["id"] == topic["id"] and german["topic"]["title"] == "Öffnungszeiten"
    assert "Wann?" in german["topic"]["body"]["html"]

    again = await forum.create_topic("Opening hours", "Same question.")
    assert again["slug"].startswith("opening-hours-") and again["slug"] != "opening-hours"
    # A slug the client chose is never changed behind its back: a clash is a conflict.
    clash = await forum.gql(
        "mutation($input: CreateTopicInput!) { createTopic(input: $input) { id } }",
        {"input": {"categoryId": forum.category_id, "title": "X", "body": "Y", "slug": "opening-hours"}},
        user=forum.alice,
    )
    assert error_codes(clash) == ["CONFLICT"]
    assert clash["errors"][0]["extensions"]["reason"] == "SLUG_TAKEN"
    assert clash["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["slug"]


async def test_forum_categories_form_a_tree_with_topic_counts(forum: Any) -> None:
    parent = await forum.create_category("Products")
    child = await forum.data(
        "mutation($input: CreateForumCategoryInput!) { createForumCategory(input: $input) { id depth parentId } }",
        {
            "input": {
                "translations": [{"locale": "en", "name": "Bikes"}, {"locale": "de", "name": "Fahrräder"}],
                "parentId": parent["id"],
            }
        },
        user=forum.editor,
    )
    child_id = child["createForumCategory"]["id"]
    await forum.create_topic("One", categoryId=child_id)
    moving = await forum.create_topic("Two", categoryId=child_id)
    await forum.create_topic("Three", categoryId=child_id)
    # Content categories of other kinds are not in the forum's tree, and topics cannot move there.
    guides = await forum.data(
        'mutation { createCategory(input: {kind: "content", translations: [{locale: "en", name: "Guides"}]}) { id } }',
        user=forum.editor,
    )
    move = (
        "mutation($id: UUID!, $v: Int!, $c: UUID) "
        "{ updateTopic(id: $id, version: $v, input: {categoryId: $c}) { version category { id } } }"
    )
    refused = await forum.gql(
        move, {"id": moving["id"], "v": moving["version"], "c": guides["createCategory"]["id"]}, user=forum.editor
    )
    assert refused["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["categoryId"]
    moved = await forum.data(move, {"id": moving["id"], "v": moving["version"], "c": parent["id"]}, user=forum.editor)
    assert moved["updateTopic"]["category"]["id"] == parent["id"]

    tree = (await forum.data(CATEGORIES, {"locale": "de"}))["forumCategories"]
    by_id = {c["id"]: c for c in tree}
    assert set(by_id) == {forum.category_id, parent["id"], child_id}
    assert [c["id"] for c in tree].index(parent["id"]) < [c["id"] for c in tree].index(child_id)
    assert by_id[child_id]["name"] == "Fahrräder" and by_id[child_id]["depth"] == 1
    assert by_id[child_id]["parentId"] == parent["id"]
    assert (by_id[child_id]["topicCount"], by_id[parent["id"]]["topicCount"]) == (2, 1)
    assert by_id[parent["id"]]["locale"] == "en"  # no German name: the default locale

    renamed = await forum.data(
        "mutation($id: UUID!, $v: Int!) { updateForumCategory(id: $id, version: $v, "
        'input: {translations: [{locale: "en", name: "Products & parts"}]}) { name version } }',
        {"id": parent["id"], "v": parent["version"]},
        user=forum.editor,
    )
    assert renamed["updateForumCategory"]["name"] == "Products & parts"

    # A category with topics cannot go; an empty one can.
    busy = await forum.gql("mutation($id: UUID!) { deleteForumCategory(id: $id) }", {"id": child_id}, user=forum.editor)
    assert error_codes(busy) == ["CONFLICT"] and busy["errors"][0]["extensions"]["reason"] == "HAS_TOPICS"
    empty = await forum.create_category("Empty")
    gone = await forum.data(
        "mutation($id: UUID!) { deleteForumCategory(id: $id) }", {"id": empty["id"]}, user=forum.editor
    )
    assert gone["deleteForumCategory"] is True
    assert empty["id"] not in {c["id"] for c in (await forum.data(CATEGORIES))["forumCategories"]}
    # Customers do not manage categories.
    refused = await forum.gql(
        "mutation($id: UUID!) { deleteForumCategory(id: $id) }", {"id": parent["id"]}, user=forum.alice
    )
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_authors_edit_their_topic_until_it_is_locked(forum: Any) -> None:
    topic = await forum.create_topic("Typo in titel", "Body", user=forum.alice, tags=["help"])
    update = (
        "mutation($id: UUID!, $v: Int!, $input: UpdateTopicInput!) "
        "{ updateTopic(id: $id, version: $v, input: $input) { id title version slug tags { slug } } }"
    )
    fixed = await forum.data(
        update,
        {"id": topic["id"], "v": topic["version"], "input": {"title": "Typo in title", "tags": ["faq"]}},
        user=forum.alice,
    )
    assert fixed["updateTopic"]["title"] == "Typo in title"
    assert fixed["updateTopic"]["slug"] == topic["slug"]  # links keep working
    assert [t["slug"] for t in fixed["updateTopic"]["tags"]] == ["faq"]
    version = fixed["updateTopic"]["version"]

    stale = await forum.gql(
        update, {"id": topic["id"], "v": topic["version"], "input": {"title": "X"}}, user=forum.alice
    )
    assert error_codes(stale) == ["CONFLICT"]
    other = await forum.gql(update, {"id": topic["id"], "v": version, "input": {"title": "Mine"}}, user=forum.bob)
    assert error_codes(other) == ["FORBIDDEN"]

    await forum.lock(topic["id"])
    locked = await forum.gql(update, {"id": topic["id"], "v": version + 1, "input": {"title": "Y"}}, user=forum.alice)
    assert error_codes(locked) == ["CONFLICT"] and locked["errors"][0]["extensions"]["reason"] == "LOCKED"
    current = await forum.topic(topic["id"])
    moderated = await forum.data(
        update, {"id": topic["id"], "v": current["version"], "input": {"title": "Closed: typo"}}, user=forum.editor
    )
    assert moderated["updateTopic"]["title"] == "Closed: typo"
