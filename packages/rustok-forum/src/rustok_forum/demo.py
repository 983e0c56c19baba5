"""Demo forum for ``rustok seed demo`` (and the isolation tests): a category, a pinned
topic with a short thread, a locked topic."""

from __future__ import annotations

import secrets
import uuid

from rustok_content.services import BodyInput, CategoryText, TranslationInput
from rustok_core.context import AppContext
from rustok_core.interfaces import TenantResolver
from rustok_forum.services import ForumCategoryService, NewTopic, ReplyService, TopicService


async def seed(ctx: AppContext, tenant_id: uuid.UUID) -> None:
    tenant = await ctx.services.get(TenantResolver).by_id(tenant_id)
    locale = tenant.default_locale
    marker = secrets.token_hex(3)
    category = await ForumCategoryService(ctx).create(
        tenant,
        slug=f"general-{marker}",
        translations=[CategoryText(locale, "General discussion", "Questions, ideas and news about the shop")],
        actor_id=None,
    )
    topics, replies = TopicService(ctx), ReplyService(ctx)
    welcome = await topics.create(
        tenant,
        NewTopic(
            category_id=category.id,
            tags=["announcements", f"demo {marker}"],
            translations=[
                TranslationInput(
                    locale,
                    title="Welcome to the forum",
                    slug=f"welcome-{marker}",
                    body=BodyInput("markdown", "Say hello and tell us what you **build**."),
                )
            ],
        ),
        actor_id=None,
    )
    await topics.set_pinned(tenant, welcome.id, True, actor_id=None)
    hello = await replies.add(tenant, welcome.id, "Hello from the demo!", author_id=None, actor_id=None)
    await replies.add(
        tenant, welcome.id, "Welcome aboard, glad you are here.", parent_id=hello.id, author_id=None, actor_id=None
    )
    rules = await topics.create(
        tenant,
        NewTopic(
            category_id=category.id,
            translations=[
                TranslationInput(
                    locale,
                    title="Forum rules",
                    slug=f"rules-{marker}",
                    body=BodyInput("markdown", "Be kind. Stay on topic. No spam."),
                )
            ],
        ),
        actor_id=None,
    )
    await topics.set_locked(tenant, rules.id, True, actor_id=None)
