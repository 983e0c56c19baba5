"""Variants and options: one value of each option per variant, distinct combinations, SKUs, versions, snapshots."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from catalog_fixtures import (
    CREATE_VARIANT,
    PRODUCT,
    UPDATE_VARIANT,
    Shop,
    shop,
)

from rustok_commerce.services.catalog import (
    ProductService,
    VariantService,
    variant_snapshots,
)
from rustok_commerce.services.catalog_inputs import NewProduct, ProductText, VariantInput

__all__ = ["shop"]

DELETE_VARIANT = "mutation($id: UUID!, $v: Int) { deleteVariant(id: $id, version: $v) }"
ADD_OPTION = (
    "mutation($p: UUID!, $i: ProductOptionInput!, $v: Int) "
    "{ createProductOption(productId: $p, input: $i, version: $v) { id title position values { id value } } }"
)
UPDATE_OPTION = """
mutation($id: UUID!, $i: UpdateProductOptionInput!) {
  updateProductOption(id: $id, input: $i) { id title position }
}
"""
DELETE_OPTION = "mutation($id: UUID!) { deleteProductOption(id: $id) }"
ADD_VALUE = """
mutation($o: UUID!, $value: String!) {
  createProductOptionValue(optionId: $o, value: $value) { id value position }
}
"""
RENAME_VALUE = (
    "mutation($id: UUID!, $value: String) { updateProductOptionValue(id: $id, value: $value) { id value position } }"
)
DELETE_VALUE = "mutation($id: UUID!) { deleteProductOptionValue(id: $id) }"


def picks(**chosen: str) -> list[dict[str, str]]:
    return [{"option": name, "value": value} for name, value in chosen.items()]


async def shirt_without_variants(shop: Shop) -> dict[str, Any]:
    return await shop.create_product(
        {
            "translations": [{"locale": "en", "title": "Shirt"}],
            "options": [{"title": "Size", "values": ["S", "M", "L"]}, {"title": "Color", "values": ["red", "blue"]}],
        }
    )


async def test_a_variant_picks_exactly_one_value_of_each_option(shop: Shop) -> None:
    product = await shirt_without_variants(shop)
    seen = await shop.event_ids()
    created = await shop.data(
        CREATE_VARIANT, {"productId": product["id"], "input": {"options": picks(Size="M", Color="blue"), "sku": "A-1"}}
    )
    variant = created["createVariant"]
    assert (variant["title"], variant["sku"], variant["version"], variant["position"]) == ("M / blue", "A-1", 1, 0)
    assert [(p["option"], p["value"]) for p in variant["options"]] == [("Size", "M"), ("Color", "blue")]

    for bad, reason in (
        (picks(Size="M"), "MISSING_OPTION"),
        (picks(Size="M", Color="green"), "UNKNOWN_OPTION_VALUE"),
        (picks(Size="M", Color="red", Fabric="silk"), "UNKNOWN_OPTION"),
    ):
        error = await shop.fails(CREATE_VARIANT, {"productId": product["id"], "input": {"options": bad}})
        assert (error["extensions"]["code"], error["extensions"]["reason"]) == ("VALIDATION", reason)
    twice = await shop.fails(
        CREATE_VARIANT, {"productId": product["id"], "input": {"options": picks(Size="M", Color="blue")}}
    )
    assert (twice["extensions"]["code"], twice["extensions"]["reason"]) == ("CONFLICT", "COMBINATION_TAKEN")

    events = await shop.events_since(seen)
    assert [e.event_type for e in events] == ["commerce.variant.created"]
    assert events[0].payload == {"variant_id": variant["id"], "product_id": product["id"], "sku": "A-1"}
    assert await shop.count("commerce_variants") == 1


async def test_duplicate_combinations_in_one_create_are_refused(shop: Shop) -> None:
    given = {
        "translations": [{"locale": "en", "title": "Cap"}],
        "options": [{"title": "Size", "values": ["S", "M"]}],
        "variants": [{"options": picks(Size="S")}, {"options": picks(Size="S")}],
    }
    error = await shop.fails(
        "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }", {"input": given}
    )
    assert error["extensions"]["reason"] == "DUPLICATE_COMBINATION"
    assert error["extensions"]["fieldErrors"][0]["path"] == ["variants", 1, "options"]
    assert await shop.count("commerce_products") == 0


async def test_a_product_without_options_has_one_default_variant_at_most(shop: Shop) -> None:
    product = await shop.create_product(
        {"translations": [{"locale": "en", "title": "Mug"}], "variants": [{"sku": "MUG"}]}
    )
    assert [v["title"] for v in product["variants"]] == ["Default"]
    error = await shop.fails(CREATE_VARIANT, {"productId": product["id"], "input": {"sku": "MUG-2"}})
    assert error["extensions"]["reason"] == "COMBINATION_TAKEN"


async def test_update_changes_fields_and_picks_with_optimistic_concurrency(shop: Shop) -> None:
    product = await shirt_without_variants(shop)
    first = (
        await shop.data(
            CREATE_VARIANT, {"productId": product["id"], "input": {"options": picks(Size="S", Color="red")}}
        )
    )["createVariant"]
    second = (
        await shop.data(
            CREATE_VARIANT,
            {"productId": product["id"], "input": {"options": picks(Size="M", Color="red"), "sku": "M-RED"}},
        )
    )["createVariant"]
    assert second["position"] == 1
    seen = await shop.event_ids()

    changes = {"options": picks(Size="L", Color="blue"), "sku": "L-BLUE", "weight": 250, "allowBackorder": True}
    updated = (await shop.data(UPDATE_VARIANT, {"id": first["id"], "version": 1, "input": changes}))["updateVariant"]
    assert updated["version"] == 2
    assert [(p["option"], p["value"]) for p in updated["options"]] == [("Size", "L"), ("Color", "blue")]
    assert (updated["sku"], updated["weight"], updated["allowBackorder"]) == ("L-BLUE", 250, True)
    assert updated["title"] == "S / red"  # a title stays what it was

    stale = await shop.fails(UPDATE_VARIANT, {"id": first["id"], "version": 1, "input": {"barcode": "123"}})
    assert stale["extensions"]["code"] == "CONFLICT"
    collide = await shop.fails(
        UPDATE_VARIANT, {"id": first["id"], "version": 2, "input": {"options": picks(Size="M", Color="red")}}
    )
    assert collide["extensions"]["reason"] == "COMBINATION_TAKEN"
    taken = await shop.fails(UPDATE_VARIANT, {"id": first["id"], "version": 2, "input": {"sku": "M-RED"}})
    assert (taken["extensions"]["code"], taken["extensions"]["reason"]) == ("CONFLICT", "SKU_TAKEN")
    assert taken["extensions"]["fieldErrors"][0]["path"] == ["sku"]

    cleared = (await shop.data(UPDATE_VARIANT, {"id": first["id"], "version": 2, "input": {"sku": None}}))[
        "updateVariant"
    ]
    assert (cleared["sku"], cleared["weight"], cleared["version"]) == (None, 250, 3)

    events = await shop.events_since(seen)
    assert [e.event_type for e in events] == ["commerce.variant.updated", "commerce.variant.updated"]
    assert sorted(events[0].payload["changed"]) == ["allow_backorder", "options", "sku", "weight"]
    assert events[1].payload["changed"] == ["sku"]
    assert events[1].payload["version"] == 3


async def test_delete_a_variant_and_its_event(shop: Shop) -> None:
    product = await shop.create_product()
    variant = product["variants"][0]
    seen = await shop.event_ids()
    stale = await shop.fails(DELETE_VARIANT, {"id": variant["id"], "v": 5})
    assert stale["extensions"]["code"] == "CONFLICT"
    assert (await shop.data(DELETE_VARIANT, {"id": variant["id"], "v": 1}))["deleteVariant"] is True
    [event] = await shop.events_since(seen)
    assert (event.event_type, event.payload["sku"]) == ("commerce.variant.deleted", "SHIRT-S-RED")
    again = await shop.fails(DELETE_VARIANT, {"id": variant["id"]})
    assert again["extensions"]["code"] == "NOT_FOUND"
    # The freed combination can be picked again.
    recreated = await shop.data(
        CREATE_VARIANT, {"productId": product["id"], "input": {"options": picks(Size="S", Color="red")}}
    )
    assert recreated["createVariant"]["position"] == 4


async def test_options_and_values_are_managed_with_the_variants_in_mind(shop: Shop) -> None:
    product = await shop.create_product()  # Size S/M x Color red/blue, four variants
    seen = await shop.event_ids()
    stale = await shop.fails(ADD_OPTION, {"p": product["id"], "i": {"title": "Fit", "values": ["slim"]}, "v": 9})
    assert stale["extensions"]["code"] == "CONFLICT"
    given = {"p": product["id"], "i": {"title": "Fit", "values": ["slim", "loose"]}, "v": 1}
    fit = (await shop.data(ADD_OPTION, given))["createProductOption"]
    assert (fit["title"], fit["position"], [v["value"] for v in fit["values"]]) == ("Fit", 2, ["slim", "loose"])
    read = (await shop.data(PRODUCT, {"id": product["id"]}))["product"]
    assert read["version"] == 2
    assert all([p["value"] for p in v["options"]][-1] == "slim" for v in read["variants"])

    duplicate = await shop.fails(ADD_OPTION, {"p": product["id"], "i": {"title": "Fit", "values": ["x"]}})
    assert duplicate["extensions"]["reason"] == "OPTION_TAKEN"

    renamed = (await shop.data(UPDATE_OPTION, {"id": fit["id"], "i": {"title": "Cut", "position": 0}}))[
        "updateProductOption"
    ]
    assert (renamed["title"], renamed["position"]) == ("Cut", 0)

    slim, loose = fit["values"]
    in_use = await shop.fails(DELETE_VALUE, {"id": slim["id"]})
    assert in_use["extensions"]["reason"] == "VALUE_IN_USE"
    assert (await shop.data(RENAME_VALUE, {"id": slim["id"], "value": "Slim"}))["updateProductOptionValue"][
        "value"
    ] == "Slim"
    assert (await shop.data(DELETE_VALUE, {"id": loose["id"]}))["deleteProductOptionValue"] is True
    last = await shop.fails(DELETE_VALUE, {"id": slim["id"]})
    assert last["extensions"]["reason"] in ("VALUE_IN_USE", "LAST_VALUE")
    added = (await shop.data(ADD_VALUE, {"o": fit["id"], "value": "regular"}))["createProductOptionValue"]
    assert added["position"] == 1  # after the remaining "Slim"
    taken = await shop.fails(ADD_VALUE, {"o": fit["id"], "value": "regular"})
    assert taken["extensions"]["reason"] == "VALUE_TAKEN"

    # Every variant picks "Slim" for the cut, so the cut can go; Size cannot (S/red and M/red would collide).
    size = next(o for o in read["options"] if o["title"] == "Size")
    collide = await shop.fails(DELETE_OPTION, {"id": size["id"]})
    assert collide["extensions"]["reason"] == "VARIANTS_WOULD_COLLIDE"
    assert (await shop.data(DELETE_OPTION, {"id": fit["id"]}))["deleteProductOption"] is True
    final = (await shop.data(PRODUCT, {"id": product["id"]}))["product"]
    assert [o["title"] for o in final["options"]] == ["Size", "Color"]
    assert all(len(v["options"]) == 2 for v in final["variants"])

    events = await shop.events_since(seen)
    assert {e.event_type for e in events} == {"commerce.product.updated"}
    assert all(e.payload["changed"] == ["options"] for e in events)
    # add option, rename option, rename value, delete value, add value, delete option
    assert [e.payload["version"] for e in events] == [2, 3, 4, 5, 6, 7]
    assert final["version"] == 7


async def test_variant_snapshots_describe_variants_for_carts_and_orders(shop: Shop) -> None:
    product = await shop.create_product()
    ctx = shop.platform.ctx
    mug = await ProductService(ctx).create(
        shop.tenant,
        NewProduct(translations=[ProductText("de", "Becher")], variants=[VariantInput(sku="MUG")]),
        actor_id=None,
    )
    [mug_variant] = (await ProductService(ctx).variants_of(shop.tenant.id, [mug.id]))[mug.id]
    ids = [v["id"] for v in product["variants"]]
    wanted = [uuid.UUID(i) for i in ids] + [mug_variant.id, uuid.uuid4()]
    async with ctx.db.session(shop.tenant.id) as session:
        found = await variant_snapshots(session, wanted, "de")
    assert len(found) == 5
    first = found[uuid.UUID(ids[0])]
    assert (first.title, first.sku, first.product_status, first.weight) == (
        "Bio-Hemd / S / red",
        "SHIRT-S-RED",
        "draft",
        200,
    )
    assert (first.manage_inventory, first.allow_backorder) == (True, False)
    assert found[mug_variant.id].title == "Becher"  # Default variant: the product title alone
    async with ctx.db.session(shop.tenant.id) as session:
        english = await variant_snapshots(session, wanted, "en")
        assert english[uuid.UUID(ids[0])].title == "Organic Shirt / S / red"
        assert english[mug_variant.id].title == "Becher"  # no English: any translation
        assert await variant_snapshots(session, [], "en") == {}
    assert (await VariantService(ctx).get(shop.tenant.id, mug_variant.id)).sku == "MUG"
