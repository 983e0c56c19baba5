"""Media: uploaded files in the platform's storage, with alt texts per locale.

The bytes are checked (real type sniffed from the content, size and type limits,
images decoded to get their size) before anything is stored. The file is written
first and the row second; if the row cannot be written the file is removed again, and
a deleted row's file goes only after the deletion committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from rustok_content.events import MediaDeleted, MediaUpdated, MediaUploaded
from rustok_content.imaging import display_filename, inspect_upload
from rustok_content.models import Media, MediaTranslation
from rustok_content.services.meta import MetaService
from rustok_content.services.text import check_locale, check_optional_text, check_unique_locales, invalid
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import after_commit, expect_version
from rustok_core.errors import NotFound
from rustok_core.events import EventPublisher
from rustok_core.ids import generate_id
from rustok_core.pagination import connection, decode_cursor, page_size
from rustok_core.storage import MediaStorage, media_key

log = logging.getLogger("rustok.content.media")
MAX_ALT = 500
MAX_CAPTION = 2_000


@dataclass(frozen=True)
class MediaText:
    """Alt text and caption of one locale; ``None`` keeps a field, ``""`` clears it."""

    locale: str
    alt_text: str | None = None
    caption: str | None = None


class MediaService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    @property
    def storage(self) -> MediaStorage:
        if self.ctx.storage is None:
            raise RuntimeError("no media storage is configured on this platform")
        return self.ctx.storage

    async def upload(
        self,
        tenant: TenantContext,
        *,
        filename: str,
        data: bytes,
        declared_type: str | None,
        texts: Sequence[MediaText] = (),
        actor_id: uuid.UUID | None,
    ) -> Media:
        """Check and store an uploaded file; return its media record."""
        limit = self.ctx.settings.server.max_upload_bytes
        if not data:
            raise invalid(("file",), "the file is empty")
        if len(data) > limit:
            raise invalid(("file",), f"the file is larger than {limit} bytes")
        info = inspect_upload(
            data, filename=filename, declared_type=declared_type, allowed_types=self.ctx.settings.media.allowed_types
        )
        checked = self._texts(tenant, texts)
        media_id = generate_id()
        name = display_filename(filename)
        key = media_key(tenant.id, media_id, filename)
        await self.storage.put(key, data, info.content_type)
        try:
            async with self.ctx.db.session(tenant.id) as session, session.begin():
                media = Media(
                    id=media_id,
                    uploader_id=actor_id,
                    filename=name,
                    content_type=info.content_type,
                    size_bytes=len(data),
                    storage_key=key,
                    checksum_sha256=hashlib.sha256(data).hexdigest(),
                    width=info.width,
                    height=info.height,
                )
                session.add(media)
                await session.flush()
                for text in checked:
                    session.add(
                        MediaTranslation(
                            media_id=media.id,
                            locale=text.locale,
                            alt_text=text.alt_text or None,
                            caption=text.caption or None,
                        )
                    )
                await self.ctx.services.get(EventPublisher).publish(
                    session,
                    MediaUploaded(
                        media_id=media.id,
                        content_type=media.content_type,
                        size_bytes=media.size_bytes,
                        uploader_id=actor_id,
                    ),
                    tenant_id=tenant.id,
                    actor_id=actor_id,
                )
        except BaseException:
            await self.storage.delete(key)
            raise
        return media

    async def update(
        self,
        tenant: TenantContext,
        media_id: uuid.UUID,
        *,
        expected_version: int | None,
        texts: Sequence[MediaText],
        actor_id: uuid.UUID | None,
    ) -> Media:
        """Change alt texts and captions (per locale)."""
        checked = self._texts(tenant, texts)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            media = await session.scalar(select(Media).where(Media.id == media_id).with_for_update())
            if media is None:
                raise NotFound("no such media", resource="media")
            expect_version(media, expected_version)
            existing = {
                t.locale: t
                for t in (
                    await session.scalars(select(MediaTranslation).where(MediaTranslation.media_id == media.id))
                ).all()
            }
            for text in checked:
                current = existing.get(text.locale)
                if current is None:
                    session.add(
                        MediaTranslation(
                            media_id=media.id,
                            locale=text.locale,
                            alt_text=text.alt_text or None,
                            caption=text.caption or None,
                        )
                    )
                    continue
                if text.alt_text is not None:
                    current.alt_text = text.alt_text or None
                if text.caption is not None:
                    current.caption = text.caption or None
            media.updated_at = datetime.now(UTC)
            await session.flush()
            await self.ctx.services.get(EventPublisher).publish(
                session,
                MediaUpdated(
                    media_id=media.id, content_type=media.content_type, locales=sorted(t.locale for t in checked)
                ),
                tenant_id=tenant.id,
                actor_id=actor_id,
            )
        return media

    async def delete(self, tenant: TenantContext, media_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> None:
        storage = self.storage
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            media = await session.scalar(select(Media).where(Media.id == media_id).with_for_update())
            if media is None:
                raise NotFound("no such media", resource="media")
            key = media.storage_key
            await MetaService(self.ctx).delete_for(session, tenant.id, "media", [media.id])
            await session.delete(media)
            await self.ctx.services.get(EventPublisher).publish(
                session,
                MediaDeleted(media_id=media.id, content_type=media.content_type),
                tenant_id=tenant.id,
                actor_id=actor_id,
            )
            # The file goes only once the row is gone for good.
            after_commit(session, lambda: _remove_later(storage, key))

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, media_id: uuid.UUID) -> Media:
        async with self.ctx.db.session(tenant_id) as session:
            media = await session.get(Media, media_id)
        if media is None:
            raise NotFound("no such media", resource="media")
        return media

    async def by_ids(self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Media]:
        if not ids:
            return {}
        async with self.ctx.db.session(tenant_id) as session:
            return {m.id: m for m in (await session.scalars(select(Media).where(Media.id.in_(ids)))).all()}

    async def read(self, tenant_id: uuid.UUID, media_id: uuid.UUID) -> tuple[Media, bytes]:
        media = await self.get(tenant_id, media_id)
        return media, await self.storage.open(media.storage_key)

    async def page(
        self,
        tenant_id: uuid.UUID,
        *,
        first: int | None = None,
        after: str | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """Newest first, as a Relay connection; ``content_type`` may be a prefix such as ``image/``."""
        size = page_size(first)
        query = select(Media)
        cursor = decode_cursor(after)
        if cursor is not None:
            try:
                query = query.where(Media.id < uuid.UUID(cursor))
            except ValueError:
                raise invalid(("after",), "invalid cursor") from None
        if content_type:
            query = query.where(Media.content_type.startswith(content_type, autoescape=True))
        async with self.ctx.db.session(tenant_id) as session:
            rows = list((await session.scalars(query.order_by(Media.id.desc()).limit(size + 1))).all())
        return connection(rows, size, lambda m: str(m.id))

    async def translations_of(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[MediaTranslation]]:
        found: dict[uuid.UUID, list[MediaTranslation]] = {media_id: [] for media_id in ids}
        if not ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(MediaTranslation).where(MediaTranslation.media_id.in_(ids)).order_by(MediaTranslation.locale)
            )
            for translation in rows.all():
                found[translation.media_id].append(translation)
        return found

    def _texts(self, tenant: TenantContext, texts: Sequence[MediaText]) -> list[MediaText]:
        check_unique_locales([t.locale for t in texts], ("translations",))
        return [
            MediaText(
                locale=check_locale(tenant, t.locale, ("translations", i, "locale")),
                alt_text=_text(t.alt_text, ("translations", i, "altText"), MAX_ALT),
                caption=_text(t.caption, ("translations", i, "caption"), MAX_CAPTION),
            )
            for i, t in enumerate(texts)
        ]


def _text(value: str | None, path: tuple[str | int, ...], limit: int) -> str | None:
    if value is None:
        return None
    return check_optional_text(value, path, max_length=limit) or ""


def _remove_later(storage: MediaStorage, key: str) -> None:
    async def remove() -> None:
        try:
            await storage.delete(key)
        except Exception:
            log.exception("could not remove the file %s of deleted media; remove it by hand", key)

    task = asyncio.get_running_loop().create_task(remove())
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)


_PENDING: set[Any] = set()
