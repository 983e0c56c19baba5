"""Reply counts and last activity stay exact, whatever happens at the same time.

The topic's ``replyCount`` must always equal the number of replies the public sees,
and ``lastActivityAt`` only moves forward. These tests try to break that: many
concurrent replies, hiding, restoring and deleting while others write.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from rustok_testing.client import error_codes


async def visible_replies(forum: Any, topic_id: str) -> tuple[int, int]:
    """(replyCount, replies the public sees), read as the public."""
    topic = await forum.topic(topic_id)
    return topic["replyCount"], len(topic["replies"]["edges"])


async def test_twenty_concurrent_replies_are_all_counted(forum: Any) -> None:
    topic = await forum.create_topic("Busy thread", "Everyone answers at once.")
    users = [forum.alice, forum.bob, forum.editor]
    results = await asyncio.gather(
        *(
            forum.gql(
                "mutation($t: UUID!, $b: String!) { replyToTopic(topicId: $t, body: $b) { id } }",
                {"t": topic["id"], "b": f"answer {n}"},
                user=users[n % 3],
            )
            for n in range(20)
        )
    )
    assert [r.get("errors") for r in results] == [None] * 20
    assert await visible_replies(forum, topic["id"]) == (20, 20)
    added = await forum.events("forum.reply.added")
    assert sorted(e.payload["reply_id"] for e in added) == sorted(r["data"]["replyToTopic"]["id"] for r in results)
    assert {e.payload["topic_id"] for e in added} == {topic["id"]}
    forum.check_payloads(added)


async def test_concurrent_replies_and_moderation_keep_the_count_exact(forum: Any) -> None:
    topic = await forum.create_topic()
    first = [await forum.reply(topic["id"], f"early {n}") for n in range(6)]
    # Hide three, restore one of them, delete one, answer two — while ten more replies arrive.
    writes = [forum.moderate(r["id"], "HIDE") for r in first[:3]]
    writes += [forum.reply(topic["id"], f"late {n}", user=forum.alice) for n in range(10)]
    writes += [forum.reply(topic["id"], "nested", parent_id=first[4]["id"]) for _ in range(2)]
    writes.append(
        forum.data("mutation($id: UUID!) { deleteReply(id: $id) }", {"id": first[3]["id"]}, user=forum.editor)
    )
    await asyncio.gather(*writes)
    await forum.moderate(first[0]["id"], "RESTORE")
    # 6 early - 3 hidden + 1 restored - 1 deleted + 10 late + 2 nested
    assert await visible_replies(forum, topic["id"]) == (15, 15)
    as_moderator = await forum.topic(topic["id"], user=forum.editor)
    assert len(as_moderator["replies"]["edges"]) == 17  # the two still hidden show to moderators
    assert as_moderator["replyCount"] == 15


async def test_hide_restore_and_delete_move_the_count(forum: Any) -> None:
    topic = await forum.create_topic()
    one = await forum.reply(topic["id"], "one")
    two = await forum.reply(topic["id"], "two")
    answer = await forum.reply(topic["id"], "answer to one", parent_id=one["id"], user=forum.alice)
    assert answer["parentId"] == one["id"] and answer["topicId"] == topic["id"] and answer["depth"] == 2
    assert await visible_replies(forum, topic["id"]) == (3, 3)

    await forum.moderate(two["id"], "HIDE")
    assert await visible_replies(forum, topic["id"]) == (2, 2)
    await forum.moderate(two["id"], "HIDE")  # already hidden: nothing changes
    assert await visible_replies(forum, topic["id"]) == (2, 2)
    await forum.moderate(two["id"], "RESTORE")
    assert await visible_replies(forum, topic["id"]) == (3, 3)

    # Deleting a reply deletes the answers below it, and the count drops by both.
    await forum.data("mutation($id: UUID!) { deleteReply(id: $id) }", {"id": one["id"]}, user=forum.editor)
    assert await visible_replies(forum, topic["id"]) == (1, 1)
    # A hidden reply that is deleted was not counted: the count stays.
    await forum.moderate(two["id"], "HIDE")
    await forum.data("mutation($id: UUID!) { deleteReply(id: $id) }", {"id": two["id"]}, user=forum.editor)
    assert await visible_replies(forum, topic["id"]) == (0, 0)


async def test_last_activity_only_moves_forward(forum: Any) -> None:
    topic = await forum.create_topic()
    opened = datetime.fromisoformat(topic["lastActivityAt"])
    reply = await forum.reply(topic["id"])
    after_reply = datetime.fromisoformat((await forum.topic(topic["id"]))["lastActivityAt"])
    assert after_reply > opened
    await forum.moderate(reply["id"], "HIDE")
    after_hide = datetime.fromisoformat((await forum.topic(topic["id"]))["lastActivityAt"])
    assert after_hide == after_reply  # taking a reply away is not activity
    await forum.moderate(reply["id"], "RESTORE")
    after_restore = datetime.fromisoformat((await forum.topic(topic["id"]))["lastActivityAt"])
    assert after_restore > after_hide
    await forum.data("mutation($id: UUID!) { deleteReply(id: $id) }", {"id": reply["id"]}, user=forum.editor)
    assert datetime.fromisoformat((await forum.topic(topic["id"]))["lastActivityAt"]) == after_restore


async def test_replies_are_listed_oldest_first_across_pages(forum: Any) -> None:
    topic = await forum.create_topic()
    made = [await forum.reply(topic["id"], f"reply {n}") for n in range(5)]
    page = await forum.data(
        "query($id: UUID!) { topic(id: $id) { replies(first: 3) { edges { node { id } } "
        "pageInfo { hasNextPage endCursor } } } }",
        {"id": topic["id"]},
    )
    replies = page["topic"]["replies"]
    rest = await forum.data(
        "query($id: UUID!, $after: String) { topic(id: $id) { replies(first: 3, after: $after) "
        "{ edges { node { id } } pageInfo { hasNextPage } } } }",
        {"id": topic["id"], "after": replies["pageInfo"]["endCursor"]},
    )
    seen = [e["node"]["id"] for e in replies["edges"]] + [e["node"]["id"] for e in rest["topic"]["replies"]["edges"]]
    assert seen == [r["id"] for r in made]
    assert replies["pageInfo"]["hasNextPage"] is True and rest["topic"]["replies"]["pageInfo"]["hasNextPage"] is False


async def test_a_reply_answers_a_visible_reply_of_the_same_topic(forum: Any) -> None:
    topic = await forum.create_topic("One")
    other = await forum.create_topic("Two")
    elsewhere = await forum.reply(other["id"])
    hidden = await forum.reply(topic["id"])
    await forum.moderate(hidden["id"], "HIDE")
    for parent in (elsewhere["id"], hidden["id"], topic["id"]):
        body = await forum.gql(
            'mutation($t: UUID!, $p: UUID) { replyToTopic(topicId: $t, body: "x", parentId: $p) { id } }',
            {"t": topic["id"], "p": parent},
            user=forum.bob,
        )
        assert error_codes(body) == ["VALIDATION"]
        assert body["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["parentId"]
    empty = await forum.gql(
        'mutation($t: UUID!) { replyToTopic(topicId: $t, body: "   ") { id } }', {"t": topic["id"]}, user=forum.bob
    )
    assert empty["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["body"]
    assert await visible_replies(forum, topic["id"]) == (0, 0)


async def test_the_same_moderation_sent_five_times_at_once_happens_once(forum: Any) -> None:
    topic = await forum.create_topic()
    reply = await forum.reply(topic["id"])
    await forum.reply(topic["id"])
    await asyncio.gather(*(forum.moderate(reply["id"], "HIDE", reason=f"try {n}") for n in range(5)))
    assert await visible_replies(forum, topic["id"]) == (1, 1)
    assert len(await forum.events("forum.reply.moderated")) == 1
    assert len(await forum.events("content.node.unpublished")) == 1
    await asyncio.gather(*(forum.lock(topic["id"]) for _ in range(5)))
    assert len(await forum.events("forum.topic.locked")) == 1


async def test_replies_racing_a_lock_are_either_counted_or_refused(forum: Any) -> None:
    topic = await forum.create_topic()
    reply = "mutation($t: UUID!, $b: String!) { replyToTopic(topicId: $t, body: $b) { id } }"
    racing = [forum.gql(reply, {"t": topic["id"], "b": f"racer {n}"}, user=forum.bob) for n in range(12)]
    results = await asyncio.gather(*racing[:6], forum.lock(topic["id"]), *racing[6:])
    answers = results[:6] + results[7:]
    accepted = [r["data"]["replyToTopic"]["id"] for r in answers if not r.get("errors")]
    refused = [r for r in answers if r.get("errors")]
    assert all(error_codes(r) == ["CONFLICT"] and r["errors"][0]["extensions"]["reason"] == "LOCKED" for r in refused)
    assert len(accepted) + len(refused) == 12
    assert await visible_replies(forum, topic["id"]) == (len(accepted), len(accepted))
    # Everything accepted was committed before the lock: no reply event follows it.
    order = [e.event_type for e in await forum.events("forum.reply.added", "forum.topic.locked")]
    assert order == ["forum.reply.added"] * len(accepted) + ["forum.topic.locked"]


async def test_replies_nest_eight_levels_deep_at_most(forum: Any) -> None:
    topic = await forum.create_topic()
    parent = None
    for depth in range(1, 9):
        reply = await forum.reply(topic["id"], f"level {depth}", parent_id=parent)
        assert reply["depth"] == depth
        parent = reply["id"]
    too_deep = await forum.gql(
        'mutation($t: UUID!, $p: UUID) { replyToTopic(topicId: $t, body: "level 9", parentId: $p) { id } }',
        {"t": topic["id"], "p": parent},
        user=forum.bob,
    )
    assert error_codes(too_deep) == ["VALIDATION"]
    assert too_deep["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["parentId"]
    assert await visible_replies(forum, topic["id"]) == (8, 8)
