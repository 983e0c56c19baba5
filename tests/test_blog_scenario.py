"""Scenario: a bilingual blog from first post to a moderated discussion, then the blog switched off.

tenant (en, de) → editor writes a post in two locales → publishes it → the outbox
holds each event once → readers get their locale (or the default) → a reader comments
→ the comment waits for moderation → approved, it counts → blog disabled: its API
answers MODULE_DISABLED while content stays → content cannot be disabled under an
enabled blog.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text

from rustok_core.errors import RustokError
from rustok_core.interfaces import TenantDirectory
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes

POST_FIELDS = "id version status locale title slug body { html } commentCount availableLocales"


async def outbox_types(platform: Platform, tenant_id: Any) -> Counter[str]:
    async with platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT event_type FROM sys_events WHERE tenant_id = :t AND event_type !~ '^(tenant|module|user)\\.'"),
            {"t": tenant_id},
        )
        return Counter(row.event_type for row in rows)


async def test_a_bilingual_post_is_published_read_discussed_and_switched_off(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant(locales=["en", "de"])
    editor = await make_user(tenant, role="editor")
    reader = await make_user(tenant, role="customer")

    created = await rustok_client.graphql_data(
        f"mutation($input: CreatePostInput!) {{ createPost(input: $input) {{ {POST_FIELDS} }} }}",
        {
            "input": {
                "tags": ["release"],
                "translations": [
                    {"locale": "en", "title": "We shipped", "body": {"format": "MARKDOWN", "source": "It is **out**."}},
                    {"locale": "de", "title": "Es ist da", "body": {"format": "MARKDOWN", "source": "Es ist **da**."}},
                ],
            }
        },
        headers=editor.headers,
    )
    post = created["createPost"]
    assert (post["status"], sorted(post["availableLocales"])) == ("DRAFT", ["de", "en"])
    assert (
        await rustok_client.graphql_data(
            "query($s: String!) { post(slug: $s) { id } }", {"s": post["slug"]}, tenant=tenant
        )
    )["post"] is None

    await rustok_client.graphql_data(
        "mutation($id: UUID!, $v: Int) { publishPost(id: $id, version: $v) { status } }",
        {"id": post["id"], "v": post["version"]},
        headers=editor.headers,
    )
    read = "query($s: String!, $l: String) { post(slug: $s, locale: $l) { title locale body { html } } }"
    german = (await rustok_client.graphql_data(read, {"s": "es-ist-da", "l": "de"}, tenant=tenant))["post"]
    assert german["title"] == "Es ist da" and "<strong>da</strong>" in german["body"]["html"]
    french = (await rustok_client.graphql_data(read, {"s": post["slug"], "l": "fr"}, tenant=tenant))["post"]
    assert (french["title"], french["locale"]) == ("We shipped", "en")

    comment = await rustok_client.graphql_data(
        'mutation($p: UUID!) { addComment(postId: $p, body: "Congrats! <script>x()</script>") { id moderation html } }',
        {"p": post["id"]},
        headers=reader.headers,
    )
    assert comment["addComment"]["moderation"] == "PENDING"
    count = "query($s: String!) { post(slug: $s) { commentCount } }"
    assert (await rustok_client.graphql_data(count, {"s": post["slug"]}, tenant=tenant))["post"]["commentCount"] == 0
    await rustok_client.graphql_data(
        "mutation($id: UUID!) { moderateComment(id: $id, status: APPROVED) { moderation } }",
        {"id": comment["addComment"]["id"]},
        headers=editor.headers,
    )
    assert (await rustok_client.graphql_data(count, {"s": post["slug"]}, tenant=tenant))["post"]["commentCount"] == 1
    comments = await rustok_client.graphql_data(
        "query($p: UUID!) { comments(postId: $p) { edges { node { html } } } }", {"p": post["id"]}, tenant=tenant
    )
    [shown] = [e["node"]["html"] for e in comments["comments"]["edges"]]
    assert "Congrats!" in shown and "<script" not in shown

    assert await outbox_types(rustok_platform, tenant.id) == Counter(
        {
            "content.node.created": 2,  # the post and the comment
            "content.tag.attached": 1,
            "content.node.published": 2,  # the post, then the approved comment
            "blog.comment.added": 1,
            "blog.comment.moderated": 1,
            "content.node.updated": 1,  # the comment's moderation metadata
        }
    )

    directory = rustok_platform.ctx.services.get(TenantDirectory)
    with pytest.raises(RustokError) as refused:
        await directory.set_module_enabled(tenant.id, "content", False)
    assert "blog" in refused.value.message
    await directory.set_module_enabled(tenant.id, "blog", False)
    switched_off = await rustok_client.graphql(read, {"s": post["slug"], "l": "en"}, tenant=tenant)
    assert error_codes(switched_off) == ["MODULE_DISABLED"]
    rest = await rustok_client.get("/api/v1/blog/posts", headers=editor.headers)
    assert rest.status_code == 403 and rest.json()["code"] == "MODULE_DISABLED"
    # Content itself still serves the node (the post is still there, unchanged).
    still = await rustok_client.graphql_data(
        'query($id: UUID!) { node(id: $id, locale: "de") { title kind } }', {"id": post["id"]}, tenant=tenant
    )
    assert still["node"] == {"title": "Es ist da", "kind": "post"}
