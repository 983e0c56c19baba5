"""GraphQL surface of the rbac module."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from rustok_core.context import RequestContext
from rustok_core.errors import FieldError, Validation
from rustok_core.graphql import GraphQLContribution
from rustok_core.interfaces import Authorizer
from rustok_core.loaders import load_one
from rustok_rbac.services import AccessControl, RoleView

query = QueryType()
mutation = MutationType()
user_type = ObjectType("User")
scope_enum = EnumType("PermissionScope", {"ALL": "all", "OWN": "own"})


def _access(ctx: RequestContext) -> AccessControl:
    access = ctx.app.services.get(Authorizer)
    assert isinstance(access, AccessControl)
    return access


def _grants(grants: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"permission": name, "scope": scope} for name, scope in sorted(grants.items())]


def _role(view: RoleView) -> dict[str, Any]:
    return {
        "slug": view.slug,
        "name": view.name,
        "description": view.description,
        "built_in": view.built_in,
        "grants": _grants(view.grants),
    }


@query.field("roles")
async def resolve_roles(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    ctx: RequestContext = info.context
    return [_role(view) for view in await _access(ctx).list_roles(ctx.require_tenant().id)]


@query.field("permissions")
def resolve_permissions(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    catalog = info.context.app.permissions
    return [
        {
            "name": p.name,
            "resource": p.resource,
            "action": p.action,
            "description": p.description,
            "module": catalog.owner(p.name),
            "platform": p.platform,
        }
        for p in catalog
    ]


@query.field("myPermissions")
async def resolve_my_permissions(_: Any, info: GraphQLResolveInfo) -> list[dict[str, str]]:
    ctx: RequestContext = info.context
    return _grants(await _access(ctx).effective_permissions(ctx))


@mutation.field("createRole")
async def resolve_create_role(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    ctx: RequestContext = info.context
    grants: dict[str, str] = {}
    for index, grant in enumerate(input["grants"]):
        if grant["permission"] in grants:
            message = f"permission '{grant['permission']}' is listed twice"
            raise Validation(message, errors=[FieldError(("grants", index, "permission"), message)])
        grants[grant["permission"]] = grant.get("scope") or "all"
    view = await _access(ctx).create_role(
        ctx, slug=input["slug"], name=input["name"], description=input.get("description") or "", grants=grants
    )
    return _role(view)


@mutation.field("deleteRole")
async def resolve_delete_role(_: Any, info: GraphQLResolveInfo, slug: str) -> bool:
    ctx: RequestContext = info.context
    await _access(ctx).delete_role(ctx, slug)
    return True


@mutation.field("assignRole")
async def resolve_assign_role(_: Any, info: GraphQLResolveInfo, user_id: uuid.UUID, role: str) -> dict[str, Any]:
    ctx: RequestContext = info.context
    await _access(ctx).assign(ctx, user_id, role)
    return {"user_id": user_id, "role": role}


@mutation.field("revokeRole")
async def resolve_revoke_role(_: Any, info: GraphQLResolveInfo, user_id: uuid.UUID, role: str) -> bool:
    ctx: RequestContext = info.context
    return await _access(ctx).revoke(ctx, user_id, role)


@user_type.field("roles")
async def resolve_user_roles(user: Any, info: GraphQLResolveInfo) -> Sequence[str]:
    ctx: RequestContext = info.context
    tenant_id = ctx.require_tenant().id

    async def batch(user_ids: Sequence[uuid.UUID]) -> list[list[str]]:
        return await _access(ctx).roles_of_users(tenant_id, user_ids)

    return await load_one(ctx, "rbac.roles_by_user", batch, user.id)


def contribution() -> GraphQLContribution:
    return GraphQLContribution.from_package("rustok_rbac", query, mutation, user_type, scope_enum)
