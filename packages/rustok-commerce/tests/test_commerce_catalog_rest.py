"""The catalog's REST routes for integrations: products, variants, prices and price lists under /api/v1/commerce."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from catalog_fixtures import Shop, shop

__all__ = ["shop"]

BASE = "/api/v1/commerce"


def product_payload(**more: Any) -> dict[str, Any]:
    return {
        "translations": [{"locale": "en", "title": "Travel Mug"}, {"locale": "de", "title": "Reisebecher"}],
        "options": [{"title": "Volume", "values": ["300 ml", "500 ml"]}],
        "variants": [
            {
                "options": {"Volume": "300 ml"},
                "sku": "MUG-300",
                "weight": 250,
                "prices": [{"currencyCode": "EUR", "amount": 1500}],
            },
            {"options": {"Volume": "500 ml"}, "sku": "MUG-500", "prices": [{"currencyCode": "EUR", "amount": 1800}]},
        ],
        **more,
    }


async def test_products_are_created_once_per_idempotency_key_read_patched_and_deleted(shop: Shop) -> None:
    headers = {**shop.headers, "Idempotency-Key": "mug-1"}
    first = await shop.client.post(f"{BASE}/products", json=product_payload(), headers=headers)
    assert first.status_code == 201, first.text
    retried = await shop.client.post(f"{BASE}/products", json=product_payload(), headers=headers)
    assert retried.status_code == 201
    assert retried.json()["id"] == first.json()["id"]
    assert await shop.count("commerce_products") == 1

    product = first.json()
    assert product["status"] == "draft"
    assert {t["locale"]: t["handle"] for t in product["translations"]} == {"de": "reisebecher", "en": "travel-mug"}
    assert [(v["sku"], v["options"][0]["value"], v["prices"][0]["amount"]) for v in product["variants"]] == [
        ("MUG-300", "300 ml", 1500),
        ("MUG-500", "500 ml", 1800),
    ]
    fetched = await shop.client.get(f"{BASE}/products/{product['id']}", headers=shop.headers)
    assert fetched.json() == product

    patched = await shop.client.patch(
        f"{BASE}/products/{product['id']}",
        json={"version": 1, "translations": [{"locale": "en", "subtitle": "Keeps warm"}], "status": "active"},
        headers=shop.headers,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["status"], body["version"]) == ("active", 3)
    assert body["publishedAt"] is not None
    assert next(t for t in body["translations"] if t["locale"] == "en")["subtitle"] == "Keeps warm"

    listed = await shop.client.get(f"{BASE}/products", params={"status": "active", "first": 5}, headers=shop.headers)
    assert [p["id"] for p in listed.json()["items"]] == [product["id"]]
    assert listed.json()["nextCursor"] is None
    assert (await shop.client.get(f"{BASE}/products", params={"status": "draft"}, headers=shop.headers)).json()[
        "items"
    ] == []

    stale = await shop.client.delete(f"{BASE}/products/{product['id']}", params={"version": 1}, headers=shop.headers)
    assert stale.status_code == 409
    deleted = await shop.client.delete(f"{BASE}/products/{product['id']}", params={"version": 3}, headers=shop.headers)
    assert deleted.status_code == 204
    assert (await shop.client.get(f"{BASE}/products/{product['id']}", headers=shop.headers)).status_code == 404


async def test_variants_and_their_prices(shop: Shop) -> None:
    product = (await shop.client.post(f"{BASE}/products", json=product_payload(), headers=shop.headers)).json()
    created = await shop.client.post(
        f"{BASE}/products/{product['id']}/variants",
        json={"options": {"Volume": "500 ml"}, "sku": "DUP"},
        headers=shop.headers,
    )
    assert created.status_code == 409
    assert created.json()["reason"] == "COMBINATION_TAKEN"

    variant = product["variants"][0]
    got = await shop.client.get(f"{BASE}/variants/{variant['id']}", headers=shop.headers)
    assert got.json()["sku"] == "MUG-300"
    patched = await shop.client.patch(
        f"{BASE}/variants/{variant['id']}",
        json={"version": 1, "barcode": "4006381333931", "weight": None},
        headers=shop.headers,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["barcode"], patched.json()["weight"], patched.json()["version"]) == (
        "4006381333931",
        None,
        2,
    )

    put = await shop.client.put(
        f"{BASE}/variants/{variant['id']}/prices",
        json={"currencyCode": "USD", "prices": [{"amount": 1700}, {"amount": 1600, "minQuantity": 6}]},
        headers=shop.headers,
    )
    assert put.status_code == 200, put.text
    assert [(p["currencyCode"], p["amount"], p["minQuantity"]) for p in put.json()] == [
        ("EUR", 1500, 1),
        ("USD", 1700, 1),
        ("USD", 1600, 6),
    ]
    listed = await shop.client.get(f"{BASE}/variants/{variant['id']}/prices", headers=shop.headers)
    assert listed.json() == put.json()

    removed = await shop.client.delete(f"{BASE}/variants/{variant['id']}", params={"version": 2}, headers=shop.headers)
    assert removed.status_code == 204
    assert (await shop.client.get(f"{BASE}/variants/{variant['id']}/prices", headers=shop.headers)).status_code == 404


async def test_price_lists_over_rest(shop: Shop) -> None:
    headers = {**shop.headers, "Idempotency-Key": "sale-1"}
    payload = {
        "name": "Black Friday",
        "type": "sale",
        "startsAt": "2030-11-29T00:00:00Z",
        "endsAt": "2030-12-01T00:00Z",
    }
    created = await shop.client.post(f"{BASE}/price-lists", json=payload, headers=headers)
    assert created.status_code == 201, created.text
    assert (created.json()["type"], created.json()["isActive"]) == ("sale", True)
    again = await shop.client.post(f"{BASE}/price-lists", json=payload, headers=headers)
    assert again.json()["id"] == created.json()["id"]
    listed = await shop.client.get(f"{BASE}/price-lists", headers=shop.headers)
    assert [p["name"] for p in listed.json()["items"]] == ["Black Friday"]
    naive = await shop.client.post(
        f"{BASE}/price-lists",
        json={"name": "Naive", "type": "sale", "startsAt": "2030-01-01T00:00:00"},
        headers=shop.headers,
    )
    assert naive.status_code == 422


async def test_every_route_declares_its_permission(shop: Shop) -> None:
    shopper = shop.shopper.headers
    product = (await shop.client.post(f"{BASE}/products", json=product_payload(), headers=shop.headers)).json()
    variant_id = product["variants"][0]["id"]
    for method, path, body in (
        ("GET", "/products", None),
        ("POST", "/products", product_payload()),
        ("GET", f"/products/{product['id']}", None),
        ("PATCH", f"/products/{product['id']}", {"version": 1}),
        ("DELETE", f"/products/{product['id']}", None),
        ("POST", f"/products/{product['id']}/variants", {"options": {"Volume": "300 ml"}}),
        ("GET", f"/variants/{variant_id}", None),
        ("PATCH", f"/variants/{variant_id}", {"version": 1}),
        ("DELETE", f"/variants/{variant_id}", None),
        ("GET", f"/variants/{variant_id}/prices", None),
        ("PUT", f"/variants/{variant_id}/prices", {"currencyCode": "EUR", "prices": []}),
        ("GET", "/price-lists", None),
        ("POST", "/price-lists", {"name": "x", "type": "sale"}),
    ):
        response = await shop.client.request(method, f"{BASE}{path}", json=body, headers=shopper)
        assert response.status_code == 403, (method, path, response.status_code)
    assert await shop.count("commerce_products") == 1
    assert await shop.count("commerce_price_lists") == 0


async def test_the_routes_are_described_in_the_openapi_document(shop: Shop) -> None:
    document = (await shop.client.get("/api/openapi.json")).json()
    paths = document["paths"]
    for path, methods in (
        (f"{BASE}/products", {"get", "post"}),
        (f"{BASE}/products/{{product_id}}", {"get", "patch", "delete"}),
        (f"{BASE}/products/{{product_id}}/variants", {"post"}),
        (f"{BASE}/products/{{product_id}}/images", {"post"}),
        (f"{BASE}/variants/{{variant_id}}", {"get", "patch", "delete"}),
        (f"{BASE}/variants/{{variant_id}}/prices", {"get", "put"}),
        (f"{BASE}/price-lists", {"get", "post"}),
        (f"{BASE}/images/{{image_id}}/file", {"get"}),
    ):
        assert methods <= set(paths[path]), (path, sorted(paths[path]))
    text = str(document)
    assert "minQuantity" in text
    assert "Integer minor units (cents)" in text
