"""The tenant module object: everything it contributes to the platform."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext
from rustok_core.graphql import GraphQLContribution
from rustok_core.interfaces import TenantDirectory
from rustok_core.interfaces import TenantResolver as TenantResolverInterface
from rustok_core.permissions import Permission
from rustok_core.rest import RestRoute


class TenantModule:
    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug="tenant",
            name="Tenants",
            description="Tenants, per-tenant module toggles and tenant resolution.",
            version=version("rustok-tenant"),
            kind=ModuleKind.CORE,
        )

    @hookimpl
    def rustok_migrations(self) -> Path:
        return Path(__file__).parent / "migrations" / "versions"

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution:
        from rustok_tenant.graphql import contribution

        return contribution()

    @hookimpl
    def rustok_routes(self) -> Sequence[RestRoute]:
        from rustok_tenant.rest import routes

        return routes()

    @hookimpl
    def rustok_permissions(self) -> Sequence[Permission]:
        from rustok_tenant.permissions import PERMISSIONS

        return PERMISSIONS

    @hookimpl
    async def rustok_demo_data(self, ctx: AppContext, tenant_id: uuid.UUID) -> None:
        directory = ctx.services.get(TenantDirectory)
        tenant = await directory.get(tenant_id)
        await directory.add_domain(tenant_id, f"{tenant.slug}.demo.example")

    @hookimpl
    def rustok_provide(self, ctx: AppContext) -> Mapping[type[Any], object]:
        from rustok_tenant.resolver import TenantResolver
        from rustok_tenant.services import TenantService

        tenants = TenantService(ctx)
        return {
            TenantDirectory: tenants,
            TenantResolverInterface: TenantResolver(tenants, ctx.settings),
        }


module = TenantModule()
