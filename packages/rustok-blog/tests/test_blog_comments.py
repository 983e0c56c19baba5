"""Comment threads: moderation decides who sees a comment and what the post counts.

Customers' comments wait as PENDING; moderators' go out APPROVED. Approved comments
are public and counted in ``commentCount``; pending and spam ones are not.
"""

from __future__ import annotations

from typing import Any

from rustok_testing.client import error_codes

from .conftest import ADD_COMMENT, DELETE_COMMENT, LIST_COMMENTS, MODERATE, translation


async def published_post(blog: Any, site: Any, title: str = "Threads", **fields: Any) -> dict[str, Any]:
    return await blog.publish(site.editor, await blog.create_post(site.editor, translation("en", title), **fields))


async def count(blog: Any, site: Any, post: dict[str, Any]) -> int:
    found = await blog.post(site.tenant, id=post["id"])
    return int(found["commentCount"])


async def test_a_comment_thread_is_moderated_before_the_public_sees_it(blog: Any, site: Any, make_user: Any) -> None:
    post = await published_post(blog, site)
    reader = site.customer

    first = await blog.comment(reader, post, "Nice *post*!")
    assert (first["moderation"], first["depth"], first["parentId"], first["postId"]) == ("PENDING", 0, None, post["id"])
    assert first["html"].strip() == "<p>Nice <em>post</em>!</p>"
    assert first["source"] == "Nice *post*!"  # its author sees what they wrote
    assert first["moderatedAt"] is None and first["author"]["id"] == str(reader.id)

    # Pending: invisible to the public and not counted; the moderator sees it.
    assert await blog.comments(site.tenant, post) == []
    assert await count(blog, site, post) == 0
    assert [c["id"] for c in await blog.comments(site.editor, post, status="PENDING")] == [first["id"]]
    # A pending comment cannot be answered yet.
    early = await blog.call(ADD_COMMENT, {"postId": post["id"], "parentId": first["id"], "body": "Me too"}, reader)
    assert error_codes(early) == ["VALIDATION"]
    assert early["errors"][0]["extensions"]["fieldErrors"][0]["path"] == ["parentId"]

    approved = await blog.moderate(site.editor, first, "APPROVED")
    assert approved["moderation"] == "APPROVED" and approved["moderatedAt"]
    public = await blog.comments(site.tenant, post)
    assert [(c["id"], c["source"]) for c in public] == [(first["id"], None)]  # the public gets html only
    assert await count(blog, site, post) == 1

    # Replies: a reply to the comment, and a reply to the reply, approved when a moderator writes.
    other = await make_user(site.tenant, role="customer")
    reply = await blog.comment(other, post, "Agreed.", parentId=first["id"])
    assert (reply["parentId"], reply["depth"], reply["moderation"]) == (first["id"], 1, "PENDING")
    await blog.moderate(site.editor, reply, "APPROVED")
    answer = await blog.comment(site.editor, post, "Thanks, both of you.", parentId=reply["id"])
    assert (answer["parentId"], answer["depth"], answer["moderation"]) == (reply["id"], 2, "APPROVED")
    thread = await blog.comments(site.tenant, post)
    assert [(c["id"], c["parentId"], c["depth"]) for c in thread] == [
        (first["id"], None, 0),
        (reply["id"], first["id"], 1),
        (answer["id"], reply["id"], 2),
    ]
    assert await count(blog, site, post) == 3

    # Spam: hidden again, and the count drops; back to pending stays hidden.
    spam = await blog.moderate(site.editor, reply, "SPAM")
    assert spam["moderation"] == "SPAM"
    assert [c["id"] for c in await blog.comments(site.tenant, post)] == [first["id"], answer["id"]]
    assert await count(blog, site, post) == 2
    assert [c["id"] for c in await blog.comments(site.editor, post, status="SPAM")] == [reply["id"]]
    assert len(await blog.comments(site.editor, post)) == 3  # moderators see every state
    # The public asking for spam gets nothing.
    assert await blog.comments(site.tenant, post, status="SPAM") == []
    await blog.moderate(site.editor, reply, "PENDING")
    assert await count(blog, site, post) == 2
    await blog.moderate(site.editor, reply, "APPROVED")
    assert await count(blog, site, post) == 3

    # Post.comments is the same list, nested.
    nested = await blog.data(
        "query($id: UUID) { post(id: $id) { commentCount comments(first: 2) { edges { node { id depth } } "
        "pageInfo { hasNextPage } } } }",
        {"id": post["id"]},
        site.tenant,
    )
    assert [e["node"]["id"] for e in nested["post"]["comments"]["edges"]] == [first["id"], reply["id"]]
    assert nested["post"]["comments"]["pageInfo"]["hasNextPage"] is True

    # Customers may not moderate.
    refused = await blog.call(MODERATE, {"id": first["id"], "status": "SPAM"}, reader)
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_moderating_to_the_same_state_changes_nothing(blog: Any, site: Any, outbox: Any) -> None:
    post = await published_post(blog, site)
    comment = await blog.comment(site.editor, post, "Approved at once")
    before = await outbox(site.tenant.id)
    again = await blog.moderate(site.editor, comment, "APPROVED")
    assert again["moderation"] == "APPROVED"
    assert await outbox(site.tenant.id) == before


