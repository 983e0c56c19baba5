"""Blocks: every type is validated against its schema on write; bad blocks change nothing.

Blocks are written with their page in one transaction (the page's version goes up,
``pages.blocks.updated`` is published) and read back with text rendered to sanitized
HTML.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text

from rustok_content.services import MediaService
from rustok_testing.client import error_codes

MEDIA_ID = "00000000-0000-4000-8000-000000000001"
BLOCKS = "blocks { id type position locale data }"
PAGE_BLOCKS = f"query($id: UUID!, $l: String) {{ pageById(id: $id, locale: $l) {{ version {BLOCKS} }} }}"
VALID = [
    {
        "type": "HERO",
        "data": {
            "title": "Spring sale",
            "subtitle": "Up to 30% off",
            "image_url": "https://cdn.example.com/s.jpg",
            "cta": {"label": "Shop now", "url": "/shop"},
        },
    },
    {"type": "TEXT", "data": {"format": "markdown", "source": "## Hello\n\nWe are **open**."}},
    {"type": "IMAGE", "data": {"url": "/media/storefront.jpg", "alt": "Our storefront", "caption": "Main street"}},
    {
        "type": "GALLERY",
        "data": {
            "images": [
                {"url": "https://cdn.example.com/a.jpg", "alt": "A"},
                {"url": "https://cdn.example.com/b.jpg", "alt": ""},
            ]
        },
    },
    {"type": "CTA", "data": {"label": "Contact us", "url": "https://example.com/contact", "style": "secondary"}},
    {"type": "PRODUCT_LIST", "data": {"title": "Picks", "product_ids": [MEDIA_ID]}},
    {"type": "PRODUCT_LIST", "data": {"category_handle": "new-arrivals", "limit": 12}},
]

# (block, where the error points inside the block): one of each way a block can be wrong.
INVALID = [
    pytest.param(
        {"type": "CTA", "data": {"label": "Go", "url": "javascript:alert(1)"}}, ["data", "url"], id="unsafe-url"
    ),
    pytest.param(
        {"type": "CTA", "data": {"label": "Go", "url": "//evil.example"}}, ["data", "url"], id="protocol-relative"
    ),
    pytest.param({"type": "CTA", "data": {"label": "Go", "url": "/\\evil.example"}}, ["data", "url"], id="backslash"),
    pytest.param(
        {"type": "HERO", "data": {"title": "x", "cta": {"label": "x", "url": "data:text/html,x"}}},
        ["data", "cta", "url"],
        id="nested-url",
    ),
    pytest.param({"type": "HERO", "data": {"subtitle": "no title"}}, ["data", "title"], id="missing-field"),
    pytest.param({"type": "HERO", "data": {"title": "x", "colour": "red"}}, ["data", "colour"], id="unknown-field"),
    pytest.param({"type": "TEXT", "data": {"format": "json", "source": "{}"}}, ["data", "format"], id="bad-enum"),
    pytest.param({"type": "TEXT", "data": {"format": "markdown", "source": 5}}, ["data", "source"], id="wrong-type"),
    pytest.param({"type": "IMAGE", "data": {"alt": "nothing to show"}}, ["data", "url"], id="image-without-source"),
    pytest.param(
        {"type": "IMAGE", "data": {"url": "/a.png", "media_id": MEDIA_ID, "alt": "x"}},
        ["data", "media_id"],
        id="image-with-two-sources",
    ),
    pytest.param({"type": "GALLERY", "data": {"images": []}}, ["data", "images"], id="empty-gallery"),
    pytest.param(
        {"type": "GALLERY", "data": {"images": [{"url": "/a.png", "alt": "a"}] * 51}},
        ["data", "images"],
        id="gallery-too-long",
    ),
    pytest.param(
        {"type": "GALLERY", "data": {"images": [{"url": "/a.png", "alt": "a"}, {"url": "ftp://x/y", "alt": "b"}]}},
        ["data", "images", 1, "url"],
        id="gallery-image-url",
    ),
    pytest.param(
        {"type": "CTA", "data": {"label": "Go", "url": "/x", "style": "loud"}}, ["data", "style"], id="cta-style"
    ),
    pytest.param(
        {"type": "PRODUCT_LIST", "data": {"category_handle": "new", "limit": "5"}}, ["data", "limit"], id="no-coercion"
    ),
    pytest.param(
        {"type": "PRODUCT_LIST", "data": {"category_handle": "new", "limit": 51}},
        ["data", "limit"],
        id="limit-too-high",
    ),
    pytest.param(
        {"type": "PRODUCT_LIST", "data": {"product_ids": [MEDIA_ID] * 2}},
        ["data", "product_ids"],
        id="duplicate-product",
    ),
    pytest.param(
        {"type": "PRODUCT_LIST", "data": {"product_ids": ["not-an-id"]}},
        ["data", "product_ids", 0],
        id="bad-product-id",
    ),
    pytest.param({"type": "PRODUCT_LIST", "data": {"title": "neither"}}, ["data", "product_ids"], id="no-products"),
    pytest.param({"type": "IMAGE", "data": ["not", "an", "object"]}, ["data"], id="not-an-object"),
    pytest.param(
        {"type": "IMAGE", "data": {"media_id": MEDIA_ID, "alt": "unknown media"}},
        ["data", "media_id"],
        id="unknown-media",
    ),
]


async def blocks_of(site: Any, page: dict[str, Any], locale: str | None = None, *, public: bool = False) -> Any:
    return (await site.data(PAGE_BLOCKS, {"id": page["id"], "l": locale}, public=public))["pageById"]


async def stored_blocks(site: Any, page: dict[str, Any]) -> list[Any]:
    async with site.platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT locale, position, type, data FROM pages_blocks WHERE page_id = :p ORDER BY locale, position"),
            {"p": page["id"]},
        )
        return list(rows.all())


async def test_every_block_type_is_accepted_stored_with_the_page_and_served_per_locale(site: Any) -> None:
    seen = await site.event_ids()
    page = await site.create_page(
        {"locale": "en", "title": "Home", "blocks": VALID},
        {
            "locale": "de",
            "title": "Start",
            "blocks": [{"type": "TEXT", "data": {"format": "html", "source": "<p>Hallo</p>"}}],
        },
    )
    assert page["version"] == 1
    events = await site.events_since(seen)
    assert site.kinds(events) == {"content.node.created": 1, "content.node.published": 1, "pages.blocks.updated": 2}
    updates = sorted(
        (e.payload["locale"], e.payload["count"]) for e in events if e.event_type == "pages.blocks.updated"
    )
    assert updates == [("de", 1), ("en", len(VALID))]

    english = await blocks_of(site, page, "en", public=True)
    assert [b["type"] for b in english["blocks"]] == [b["type"] for b in VALID]
    assert [b["position"] for b in english["blocks"]] == list(range(len(VALID)))
    hero, body, image, gallery, cta, picks, latest = (b["data"] for b in english["blocks"])
    assert hero["cta"] == {"label": "Shop now", "url": "/shop"} and hero["image_src"] == "https://cdn.example.com/s.jpg"
    assert body == {"format": "markdown", "html": "<h2>Hello</h2>\n<p>We are <strong>open</strong>.</p>\n"}
    assert image["src"] == "/media/storefront.jpg" and image["caption"] == "Main street"
    assert [i["alt"] for i in gallery["images"]] == ["A", ""]
    assert cta == {"label": "Contact us", "url": "https://example.com/contact", "style": "secondary"}
    assert picks == {"title": "Picks", "product_ids": [MEDIA_ID]}
    assert latest == {"category_handle": "new-arrivals", "limit": 12}

    german = await blocks_of(site, page, "de", public=True)
    assert [b["data"]["html"] for b in german["blocks"]] == ["<p>Hallo</p>"]
    # A locale the page lacks is served in the default locale, blocks included.
    fallback = (
        await site.data(
            'query($id: UUID!) { pageById(id: $id) { blocks(locale: "fr") { locale } } }',
            {"id": page["id"]},
            public=True,
        )
    )["pageById"]
    assert {b["locale"] for b in fallback["blocks"]} == {"en"}


async def test_replacing_blocks_bumps_the_version_and_identical_blocks_change_nothing(site: Any) -> None:
    page = await site.create_page({"locale": "en", "title": "Landing", "blocks": VALID[:2]})
    seen = await site.event_ids()
    replaced = await site.update_page(page, {"translations": [{"locale": "en", "blocks": [VALID[4]]}]})
    assert "errors" not in replaced, replaced
    assert replaced["data"]["updatePage"]["version"] == 2
    assert [b["type"] for b in (await blocks_of(site, page))["blocks"]] == ["CTA"]
    events = await site.events_since(seen)
    assert site.kinds(events) == {"content.node.updated": 1, "pages.blocks.updated": 1}
    blocks_event = next(e for e in events if e.event_type == "pages.blocks.updated")
    assert blocks_event.payload == {"page_id": page["id"], "locale": "en", "count": 1}
    # The page's own metadata does not show the module's bookkeeping.
    metadata = await site.data("query($id: UUID!) { pageById(id: $id) { metadata } }", {"id": page["id"]})
    assert metadata["pageById"]["metadata"] == {}

    seen = await site.event_ids()
    same = await site.update_page(page, {"translations": [{"locale": "en", "blocks": [VALID[4]]}]})
    assert same["data"]["updatePage"]["version"] == 2
    assert await site.events_since(seen) == []

    cleared = await site.update_page(page, {"translations": [{"locale": "en", "blocks": []}]})
    assert cleared["data"]["updatePage"]["version"] == 3
    assert (await blocks_of(site, page))["blocks"] == []
    assert await stored_blocks(site, page) == []
    assert [e.payload["count"] for e in await site.events_since(seen) if e.event_type == "pages.blocks.updated"] == [0]


@pytest.mark.parametrize(("block", "where"), INVALID)
async def test_an_invalid_block_is_refused_with_its_path_and_nothing_is_stored(
    site: Any, block: dict[str, Any], where: list[Any]
) -> None:
    page = await site.create_page({"locale": "en", "title": "Stable", "blocks": VALID[:2]})
    before = await stored_blocks(site, page)
    seen = await site.event_ids()

    body = await site.update_page(
        page, {"translations": [{"locale": "en", "title": "Changed", "blocks": [VALID[1], VALID[4], block]}]}
    )
    assert error_codes(body) == ["VALIDATION"], body
    paths = [e["path"] for e in body["errors"][0]["extensions"]["fieldErrors"]]
    assert paths[0] == ["input", "translations", 0, "blocks", 2, *where], paths
    assert await stored_blocks(site, page) == before
    current = await site.page_by_id(page["id"])
    assert (current["version"], current["title"]) == (1, "Stable")

    # Creating a page with it stores no page either.
    created = await site.gql(
        site.CREATE_PAGE, {"input": {"translations": [{"locale": "en", "title": "Never", "blocks": [block]}]}}
    )
    assert error_codes(created) == ["VALIDATION"]
    assert created["errors"][0]["extensions"]["fieldErrors"][0]["path"] == [
        "input",
        "translations",
        0,
        "blocks",
        0,
        *where,
    ]
    assert (await site.data(site.PAGE_BY_PATH, {"slug": "never"}))["page"] is None
    assert await site.events_since(seen) == []


async def test_scripts_in_text_blocks_never_reach_readers(site: Any) -> None:
    attacks = [
        {
            "format": "html",
            "source": '<p onclick="steal()">Hi<script>alert(1)</script></p><img src=x onerror=alert(2)>',
        },
        {
            "format": "html",
            "source": '<a href="javascript:alert(3)">click</a><iframe src="https://evil.example"></iframe>',
        },
        {
            "format": "markdown",
            "source": "[click](javascript:alert(4)) <script>alert(5)</script>\n\n<b onmouseover=x>b</b>",
        },
    ]
    page = await site.create_page(
        {"locale": "en", "title": "Trap", "blocks": [{"type": "TEXT", "data": data} for data in attacks]}
    )
    public = (await blocks_of(site, page, public=True))["blocks"]
    for block in public:
        html = block["data"]["html"].lower()
        # Text may mention anything; what must not survive is markup that runs.
        for needle in ("<script", "onclick=", "onerror=", "onmouseover=", 'href="javascript', "<iframe", "src=x"):
            assert needle not in html, (needle, html)
        assert "source" not in block["data"]
    assert public[0]["data"]["html"].startswith("<p>Hi</p>")
    # Editors get the source back to edit it.
    editor = (await blocks_of(site, page))["blocks"]
    assert [b["data"]["source"] for b in editor] == [a["source"] for a in attacks]


async def test_images_may_show_media_of_the_tenant_only(site: Any, make_tenant: Any) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 200, 30)).save(buffer, "PNG")
    media = MediaService(site.platform.ctx)
    mine = await media.upload(
        site.tenant, filename="a.png", data=buffer.getvalue(), declared_type="image/png", actor_id=None
    )
    other = await make_tenant()
    theirs = await media.upload(
        other, filename="b.png", data=buffer.getvalue(), declared_type="image/png", actor_id=None
    )

    page = await site.create_page(
        {
            "locale": "en",
            "title": "Pictures",
            "blocks": [
                {"type": "IMAGE", "data": {"media_id": str(mine.id), "alt": "ours"}},
                {"type": "HERO", "data": {"title": "Hi", "media_id": str(mine.id)}},
            ],
        }
    )
    served = (await blocks_of(site, page, public=True))["blocks"]
    assert served[0]["data"]["src"] == f"/api/v1/content/media/{mine.id}/file"
    assert served[1]["data"]["image_src"] == f"/api/v1/content/media/{mine.id}/file"

    refused = await site.update_page(
        page,
        {
            "translations": [
                {
                    "locale": "en",
                    "blocks": [
                        {
                            "type": "GALLERY",
                            "data": {
                                "images": [
                                    {"media_id": str(mine.id), "alt": "ours"},
                                    {"media_id": str(theirs.id), "alt": "theirs"},
                                ]
                            },
                        }
                    ],
                }
            ]
        },
    )
    assert error_codes(refused) == ["VALIDATION"]
    assert refused["errors"][0]["extensions"]["fieldErrors"] == [
        {"path": ["input", "translations", 0, "blocks", 0, "data", "images", 1, "media_id"], "message": "no such media"}
    ]
