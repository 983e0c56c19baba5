"""SEO and OpenGraph data per target (node, category, media) and locale."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_content.events import MetaUpdated
from rustok_content.models import Category, Media, Meta, Node
from rustok_content.services.text import Path, check_locale, check_optional_text, invalid
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict
from rustok_core.events import EventPublisher

TARGETS: Mapping[str, Any] = {"node": Node, "category": Category, "media": Media}
MAX_STRUCTURED_BYTES = 16_384
META: Table = Meta.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class MetaInput:
    """The SEO fields of one locale; ``None`` leaves a field as it is, ``""`` clears it."""

    title: str | None = None
    description: str | None = None
    keywords: str | None = None
    canonical_url: str | None = None
    og_title: str | None = None
    og_description: str | None = None
    og_image_url: str | None = None
    noindex: bool | None = None
    nofollow: bool | None = None
    structured_data: Mapping[str, Any] | None = None


LIMITS = {
    "title": 300,
    "description": 5_000,
    "keywords": 500,
    "canonical_url": 2_000,
    "og_title": 300,
    "og_description": 5_000,
    "og_image_url": 2_000,
}
URL_FIELDS = ("canonical_url", "og_image_url")
CAMEL = {"canonical_url": "canonicalUrl", "og_title": "ogTitle", "og_description": "ogDescription"}
CAMEL |= {"og_image_url": "ogImageUrl", "structured_data": "structuredData"}


def check_url(value: str, path: Path) -> str:
    """An absolute http(s) URL or a path on this site."""
    if value.startswith("/") and not value.startswith("//"):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid(path, "must be an http(s) URL or a path starting with '/'")
    return value


class MetaService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def upsert(
        self,
        tenant: TenantContext,
        target_type: str,
        target_id: uuid.UUID,
        locale: str,
        values: MetaInput,
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> Meta:
        """Set the target's meta in ``locale`` (created on first use)."""
        model = TARGETS.get(target_type)
        if model is None:
            raise invalid(("targetType",), f"target type must be one of {', '.join(TARGETS)}")
        check_locale(tenant, locale, ("locale",))
        changes = self._checked(values)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            if await session.scalar(select(model.id).where(model.id == target_id)) is None:
                raise invalid(("targetId",), f"no such {target_type}")
            meta = await session.scalar(
                select(Meta)
                .where(Meta.target_type == target_type, Meta.target_id == target_id, Meta.locale == locale)
                .with_for_update()
            )
            if meta is None:
                if expected_version not in (None, 0):
                    raise Conflict(
                        f"this meta does not exist (you have version {expected_version}); reload and retry",
                        expectedVersion=expected_version,
                        currentVersion=0,
                    )
                meta = Meta(target_type=target_type, target_id=target_id, locale=locale)
                session.add(meta)
            else:
                expect_version(meta, expected_version)
            for name, value in changes.items():
                setattr(meta, name, value)
            meta.updated_at = datetime.now(UTC)
            await session.flush()
            await self.ctx.services.get(EventPublisher).publish(
                session,
                MetaUpdated(target_type=target_type, target_id=target_id, locale=locale),
                tenant_id=tenant.id,
                actor_id=actor_id,
            )
        return meta

    def _checked(self, values: MetaInput) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for item in fields(values):
            value = getattr(values, item.name)
            if value is None:
                continue
            path = ("input", CAMEL.get(item.name, item.name))
            if item.name in LIMITS:
                text = check_optional_text(value, path, max_length=LIMITS[item.name])
                if text is not None and item.name in URL_FIELDS:
                    text = check_url(text, path)
                changes[item.name] = text
            elif item.name == "structured_data":
                changes[item.name] = _structured(value, path) or None
            else:
                changes[item.name] = bool(value)
        return changes

    async def of(
        self, tenant_id: uuid.UUID, target_type: str, target_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Meta]]:
        """Every locale's meta of each target (one query)."""
        found: dict[uuid.UUID, list[Meta]] = {target_id: [] for target_id in target_ids}
        if not target_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(Meta)
                .where(Meta.target_type == target_type, Meta.target_id.in_(target_ids))
                .order_by(Meta.locale)
            )
            for meta in rows.all():
                found[meta.target_id].append(meta)
        return found

    async def delete_for(
        self, session: AsyncSession, tenant_id: uuid.UUID, target_type: str, target_ids: Sequence[uuid.UUID]
    ) -> None:
        """Drop the meta of targets that are being deleted (in the caller's transaction)."""
        if target_ids:
            await session.execute(
                delete(META).where(
                    META.c.tenant_id == tenant_id, META.c.target_type == target_type, META.c.target_id.in_(target_ids)
                )
            )


def _structured(value: Mapping[str, Any], path: Path) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise invalid(path, "must be a JSON object (schema.org JSON-LD)")
    encoded = orjson.dumps(dict(value))
    if len(encoded) > MAX_STRUCTURED_BYTES:
        raise invalid(path, f"must be at most {MAX_STRUCTURED_BYTES} bytes of JSON")
    # Served inside <script type="application/ld+json">: "</" must never survive in it.
    if b"</" in encoded:
        raise invalid(path, "must not contain '</'")
    result: dict[str, Any] = orjson.loads(encoded)
    return result
