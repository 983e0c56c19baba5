"""GraphQL surface of the tenant module (thin: read the context, map)."""

from __future__ import annotations

from typing import Any

from ariadne import ObjectType
from graphql import GraphQLResolveInfo

from rustok_core.graphql import GraphQLContribution

query = ObjectType("Query")
tenant_type = ObjectType("Tenant")


@query.field("currentTenant")
def resolve_current_tenant(_: Any, info: GraphQLResolveInfo) -> Any:
    return info.context.tenant


@tenant_type.field("enabledModules")
def resolve_enabled_modules(tenant: Any, _info: GraphQLResolveInfo) -> list[str]:
    return sorted(tenant.enabled_modules)


def contribution() -> GraphQLContribution:
    return GraphQLContribution.from_package("rustok_tenant", query, tenant_type)
