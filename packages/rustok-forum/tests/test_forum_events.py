"""Every forum write publishes its events exactly once, in its own transaction, with valid payloads."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from rustok_core.errors import Validation
from rustok_forum.events import ReplyAdded


async def test_each_write_stores_exactly_its_events(forum: Any) -> None:
    seen: set[Any] = {row.id for row in await forum.events()}

    async def step() -> Counter[str]:
        rows = [row for row in await forum.events() if row.id not in seen]
        seen.update(row.id for row in rows)
        forum.check_payloads(rows)
        return Counter(row.event_type for row in rows)

    topic = await forum.create_topic("Events", "Counting them.", tags=["audit"])
    assert await step() == Counter({"content.node.created": 1, "content.node.published": 1, "content.tag.attached": 1})

    reply = await forum.reply(topic["id"], "one")
    assert await step() == Counter({"content.node.created": 1, "content.node.published": 1, "forum.reply.added": 1})
    added = (await forum.events("forum.reply.added"))[-1].payload
    assert added == {
        "topic_id": topic["id"],
        "reply_id": reply["id"],
        "parent_id": None,
        "author_id": str(forum.bob.id),
    }

    answer = await forum.reply(topic["id"], "two", parent_id=reply["id"], user=forum.alice)
    assert await step() == Counter({"content.node.created": 1, "content.node.published": 1, "forum.reply.added": 1})
    assert (await forum.events("forum.reply.added"))[-1].payload["parent_id"] == reply["id"]

    await forum.data(
        'mutation($id: UUID!, $v: Int!) { updateReply(id: $id, version: $v, body: "two!") { id } }',
        {"id": answer["id"], "v": answer["version"]},
        user=forum.alice,
    )
    assert await step() == Counter({"content.node.updated": 1})

    await forum.lock(topic["id"])
    assert await step() == Counter({"content.node.updated": 1, "forum.topic.locked": 1})
    await forum.lock(topic["id"])  # no change, no event
    assert await step() == Counter()
    await forum.lock(topic["id"], False)
    assert await step() == Counter({"content.node.updated": 1, "forum.topic.unlocked": 1})
    await forum.pin(topic["id"])
    assert await step() == Counter({"content.node.updated": 1, "forum.topic.pinned": 1})
    await forum.pin(topic["id"], False)
    assert await step() == Counter({"content.node.updated": 1, "forum.topic.unpinned": 1})

    await forum.moderate(reply["id"], "HIDE")
    # Status and the moderation record: one unpublish, one update, one forum event.
    assert await step() == Counter(
        {"content.node.unpublished": 1, "content.node.updated": 1, "forum.reply.moderated": 1}
    )
    await forum.moderate(reply["id"], "HIDE")
    assert await step() == Counter()
    await forum.moderate(reply["id"], "RESTORE")
    assert await step() == Counter({"content.node.published": 1, "content.node.updated": 1, "forum.reply.moderated": 1})

    await forum.data("mutation($id: UUID!) { deleteReply(id: $id) }", {"id": answer["id"]}, user=forum.editor)
    assert await step() == Counter({"content.node.deleted": 1})
    await forum.data("mutation($id: UUID!) { deleteTopic(id: $id) }", {"id": topic["id"]}, user=forum.editor)
    assert await step() == Counter({"content.node.deleted": 1, "content.tag.detached": 1})

    # Every forum event names the actor who caused it.
    forum_events = [row for row in await forum.events() if row.event_type.startswith("forum.")]
    assert forum_events and all(row.actor_id is not None for row in forum_events)


async def test_refused_writes_store_no_events(forum: Any) -> None:
    topic = await forum.create_topic()
    await forum.lock(topic["id"])
    before = await forum.event_count()
    attempts = [
        ('mutation($t: UUID!) { replyToTopic(topicId: $t, body: "no") { id } }', {"t": topic["id"]}, forum.bob),
        ("mutation($t: UUID!) { lockTopic(id: $t, locked: true) { id } }", {"t": topic["id"]}, forum.bob),
        ("mutation($t: UUID!) { moderateReply(id: $t, action: HIDE) { id } }", {"t": topic["id"]}, forum.editor),
        ('mutation($t: UUID!) { replyToTopic(topicId: $t, body: "") { id } }', {"t": topic["id"]}, forum.bob),
    ]
    for document, variables, user in attempts:
        assert (await forum.gql(document, variables, user=user)).get("errors")
    assert await forum.event_count() == before


def test_event_payloads_refuse_what_cannot_be() -> None:
    topic, reply = "01J0000000000000000000000A", "01J0000000000000000000000B"
    from rustok_core.ids import parse_id

    topic_id, reply_id = parse_id(topic), parse_id(reply)
    ReplyAdded(topic_id=topic_id, reply_id=reply_id).validate()
    with pytest.raises(Validation):
        ReplyAdded(topic_id=topic_id, reply_id=topic_id).validate()
    with pytest.raises(Validation):
        ReplyAdded(topic_id=topic_id, reply_id=reply_id, parent_id=reply_id).validate()
