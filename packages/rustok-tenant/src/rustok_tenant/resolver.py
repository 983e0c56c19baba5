"""Tenant resolution: which tenant an HTTP request is served for.

Modes (``settings.rustok.tenant.resolution``): ``header`` reads the configured header
(``X-Tenant-ID`` by default) holding a tenant id or slug; ``default`` (or multi-tenancy
switched off) serves every request for ``default_id``.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from rustok_core.context import TenantContext
from rustok_core.errors import BootError, Forbidden
from rustok_core.settings import Settings
from rustok_tenant.services import TenantService

SUPPORTED_MODES = ("header", "default")


class TenantResolver:
    """Implements :class:`rustok_core.interfaces.TenantResolver`."""

    def __init__(self, tenants: TenantService, settings: Settings) -> None:
        config = settings.rustok.tenant
        single = not config.enabled or not settings.rustok.features.multi_tenant
        self.mode = "default" if single else config.resolution
        if self.mode not in SUPPORTED_MODES:
            raise BootError(
                f"settings rustok.tenant.resolution = {self.mode!r} is not available in this "
                f"version; use one of {', '.join(SUPPORTED_MODES)}"
            )
        if self.mode == "default" and not config.default_id:
            raise BootError(
                "settings rustok.tenant.default_id is required when tenant resolution is "
                "'default' or multi-tenancy is off"
            )
        self.header = config.header_name
        self.default_key = config.default_id
        self.tenants = tenants

    async def resolve(self, conn: HTTPConnection) -> TenantContext | None:
        key = self.default_key if self.mode == "default" else conn.headers.get(self.header)
        if not key:
            return None
        tenant = await self.tenants.get(key)
        if not tenant.is_active:
            raise Forbidden(f"tenant '{tenant.slug}' is inactive", reason="TENANT_INACTIVE", tenant=tenant.slug)
        return tenant
