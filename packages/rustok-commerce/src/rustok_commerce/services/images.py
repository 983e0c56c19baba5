"""Product images: files in the platform's media storage (``ctx.storage``), rows in commerce.

An upload is decoded with Pillow before anything is stored: only PNG, JPEG, GIF and
WebP images up to :data:`MAX_IMAGE_BYTES` (and the server's upload limit) and
:data:`MAX_IMAGE_PIXELS` pass, and their width and height are kept. The file is
written first and the row second; if the row cannot be written the file is removed
again, and a deleted image's file goes only once the deletion committed.

Images belong to the product: adding, changing, reordering or removing one bumps the
product's version and publishes ``commerce.product.updated`` (``changed: ["images"]``).
"""

from __future__ import annotations

import asyncio
import io
import logging
import struct
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_commerce.events import ProductUpdated
from rustok_commerce.models import Product, ProductImage
from rustok_commerce.services.catalog_inputs import check_locale, check_optional_text, invalid
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import after_commit, expect_version
from rustok_core.errors import NotFound
from rustok_core.events import EventPublisher
from rustok_core.ids import generate_id
from rustok_core.storage import MediaStorage, media_key, safe_filename

log = logging.getLogger("rustok.commerce.images")

MAX_IMAGE_BYTES = 10 * 1_048_576
MAX_IMAGE_PIXELS = 40_000_000
MAX_IMAGES_PER_PRODUCT = 50
MAX_ALT = 500
DECODED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
CONTENT_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # a JPEG holding several pictures (cameras write them)
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def inspect_image(data: bytes) -> ImageInfo:
    """What ``data`` is: a PNG, JPEG, GIF or WebP image that decodes completely, or ``VALIDATION``."""
    try:
        image = Image.open(io.BytesIO(data), formats=DECODED_FORMATS)
    except UnidentifiedImageError:
        raise invalid(("file",), "the file is not a PNG, JPEG, GIF or WebP image", reason="UNSUPPORTED_TYPE") from None
    except Image.DecompressionBombError:
        raise invalid(("file",), f"the image has more than {MAX_IMAGE_PIXELS} pixels", reason="TOO_LARGE") from None
    except _DECODE_ERRORS:
        raise invalid(("file",), "the image is corrupt", reason="CORRUPT_IMAGE") from None
    with image:
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise invalid(("file",), f"the image has more than {MAX_IMAGE_PIXELS} pixels", reason="TOO_LARGE")
        try:
            # Only decoding every pixel finds a truncated or corrupt file.
            image.load()
        except _DECODE_ERRORS:
            raise invalid(("file",), "the image is corrupt or truncated", reason="CORRUPT_IMAGE") from None
        return ImageInfo(CONTENT_TYPES[str(image.format)], width, height)


def image_url(image: ProductImage) -> str:
    """Where the image's file is served."""
    return image_file_url(image.id)


def image_file_url(image_id: uuid.UUID) -> str:
    """Where the file of the image with this id is served."""
    return f"/api/v1/commerce/images/{image_id}/file"


def remove_files_after_commit(session: AsyncSession, storage: MediaStorage | None, keys: Iterable[str]) -> None:
    """Remove stored files once the transaction that deleted their rows commits."""
    pending = list(keys)
    if storage is None or not pending:
        return
    after_commit(session, lambda: _remove_later(storage, pending))


def _remove_later(storage: MediaStorage, keys: list[str]) -> None:
    async def remove() -> None:
        for key in keys:
            try:
                await storage.delete(key)
            except Exception:
                log.exception("could not remove the image file %s of a deleted product image; remove it by hand", key)

    task = asyncio.get_running_loop().create_task(remove())
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)


_PENDING: set[Any] = set()


