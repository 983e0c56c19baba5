"""Inventory, store settings, shipping options and tax rates over GraphQL and REST.

Stock changes are audited (adjustments with reasons), never go below zero or below
what is reserved, publish ``commerce.inventory.updated``; bulk updates are all or
nothing and safe to retry; bad inputs change nothing.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text

from rustok_commerce.models import InventoryAdjustment, InventoryLevel, Order, Product, Variant
from rustok_commerce.services.inventory import ReserveLine, reserve
from rustok_outbox.runtime import runtime_of
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.queries import count_queries

LEVEL = "id inventoryItemId sku locationId locationName stocked reserved available incoming version"
SET_LEVEL = (
    f"mutation($i: SetInventoryLevelInput!, $v: Int) {{ setInventoryLevel(input: $i, version: $v) {{ {LEVEL} }} }}"
)
ADJUST = f"mutation($i: AdjustInventoryInput!) {{ adjustInventory(input: $i) {{ {LEVEL} }} }}"
CREATE_LOCATION = "mutation($i: StockLocationInput!) { createStockLocation(input: $i) { id name priority version } }"
ITEM = f"""query($id: UUID!) {{ inventoryItem(id: $id) {{
  id sku requiresShipping stocked reserved available incoming
  levels {{ {LEVEL} }}
  adjustments {{ delta stockedAfter reason note actorId locationId }}
}} }}"""
ITEMS = f"""query($first: Int!) {{ inventoryItems(first: $first) {{
  edges {{ cursor node {{ id sku available levels {{ {LEVEL} }} }} }} pageInfo {{ hasNextPage endCursor }}
}} }}"""


@dataclass
class Shop:
    client: RustokClient
    platform: Platform
    tenant: Any
    manager: Any
    customer: Any

    async def gql(self, document: str, variables: dict[str, Any] | None = None, user: Any = None) -> dict[str, Any]:
        return await self.client.graphql(document, variables, headers=(user or self.manager).headers)

    async def data(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.gql(document, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def location(self, name: str, priority: int = 0) -> str:
        found = await self.data(CREATE_LOCATION, {"i": {"name": name, "priority": priority}})
        return str(found["createStockLocation"]["id"])

    async def variant(self, sku: str | None = None) -> str:
        async with self.platform.ctx.db.session(self.tenant.id) as s, s.begin():
            product = Product(status="active")
            s.add(product)
            await s.flush()
            variant = Variant(product_id=product.id, title="V", sku=sku or f"SKU-{secrets.token_hex(5)}")
            s.add(variant)
            await s.flush()
            return str(variant.id)

    async def events(self, kind: str = "commerce.inventory.") -> list[dict[str, Any]]:
        registry = runtime_of(self.platform.ctx).registry
        async with self.platform.ctx.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT event_type, schema_version, payload FROM sys_events "
                        "WHERE tenant_id = :t AND event_type LIKE :k ORDER BY id"
                    ),
                    {"t": self.tenant.id, "k": f"{kind}%"},
                )
            ).all()
        for row in rows:
            registry.load(row.event_type, row.payload, row.schema_version)
        return [{"type": row.event_type, **row.payload} for row in rows]

    async def adjustment_count(self) -> int:
        async with self.platform.ctx.db.session(self.tenant.id) as s:
            return int(await s.scalar(select(func.count()).select_from(InventoryAdjustment)) or 0)


@pytest.fixture
async def shop(rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any) -> Shop:
    tenant = await make_tenant(modules=["commerce"])
    return Shop(
        rustok_client,
        rustok_platform,
        tenant,
        await make_user(tenant, role="manager"),
        await make_user(tenant, role="customer"),
    )


async def test_stock_set_through_a_variant_gets_an_item_with_its_sku_and_an_audit_trail(shop: Shop) -> None:
    main = await shop.location("Main")
    variant = await shop.variant("MUG-RED")
    level = (
        await shop.data(
            SET_LEVEL, {"i": {"variantId": variant, "locationId": main, "stocked": 10, "reason": "RESTOCK"}}
        )
    )["setInventoryLevel"]
    assert (level["sku"], level["stocked"], level["available"], level["locationName"]) == ("MUG-RED", 10, 10, "Main")
    # The same variant keeps its item.
    level = (
        await shop.data(
            ADJUST,
            {"i": {"variantId": variant, "locationId": main, "delta": -3, "reason": "DAMAGE", "note": "dropped"}},
        )
    )["adjustInventory"]
    assert level["stocked"] == 7
    await shop.data(SET_LEVEL, {"i": {"variantId": variant, "locationId": main, "incoming": 40}})
    item = (await shop.data(ITEM, {"id": level["inventoryItemId"]}))["inventoryItem"]
    assert (item["sku"], item["stocked"], item["incoming"], item["available"]) == ("MUG-RED", 7, 40, 7)
    assert [(a["delta"], a["stockedAfter"], a["reason"], a["note"]) for a in item["adjustments"]] == [
        (-3, 7, "DAMAGE", "dropped"),
        (10, 10, "RESTOCK", None),
    ]
    assert all(a["actorId"] == str(shop.manager.id) and a["locationId"] == main for a in item["adjustments"])
    events = await shop.events()
    # The incoming-only change publishes nothing: availability did not move.
    assert [(e["type"], e["reason"], e["stocked"]) for e in events] == [
        ("commerce.inventory.updated", "restock", 10),
        ("commerce.inventory.updated", "damage", 7),
    ]
    assert events[0]["variant_ids"] == [variant]


async def test_stock_never_goes_below_zero_or_below_what_is_reserved(shop: Shop) -> None:
    main = await shop.location("Main")
    variant = await shop.variant()
    await shop.data(SET_LEVEL, {"i": {"variantId": variant, "locationId": main, "stocked": 5, "reason": "COUNT"}})
    async with shop.platform.ctx.db.session(shop.tenant.id) as s, s.begin():
        order = Order(display_id=1, currency_code="EUR", created_at=datetime.now(UTC))
        s.add(order)
        await s.flush()
        await reserve(
            shop.platform.ctx,
            s,
            shop.tenant.id,
            [ReserveLine(uuid.UUID(variant), 3)],
            order_id=order.id,
            order_created_at=order.created_at,
            actor_id=None,
        )
    before = await shop.adjustment_count()
    for document, given in (
        (ADJUST, {"delta": -3, "reason": "DAMAGE"}),
        (ADJUST, {"delta": -6, "reason": "DAMAGE"}),
        (SET_LEVEL, {"stocked": 2, "reason": "COUNT"}),
    ):
        body = await shop.gql(document, {"i": {"variantId": variant, "locationId": main, **given}})
        assert error_codes(body) == ["VALIDATION"]
        assert body["errors"][0]["extensions"]["reason"] == "INSUFFICIENT_STOCK"
    body = await shop.gql(ADJUST, {"i": {"variantId": variant, "locationId": main, "delta": -2, "reason": "DAMAGE"}})
    assert body["data"]["adjustInventory"]["stocked"] == 3
    assert body["data"]["adjustInventory"]["available"] == 0
    assert await shop.adjustment_count() == before + 1


async def test_bad_inventory_inputs_are_refused_and_change_nothing(shop: Shop) -> None:
    main = await shop.location("Main")
    variant = await shop.variant()
    await shop.data(SET_LEVEL, {"i": {"variantId": variant, "locationId": main, "stocked": 5}})
    events = len(await shop.events())
    cases: list[tuple[str, dict[str, Any], str]] = [
        (ADJUST, {"variantId": variant, "locationId": main, "delta": 0, "reason": "COUNT"}, "VALIDATION"),
        (SET_LEVEL, {"variantId": variant, "locationId": main, "stocked": -1}, "VALIDATION"),
        (SET_LEVEL, {"variantId": variant, "locationId": main}, "VALIDATION"),
        (SET_LEVEL, {"locationId": main, "stocked": 1}, "VALIDATION"),
        (SET_LEVEL, {"variantId": str(uuid.uuid4()), "locationId": main, "stocked": 1}, "NOT_FOUND"),
        (SET_LEVEL, {"variantId": variant, "locationId": str(uuid.uuid4()), "stocked": 1}, "NOT_FOUND"),
    ]
    for document, given, code in cases:
        body = await shop.gql(document, {"i": given})
        assert error_codes(body) == [code], (given, body)
    body = await shop.gql(SET_LEVEL, {"i": {"variantId": variant, "locationId": main, "stocked": 9}, "v": 99})
    assert error_codes(body) == ["CONFLICT"]
    item = (
        await shop.data(
            "query($v: UUID) { inventoryItems(variantId: $v) { edges { node { stocked } } } }", {"v": variant}
        )
    )["inventoryItems"]["edges"]
    assert [e["node"]["stocked"] for e in item] == [5]
    assert len(await shop.events()) == events


async def test_inventory_needs_its_permissions(shop: Shop) -> None:
    main = await shop.location("Main")
    variant = await shop.variant()
    given = {"i": {"variantId": variant, "locationId": main, "stocked": 5}}
    assert error_codes(await shop.gql(SET_LEVEL, given, user=shop.customer)) == ["FORBIDDEN"]
    anonymous = await shop.client.graphql(SET_LEVEL, given, tenant=shop.tenant)
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    assert error_codes(await shop.gql("{ stockLocations { id } }", user=shop.customer)) == ["FORBIDDEN"]


async def test_locations_list_in_priority_order_and_one_in_use_cannot_be_deleted(shop: Shop) -> None:
    backup = await shop.location("Backup", 5)
    main = await shop.location("Main", 1)
    body = await shop.gql(CREATE_LOCATION, {"i": {"name": "Main"}})
    assert error_codes(body) == ["CONFLICT"]
    names = (await shop.data("{ stockLocations { name } }"))["stockLocations"]
    assert [n["name"] for n in names] == ["Main", "Backup"]
    variant = await shop.variant()
    await shop.data(SET_LEVEL, {"i": {"variantId": variant, "locationId": main, "stocked": 1}})
    body = await shop.gql("mutation($id: UUID!) { deleteStockLocation(id: $id) }", {"id": main})
    assert error_codes(body) == ["CONFLICT"]
    assert body["errors"][0]["extensions"]["reason"] == "LOCATION_IN_USE"
    renamed = await shop.data(
        'mutation($id: UUID!) { updateStockLocation(id: $id, version: 1, input: {name: "Spare", priority: 0}) '
        "{ name priority version } }",
        {"id": backup},
    )
    assert renamed["updateStockLocation"] == {"name": "Spare", "priority": 0, "version": 2}
    assert (await shop.data("mutation($id: UUID!) { deleteStockLocation(id: $id) }", {"id": backup}))[
        "deleteStockLocation"
    ]


async def test_listing_items_with_their_levels_costs_the_same_queries_for_any_page(shop: Shop) -> None:
    main, backup = await shop.location("Main"), await shop.location("Backup")
    for _ in range(6):
        variant = await shop.variant()
        for location in (main, backup):
            await shop.data(SET_LEVEL, {"i": {"variantId": variant, "locationId": location, "stocked": 3}})
    counts = {}
    for size in (2, 6):
        async with count_queries(shop.platform, ignore=[r"sys_events"]) as counted:
            data = await shop.data(ITEMS, {"first": size})
        edges = data["inventoryItems"]["edges"]
        assert len(edges) == size
        assert all(len(e["node"]["levels"]) == 2 and e["node"]["available"] == 6 for e in edges)
        counts[size] = counted.count
    assert counts[2] == counts[6], counts


# -- REST ----------------------------------------------------------------------------------------


async def test_bulk_update_is_all_or_nothing_and_names_the_bad_rows(shop: Shop) -> None:
    main, backup = await shop.location("Main"), await shop.location("Backup")
    first, second = await shop.variant("BULK-1"), await shop.variant("BULK-2")
    await shop.data(SET_LEVEL, {"i": {"variantId": first, "locationId": main, "stocked": 4}})
    events, adjustments = len(await shop.events()), await shop.adjustment_count()
    bad = {
        "rows": [
            {"sku": "BULK-1", "locationId": main, "delta": 5, "reason": "restock"},
            {"sku": "NO-SUCH-SKU", "locationId": main, "set": 1, "reason": "count"},
            {"variantId": second, "locationId": backup, "set": 3, "delta": 1, "reason": "count"},
            {"sku": "BULK-1", "locationId": main, "delta": -20, "reason": "damage"},
        ]
    }
    response = await shop.client.post("/api/v1/commerce/inventory/levels/bulk", json=bad, headers=shop.manager.headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["reason"] == "BULK_REJECTED"
    assert sorted(tuple(e["path"]) for e in problem["errors"]) == [("rows", 2, "set")]
    bad["rows"].pop(2)
    response = await shop.client.post("/api/v1/commerce/inventory/levels/bulk", json=bad, headers=shop.manager.headers)
    assert response.status_code == 422
    assert [tuple(e["path"]) for e in response.json()["errors"]] == [("rows", 1, "sku")]
    bad["rows"].pop(1)
    response = await shop.client.post("/api/v1/commerce/inventory/levels/bulk", json=bad, headers=shop.manager.headers)
    assert response.status_code == 422
    # Row 0 alone would have been fine; row 1 (4 + 5 - 20 < 0) fails, so neither applies.
    assert [tuple(e["path"]) for e in response.json()["errors"]] == [("rows", 1, "delta")]
    assert (len(await shop.events()), await shop.adjustment_count()) == (events, adjustments)
    levels = await shop.client.get(
        "/api/v1/commerce/inventory/levels", params={"sku": "BULK-1"}, headers=shop.manager.headers
    )
    assert [(row["stocked"], row["locationName"]) for row in levels.json()["items"]] == [(4, "Main")]


async def test_bulk_update_applies_rows_in_order_once_per_idempotency_key(shop: Shop) -> None:
    main, backup = await shop.location("Main"), await shop.location("Backup")
    await shop.variant("IDEM-1")
    second = await shop.variant("IDEM-2")
    body = {
        "rows": [
            {"sku": "IDEM-1", "locationId": main, "set": 10, "reason": "count"},
            {"variantId": second, "locationId": backup, "delta": 7, "reason": "restock", "note": "PO 17"},
            {"sku": "IDEM-1", "locationId": main, "delta": -4, "reason": "damage"},
        ]
    }
    headers = {**shop.manager.headers, "Idempotency-Key": secrets.token_hex(8)}
    responses = [
        await shop.client.post("/api/v1/commerce/inventory/levels/bulk", json=body, headers=headers) for _ in range(2)
    ]
    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].json() == responses[1].json()
    levels = responses[0].json()["levels"]
    # Each row answers with its level after the whole update.
    assert [(row["sku"], row["stocked"]) for row in levels] == [("IDEM-1", 6), ("IDEM-2", 7), ("IDEM-1", 6)]
    listed = await shop.client.get(
        "/api/v1/commerce/inventory/levels", params={"locationId": main}, headers=shop.manager.headers
    )
    assert [(row["sku"], row["stocked"]) for row in listed.json()["items"]] == [("IDEM-1", 6)]
    events = await shop.events("commerce.inventory.updated")
    assert Counter(e["reason"] for e in events) == {"damage": 1, "restock": 1}
    assert await shop.adjustment_count() == 3


async def test_levels_list_pages_by_cursor_and_needs_permission(shop: Shop) -> None:
    main = await shop.location("Main")
    for _ in range(3):
        await shop.data(SET_LEVEL, {"i": {"variantId": await shop.variant(), "locationId": main, "stocked": 1}})
    url = "/api/v1/commerce/inventory/levels"
    first = (await shop.client.get(url, params={"first": 2}, headers=shop.manager.headers)).json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    rest = (
        await shop.client.get(url, params={"first": 2, "after": first["nextCursor"]}, headers=shop.manager.headers)
    ).json()
    assert len(rest["items"]) == 1 and rest["nextCursor"] is None
    assert (await shop.client.get(url, headers=shop.customer.headers)).status_code == 403
    created = await shop.client.post(
        "/api/v1/commerce/stock-locations",
        json={"name": "Rest", "priority": 3},
        headers={**shop.manager.headers, "Idempotency-Key": "loc-1"},
    )
    assert created.status_code == 201, created.text
    listed = (await shop.client.get("/api/v1/commerce/stock-locations", headers=shop.manager.headers)).json()
    assert [loc["name"] for loc in listed] == ["Main", "Rest"]
    refused = await shop.client.post(
        "/api/v1/commerce/stock-locations", json={"name": "Float", "priority": 1.5}, headers=shop.manager.headers
    )
    assert refused.status_code == 422


# -- settings, shipping options, tax rates -------------------------------------------------------

CREATE_OPTION = (
    "mutation($i: ShippingOptionInput!) { createShippingOption(input: $i) "
    "{ id code version price { amount currencyCode } freeAbove { amount } countries isActive } }"
)


async def test_store_settings_are_checked_and_versioned(shop: Shop) -> None:
    settings = (await shop.data("{ storeSettings { lowStockThreshold maxLineQuantity defaultCurrency version } }"))[
        "storeSettings"
    ]
    assert settings == {"lowStockThreshold": 5, "maxLineQuantity": 1000, "defaultCurrency": None, "version": 0}
    update = (
        "mutation($i: UpdateStoreSettingsInput!, $v: Int) { updateStoreSettings(input: $i, version: $v) "
        "{ lowStockThreshold maxLineQuantity defaultCurrency version } }"
    )
    for bad in ({"defaultCurrency": "EURO"}, {"maxLineQuantity": 0}, {"lowStockThreshold": -1}):
        assert error_codes(await shop.gql(update, {"i": bad, "v": 0})) == ["VALIDATION"]
    changed = (await shop.data(update, {"i": {"defaultCurrency": "eur", "maxLineQuantity": 10}, "v": 0}))[
        "updateStoreSettings"
    ]
    assert changed == {"lowStockThreshold": 5, "maxLineQuantity": 10, "defaultCurrency": "EUR", "version": 1}
    assert error_codes(await shop.gql(update, {"i": {"lowStockThreshold": 1}, "v": 0})) == ["CONFLICT"]
    assert error_codes(await shop.gql("{ storeSettings { version } }", user=shop.customer)) == ["FORBIDDEN"]


async def test_shipping_options_check_money_and_the_public_sees_active_ones_serving_a_country(shop: Shop) -> None:
    good = {"code": "standard", "name": "Standard", "currencyCode": "EUR", "amount": 500, "countries": ["de", "AT"]}
    for bad in (
        {**good, "amount": -1},
        {**good, "amount": 4.5},
        {**good, "currencyCode": "ABC"},
        {**good, "countries": ["XX"]},
        {**good, "provider": "carrier_pigeon"},
        {**good, "code": "Not A Code"},
    ):
        body = await shop.gql(CREATE_OPTION, {"i": bad})
        assert error_codes(body) == ["VALIDATION"], bad
    created = (await shop.data(CREATE_OPTION, {"i": {**good, "freeAbove": 5000}}))["createShippingOption"]
    assert created["price"] == {"amount": 500, "currencyCode": "EUR"}
    assert (created["freeAbove"], created["countries"]) == ({"amount": 5000}, ["AT", "DE"])
    assert error_codes(await shop.gql(CREATE_OPTION, {"i": good})) == ["CONFLICT"]
    await shop.data(CREATE_OPTION, {"i": {**good, "code": "express", "amount": 1500, "countries": None}})
    hidden = (await shop.data(CREATE_OPTION, {"i": {**good, "code": "old", "isActive": False}}))["createShippingOption"]
    public = "query($c: String, $k: String) { shippingOptions(currencyCode: $c, countryCode: $k) { code } }"
    seen = await shop.client.graphql_data(public, {"c": "EUR", "k": "FR"}, tenant=shop.tenant)
    assert [o["code"] for o in seen["shippingOptions"]] == ["express"]
    seen = await shop.client.graphql_data(public, {"c": "EUR", "k": "DE"}, tenant=shop.tenant)
    assert [o["code"] for o in seen["shippingOptions"]] == ["express", "standard"]
    everything = "{ shippingOptions(includeInactive: true) { code } }"
    assert error_codes(await shop.client.graphql(everything, tenant=shop.tenant)) == ["UNAUTHENTICATED"]
    assert len((await shop.data(everything))["shippingOptions"]) == 3
    update = (
        "mutation($id: UUID!, $v: Int, $i: UpdateShippingOptionInput!) { updateShippingOption(id: $id, version: $v, "
        "input: $i) { code version freeAbove { amount } isActive } }"
    )
    changed = await shop.data(update, {"id": hidden["id"], "v": 1, "i": {"isActive": True, "freeAbove": None}})
    assert changed["updateShippingOption"] == {"code": "old", "version": 2, "freeAbove": None, "isActive": True}
    assert error_codes(await shop.gql(update, {"id": hidden["id"], "v": 1, "i": {"name": "x"}})) == ["CONFLICT"]
    assert error_codes(await shop.gql(update, {"id": hidden["id"], "i": {"amount": -5}})) == ["VALIDATION"]


async def test_tax_rates_upsert_per_country_and_province(shop: Shop) -> None:
    upsert = (
        "mutation($i: TaxRateInput!) { upsertTaxRate(input: $i) { id countryCode province name rateBp "
        "appliesToShipping version } }"
    )
    de = (await shop.data(upsert, {"i": {"countryCode": "de", "name": "MwSt", "rateBp": 1900}}))["upsertTaxRate"]
    again = (await shop.data(upsert, {"i": {"countryCode": "DE", "name": "MwSt", "rateBp": 700}}))["upsertTaxRate"]
    assert (again["id"], again["rateBp"], again["province"], again["version"]) == (de["id"], 700, "", 2)
    await shop.data(upsert, {"i": {"countryCode": "US", "province": "ny", "name": "NY", "rateBp": 888}})
    for bad in ({"countryCode": "ZZ", "name": "x", "rateBp": 1}, {"countryCode": "US", "name": "x", "rateBp": -1}):
        assert error_codes(await shop.gql(upsert, {"i": bad})) == ["VALIDATION"]
    rates = (await shop.data("{ taxRates { countryCode province rateBp } }"))["taxRates"]
    assert rates == [
        {"countryCode": "DE", "province": "", "rateBp": 700},
        {"countryCode": "US", "province": "NY", "rateBp": 888},
    ]
    assert (await shop.data("mutation($id: UUID!) { deleteTaxRate(id: $id) }", {"id": de["id"]}))["deleteTaxRate"]
    body = await shop.gql("mutation($id: UUID!) { deleteTaxRate(id: $id) }", {"id": de["id"]})
    assert error_codes(body) == ["NOT_FOUND"]


async def test_levels_of_another_tenant_stay_invisible(shop: Shop, make_tenant: Any, make_user: Any) -> None:
    main = await shop.location("Main")
    variant = await shop.variant()
    level = (await shop.data(SET_LEVEL, {"i": {"variantId": variant, "locationId": main, "stocked": 2}}))[
        "setInventoryLevel"
    ]
    other = await make_tenant(modules=["commerce"])
    stranger = await make_user(other, role="manager")
    body = await shop.client.graphql(ITEM, {"id": level["inventoryItemId"]}, headers=stranger.headers)
    assert body["data"]["inventoryItem"] is None
    body = await shop.client.graphql(
        SET_LEVEL, {"i": {"variantId": variant, "locationId": main, "stocked": 9}}, headers=stranger.headers
    )
    assert error_codes(body) == ["NOT_FOUND"]
    async with shop.platform.ctx.db.session(shop.tenant.id) as s:
        stocked = await s.scalar(
            select(InventoryLevel.stocked_quantity).where(InventoryLevel.id == uuid.UUID(level["id"]))
        )
    assert stocked == 2
