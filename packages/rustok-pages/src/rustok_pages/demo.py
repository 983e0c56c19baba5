"""Demo pages for ``rustok seed demo`` (and the isolation tests): a small tree with blocks and a main menu."""

from __future__ import annotations

import uuid

from rustok_content.services import BodyInput
from rustok_core.context import AppContext
from rustok_core.interfaces import TenantResolver
from rustok_pages.services import BlockDraft, MenuLink, MenuService, NewPage, PageService, PageText


async def seed(ctx: AppContext, tenant_id: uuid.UUID) -> None:
    tenant = await ctx.services.get(TenantResolver).by_id(tenant_id)
    locale = tenant.default_locale
    pages = PageService(ctx)
    home = await pages.create(
        tenant,
        NewPage(
            status="published",
            position=0,
            translations=[
                PageText(
                    locale,
                    title=f"Welcome to {tenant.name}",
                    segment="home",
                    blocks=[
                        BlockDraft(
                            "hero",
                            {
                                "title": f"Welcome to {tenant.name}",
                                "subtitle": "Everything you need, in one place.",
                                "cta": {"label": "Learn more", "url": "/about"},
                            },
                        ),
                        BlockDraft("text", {"format": "markdown", "source": "We make **good things**, carefully."}),
                        BlockDraft("product_list", {"title": "New arrivals", "category_handle": "new", "limit": 8}),
                        BlockDraft("cta", {"label": "Contact us", "url": "/about/team", "style": "secondary"}),
                    ],
                )
            ],
        ),
        actor_id=None,
    )
    about = await pages.create(
        tenant,
        NewPage(
            status="published",
            position=1,
            translations=[
                PageText(
                    locale,
                    title="About us",
                    segment="about",
                    body=BodyInput("markdown", "Who we are and what we do."),
                    blocks=[
                        BlockDraft("text", {"format": "markdown", "source": "## Our story\n\nIt started in a garage."}),
                        BlockDraft("image", {"url": "https://images.example.com/workshop.jpg", "alt": "Our workshop"}),
                    ],
                )
            ],
        ),
        actor_id=None,
    )
    team = await pages.create(
        tenant,
        NewPage(
            status="published",
            parent_id=about.id,
            translations=[
                PageText(
                    locale,
                    title="Our team",
                    segment="team",
                    blocks=[
                        BlockDraft(
                            "gallery",
                            {
                                "images": [
                                    {"url": "https://images.example.com/ada.jpg", "alt": "Ada", "caption": "Founder"},
                                    {"url": "https://images.example.com/linus.jpg", "alt": "Linus"},
                                ]
                            },
                        )
                    ],
                )
            ],
        ),
        actor_id=None,
    )
    await MenuService(ctx).upsert(
        tenant,
        slug="main",
        name="Main navigation",
        items=[
            MenuLink(page_id=home.id, labels=[(locale, "Home")]),
            MenuLink(page_id=about.id, children=[MenuLink(page_id=team.id)]),
            MenuLink(url="https://blog.example.com", labels=[(locale, "Blog")], open_in_new_tab=True),
        ],
        expected_version=None,
        actor_id=None,
    )