class ProductImageService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    @property
    def storage(self) -> MediaStorage:
        if self.ctx.storage is None:
            raise RuntimeError("no media storage is configured on this platform")
        return self.ctx.storage

    @property
    def max_bytes(self) -> int:
        return min(MAX_IMAGE_BYTES, self.ctx.settings.server.max_upload_bytes)

    async def upload(
        self,
        tenant: TenantContext,
        product_id: uuid.UUID,
        *,
        filename: str,
        data: bytes,
        alt: Mapping[str, str | None] | None = None,
        actor_id: uuid.UUID | None,
    ) -> ProductImage:
        """Check and store an image of the product, after its others."""
        if not data:
            raise invalid(("file",), "the file is empty", reason="EMPTY_FILE")
        if len(data) > self.max_bytes:
            raise invalid(("file",), f"the file is larger than {self.max_bytes} bytes", reason="TOO_LARGE")
        texts = self._alt(tenant, alt or {})
        info = inspect_image(data)
        async with self.ctx.db.session(tenant.id) as session:
            if await session.scalar(select(Product.id).where(Product.id == product_id)) is None:
                raise NotFound("no such product", resource="product")
        image_id = generate_id()
        name = safe_filename(filename)
        key = media_key(tenant.id, image_id, name)
        await self.storage.put(key, data, info.content_type)
        try:
            async with self.ctx.db.session(tenant.id) as session, session.begin():
                product = await self._lock_product(session, product_id)
                count, last = (
                    await session.execute(
                        select(func.count(), func.max(ProductImage.position)).where(
                            ProductImage.product_id == product.id
                        )
                    )
                ).one()
                if count >= MAX_IMAGES_PER_PRODUCT:
                    raise invalid(("file",), f"a product has at most {MAX_IMAGES_PER_PRODUCT} images")
                image = ProductImage(
                    id=image_id,
                    product_id=product.id,
                    storage_key=key,
                    filename=name,
                    content_type=info.content_type,
                    size=len(data),
                    width=info.width,
                    height=info.height,
                    alt={locale: text for locale, text in texts.items() if text},
                    position=0 if last is None else last + 1,
                    created_at=datetime.now(UTC),
                )
                session.add(image)
                await self._product_changed(session, tenant.id, product, actor_id)
        except BaseException:
            await self.storage.delete(key)
            raise
        return image

    async def update_alt(
        self,
        tenant: TenantContext,
        image_id: uuid.UUID,
        alt: Mapping[str, str | None],
        *,
        actor_id: uuid.UUID | None,
    ) -> ProductImage:
        """Set the alt text of the given locales (``None`` or ``""`` removes one)."""
        texts = self._alt(tenant, alt)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            image = await self._image(session, image_id)
            product = await self._lock_product(session, image.product_id)
            merged = dict(image.alt)
            for locale, text in texts.items():
                if text:
                    merged[locale] = text
                else:
                    merged.pop(locale, None)
            if merged == image.alt:
                return image
            image.alt = merged
            await self._product_changed(session, tenant.id, product, actor_id)
        return image

    async def reorder(
        self,
        tenant: TenantContext,
        product_id: uuid.UUID,
        image_ids: Sequence[uuid.UUID],
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> list[ProductImage]:
        """Put the product's images in the order of ``image_ids`` (every image, once)."""
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            product = await self._lock_product(session, product_id)
            expect_version(product, expected_version)
            rows = await session.scalars(select(ProductImage).where(ProductImage.product_id == product.id))
            images = {image.id: image for image in rows.all()}
            if len(image_ids) != len(set(image_ids)) or set(image_ids) != set(images):
                raise invalid(("imageIds",), "list every image of the product exactly once")
            changed = False
            for position, image_id in enumerate(image_ids):
                if images[image_id].position != position:
                    images[image_id].position = position
                    changed = True
            if changed:
                await self._product_changed(session, tenant.id, product, actor_id)
            return [images[image_id] for image_id in image_ids]

    async def delete(self, tenant: TenantContext, image_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> None:
        """Remove the image; its file goes once the removal committed."""
        storage = self.storage
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            image = await self._image(session, image_id)
            product = await self._lock_product(session, image.product_id)
            await session.delete(image)
            await self._product_changed(session, tenant.id, product, actor_id)
            remove_files_after_commit(session, storage, [image.storage_key])

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, image_id: uuid.UUID) -> ProductImage:
        async with self.ctx.db.session(tenant_id) as session:
            return await self._image(session, image_id)

    async def read(self, tenant_id: uuid.UUID, image_id: uuid.UUID) -> tuple[ProductImage, str, bytes]:
        """The image, its product's status and its bytes."""
        async with self.ctx.db.session(tenant_id) as session:
            found = (
                await session.execute(
                    select(ProductImage, Product.status)
                    .join(Product, Product.id == ProductImage.product_id)
                    .where(ProductImage.id == image_id)
                )
            ).first()
        if found is None:
            raise NotFound("no such image", resource="product_image")
        image, status = found
        return image, status, await self.storage.open(image.storage_key)

    async def images_of(
        self, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ProductImage]]:
        found: dict[uuid.UUID, list[ProductImage]] = {product_id: [] for product_id in product_ids}
        if not product_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(ProductImage)
                .where(ProductImage.product_id.in_(product_ids))
                .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
            )
            for image in rows.all():
                found[image.product_id].append(image)
        return found

    # -- helpers --------------------------------------------------------------------------

    def _alt(self, tenant: TenantContext, alt: Mapping[str, str | None]) -> dict[str, str]:
        checked: dict[str, str] = {}
        for locale, text in alt.items():
            check_locale(tenant, locale, ("alt", locale))
            checked[locale] = check_optional_text(text, ("alt", locale), max_length=MAX_ALT) or ""
        return checked

    async def _image(self, session: AsyncSession, image_id: uuid.UUID) -> ProductImage:
        image = await session.scalar(select(ProductImage).where(ProductImage.id == image_id))
        if image is None:
            raise NotFound("no such image", resource="product_image")
        return image

    async def _lock_product(self, session: AsyncSession, product_id: uuid.UUID) -> Product:
        product = await session.scalar(select(Product).where(Product.id == product_id).with_for_update())
        if product is None:
            raise NotFound("no such product", resource="product")
        return product

    async def _product_changed(
        self, session: AsyncSession, tenant_id: uuid.UUID, product: Product, actor_id: uuid.UUID | None
    ) -> None:
        product.updated_at = datetime.now(UTC)
        await session.flush()
        await self.ctx.services.get(EventPublisher).publish(
            session,
            ProductUpdated(product_id=product.id, version=product.version, changed=["images"]),
            tenant_id=tenant_id,
            actor_id=actor_id,
        )
