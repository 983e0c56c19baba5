"""Resolvers of the server's own root fields: server info and the module registry."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from rustok_core.context import RequestContext
from rustok_core.interfaces import TenantDirectory
from rustok_core.module import ModuleInfo, ModuleKind
from rustok_core.registry import LoadedModule

query = QueryType()
mutation = MutationType()
module_descriptor = ObjectType("ModuleDescriptor")
module_kind = EnumType("ModuleKind", {"CORE": ModuleKind.CORE, "OPTIONAL": ModuleKind.OPTIONAL})


def _descriptor(module: LoadedModule, ctx: RequestContext) -> dict[str, Any]:
    info: ModuleInfo = module.info
    return {
        "slug": info.slug,
        "name": info.name,
        "description": info.description,
        "kind": info.kind,
        "version": info.version,
        "dependencies": list(info.dependencies),
        "enabled_for_tenant": ctx.tenant.module_enabled(info.slug) if ctx.tenant else None,
    }


@query.field("serverInfo")
def resolve_server_info(_: Any, info: GraphQLResolveInfo) -> dict[str, str]:
    ctx: RequestContext = info.context
    return {"version": version("rustok-server"), "environment": ctx.app.settings.env}


@query.field("moduleRegistry")
def resolve_module_registry(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    ctx: RequestContext = info.context
    return [_descriptor(module, ctx) for module in ctx.app.registry]


@query.field("enabledModules")
def resolve_enabled_modules(_: Any, info: GraphQLResolveInfo) -> list[str]:
    ctx: RequestContext = info.context
    tenant = ctx.require_tenant()
    return [slug for slug in ctx.app.registry.slugs if tenant.module_enabled(slug)]


@mutation.field("toggleModule")
async def resolve_toggle_module(_: Any, info: GraphQLResolveInfo, slug: str, enabled: bool) -> dict[str, Any]:
    ctx: RequestContext = info.context
    tenant = ctx.require_tenant()
    directory = ctx.app.services.get(TenantDirectory)
    ctx.tenant = await directory.set_module_enabled(tenant.id, slug, enabled)
    return _descriptor(ctx.app.registry.get(slug), ctx)


BINDABLES = (query, mutation, module_descriptor, module_kind)
