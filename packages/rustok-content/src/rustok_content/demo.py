"""Demo content for ``rustok seed demo`` (and the isolation tests)."""

from __future__ import annotations

import secrets
import uuid

from rustok_content.services import (
    BodyInput,
    CategoryService,
    CategoryText,
    MetaInput,
    MetaService,
    NewNode,
    NodeService,
    TranslationInput,
)
from rustok_core.context import AppContext
from rustok_core.interfaces import TenantResolver


async def seed(ctx: AppContext, tenant_id: uuid.UUID) -> None:
    tenant = await ctx.services.get(TenantResolver).by_id(tenant_id)
    locale = tenant.default_locale
    marker = secrets.token_hex(3)
    category = await CategoryService(ctx).create(
        tenant,
        kind="content",
        slug=f"guides-{marker}",
        translations=[CategoryText(locale, "Guides", "How-tos and walkthroughs")],
        actor_id=None,
    )
    nodes = NodeService(ctx)
    article = await nodes.create(
        tenant,
        NewNode(
            kind="article",
            status="published",
            category_id=category.id,
            tags=["getting started", f"demo {marker}"],
            translations=[
                TranslationInput(
                    locale,
                    title="Welcome to your new site",
                    slug=f"welcome-{marker}",
                    excerpt="What this demo contains.",
                    body=BodyInput("markdown", "# Welcome\n\nThis site runs on **RusToK**."),
                )
            ],
        ),
        actor_id=None,
    )
    await nodes.create(
        tenant,
        NewNode(
            kind="article",
            parent_id=article.id,
            translations=[TranslationInput(locale, title="A draft below it", slug=f"draft-{marker}")],
        ),
        actor_id=None,
    )
    await MetaService(ctx).upsert(
        tenant,
        "node",
        article.id,
        locale,
        MetaInput(title="Welcome", description="The demo's first article"),
        actor_id=None,
    )
