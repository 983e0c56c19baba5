"""Product images: checked uploads into media storage, alt texts per locale, order, public files, deletion."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path
from typing import Any

from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))

from catalog_fixtures import Shop, shop

from rustok_commerce.services import images as image_module
from rustok_commerce.services.images import ProductImageService

__all__ = ["shop"]

IMAGES = """
query($id: UUID!, $l: String) {
  product(id: $id, locale: $l) {
    version
    images { id url filename contentType size width height alt altTexts { locale text } position }
  }
}
"""
UPDATE_ALT = """
mutation($id: UUID!, $alt: [ProductImageAltInput!]!) {
  updateProductImage(id: $id, alt: $alt) { id alt altTexts { locale text } }
}
"""
REORDER = """
mutation($p: UUID!, $ids: [UUID!]!, $v: Int) {
  reorderProductImages(productId: $p, imageIds: $ids, version: $v) { id position }
}
"""
DELETE = "mutation($id: UUID!) { deleteProductImage(id: $id) }"


def picture(kind: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


async def upload(shop: Shop, product_id: str, data: bytes, *, name: str = "photo.png", **form: str) -> Any:
    return await shop.client.post(
        f"/api/v1/commerce/products/{product_id}/images",
        files={"file": (name, data, "image/png")},
        data=form,
        headers=shop.headers,
    )


async def test_images_are_checked_stored_described_ordered_and_removed(shop: Shop) -> None:
    product = await shop.create_product()
    seen = await shop.event_ids()
    first = await upload(shop, product["id"], picture(), name="Front View.png", alt="Front", locale="en")
    assert first.status_code == 201, first.text
    front = first.json()
    assert (front["contentType"], front["width"], front["height"], front["position"]) == ("image/png", 40, 30, 0)
    assert front["filename"] == "Front_View.png"
    assert front["alt"] == {"en": "Front"}
    second = await upload(shop, product["id"], picture("JPEG", (16, 64)), name="back.jpg")
    back = second.json()
    assert (back["contentType"], back["width"], back["height"], back["position"]) == ("image/jpeg", 16, 64, 1)

    read = (await shop.data(IMAGES, {"id": product["id"], "l": "de"}))["product"]
    assert read["version"] == 3
    assert [(i["filename"], i["alt"]) for i in read["images"]] == [("Front_View.png", "Front"), ("back.jpg", None)]

    # The file is served to staff while the product is a draft, to everyone once it is active.
    url = front["url"]
    assert (await shop.client.get(url, headers=shop.headers)).content == picture()
    hidden = await shop.client.get(url, headers=shop.client.tenant_headers(shop.tenant))
    assert hidden.status_code == 404
    await shop.data("mutation($id: UUID!) { publishProduct(id: $id) { id } }", {"id": product["id"]})
    public = await shop.client.get(url, headers=shop.client.tenant_headers(shop.tenant))
    assert (public.status_code, public.headers["content-type"]) == (200, "image/png")

    described = await shop.data(
        UPDATE_ALT, {"id": back["id"], "alt": [{"locale": "de", "text": "Rückseite"}, {"locale": "en", "text": "Back"}]}
    )
    assert described["updateProductImage"]["altTexts"] == [
        {"locale": "de", "text": "Rückseite"},
        {"locale": "en", "text": "Back"},
    ]
    cleared = await shop.data(UPDATE_ALT, {"id": back["id"], "alt": [{"locale": "en", "text": ""}]})
    assert cleared["updateProductImage"]["altTexts"] == [{"locale": "de", "text": "Rückseite"}]
    bad_locale = await shop.fails(UPDATE_ALT, {"id": back["id"], "alt": [{"locale": "fr", "text": "x"}]})
    assert bad_locale["extensions"]["code"] == "VALIDATION"

    version = (await shop.data(IMAGES, {"id": product["id"]}))["product"]["version"]
    reordered = await shop.data(REORDER, {"p": product["id"], "ids": [back["id"], front["id"]], "v": version})
    assert [(i["id"], i["position"]) for i in reordered["reorderProductImages"]] == [(back["id"], 0), (front["id"], 1)]
    incomplete = await shop.fails(REORDER, {"p": product["id"], "ids": [back["id"]]})
    assert incomplete["extensions"]["code"] == "VALIDATION"

    image = await ProductImageService(shop.platform.ctx).get(shop.tenant.id, front["id"])
    storage = shop.platform.ctx.storage
    assert storage is not None and await storage.exists(image.storage_key)
    assert (await shop.data(DELETE, {"id": front["id"]}))["deleteProductImage"] is True
    await asyncio.gather(*list(image_module._PENDING))
    assert not await storage.exists(image.storage_key)
    assert (await shop.client.get(url, headers=shop.headers)).status_code == 404

    events = await shop.events_since(seen)
    changes = [e for e in events if e.event_type == "commerce.product.updated"]
    # two uploads, two alt changes, one reorder, one deletion
    assert [e.payload["changed"] for e in changes] == [["images"]] * 6
    assert [e.payload["version"] for e in changes] == [2, 3, 5, 6, 7, 8]


async def test_uploads_that_are_not_acceptable_images_store_nothing(shop: Shop) -> None:
    product = await shop.create_product()
    seen = await shop.event_ids()
    png = picture()
    for data, name, reason in (
        (b"GIF89a? not really", "fake.gif", "UNSUPPORTED_TYPE"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "vector.svg", "UNSUPPORTED_TYPE"),
        (png[: len(png) // 2], "cut.png", "CORRUPT_IMAGE"),
        (b"\x00" * (image_module.MAX_IMAGE_BYTES + 1), "huge.png", "TOO_LARGE"),
    ):
        response = await upload(shop, product["id"], data, name=name)
        assert response.status_code == 422, response.text
        assert response.json()["reason"] == reason, response.json()
    missing = await shop.client.post(
        "/api/v1/commerce/products/01J00000000000000000000000/images",
        files={"file": ("a.png", png, "image/png")},
        headers=shop.headers,
    )
    assert missing.status_code == 404
    shopper = await shop.client.post(
        f"/api/v1/commerce/products/{product['id']}/images",
        files={"file": ("a.png", png, "image/png")},
        headers=shop.shopper.headers,
    )
    assert shopper.status_code == 403
    assert await shop.count("commerce_product_images") == 0
    assert await shop.events_since(seen) == []
    media = Path(shop.platform.settings.media.directory) / str(shop.tenant.id)
    assert not media.exists() or not any(media.iterdir())
