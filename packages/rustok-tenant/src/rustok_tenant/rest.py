"""REST surface of the tenant module, mounted under ``/api/v1/tenant/``."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from rustok_core.context import TenantContext, request_context
from rustok_core.interfaces import TenantDirectory
from rustok_core.rest import RestRoute


class TenantResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    slug: str
    name: str
    default_locale: str = Field(alias="defaultLocale")
    locales: list[str]
    is_active: bool = Field(alias="isActive")
    enabled_modules: list[str] = Field(alias="enabledModules")

    @classmethod
    def of(cls, tenant: TenantContext) -> TenantResponse:
        return cls(
            id=tenant.id,
            slug=tenant.slug,
            name=tenant.name,
            default_locale=tenant.default_locale,
            locales=list(tenant.locales),
            is_active=tenant.is_active,
            enabled_modules=sorted(tenant.enabled_modules),
        )


class ModuleToggleInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


async def current_tenant(request: Request) -> TenantResponse:
    """The tenant named by the request's tenant header."""
    return TenantResponse.of(request_context(request).require_tenant())


async def toggle_module(request: Request, slug: str, body: ModuleToggleInput) -> TenantResponse:
    """Enable or disable a module for the current tenant."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    directory = ctx.app.services.get(TenantDirectory)
    return TenantResponse.of(await directory.set_module_enabled(tenant.id, slug, body.enabled))


def routes() -> list[RestRoute]:
    return [
        RestRoute(
            "/current",
            current_tenant,
            summary="Current tenant",
            response=TenantResponse,
            public=True,
            tags=["tenant"],
        ),
        RestRoute(
            "/modules/{slug}",
            toggle_module,
            methods=["PUT"],
            summary="Enable or disable a module",
            body=ModuleToggleInput,
            response=TenantResponse,
            permission="modules:manage",
            tags=["tenant"],
        ),
    ]
