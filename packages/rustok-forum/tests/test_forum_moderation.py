"""Moderation and who may change what: hiding, restoring, own-scope edits, deletes, XSS."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from rustok_testing.client import error_codes

UPDATE_REPLY = (
    "mutation($id: UUID!, $v: Int!, $b: String!) { updateReply(id: $id, version: $v, body: $b) "
    "{ id version body { html } bodySource } }"
)


async def test_a_moderator_hides_a_reply_from_the_public_and_restores_it(forum: Any) -> None:
    topic = await forum.create_topic()
    spam = await forum.reply(topic["id"], "Buy cheap watches!", user=forum.bob)
    kept = await forum.reply(topic["id"], "A real answer.", user=forum.alice)

    hidden = await forum.moderate(spam["id"], "HIDE", reason="spam")
    assert hidden["hidden"] is True
    record = hidden["moderation"]
    assert (record["action"], record["moderatorId"], record["reason"]) == ("HIDE", str(forum.editor.id), "spam")
    assert record["at"]

    public = await forum.topic(topic["id"])
    assert [e["node"]["id"] for e in public["replies"]["edges"]] == [kept["id"]]
    assert public["replyCount"] == 1
    # The author does not see it either, nor the moderation record of visible replies.
    as_author = await forum.topic(topic["id"], user=forum.bob)
    assert [e["node"]["id"] for e in as_author["replies"]["edges"]] == [kept["id"]]
    assert as_author["replies"]["edges"][0]["node"]["moderation"] is None
    as_moderator = await forum.topic(topic["id"], user=forum.editor)
    flags = {e["node"]["id"]: e["node"]["hidden"] for e in as_moderator["replies"]["edges"]}
    assert flags == {spam["id"]: True, kept["id"]: False}

    restored = await forum.moderate(spam["id"], "RESTORE")
    assert restored["hidden"] is False and restored["moderation"]["action"] == "RESTORE"
    assert (await forum.topic(topic["id"]))["replyCount"] == 2

    events = await forum.events("forum.reply.moderated")
    assert [(e.payload["reply_id"], e.payload["action"], e.payload["reason"]) for e in events] == [
        (spam["id"], "hide", "spam"),
        (spam["id"], "restore", None),
    ]
    assert all(e.payload["topic_id"] == topic["id"] and str(e.actor_id) == str(forum.editor.id) for e in events)


async def test_customers_edit_their_own_replies_only(forum: Any) -> None:
    topic = await forum.create_topic(user=forum.alice)
    mine = await forum.reply(topic["id"], "Frist post", user=forum.bob)
    assert mine["bodySource"] == "Frist post"

    fixed = await forum.data(UPDATE_REPLY, {"id": mine["id"], "v": mine["version"], "b": "First post"}, user=forum.bob)
    assert fixed["updateReply"]["bodySource"] == "First post"
    assert "First post" in fixed["updateReply"]["body"]["html"]
    version = fixed["updateReply"]["version"]

    # Another customer may not, even with the right version.
    other = await forum.gql(UPDATE_REPLY, {"id": mine["id"], "v": version, "b": "Hijacked"}, user=forum.alice)
    assert error_codes(other) == ["FORBIDDEN"]
    # Nor the public, who do not see the source either.
    assert error_codes(await forum.gql(UPDATE_REPLY, {"id": mine["id"], "v": version, "b": "x"})) == ["UNAUTHENTICATED"]
    public = await forum.topic(topic["id"])
    assert public["replies"]["edges"][0]["node"]["bodySource"] is None
    # A stale version is a conflict and changes nothing.
    stale = await forum.gql(UPDATE_REPLY, {"id": mine["id"], "v": mine["version"], "b": "Old"}, user=forum.bob)
    assert error_codes(stale) == ["CONFLICT"]

    # Moderators edit anyone's reply.
    moderated = await forum.data(
        UPDATE_REPLY, {"id": mine["id"], "v": version, "b": "First post (edited by a moderator)"}, user=forum.editor
    )
    assert moderated["updateReply"]["version"] == version + 1
    current = (await forum.topic(topic["id"]))["replies"]["edges"][0]["node"]
    assert "edited by a moderator" in current["body"]["html"]

    # The author of a hidden reply cannot edit it; in a locked topic only moderators can.
    await forum.moderate(mine["id"], "HIDE")
    hidden = await forum.gql(UPDATE_REPLY, {"id": mine["id"], "v": version + 3, "b": "sneaky"}, user=forum.bob)
    assert error_codes(hidden) == ["NOT_FOUND"]
    await forum.moderate(mine["id"], "RESTORE")
    await forum.lock(topic["id"])
    again = (await forum.topic(topic["id"], user=forum.editor))["replies"]["edges"][0]["node"]
    locked = await forum.gql(UPDATE_REPLY, {"id": mine["id"], "v": again["version"], "b": "late"}, user=forum.bob)
    assert error_codes(locked) == ["CONFLICT"] and locked["errors"][0]["extensions"]["reason"] == "LOCKED"


async def test_authors_delete_unanswered_posts_moderators_delete_anything(forum: Any) -> None:
    topic = await forum.create_topic(user=forum.alice)
    first = await forum.reply(topic["id"], "first", user=forum.bob)
    answer = await forum.reply(topic["id"], "answer", user=forum.alice, parent_id=first["id"])

    refused = await forum.gql("mutation($id: UUID!) { deleteReply(id: $id) }", {"id": answer["id"]}, user=forum.bob)
    assert error_codes(refused) == ["FORBIDDEN"]
    answered = await forum.gql("mutation($id: UUID!) { deleteReply(id: $id) }", {"id": first["id"]}, user=forum.bob)
    assert error_codes(answered) == ["CONFLICT"] and answered["errors"][0]["extensions"]["reason"] == "HAS_REPLIES"
    own = await forum.data("mutation($id: UUID!) { deleteReply(id: $id) }", {"id": answer["id"]}, user=forum.alice)
    assert own["deleteReply"] is True
    assert (await forum.topic(topic["id"]))["replyCount"] == 1

    # The topic has a reply by someone else: its author can no longer delete it.
    busy = await forum.gql("mutation($id: UUID!) { deleteTopic(id: $id) }", {"id": topic["id"]}, user=forum.alice)
    assert error_codes(busy) == ["CONFLICT"] and busy["errors"][0]["extensions"]["reason"] == "HAS_REPLIES"
    moderated = await forum.data(
        "mutation($id: UUID!) { deleteTopic(id: $id) }", {"id": topic["id"]}, user=forum.editor
    )
    assert moderated["deleteTopic"] is True
    assert await forum.topic(topic["id"]) is None
    deleted = await forum.events("content.node.deleted")
    assert [e.payload["node_id"] for e in deleted][-1] == topic["id"]
    assert deleted[-1].payload["descendants"] == 1

    lonely = await forum.create_topic(user=forum.bob)
    gone = await forum.data("mutation($id: UUID!) { deleteTopic(id: $id) }", {"id": lonely["id"]}, user=forum.bob)
    assert gone["deleteTopic"] is True


async def test_customers_may_not_moderate(forum: Any) -> None:
    topic = await forum.create_topic()
    reply = await forum.reply(topic["id"], user=forum.alice)
    body = await forum.gql(
        "mutation($id: UUID!) { moderateReply(id: $id, action: HIDE) { id } }", {"id": reply["id"]}, user=forum.alice
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert (await forum.topic(topic["id"]))["replyCount"] == 1
    assert await forum.events("forum.reply.moderated") == []


class _Scanner(HTMLParser):
    """Collects what could run in a reader's browser: active tags, handlers, script URLs."""

    ACTIVE = frozenset({"script", "iframe", "svg", "object", "embed", "style", "form", "math"})

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.ACTIVE:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src") and (value or "").strip().lower().startswith(("javascript:", "data:")):
                self.found.append(f"{tag}[{name}={value}]")


def dangers(html: str) -> list[str]:
    scanner = _Scanner()
    scanner.feed(html)
    return scanner.found


async def test_script_in_a_reply_never_reaches_a_reader(forum: Any) -> None:
    topic = await forum.create_topic(
        "<script>alert('title')</script>Hello", "<img src=x onerror=alert(1)> and [click](javascript:alert(2))"
    )
    attack = (
        "<script>alert(document.cookie)</script>\n\n"
        '<a href="javascript:alert(3)" onclick="alert(4)">link</a>\n\n'
        '<iframe src="https://evil.example"></iframe><svg onload=alert(5)></svg>\n\n'
        '[md link](javascript:alert(6)) ![img](x" onerror="alert(7))'
    )
    reply = await forum.reply(topic["id"], attack)
    current = await forum.topic(topic["id"])
    served = [current["body"]["html"], reply["body"]["html"], current["replies"]["edges"][0]["node"]["body"]["html"]]
    for html in served:
        assert dangers(html) == [], html
    assert "link" in served[1]  # the harmless parts survive
    # The title is plain text: GraphQL serves it as a string, never as markup.
    assert current["title"].startswith("<script>")
    # The source stays as written for its author to edit.
    assert reply["bodySource"] == attack
