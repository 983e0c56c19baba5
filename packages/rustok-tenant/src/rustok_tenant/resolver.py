"""Tenant resolution: which tenant an HTTP request is served for.

Modes (``settings.rustok.tenant.resolution``):

* ``header`` — the configured header (``X-Tenant-ID``) holds a tenant id or slug;
* ``host`` — the request's host is one of a tenant's domains (``tenant_domains``);
* ``subdomain`` — ``<slug>.<base_domain>``; other hosts fall back to tenant domains;
* ``default`` — every request is served for ``default_id`` (also when multi-tenancy
  is switched off).

The host is ``Host``, or ``X-Forwarded-Host`` when the direct peer is a trusted proxy.
Every lookup goes through the tenant cache (see :mod:`rustok_tenant.lookups`).
"""

from __future__ import annotations

import uuid

from starlette.requests import HTTPConnection

from rustok_core.context import TenantContext
from rustok_core.errors import BootError, Forbidden, NotFound, Validation
from rustok_core.ids import find_id
from rustok_core.net import TrustedProxies, normalize_host
from rustok_core.settings import Settings
from rustok_tenant.services import TenantService
from rustok_tenant.slugs import SLUG_RE

MODES = ("header", "host", "subdomain", "default")
MAX_KEY_LENGTH = 128


class TenantResolver:
    """Implements :class:`rustok_core.interfaces.TenantResolver`."""

    def __init__(self, tenants: TenantService, settings: Settings) -> None:
        config = settings.rustok.tenant
        single = not config.enabled or not settings.rustok.features.multi_tenant
        self.mode = "default" if single else config.resolution
        if self.mode == "default" and not config.default_id:
            raise BootError(
                "settings rustok.tenant.default_id is required when tenant resolution is "
                "'default' or multi-tenancy is off"
            )
        if self.mode == "subdomain" and not config.base_domain:
            raise BootError("settings rustok.tenant.base_domain is required for tenant resolution 'subdomain'")
        self.header = config.header_name
        self.default_key = config.default_id
        self.base_domain = config.base_domain
        self.proxies = TrustedProxies(config.trusted_proxies)
        self.tenants = tenants

    async def resolve(self, conn: HTTPConnection) -> TenantContext | None:
        if self.mode == "default":
            assert self.default_key is not None
            return self._active(await self._by_key(self.default_key), self.default_key)
        if self.mode == "header":
            key = conn.headers.get(self.header)
            if not key:
                return None
            return self._active(await self._by_key(key), key)
        peer = conn.client.host if conn.client else None
        host = normalize_host(self.proxies.host(peer, conn.headers))
        if host is None:
            return None
        if self.mode == "subdomain" and self.base_domain:
            if host == self.base_domain:
                return None
            suffix = "." + self.base_domain
            if host.endswith(suffix):
                label = host[: -len(suffix)]
                if "." in label or not SLUG_RE.match(label):
                    raise NotFound(f"no tenant is served on '{host}'", host=host)
                return self._active(await self.tenants.lookup("slug", label), host)
        return self._active(await self.tenants.lookup("host", host), host)

    async def by_id(self, tenant_id: uuid.UUID) -> TenantContext:
        return self._active(await self.tenants.lookup("id", tenant_id), str(tenant_id))

    async def _by_key(self, key: str) -> TenantContext | None:
        text = key.strip()
        if len(text) > MAX_KEY_LENGTH:
            raise Validation(f"the {self.header} header is too long", field=self.header)
        as_id = find_id(text)
        if as_id is not None:
            found = await self.tenants.lookup("id", as_id)
            if found is not None or not SLUG_RE.match(text):
                return found
        if not SLUG_RE.match(text):
            raise Validation(f"the {self.header} header must hold a tenant id or slug", field=self.header)
        return await self.tenants.lookup("slug", text)

    @staticmethod
    def _active(tenant: TenantContext | None, key: str) -> TenantContext:
        if tenant is None:
            raise NotFound(f"tenant '{key}' not found", tenant=key)
        if not tenant.is_active:
            raise Forbidden(f"tenant '{tenant.slug}' is inactive", reason="TENANT_INACTIVE", tenant=tenant.slug)
        return tenant