async def test_comments_on_a_locked_post_are_refused(blog: Any, site: Any) -> None:
    post = await published_post(blog, site, locked=True)
    assert post["locked"] is True
    for caller in (site.customer, site.editor):
        refused = await blog.call(ADD_COMMENT, {"postId": post["id"], "body": "Hello?"}, caller)
        assert error_codes(refused) == ["CONFLICT"]
        assert refused["errors"][0]["extensions"]["reason"] == "LOCKED"
    assert await blog.comments(site.editor, post) == []


async def test_locking_a_post_later_closes_its_threads(blog: Any, site: Any) -> None:
    post = await published_post(blog, site)
    comment = await blog.comment(site.editor, post, "Before the lock")
    locked = await blog.data(
        "mutation($id: UUID!, $v: Int!) { updatePost(id: $id, version: $v, input: {locked: true}) { locked } }",
        {"id": post["id"], "v": post["version"]},
        site.editor,
    )
    assert locked["updatePost"]["locked"] is True
    reply = await blog.call(
        ADD_COMMENT, {"postId": post["id"], "parentId": comment["id"], "body": "After"}, site.customer
    )
    assert error_codes(reply) == ["CONFLICT"] and reply["errors"][0]["extensions"]["reason"] == "LOCKED"


async def test_comments_need_a_published_post(blog: Any, site: Any) -> None:
    draft = await blog.create_post(site.editor, translation("en", "Draft"))
    hidden = await blog.call(ADD_COMMENT, {"postId": draft["id"], "body": "?"}, site.customer)
    assert error_codes(hidden) == ["NOT_FOUND"]  # the public does not learn that the draft exists
    editor = await blog.call(ADD_COMMENT, {"postId": draft["id"], "body": "?"}, site.editor)
    assert error_codes(editor) == ["CONFLICT"] and editor["errors"][0]["extensions"]["reason"] == "NOT_PUBLISHED"
    listing = await blog.call(LIST_COMMENTS, {"postId": draft["id"]}, site.tenant)
    assert error_codes(listing) == ["NOT_FOUND"]


async def test_script_in_a_comment_body_is_neutralized_in_html(blog: Any, site: Any) -> None:
    post = await published_post(blog, site)
    attack = (
        "<script>alert('x')</script> hello <img src=x onerror=alert(1)> "
        '[click](javascript:alert(2)) <a href="javascript:alert(3)">me</a> <iframe src=//evil.example></iframe>'
    )
    comment = await blog.comment(site.editor, post, attack)
    html = comment["html"].lower()
    for bad in ("<script", "alert('x')", "onerror", 'href="javascript', "<iframe", "evil.example"):
        assert bad not in html, (bad, comment["html"])
    # A Markdown link to javascript: stays inert text, never a link.
    assert "[click](javascript:alert(2))" in comment["html"]
    assert html.count("<a ") == 1 and "<a rel=" in html
    assert "hello" in html
    assert comment["source"] == attack  # kept as written, for editing
    public = await blog.comments(site.tenant, post)
    assert public[0]["html"] == comment["html"] and public[0]["source"] is None


