"""Demo blog for ``rustok seed demo`` (and the isolation tests): a category, two posts, a thread."""

from __future__ import annotations

import secrets
import uuid

from rustok_blog.services import CATEGORY_KIND, CommentService, NewComment, NewPost, PostService
from rustok_content.services import BodyInput, CategoryService, CategoryText, TranslationInput
from rustok_core.context import AppContext
from rustok_core.interfaces import TenantResolver


async def seed(ctx: AppContext, tenant_id: uuid.UUID) -> None:
    tenant = await ctx.services.get(TenantResolver).by_id(tenant_id)
    locale = tenant.default_locale
    marker = secrets.token_hex(3)
    category = await CategoryService(ctx).create(
        tenant,
        kind=CATEGORY_KIND,
        slug=f"news-{marker}",
        translations=[CategoryText(locale, "News", "Announcements and release notes")],
        actor_id=None,
    )
    posts = PostService(ctx)
    launch = await posts.create(
        tenant,
        NewPost(
            status="published",
            category_id=category.id,
            tags=["announcements", f"blog demo {marker}"],
            translations=[
                TranslationInput(
                    locale,
                    title="Our blog is live",
                    slug=f"blog-is-live-{marker}",
                    excerpt="Why we started writing, and what comes next.",
                    body=BodyInput(
                        "markdown",
                        "We will write here about **new features**, releases and how people use the shop.\n\n"
                        "Comments are open: tell us what you would like to read.",
                    ),
                )
            ],
        ),
        actor_id=None,
    )
    await posts.create(
        tenant,
        NewPost(
            category_id=category.id,
            tags=["roadmap"],
            translations=[
                TranslationInput(
                    locale,
                    title="The roadmap for next quarter",
                    slug=f"roadmap-{marker}",
                    body=BodyInput("markdown", "A draft: *not public yet*."),
                )
            ],
        ),
        actor_id=None,
    )
    comments = CommentService(ctx)
    question = await comments.add(
        tenant,
        NewComment(post_id=launch.id, body="Congratulations! Will there be an RSS feed?", approved=True),
        actor_id=None,
    )
    await comments.add(
        tenant,
        NewComment(post_id=launch.id, parent_id=question.id, body="Yes, it is on the roadmap.", approved=True),
        actor_id=None,
    )
    await comments.add(
        tenant,
        NewComment(post_id=launch.id, body="Buy cheap watches at [this site](https://spam.example)!"),
        actor_id=None,
    )
