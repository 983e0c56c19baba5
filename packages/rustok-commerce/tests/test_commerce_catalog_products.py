"""Products through the GraphQL API: create in one call, read per locale, update with versions, publish, delete."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from catalog_fixtures import (
    CREATE_PRODUCT,
    PRODUCT,
    UPDATE_PRODUCT,
    Shop,
    shirt_input,
    shop,
)

__all__ = ["shop"]

PUBLISH = "mutation($id: UUID!, $v: Int) { publishProduct(id: $id, version: $v) { id status version publishedAt } }"
ARCHIVE = (
    "mutation($id: UUID!, $v: Int, $d: Boolean) { archiveProduct(id: $id, version: $v, toDraft: $d) "
    "{ id status version } }"
)
DELETE = "mutation($id: UUID!, $v: Int) { deleteProduct(id: $id, version: $v) }"
LIST = """
query($filter: ProductFilter, $first: Int, $after: String, $locale: String) {
  products(filter: $filter, first: $first, after: $after, locale: $locale) {
    edges { cursor node { id title status handle locale } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_a_product_is_created_with_translations_options_and_variants_in_one_call(shop: Shop) -> None:
    seen = await shop.event_ids()
    product = await shop.create_product()

    assert product["status"] == "DRAFT"
    assert product["version"] == 1
    assert (product["locale"], product["title"], product["handle"]) == ("en", "Organic Shirt", "organic-shirt")
    assert product["seoTitle"] == "Shirt | Shop"
    assert sorted(product["availableLocales"]) == ["de", "en"]
    assert [(o["title"], [v["value"] for v in o["values"]]) for o in product["options"]] == [
        ("Size", ["S", "M"]),
        ("Color", ["red", "blue"]),
    ]
    variants = product["variants"]
    assert [v["title"] for v in variants] == ["S / red", "S / blue", "M / red", "M / blue"]
    assert [v["sku"] for v in variants] == ["SHIRT-S-RED", "SHIRT-S-BLUE", "SHIRT-M-RED", "SHIRT-M-BLUE"]
    assert [[(p["option"], p["value"]) for p in v["options"]] for v in variants][1] == [
        ("Size", "S"),
        ("Color", "blue"),
    ]
    assert all(v["position"] == i for i, v in enumerate(variants))

    events = await shop.events_since(seen)
    assert shop.kinds(events) == {
        "commerce.product.created": 1,
        "commerce.variant.created": 4,
        "commerce.price.updated": 12,
    }
    created = next(e for e in events if e.event_type == "commerce.product.created")
    assert created.payload["handles"] == {"en": "organic-shirt", "de": "bio-hemd"}
    assert created.payload["status"] == "draft"


async def test_reads_serve_the_requested_locale_and_fall_back_to_the_default(shop: Shop) -> None:
    product = await shop.create_product()
    german = (await shop.data(PRODUCT, {"id": product["id"], "locale": "de"}))["product"]
    assert (german["locale"], german["title"], german["handle"]) == ("de", "Bio-Hemd", "bio-hemd")
    # No German description: the fields come from the German translation, which has none.
    assert german["description"] is None
    french = (await shop.data(PRODUCT, {"id": product["id"], "locale": "fr"}))["product"]
    assert (french["locale"], french["title"]) == ("en", "Organic Shirt")

    by_handle = (await shop.data(PRODUCT, {"handle": "bio-hemd", "locale": "de"}))["product"]
    assert by_handle["id"] == product["id"]
    # A handle of another locale is still found (the default locale's, then any).
    assert (await shop.data(PRODUCT, {"handle": "bio-hemd", "locale": "en"}))["product"]["id"] == product["id"]
    assert (await shop.data(PRODUCT, {"handle": "organic-shirt", "locale": "de"}))["product"]["title"] == "Bio-Hemd"
    assert (await shop.data(PRODUCT, {"handle": "nope"}))["product"] is None


async def test_the_storefront_sees_only_active_products(shop: Shop) -> None:
    product = await shop.create_product()
    assert (await shop.data(PRODUCT, {"id": product["id"]}, who="public"))["product"] is None
    assert (await shop.data(PRODUCT, {"id": product["id"]}, who="shopper"))["product"] is None
    listed = await shop.data(LIST, {}, who="public")
    assert listed["products"]["edges"] == []
    drafts = await shop.data(LIST, {"filter": {"status": "DRAFT"}}, who="public")
    assert drafts["products"]["edges"] == []

    await shop.data(PUBLISH, {"id": product["id"], "v": product["version"]})
    public = (await shop.data(PRODUCT, {"id": product["id"], "locale": "de"}, who="public"))["product"]
    assert (public["status"], public["title"]) == ("ACTIVE", "Bio-Hemd")
    assert [e["node"]["id"] for e in (await shop.data(LIST, {}, who="public"))["products"]["edges"]] == [product["id"]]


async def test_publish_archive_and_back_to_draft_publish_their_events(shop: Shop) -> None:
    product = await shop.create_product()
    seen = await shop.event_ids()
    published = (await shop.data(PUBLISH, {"id": product["id"], "v": 1}))["publishProduct"]
    assert (published["status"], published["version"]) == ("ACTIVE", 2)
    assert published["publishedAt"]
    again = (await shop.data(PUBLISH, {"id": product["id"]}))["publishProduct"]
    assert again["version"] == 2  # already active: nothing changes

    archived = (await shop.data(ARCHIVE, {"id": product["id"], "v": 2}))["archiveProduct"]
    assert (archived["status"], archived["version"]) == ("ARCHIVED", 3)
    draft = (await shop.data(ARCHIVE, {"id": product["id"], "v": 3, "d": True}))["archiveProduct"]
    assert (draft["status"], draft["version"]) == ("DRAFT", 4)

    events = await shop.events_since(seen)
    assert [e.event_type for e in events] == [
        "commerce.product.published",
        "commerce.product.archived",
        "commerce.product.archived",
    ]
    assert events[0].payload["locales"] == ["de", "en"]
    assert [e.payload["status"] for e in events[1:]] == ["archived", "draft"]


async def test_update_changes_translations_and_bumps_the_version_once(shop: Shop) -> None:
    product = await shop.create_product()
    seen = await shop.event_ids()
    changes = {
        "translations": [
            {"locale": "en", "subtitle": "Now in blue", "description": ""},
            {"locale": "de", "handle": "hemd"},
        ],
        "discountable": False,
        "metadata": {"fabric": "cotton"},
    }
    updated = (await shop.data(UPDATE_PRODUCT, {"id": product["id"], "version": 1, "input": changes}))["updateProduct"]
    assert updated["version"] == 2
    assert (updated["subtitle"], updated["description"], updated["discountable"]) == ("Now in blue", None, False)
    assert updated["metadata"] == {"fabric": "cotton"}
    assert {t["locale"]: t["handle"] for t in updated["translations"]} == {"de": "hemd", "en": "organic-shirt"}
    [event] = await shop.events_since(seen)
    assert event.event_type == "commerce.product.updated"
    assert event.payload["version"] == 2
    assert sorted(event.payload["changed"]) == ["discountable", "metadata", "translation:de", "translation:en"]

    # The same values again: nothing changes, no event.
    same = (await shop.data(UPDATE_PRODUCT, {"id": product["id"], "version": 2, "input": changes}))["updateProduct"]
    assert same["version"] == 2
    assert await shop.events_since(seen) == [event]

    # Removing a locale; the last one cannot go.
    removed = await shop.data(UPDATE_PRODUCT, {"id": product["id"], "version": 2, "input": {"removeLocales": ["de"]}})
    assert removed["updateProduct"]["availableLocales"] == ["en"]
    error = await shop.fails(UPDATE_PRODUCT, {"id": product["id"], "version": 3, "input": {"removeLocales": ["en"]}})
    assert error["extensions"]["code"] == "VALIDATION"


async def test_handles_are_made_from_titles_and_made_ones_get_a_suffix(shop: Shop) -> None:
    first = await shop.create_product({"translations": [{"locale": "en", "title": "Straße & Café"}]})
    assert first["handle"] == "strasse-cafe"
    second = await shop.create_product({"translations": [{"locale": "en", "title": "Strasse Cafe"}]})
    assert second["handle"] == "strasse-cafe-2"
    third = await shop.create_product({"translations": [{"locale": "de", "title": "Strasse Cafe"}]})
    assert third["handle"] == "strasse-cafe"  # another locale: free
    error = await shop.fails(CREATE_PRODUCT, {"input": {"translations": [{"locale": "en", "title": "!!!"}]}})
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["fieldErrors"][0]["path"] == ["translations", 0, "handle"]


async def test_listing_filters_by_status_search_and_category_and_pages_with_cursors(shop: Shop) -> None:
    category = (
        await shop.data(
            "mutation($i: CreateProductCategoryInput!) { createProductCategory(input: $i) { id handle } }",
            {"i": {"translations": [{"locale": "en", "name": "Tops"}]}},
        )
    )["createProductCategory"]
    child = (
        await shop.data(
            "mutation($i: CreateProductCategoryInput!) { createProductCategory(input: $i) { id handle } }",
            {"i": {"translations": [{"locale": "en", "name": "Shirts"}], "parentId": category["id"]}},
        )
    )["createProductCategory"]
    created = []
    for n in range(5):
        given: dict[str, Any] = {"translations": [{"locale": "en", "title": f"Item {n}"}]}
        if n % 2:
            given["categoryIds"] = [child["id"]]
        created.append(await shop.create_product(given))
    await shop.data(PUBLISH, {"id": created[0]["id"]})

    everything = await shop.data(LIST, {"first": 2})
    page = everything["products"]
    assert [e["node"]["title"] for e in page["edges"]] == ["Item 4", "Item 3"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await shop.data(LIST, {"first": 10, "after": page["pageInfo"]["endCursor"]})
    assert [e["node"]["title"] for e in rest["products"]["edges"]] == ["Item 2", "Item 1", "Item 0"]
    assert rest["products"]["pageInfo"]["hasNextPage"] is False

    active = await shop.data(LIST, {"filter": {"status": "ACTIVE"}})
    assert [e["node"]["title"] for e in active["products"]["edges"]] == ["Item 0"]
    found = await shop.data(LIST, {"filter": {"search": "tem 3"}})
    assert [e["node"]["title"] for e in found["products"]["edges"]] == ["Item 3"]
    assert (await shop.data(LIST, {"filter": {"search": "%"}}))["products"]["edges"] == []
    in_tops = await shop.data(LIST, {"filter": {"categoryHandle": "tops"}})
    assert [e["node"]["title"] for e in in_tops["products"]["edges"]] == ["Item 3", "Item 1"]
    in_shirts = await shop.data(LIST, {"filter": {"categoryId": child["id"]}})
    assert len(in_shirts["products"]["edges"]) == 2

    bad = await shop.fails(LIST, {"after": "not-a-cursor"})
    assert bad["extensions"]["code"] == "VALIDATION"


async def test_delete_removes_the_product_with_its_variants(shop: Shop) -> None:
    product = await shop.create_product()
    seen = await shop.event_ids()
    stale = await shop.fails(DELETE, {"id": product["id"], "v": 7})
    assert stale["extensions"]["code"] == "CONFLICT"
    assert await shop.count("commerce_variants") == 4
    assert (await shop.data(DELETE, {"id": product["id"], "v": 1}))["deleteProduct"] is True
    assert await shop.count("commerce_variants") == 0
    assert await shop.count("commerce_prices") == 0
    [event] = await shop.events_since(seen)
    assert event.event_type == "commerce.product.deleted"
    assert sorted(event.payload["variant_ids"]) == sorted(v["id"] for v in product["variants"])
    assert (await shop.data(PRODUCT, {"id": product["id"]}))["product"] is None
    missing = await shop.fails(DELETE, {"id": product["id"]})
    assert missing["extensions"]["code"] == "NOT_FOUND"


async def test_permissions_guard_every_write(shop: Shop) -> None:
    error = await shop.fails(CREATE_PRODUCT, {"input": shirt_input()}, who="shopper")
    assert error["extensions"]["code"] == "FORBIDDEN"
    error = await shop.fails(CREATE_PRODUCT, {"input": shirt_input()}, who="public")
    assert error["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")
    assert await shop.count("commerce_products") == 0