async def test_bad_comment_input_names_the_field(blog: Any, site: Any) -> None:
    post = await published_post(blog, site)
    cases = [
        ({"body": "   "}, ["body"]),
        ({"body": "x" * 10_001}, ["body"]),
        ({"body": "ok", "locale": "fr"}, ["locale"]),
        ({"body": "ok", "parentId": post["id"]}, ["parentId"]),  # a post is not a comment
    ]
    for variables, path in cases:
        answer = await blog.call(ADD_COMMENT, {"postId": post["id"], **variables}, site.customer)
        assert error_codes(answer) == ["VALIDATION"], answer
        assert answer["errors"][0]["extensions"]["fieldErrors"][0]["path"] == path
    other = await published_post(blog, site, "Other")
    elsewhere = await blog.comment(site.editor, other, "On the other post")
    crossed = await blog.call(
        ADD_COMMENT, {"postId": post["id"], "parentId": elsewhere["id"], "body": "x"}, site.editor
    )
    assert error_codes(crossed) == ["VALIDATION"]
    german = await blog.comment(site.customer, post, "Sehr gut", locale="de")
    assert german["locale"] == "de"


async def test_threads_nest_at_most_eight_levels(blog: Any, site: Any) -> None:
    post = await published_post(blog, site)
    parent = None
    for level in range(8):
        extra = {"parentId": parent["id"]} if parent else {}
        parent = await blog.comment(site.editor, post, f"Level {level}", **extra)
        assert parent["depth"] == level
    assert parent is not None
    too_deep = await blog.call(ADD_COMMENT, {"postId": post["id"], "parentId": parent["id"], "body": "x"}, site.editor)
    assert error_codes(too_deep) == ["VALIDATION"]
    assert "8 levels" in too_deep["errors"][0]["message"]


async def test_authors_delete_their_own_comments_moderators_any(blog: Any, site: Any, make_user: Any) -> None:
    post = await published_post(blog, site)
    mine = await blog.comment(site.customer, post, "Oops, wrong post")
    theirs = await blog.comment(site.editor, post, "Editor's note")
    stranger = await make_user(site.tenant, role="customer")

    refused = await blog.call(DELETE_COMMENT, {"id": mine["id"]}, stranger)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert await blog.data(DELETE_COMMENT, {"id": mine["id"]}, site.customer) == {"deleteComment": True}
    assert error_codes(await blog.call(DELETE_COMMENT, {"id": theirs["id"]}, site.customer)) == ["FORBIDDEN"]

    # An author cannot take other people's replies down with their comment; a moderator can.
    again = await blog.comment(site.customer, post, "Second try")
    await blog.moderate(site.editor, again, "APPROVED")
    await blog.comment(site.editor, post, "A reply", parentId=again["id"])
    assert await count(blog, site, post) == 3
    blocked = await blog.call(DELETE_COMMENT, {"id": again["id"]}, site.customer)
    assert error_codes(blocked) == ["CONFLICT"] and blocked["errors"][0]["extensions"]["reason"] == "HAS_REPLIES"
    assert await blog.data(DELETE_COMMENT, {"id": again["id"]}, site.editor) == {"deleteComment": True}
    assert [c["id"] for c in await blog.comments(site.editor, post)] == [theirs["id"]]
    assert await count(blog, site, post) == 1
    # The public may not delete at all.
    anonymous = await blog.call(DELETE_COMMENT, {"id": theirs["id"]}, site.tenant)
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
