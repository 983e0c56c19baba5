"""The forum from the outside: module toggle, other tenants, REST, and the cost of a topic list."""

from __future__ import annotations

import secrets
from typing import Any

from rustok_core.interfaces import TenantDirectory
from rustok_testing.client import error_codes
from rustok_testing.events import deliver_events
from rustok_testing.queries import count_queries

LIST = (
    "query($first: Int) { topics(first: $first) { edges { node { "
    "id title slug locale replyCount pinned locked lastActivityAt "
    "author { id displayName } category { id name slug topicCount } tags { slug name } "
    "translations { locale title slug } body { html } } } } }"
)


async def test_a_tenant_without_the_forum_gets_module_disabled(forum: Any, make_tenant: Any, make_user: Any) -> None:
    tenant = await make_tenant(modules=["content"])
    editor = await make_user(tenant, role="editor")
    for document in (
        "{ forumCategories { id } }",
        "{ topics { edges { node { id } } } }",
        'mutation { createForumCategory(input: {translations: [{locale: "en", name: "x"}]}) { id } }',
        'mutation($t: UUID!) { replyToTopic(topicId: $t, body: "x") { id } }',
    ):
        variables = {"t": forum.category_id} if "$t" in document else None
        body = await forum.client.graphql(document, variables, headers=editor.headers)
        assert error_codes(body) == ["MODULE_DISABLED"], body
        assert body["errors"][0]["extensions"]["module"] == "forum"
    response = await forum.client.get("/api/v1/forum/topics", headers={"X-Tenant-ID": tenant.slug})
    assert response.status_code == 403 and response.json()["code"] == "MODULE_DISABLED"

    # Switching it off for a tenant that used it keeps the data and hides the API.
    topic = await forum.create_topic()
    directory = forum.platform.ctx.services.get(TenantDirectory)
    await directory.set_module_enabled(forum.tenant.id, "forum", False)
    try:
        body = await forum.gql("query($id: UUID) { topic(id: $id) { id } }", {"id": topic["id"]})
        assert error_codes(body) == ["MODULE_DISABLED"]
    finally:
        await directory.set_module_enabled(forum.tenant.id, "forum", True)
    assert (await forum.topic(topic["id"]))["id"] == topic["id"]


