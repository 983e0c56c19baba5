"""SQL cost of the blog's lists: a page of posts with its relations costs the same number of
queries whether it holds 5 posts or 50 (dataloaders, no N+1)."""

from __future__ import annotations

from typing import Any

from rustok_blog.services import CommentService, NewComment, NewPost, PostService
from rustok_content.services import BodyInput, CategoryService, CategoryText, TranslationInput
from rustok_server.boot import Platform
from rustok_testing.events import deliver_events
from rustok_testing.queries import count_queries

PAGE = """
query($first: Int, $locale: String) {
  posts(first: $first, locale: $locale) {
    edges { node {
      id title slug excerpt locale availableLocales commentCount
      body { html }
      translations { locale title slug }
      author { id displayName }
      category { id slug name }
      tags { slug name }
      meta { title }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
COMMENTS = """
query($post: UUID!, $first: Int) {
  comments(postId: $post, first: $first) { edges { node { id parentId depth html locale author { displayName } } } }
}
"""
# The event relay shares the engine and may poll while a request runs: not the request's cost.
BACKGROUND = (r"sys_events", r"event_receipts", r"pg_notify", r"LISTEN")


async def test_a_page_of_posts_costs_the_same_queries_for_5_and_50_posts(
    rustok_platform: Platform, blog: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant(locales=["en", "de"])
    writers = [await make_user(tenant, role="editor") for _ in range(3)]
    categories = [
        await CategoryService(rustok_platform.ctx).create(
            tenant,
            kind="blog",
            slug=f"cat-{i}",
            translations=[CategoryText("en", f"Category {i}"), CategoryText("de", f"Kategorie {i}")],
            actor_id=None,
        )
        for i in range(4)
    ]
    posts = PostService(rustok_platform.ctx)
    for i in range(55):
        await posts.create(
            tenant,
            NewPost(
                status="published",
                category_id=categories[i % 4].id,
                tags=[f"tag {i % 7}", f"tag {i % 5}", "all"],
                author_id=writers[i % 3].id,
                translations=[
                    TranslationInput("en", title=f"Post {i}", body=BodyInput("markdown", f"Body **{i}**")),
                    *([TranslationInput("de", title=f"Beitrag {i}")] if i % 2 else []),
                ],
            ),
            actor_id=writers[i % 3].id,
        )

    counts: dict[int, int] = {}
    await deliver_events(rustok_platform)  # the index applies the writes' events in the background
    for caller in (tenant, writers[0]):
        await blog.data(PAGE, {"first": 1}, caller)  # warm the tenant, session and grants caches
        for size in (5, 50):
            async with count_queries(rustok_platform, ignore=BACKGROUND) as counted:
                data = await blog.data(PAGE, {"first": size, "locale": "de"}, caller)
            edges = data["posts"]["edges"]
            assert len(edges) == size
            assert all(e["node"]["author"] and e["node"]["category"] and len(e["node"]["tags"]) >= 2 for e in edges)
            assert {e["node"]["locale"] for e in edges} == {"en", "de"}  # German where there is one, else English
            counts[size] = counted.count
        assert counts[5] == counts[50], f"5 posts: {counts[5]} queries, 50 posts: {counts[50]} queries\n{counted}"
        # page, translations, bodies, authors, categories, category translations, tags, meta
        assert counts[50] <= 8, str(counted)


async def test_a_page_of_comments_costs_the_same_queries_for_5_and_50_comments(
    rustok_platform: Platform, blog: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant(locales=["en"])
    people = [await make_user(tenant, role="customer") for _ in range(4)]
    post = await PostService(rustok_platform.ctx).create(
        tenant, NewPost(status="published", translations=[TranslationInput("en", title="Busy")]), actor_id=None
    )
    comments = CommentService(rustok_platform.ctx)
    parent = None
    for i in range(55):
        parent = await comments.add(
            tenant,
            NewComment(
                post_id=post.id,
                body=f"Comment *{i}*",
                parent_id=parent.id if parent is not None and i % 3 else None,
                author_id=people[i % 4].id,
                approved=True,
            ),
            actor_id=people[i % 4].id,
        )
    counts: dict[int, int] = {}
    await deliver_events(rustok_platform)  # the index applies the writes' events in the background
    await blog.data(COMMENTS, {"post": str(post.id), "first": 1}, tenant)
    for size in (5, 50):
        async with count_queries(rustok_platform, ignore=BACKGROUND) as counted:
            data = await blog.data(COMMENTS, {"post": str(post.id), "first": size}, tenant)
        assert len(data["comments"]["edges"]) == size
        counts[size] = counted.count
    assert counts[5] == counts[50], str(counted)
