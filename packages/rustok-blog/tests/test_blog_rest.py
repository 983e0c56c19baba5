"""The blog's REST surface for integrations: ``/api/v1/blog/posts``."""

from __future__ import annotations

from typing import Any

from rustok_testing.client import RustokClient

POSTS = "/api/v1/blog/posts"


def body(title: str, **fields: Any) -> dict[str, Any]:
    return {
        "translations": [{"locale": "en", "title": title, "body": {"format": "markdown", "source": "*hi*"}}],
        **fields,
    }


async def test_a_create_retried_with_the_same_idempotency_key_makes_one_post(
    rustok_client: RustokClient, site: Any, outbox: Any
) -> None:
    headers = {**site.editor.headers, "Idempotency-Key": "import-42"}
    first = await rustok_client.post(POSTS, json=body("Imported", tags=["feed"]), headers=headers)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["status"] == "draft" and created["version"] == 1 and created["tags"] == ["feed"]
    assert created["translations"][0]["body"]["html"].strip() == "<p><em>hi</em></p>"
    events = await outbox(site.tenant.id, "content.node.created")

    replay = await rustok_client.post(POSTS, json=body("Imported", tags=["feed"]), headers=headers)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == created
    assert await outbox(site.tenant.id, "content.node.created") == events
    listed = await rustok_client.get(POSTS, headers=site.editor.headers)
    assert [p["id"] for p in listed.json()["items"]] == [created["id"]]

    # The same key with a different request is a mistake, not a second post.
    other = await rustok_client.post(POSTS, json=body("Something else"), headers=headers)
    assert other.status_code == 422
    assert len((await rustok_client.get(POSTS, headers=site.editor.headers)).json()["items"]) == 1


async def test_posts_are_read_changed_and_deleted_over_rest(rustok_client: RustokClient, site: Any, blog: Any) -> None:
    news = await blog.category(site.editor, "press", ("en", "Press"))
    created = (await rustok_client.post(POSTS, json=body("Press release"), headers=site.editor.headers)).json()
    url = f"{POSTS}/{created['id']}"

    patched = await rustok_client.patch(
        url,
        json={"version": 1, "categoryId": news["id"], "status": "published"},
        headers=site.editor.headers,
    )
    assert patched.status_code == 200, patched.text
    post = patched.json()
    assert (post["status"], post["categoryId"], post["tags"]) == ("published", news["id"], [])
    assert post["version"] == 3 and post["publishedAt"]  # one for the change, one for publishing
    tagged = await rustok_client.patch(url, json={"version": 3, "tags": ["press"]}, headers=site.editor.headers)
    assert tagged.json()["tags"] == ["press"] and tagged.json()["version"] == 4

    stale = await rustok_client.patch(url, json={"version": 1, "tags": []}, headers=site.editor.headers)
    assert stale.status_code == 409
    assert (await rustok_client.get(url, headers=site.editor.headers)).json()["tags"] == ["press"]

    by_category = await rustok_client.get(POSTS, params={"categorySlug": "press"}, headers=site.editor.headers)
    assert [p["id"] for p in by_category.json()["items"]] == [post["id"]]
    by_tag = await rustok_client.get(POSTS, params={"tag": "nothing"}, headers=site.editor.headers)
    assert by_tag.json() == {"items": [], "nextCursor": None}

    # Integrations need blog_posts:read; customers and the public do not get in.
    assert (await rustok_client.get(POSTS, headers=site.customer.headers)).status_code == 403
    assert (await rustok_client.get(url, headers=rustok_client.tenant_headers(site.tenant))).status_code == 401

    invalid = await rustok_client.post(POSTS, json={"translations": []}, headers=site.editor.headers)
    assert invalid.status_code == 422

    gone = await rustok_client.delete(url, params={"version": 4}, headers=site.editor.headers)
    assert gone.status_code == 204
    assert (await rustok_client.get(url, headers=site.editor.headers)).status_code == 404