async def test_another_tenants_topics_and_categories_are_out_of_reach(
    forum: Any, make_tenant: Any, make_user: Any
) -> None:
    topic = await forum.create_topic()
    reply = await forum.reply(topic["id"])
    other = await make_tenant()
    intruder = await make_user(other, role="admin")

    async def call(document: str, variables: dict[str, Any]) -> dict[str, Any]:
        return await forum.client.graphql(document, variables, headers=intruder.headers)

    assert (await call("query($id: UUID) { topic(id: $id) { id } }", {"id": topic["id"]}))["data"]["topic"] is None
    assert (await call("query($s: String) { topic(slug: $s) { id } }", {"s": topic["slug"]}))["data"]["topic"] is None
    listed = await call(
        "query($c: UUID) { topics(categoryId: $c) { edges { node { id } } } }", {"c": forum.category_id}
    )
    assert listed["data"]["topics"]["edges"] == []
    refused = await call('mutation($t: UUID!) { replyToTopic(topicId: $t, body: "hi") { id } }', {"t": topic["id"]})
    assert error_codes(refused) == ["NOT_FOUND"]
    wrong_category = await call(
        'mutation($c: UUID!) { createTopic(input: {categoryId: $c, title: "t", body: "b"}) { id } }',
        {"c": forum.category_id},
    )
    assert wrong_category["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["categoryId"]
    for document in (
        "mutation($id: UUID!) { lockTopic(id: $id, locked: true) { id } }",
        "mutation($id: UUID!) { moderateReply(id: $id, action: HIDE) { id } }",
        "mutation($id: UUID!) { deleteReply(id: $id) }",
        "mutation($id: UUID!) { deleteTopic(id: $id) }",
        "mutation($id: UUID!) { deleteForumCategory(id: $id) }",
    ):
        target = forum.category_id if "Category" in document else reply["id"] if "Reply" in document else topic["id"]
        assert error_codes(await call(document, {"id": target})) == ["NOT_FOUND"], document
    current = await forum.topic(topic["id"])
    assert (current["locked"], current["replyCount"]) == (False, 1)


async def test_listing_topics_costs_the_same_queries_for_five_or_fifty(forum: Any, make_user: Any) -> None:
    authors = [await make_user(forum.tenant, role="customer") for _ in range(3)]
    categories = [forum.category_id, (await forum.create_category("Second"))["id"]]
    for n in range(50):
        await forum.create_topic(
            f"Topic {n}",
            f"Body {n}",
            user=authors[n % 3],
            categoryId=categories[n % 2],
            tags=[f"tag-{n % 4}", "common"],
        )

    await deliver_events(forum.platform)  # the index applies the writes' events in the background

    async def cost(first: int) -> Any:
        # The outbox relay polls sys_events in the background; a read never touches it.
        async with count_queries(forum.platform, ignore=[r"\bsys_events\b"]) as counted:
            data = await forum.data(LIST, {"first": first})
        edges = data["topics"]["edges"]
        assert len(edges) == first
        assert all(e["node"]["author"] and e["node"]["category"]["topicCount"] == 25 for e in edges)
        assert all(len(e["node"]["tags"]) == 2 and e["node"]["translations"] for e in edges)
        return counted

    small, large = await cost(5), await cost(50)
    assert small.count == large.count, f"for 5 topics: {small}\nfor 50: {large}"
    # One per relation: the page, translations, bodies, tags, categories, their names,
    # topic counts, authors.
    assert large.count <= 8, str(large)


async def test_integrations_read_and_write_through_rest(forum: Any) -> None:
    client, tenant_header = forum.client, {"X-Tenant-ID": forum.tenant.slug}
    key = {"Idempotency-Key": secrets.token_hex(8)}
    body = {"categoryId": forum.category_id, "title": "From the ERP", "body": "Stock *arrives* Monday."}
    created = await client.post("/api/v1/forum/topics", json=body, headers={**forum.alice.headers, **key})
    assert created.status_code == 201, created.text
    topic = created.json()
    assert topic["title"] == "From the ERP" and "<em>arrives</em>" in topic["bodyHtml"]
    invalid = await client.post("/api/v1/forum/topics", json={**body, "locale": "fr"}, headers=forum.alice.headers)
    assert invalid.status_code == 422 and [e["path"] for e in invalid.json()["errors"]] == [["locale"]]
    retried = await client.post("/api/v1/forum/topics", json=body, headers={**forum.alice.headers, **key})
    assert retried.json()["id"] == topic["id"]
    assert len(await forum.events("content.node.created")) == 1

    reply = await client.post(
        f"/api/v1/forum/topics/{topic['id']}/replies", json={"body": "Thanks!"}, headers=forum.bob.headers
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["topicId"] == topic["id"] and reply.json()["parentId"] is None

    listed = await client.get("/api/v1/forum/topics", headers=tenant_header)
    assert [t["id"] for t in listed.json()["items"]] == [topic["id"]]
    assert listed.json()["items"][0]["replyCount"] == 1
    replies = await client.get(f"/api/v1/forum/topics/{topic['id']}/replies", headers=tenant_header)
    assert [r["id"] for r in replies.json()["items"]] == [reply.json()["id"]]

    await forum.lock(topic["id"])
    locked = await client.post(
        f"/api/v1/forum/topics/{topic['id']}/replies", json={"body": "Late"}, headers=forum.bob.headers
    )
    assert locked.status_code == 409 and locked.json()["reason"] == "LOCKED"
    anonymous = await client.post(
        f"/api/v1/forum/topics/{topic['id']}/replies", json={"body": "x"}, headers=tenant_header
    )
    assert anonymous.status_code == 401
    missing = await client.get(f"/api/v1/forum/topics/{forum.category_id}", headers=tenant_header)
    assert missing.status_code == 404
