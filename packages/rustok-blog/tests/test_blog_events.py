"""Every blog write leaves its events in the outbox exactly once, in its own transaction, with valid payloads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rustok_blog.events import CommentAdded, CommentModerated
from rustok_core.errors import Validation
from rustok_core.events import EventRegistry
from rustok_server.boot import Platform
from rustok_testing.client import error_codes

from .conftest import ADD_COMMENT, DELETE_COMMENT, DELETE_POST, UPDATE_POST, translation


def registry_of(platform: Platform) -> EventRegistry:
    registry: EventRegistry = platform.ctx.state["events"].registry
    return registry


async def test_each_write_publishes_its_events_once_with_valid_payloads(
    blog: Any, site: Any, outbox: Any, rustok_platform: Platform
) -> None:
    seen: list[Any] = list(await outbox(site.tenant.id))  # the tenant's and its users' own events

    async def step(write: Callable[[], Awaitable[Any]], expected: list[str]) -> tuple[Any, list[Any]]:
        result = await write()
        everything = await outbox(site.tenant.id)
        new = everything[len(seen) :]
        assert [e.id for e in everything[: len(seen)]] == [e.id for e in seen], "earlier events changed"
        seen.extend(new)
        assert [e.event_type for e in new] == expected
        return result, new

    category, _ = await step(lambda: blog.category(site.editor, "notes", ("en", "Notes")), ["content.category.created"])
    post, created = await step(
        lambda: blog.create_post(
            site.editor, translation("en", "Events", "Body"), categoryId=category["id"], tags=["one"]
        ),
        ["content.tag.attached", "content.node.created"],
    )
    assert created[1].payload["kind"] == "post" and created[1].payload["node_id"] == post["id"]
    post, _ = await step(lambda: blog.publish(site.editor, post), ["content.node.published"])
    await step(
        lambda: blog.data(
            UPDATE_POST, {"id": post["id"], "version": post["version"], "input": {"tags": ["two"]}}, site.editor
        ),
        ["content.tag.attached", "content.tag.detached", "content.node.updated"],
    )

    pending, added = await step(
        lambda: blog.comment(site.customer, post, "First!"), ["content.node.created", "blog.comment.added"]
    )
    assert added[0].payload["kind"] == "comment" and added[0].payload["root_id"] == post["id"]
    assert {e.actor_id for e in added} == {site.customer.id}
    assert added[1].payload == {
        "comment_id": pending["id"],
        "post_id": post["id"],
        "parent_id": None,
        "moderation": "pending",
        "author_id": str(site.customer.id),
    }
    approved, moderated = await step(
        lambda: blog.moderate(site.editor, pending, "APPROVED"),
        ["content.node.updated", "content.node.published", "blog.comment.moderated"],
    )
    assert moderated[2].payload == {
        "comment_id": pending["id"],
        "post_id": post["id"],
        "from": "pending",
        "to": "approved",
    }
    assert {e.actor_id for e in moderated} == {site.editor.id}
    reply, replied = await step(
        lambda: blog.comment(site.editor, post, "Welcome", parentId=approved["id"]),
        ["content.node.created", "content.node.published", "blog.comment.added"],
    )
    assert replied[2].payload["parent_id"] == approved["id"] and replied[2].payload["moderation"] == "approved"
    await step(
        lambda: blog.moderate(site.editor, reply, "SPAM"),
        ["content.node.updated", "content.node.unpublished", "blog.comment.moderated"],
    )
    _, deleted = await step(
        lambda: blog.data(DELETE_COMMENT, {"id": reply["id"]}, site.editor),
        ["content.node.deleted", "blog.comment.deleted"],
    )
    assert deleted[1].payload == {
        "comment_id": reply["id"],
        "post_id": post["id"],
        "parent_id": approved["id"],
        "moderation": "spam",
    }

    # Refused writes leave nothing behind.
    await step(lambda: blog.moderate(site.editor, approved, "APPROVED"), [])
    refused, _ = await step(lambda: blog.call(ADD_COMMENT, {"postId": post["id"], "body": " "}, site.customer), [])
    assert error_codes(refused) == ["VALIDATION"]

    current = await blog.post(site.editor, id=post["id"])
    await step(
        lambda: blog.data(DELETE_POST, {"id": post["id"], "version": current["version"]}, site.editor),
        ["content.tag.detached", "content.node.deleted"],
    )

    # Every stored payload is one the registry accepts, at its stored version; no event twice.
    registry = registry_of(rustok_platform)
    for event in seen:
        registry.load(event.event_type, event.payload, event.schema_version)
    assert len({e.id for e in seen}) == len(seen)
    blog_events = [e for e in seen if e.event_type.startswith("blog.")]
    assert {e.event_type: registry.owner(e.event_type) for e in blog_events} == {
        "blog.comment.added": "blog",
        "blog.comment.moderated": "blog",
        "blog.comment.deleted": "blog",
    }


async def test_a_moderation_event_with_the_same_state_twice_is_invalid(rustok_platform: Platform) -> None:
    registry = registry_of(rustok_platform)
    payload = {
        "comment_id": "01890f4e-8d4b-7cc3-9f4c-3b3c3b3c3b3c",
        "post_id": "01890f4e-8d4b-7cc3-9f4c-3b3c3b3c3b3d",
        "from": "spam",
        "to": "approved",
    }
    assert registry.load("blog.comment.moderated", payload, 1).payload() == payload
    with pytest.raises(Validation):
        registry.load("blog.comment.moderated", {**payload, "to": "spam"}, 1)
    with pytest.raises(Validation):
        registry.load("blog.comment.moderated", {**payload, "to": "deleted"}, 1)


async def test_a_blog_event_that_cannot_be_published_rolls_the_node_write_back(
    blog: Any, site: Any, outbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = await blog.publish(site.editor, await blog.create_post(site.editor, translation("en", "Atomic")))
    pending = await blog.comment(site.customer, post, "Waiting")
    before = await outbox(site.tenant.id)

    def refuse(self: Any) -> None:
        raise Validation("refused by the test")

    monkeypatch.setattr(CommentAdded, "validate", refuse)
    monkeypatch.setattr(CommentModerated, "validate", refuse)
    added = await blog.call(ADD_COMMENT, {"postId": post["id"], "body": "Lost"}, site.editor)
    assert error_codes(added) == ["VALIDATION"]
    moderated = await blog.call(
        "mutation($id: UUID!) { moderateComment(id: $id, status: APPROVED) { id } }", {"id": pending["id"]}, site.editor
    )
    assert error_codes(moderated) == ["VALIDATION"]

    # Neither the comment node nor the moderation (status, metadata, count) nor any event survived.
    assert await outbox(site.tenant.id) == before
    assert [(c["id"], c["moderation"], c["moderatedAt"]) for c in await blog.comments(site.editor, post)] == [
        (pending["id"], "PENDING", None)
    ]
    assert (await blog.post(site.tenant, id=post["id"]))["commentCount"] == 0


async def test_concurrent_moderations_chain_their_states_and_keep_the_count(blog: Any, site: Any, outbox: Any) -> None:
    post = await blog.publish(site.editor, await blog.create_post(site.editor, translation("en", "Race")))
    for round_ in range(3):
        comment = await blog.comment(site.customer, post, f"Contested {round_}")
        results = await asyncio.gather(
            blog.moderate(site.editor, comment, "APPROVED"), blog.moderate(site.editor, comment, "SPAM")
        )
        assert {r["moderation"] for r in results} <= {"APPROVED", "SPAM"}
        moves = [
            (e.payload["from"], e.payload["to"])
            for e in await outbox(site.tenant.id, "blog.comment.moderated")
            if e.payload["comment_id"] == comment["id"]
        ]
        # Each moderator saw the state the other left: the moves form one chain from pending.
        assert len(moves) == 2 and moves[0][0] == "pending" and moves[1][0] == moves[0][1]
        final = next(c for c in await blog.comments(site.editor, post) if c["id"] == comment["id"])
        assert final["moderation"] == moves[1][1].upper()
        await blog.moderate(site.editor, comment, "SPAM")
    assert (await blog.post(site.tenant, id=post["id"]))["commentCount"] == 0
