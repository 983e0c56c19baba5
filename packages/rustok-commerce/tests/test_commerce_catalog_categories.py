"""Product categories: a translated tree with handles, ranks, visibility, and products put into them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from catalog_fixtures import PRODUCT, UPDATE_PRODUCT, Shop, shop

__all__ = ["shop"]

CATEGORY_FIELDS = "id handle parentId depth rank isActive isInternal version locale name description"
CREATE = f"mutation($i: CreateProductCategoryInput!) {{ createProductCategory(input: $i) {{ {CATEGORY_FIELDS} }} }}"
UPDATE = (
    "mutation($id: UUID!, $v: Int!, $i: UpdateProductCategoryInput!) "
    f"{{ updateProductCategory(id: $id, version: $v, input: $i) {{ {CATEGORY_FIELDS} }} }}"
)
MOVE = (
    "mutation($id: UUID!, $v: Int!, $p: UUID, $r: Int) "
    f"{{ moveProductCategory(id: $id, version: $v, parentId: $p, rank: $r) {{ {CATEGORY_FIELDS} }} }}"
)
DELETE = "mutation($id: UUID!, $v: Int) { deleteProductCategory(id: $id, version: $v) }"
TREE = (
    "query($l: String, $h: Boolean) "
    "{ productCategories(locale: $l, includeHidden: $h) { handle name locale depth parentId } }"
)
ONE = "query($id: UUID, $h: String, $l: String) { productCategory(id: $id, handle: $h, locale: $l) { id name handle } }"
PRODUCT_CATEGORIES = "query($id: UUID!, $l: String) { product(id: $id, locale: $l) { categories { handle name } } }"


async def category(shop: Shop, name: str, **more: Any) -> dict[str, Any]:
    given = {"translations": [{"locale": "en", "name": name}], **more}
    created: dict[str, Any] = (await shop.data(CREATE, {"i": given}))["createProductCategory"]
    return created


async def test_a_tree_is_built_translated_moved_and_deleted_with_events(shop: Shop) -> None:
    seen = await shop.event_ids()
    clothes = await category(
        shop,
        "Clothes",
        translations=[
            {"locale": "en", "name": "Clothes"},
            {"locale": "de", "name": "Kleidung", "description": "Alles"},
        ],
    )
    assert (clothes["handle"], clothes["depth"], clothes["version"]) == ("clothes", 0, 1)
    shirts = await category(shop, "Shirts", parentId=clothes["id"], rank=2)
    hats = await category(shop, "Hats", parentId=clothes["id"], rank=1, handle="caps")
    assert (shirts["depth"], shirts["parentId"], hats["handle"]) == (1, clothes["id"], "caps")

    german = await shop.data(TREE, {"l": "de"})
    assert [(c["handle"], c["name"], c["locale"]) for c in german["productCategories"]] == [
        ("clothes", "Kleidung", "de"),
        ("caps", "Hats", "en"),
        ("shirts", "Shirts", "en"),
    ]
    assert (await shop.data(ONE, {"h": "clothes", "l": "de"}))["productCategory"]["name"] == "Kleidung"

    taken = await shop.fails(CREATE, {"i": {"translations": [{"locale": "en", "name": "X"}], "handle": "caps"}})
    assert (taken["extensions"]["code"], taken["extensions"]["reason"]) == ("CONFLICT", "HANDLE_TAKEN")
    again = await category(shop, "Shirts")
    assert again["handle"] == "shirts-2"

    updated = (
        await shop.data(
            UPDATE,
            {"id": shirts["id"], "v": 1, "i": {"translations": [{"locale": "de", "name": "Hemden"}], "rank": 0}},
        )
    )["updateProductCategory"]
    assert (updated["version"], updated["rank"]) == (2, 0)
    stale = await shop.fails(UPDATE, {"id": shirts["id"], "v": 1, "i": {"rank": 5}})
    assert stale["extensions"]["code"] == "CONFLICT"

    moved = (await shop.data(MOVE, {"id": shirts["id"], "v": 2, "p": None}))["moveProductCategory"]
    assert (moved["parentId"], moved["depth"], moved["version"]) == (None, 0, 3)
    below_itself = await shop.fails(MOVE, {"id": clothes["id"], "v": 1, "p": hats["id"]})
    assert below_itself["extensions"]["code"] == "VALIDATION"
    await shop.data(MOVE, {"id": clothes["id"], "v": 1, "p": shirts["id"]})
    tree = (await shop.data(TREE, {}))["productCategories"]
    assert [(c["handle"], c["depth"]) for c in tree] == [("shirts", 0), ("shirts-2", 0), ("clothes", 1), ("caps", 2)]

    has_children = await shop.fails(DELETE, {"id": clothes["id"]})
    assert has_children["extensions"]["reason"] == "HAS_CHILDREN"
    assert (await shop.data(DELETE, {"id": hats["id"]}))["deleteProductCategory"] is True

    events = await shop.events_since(seen)
    assert shop.kinds(events) == {
        "commerce.category.created": 4,
        "commerce.category.updated": 3,
        "commerce.category.deleted": 1,
    }
    assert events[-1].payload["handle"] == "caps"


async def test_products_are_put_into_categories_and_the_storefront_sees_public_ones_only(shop: Shop) -> None:
    visible = await category(shop, "Sale")
    internal = await category(shop, "Feed export", isInternal=True)
    inactive = await category(shop, "Winter", isActive=False)
    below_inactive = await category(shop, "Boots", parentId=inactive["id"])

    product = await shop.create_product(
        {"translations": [{"locale": "en", "title": "Boot"}], "categoryIds": [internal["id"], visible["id"]]}
    )
    await shop.data("mutation($id: UUID!) { publishProduct(id: $id) { id } }", {"id": product["id"]})
    staff = (await shop.data(PRODUCT_CATEGORIES, {"id": product["id"]}))["product"]["categories"]
    assert [c["handle"] for c in staff] == ["feed-export", "sale"]
    public = (await shop.data(PRODUCT_CATEGORIES, {"id": product["id"]}, who="public"))["product"]["categories"]
    assert [c["handle"] for c in public] == ["sale"]

    assert [c["handle"] for c in (await shop.data(TREE, {}, who="public"))["productCategories"]] == ["sale"]
    hidden = await shop.fails(TREE, {"h": True}, who="public")
    assert hidden["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
    everything = (await shop.data(TREE, {"h": True}))["productCategories"]
    assert {c["handle"] for c in everything} == {"sale", "feed-export", "winter", "boots"}
    assert (await shop.data(ONE, {"id": below_inactive["id"]}, who="public"))["productCategory"]["handle"] == "boots"
    assert (await shop.data(ONE, {"id": inactive["id"]}, who="public"))["productCategory"] is None

    seen = await shop.event_ids()
    moved = await shop.data(
        UPDATE_PRODUCT,
        {"id": product["id"], "version": 2, "input": {"categoryIds": [visible["id"], below_inactive["id"]]}},
    )
    assert moved["updateProduct"]["version"] == 3
    [event] = await shop.events_since(seen)
    assert event.payload["changed"] == ["categories"]
    missing = await shop.fails(
        UPDATE_PRODUCT, {"id": product["id"], "version": 3, "input": {"categoryIds": ["01J00000000000000000000000"]}}
    )
    assert missing["extensions"]["fieldErrors"][0]["path"] == ["categoryIds", 0]

    seen = await shop.event_ids()
    await shop.data(UPDATE, {"id": visible["id"], "v": 1, "i": {"translations": [{"locale": "en", "name": "Deals"}]}})
    await shop.data(DELETE, {"id": visible["id"]})
    updated, deleted = await shop.events_since(seen)
    assert updated.payload["product_ids"] == deleted.payload["product_ids"] == [product["id"]]
    assert (await shop.data(PRODUCT, {"id": product["id"]}))["product"]["version"] == 3
    remaining = (await shop.data(PRODUCT_CATEGORIES, {"id": product["id"]}))["product"]["categories"]
    assert [c["handle"] for c in remaining] == ["boots"]
