"""Cached tenant lookups for request resolution.

Entries are keyed ``id:<uuid>``, ``slug:<slug>`` and ``host:<domain>`` and hold the
whole :class:`TenantContext` (enabled modules included), so a warm request resolves
its tenant without touching the database. Unknown keys are cached as misses for a
shorter time (flood protection). Every change of a tenant invalidates all of its keys,
across processes, through the cache's invalidation bus.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from rustok_core.cache import ReadThrough, TieredCache
from rustok_core.context import TenantContext
from rustok_core.settings import TenantSettings

CACHE_NAME = "tenant"


def encode_tenant(tenant: TenantContext) -> bytes:
    return orjson.dumps(
        {
            "id": str(tenant.id),
            "slug": tenant.slug,
            "name": tenant.name,
            "default_locale": tenant.default_locale,
            "locales": list(tenant.locales),
            "is_active": tenant.is_active,
            "enabled_modules": sorted(tenant.enabled_modules),
            "settings": dict(tenant.settings),
            "domains": list(tenant.domains),
        }
    )


def decode_tenant(raw: bytes) -> TenantContext:
    data: dict[str, Any] = orjson.loads(raw)
    return TenantContext(
        id=uuid.UUID(data["id"]),
        slug=data["slug"],
        name=data["name"],
        default_locale=data["default_locale"],
        locales=tuple(data["locales"]),
        is_active=data["is_active"],
        enabled_modules=frozenset(data["enabled_modules"]),
        settings=data["settings"],
        domains=tuple(data["domains"]),
    )


def tenant_lookups(cache: TieredCache, settings: TenantSettings) -> ReadThrough[TenantContext]:
    return ReadThrough(
        cache,
        CACHE_NAME,
        ttl=settings.cache_ttl,
        negative_ttl=settings.negative_cache_ttl,
        encode=encode_tenant,
        decode=decode_tenant,
        reuse_decoded=True,  # TenantContext is frozen; nothing changes its settings mapping
    )


def keys_of(tenant: TenantContext) -> list[str]:
    """Every lookup key that can lead to ``tenant``."""
    return [f"id:{tenant.id}", f"slug:{tenant.slug}", *(f"host:{domain}" for domain in tenant.domains)]
