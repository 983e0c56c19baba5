"""Who may do what with the blog: own-scoped authors, the public, disabled modules."""

from __future__ import annotations

from typing import Any

import pytest

from rustok_blog.services import NewPost, PostService
from rustok_content.services import TranslationInput
from rustok_core.errors import Conflict
from rustok_core.interfaces import TenantDirectory
from rustok_server.boot import Platform
from rustok_testing.client import error_codes

from .conftest import (
    ADD_COMMENT,
    CREATE_POST,
    DELETE_POST,
    GET_POST,
    LIST_POSTS,
    PUBLISH_POST,
    UPDATE_POST,
    translation,
)

CREATE_ROLE = "mutation($input: CreateRoleInput!) { createRole(input: $input) { slug grants { permission scope } } }"
ASSIGN = "mutation($u: UUID!, $r: String!) { assignRole(userId: $u, role: $r) { role } }"


@pytest.fixture
async def authors(blog: Any, make_tenant: Any, make_user: Any) -> Any:
    """A tenant with an "author" role (posts: create all; read, update, publish, delete own) and two authors."""
    tenant = await make_tenant(locales=["en"])
    admin = await make_user(tenant, role="admin")
    grants = [{"permission": "blog_posts:create", "scope": "ALL"}] + [
        {"permission": f"blog_posts:{action}", "scope": "OWN"} for action in ("read", "update", "publish", "delete")
    ]
    role = await blog.data(CREATE_ROLE, {"input": {"slug": "author", "name": "Author", "grants": grants}}, admin)
    assert len(role["createRole"]["grants"]) == 5
    alice = await make_user(tenant, role="customer")
    bob = await make_user(tenant, role="customer")
    for user in (alice, bob):
        await blog.data(ASSIGN, {"u": str(user.id), "r": "author"}, admin)
    return tenant, admin, alice, bob


async def test_an_author_with_own_grants_edits_their_own_posts_only(blog: Any, authors: Any) -> None:
    _, admin, alice, bob = authors
    own = await blog.create_post(alice, translation("en", "Alice writes"))
    theirs = await blog.create_post(bob, translation("en", "Bob writes"))

    edited = await blog.data(
        UPDATE_POST,
        {"id": own["id"], "version": 1, "input": {"translations": [{"locale": "en", "title": "Alice rewrites"}]}},
        alice,
    )
    assert edited["updatePost"]["title"] == "Alice rewrites"
    published = await blog.data(PUBLISH_POST, {"id": own["id"], "version": 2}, alice)
    assert published["publishPost"]["status"] == "PUBLISHED"

    for document, variables in (
        (UPDATE_POST, {"id": theirs["id"], "version": 1, "input": {"translations": [{"locale": "en", "title": "X"}]}}),
        (PUBLISH_POST, {"id": theirs["id"], "version": 1}),
        (DELETE_POST, {"id": theirs["id"], "version": 1}),
    ):
        refused = await blog.call(document, variables, alice)
        assert error_codes(refused) == ["FORBIDDEN"], refused
    untouched = await blog.post(admin, id=theirs["id"])
    assert (untouched["title"], untouched["version"], untouched["status"]) == ("Bob writes", 1, "DRAFT")

    # An own read grant shows one's own drafts, never another author's.
    assert (await blog.post(bob, id=theirs["id"]))["title"] == "Bob writes"
    assert await blog.post(alice, id=theirs["id"]) is None
    assert [p["title"] for p in await blog.posts(alice)] == ["Alice rewrites"]  # published only
    assert [p["title"] for p in await blog.posts(bob, authorId=str(bob.id))] == ["Bob writes"]
    assert await blog.posts(alice, authorId=str(bob.id)) == []

    # Publishing right away needs the publish grant, which covers only one's own posts: fine on create.
    direct = await blog.data(
        CREATE_POST, {"input": {"translations": [translation("en", "Straight out")], "status": "PUBLISHED"}}, bob
    )
    assert direct["createPost"]["status"] == "PUBLISHED"
    assert await blog.data(DELETE_POST, {"id": theirs["id"], "version": 1}, bob) == {"deletePost": True}


async def test_own_grants_never_cover_posts_without_an_author(
    blog: Any, authors: Any, rustok_platform: Platform
) -> None:
    tenant, _, alice, _ = authors
    orphan = await PostService(rustok_platform.ctx).create(
        tenant, NewPost(translations=[TranslationInput("en", title="Imported")]), actor_id=None
    )
    refused = await blog.call(UPDATE_POST, {"id": str(orphan.id), "version": 1, "input": {"pinned": True}}, alice)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert await blog.post(alice, id=str(orphan.id)) is None


async def test_the_public_reads_published_posts_and_cannot_write(blog: Any, site: Any) -> None:
    post = await blog.publish(site.editor, await blog.create_post(site.editor, translation("en", "Open")))
    assert (await blog.post(site.tenant, id=post["id"]))["title"] == "Open"
    anonymous = await blog.call(CREATE_POST, {"input": {"translations": [translation("en", "No")]}}, site.tenant)
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    customer = await blog.call(CREATE_POST, {"input": {"translations": [translation("en", "No")]}}, site.customer)
    assert error_codes(customer) == ["FORBIDDEN"]
    comment = await blog.call(ADD_COMMENT, {"postId": post["id"], "body": "Hi"}, site.tenant)
    assert error_codes(comment) == ["UNAUTHENTICATED"]
    # Drafts' bodies never leak through the post's source either.
    assert (await blog.post(site.tenant, id=post["id"]))["body"] is None


async def test_a_disabled_blog_answers_module_disabled(
    blog: Any, make_tenant: Any, make_user: Any, rustok_client: Any
) -> None:
    tenant = await make_tenant(modules=["content"])
    editor = await make_user(tenant, role="admin")
    for document, variables in (
        (LIST_POSTS, {}),
        (GET_POST, {"slug": "anything"}),
        (CREATE_POST, {"input": {"translations": [translation("en", "T")]}}),
        (ADD_COMMENT, {"postId": "01890f4e-8d4b-7cc3-9f4c-3b3c3b3c3b3c", "body": "x"}),
    ):
        for caller in (editor, tenant):
            answer = await blog.call(document, variables, caller)
            assert error_codes(answer) == ["MODULE_DISABLED"], answer
    response = await rustok_client.get("/api/v1/blog/posts", headers=editor.headers)
    assert response.status_code == 403 and "MODULE_DISABLED" in response.text
    # Content itself still works for the tenant.
    nodes = await blog.data("{ nodes { edges { cursor } } }", {}, editor)
    assert nodes["nodes"]["edges"] == []


async def test_content_cannot_be_disabled_while_the_blog_is_enabled(
    rustok_platform: Platform, make_tenant: Any
) -> None:
    tenant = await make_tenant(modules=["content", "blog"])
    directory = rustok_platform.ctx.services.get(TenantDirectory)
    with pytest.raises(Conflict) as refused:
        await directory.set_module_enabled(tenant.id, "content", False)
    assert refused.value.details["enabledDependents"] == ["blog"]
    assert (await directory.get(tenant.id)).module_enabled("content")
    # Once the blog is off, content may go too; the blog cannot come back without it.
    await directory.set_module_enabled(tenant.id, "blog", False)
    await directory.set_module_enabled(tenant.id, "content", False)
    with pytest.raises(Conflict) as missing:
        await directory.set_module_enabled(tenant.id, "blog", True)
    assert missing.value.details["missingDependencies"] == ["content"]
