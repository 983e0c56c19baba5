"""Escalation guards, super admins, last-admin protection and cross-tenant assignment."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select
from starlette.requests import HTTPConnection

from rustok_core.auth import Principal, PrincipalKind
from rustok_core.context import RequestContext
from rustok_core.interfaces import Authorizer, RoleAssigner
from rustok_rbac.models import RoleAssignment
from rustok_testing.client import RustokClient, builtin_grants, error_codes

MY_PERMISSIONS = "{ myPermissions { permission scope } }"
CREATE_ROLE = "mutation($input: CreateRoleInput!) { createRole(input: $input) { slug } }"
ASSIGN = "mutation($u: UUID!, $r: String!) { assignRole(userId: $u, role: $r) { userId role } }"
REVOKE = "mutation($u: UUID!, $r: String!) { revokeRole(userId: $u, role: $r) }"
USER_ROLES = "{ users { edges { node { id roles } } } }"


def role_input(slug: str, *grant: str | tuple[str, str]) -> dict[str, Any]:
    items = [{"permission": g} if isinstance(g, str) else {"permission": g[0], "scope": g[1]} for g in grant]
    return {"input": {"slug": slug, "name": slug.title(), "grants": items}}


async def my_grants(client: RustokClient, user: Any) -> dict[str, str]:
    data = await client.graphql_data(MY_PERMISSIONS, headers=user.headers)
    return {g["permission"]: g["scope"] for g in data["myPermissions"]}


async def roles_in(client: RustokClient, admin: Any) -> dict[str, list[str]]:
    data = await client.graphql_data(USER_ROLES, headers=admin.headers)
    return {e["node"]["id"]: e["node"]["roles"] for e in data["users"]["edges"]}


async def test_a_role_manager_cannot_grant_or_assign_more_than_it_holds(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin, keeper, target = await asyncio.gather(
        make_user(tenant, role="admin"),
        make_user(tenant, role=None),
        make_user(tenant, role=None),
    )
    h = admin.headers
    await rustok_client.graphql_data(CREATE_ROLE, role_input("role-keepers", "roles:manage"), headers=h)
    await rustok_client.graphql_data(CREATE_ROLE, role_input("user-admins", "users:manage", "roles:read"), headers=h)
    await rustok_client.graphql_data(CREATE_ROLE, role_input("role-readers", "roles:read"), headers=h)
    await rustok_client.graphql_data(ASSIGN, {"u": str(keeper.id), "r": "role-keepers"}, headers=h)

    # Creating a role with a permission the caller lacks.
    body = await rustok_client.graphql(
        CREATE_ROLE, role_input("sneaky", "roles:read", "users:manage"), headers=keeper.headers
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["missingPermissions"] == ["users:manage"]
    assert "users:manage" in body["errors"][0]["message"]
    # Within its own permissions it may (roles:read is implied by roles:manage).
    data = await rustok_client.graphql_data(CREATE_ROLE, role_input("readers-2", "roles:read"), headers=keeper.headers)
    assert data == {"createRole": {"slug": "readers-2"}}

    # Assigning the built-in admin role, or a tenant role with more than the caller holds.
    body = await rustok_client.graphql(ASSIGN, {"u": str(target.id), "r": "admin"}, headers=keeper.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    catalog = rustok_platform.ctx.permissions
    expected = sorted(p.name for p in catalog if not p.platform and p.resource != "roles")
    assert body["errors"][0]["extensions"]["missingPermissions"] == expected
    body = await rustok_client.graphql(ASSIGN, {"u": str(target.id), "r": "user-admins"}, headers=keeper.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["missingPermissions"] == ["users:manage"]
    # Revoking such a role is refused as well.
    await rustok_client.graphql_data(ASSIGN, {"u": str(target.id), "r": "user-admins"}, headers=h)
    body = await rustok_client.graphql(REVOKE, {"u": str(target.id), "r": "user-admins"}, headers=keeper.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["missingPermissions"] == ["users:manage"]

    # Nothing was given, nothing taken away.
    assert (await roles_in(rustok_client, admin))[str(target.id)] == ["user-admins"]
    assert await my_grants(rustok_client, target) == {"users:manage": "ALL", "roles:read": "ALL"}
    assert await my_grants(rustok_client, keeper) == {"roles:manage": "ALL"}

    # A role within the caller's permissions may be assigned.
    data = await rustok_client.graphql_data(ASSIGN, {"u": str(target.id), "r": "role-readers"}, headers=keeper.headers)
    assert data["assignRole"]["role"] == "role-readers"


async def test_scopes_count_when_granting(rustok_client: RustokClient, make_tenant: Any, make_user: Any) -> None:
    """Holding a permission for one's own records does not allow granting it for all."""
    tenant = await make_tenant()
    admin, keeper = await asyncio.gather(
        make_user(tenant, role="admin"),
        make_user(tenant, role=None),
    )
    await rustok_client.graphql_data(
        CREATE_ROLE, role_input("own-keepers", "roles:manage", ("users:read", "OWN")), headers=admin.headers
    )
    await rustok_client.graphql_data(ASSIGN, {"u": str(keeper.id), "r": "own-keepers"}, headers=admin.headers)

    body = await rustok_client.graphql(CREATE_ROLE, role_input("wide", ("users:read", "ALL")), headers=keeper.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["missingPermissions"] == ["users:read"]
    data = await rustok_client.graphql_data(
        CREATE_ROLE, role_input("narrow", ("users:read", "OWN")), headers=keeper.headers
    )
    assert data == {"createRole": {"slug": "narrow"}}
    # The built-in manager holds users:read for all records: out of reach too (with
    # whatever else the installed modules grant the manager and the keeper lacks).
    body = await rustok_client.graphql(ASSIGN, {"u": str(keeper.id), "r": "manager"}, headers=keeper.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    missing = body["errors"][0]["extensions"]["missingPermissions"]
    assert "users:read" in missing and "roles:manage" not in missing


async def test_only_a_super_admin_assigns_or_revokes_super_admin(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin, root, other = await asyncio.gather(
        make_user(tenant, role="admin"),
        make_user(tenant, role=None),
        make_user(tenant, role=None),
    )

    body = await rustok_client.graphql(ASSIGN, {"u": str(other.id), "r": "super_admin"}, headers=admin.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    assert "super admin" in body["errors"][0]["message"]
    body = await rustok_client.graphql(ASSIGN, {"u": str(admin.id), "r": "super_admin"}, headers=admin.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    assert (await roles_in(rustok_client, admin))[str(other.id)] == []

    # The first super admin comes from the service (the CLI does this).
    await rustok_platform.ctx.services.get(RoleAssigner).assign_role(tenant.id, root.id, "super_admin")
    catalog = rustok_platform.ctx.permissions
    assert await my_grants(rustok_client, root) == {p.name: "ALL" for p in catalog}

    data = await rustok_client.graphql_data(ASSIGN, {"u": str(other.id), "r": "super_admin"}, headers=root.headers)
    assert data["assignRole"] == {"userId": str(other.id), "role": "super_admin"}
    assert (await roles_in(rustok_client, admin))[str(other.id)] == ["super_admin"]

    body = await rustok_client.graphql(REVOKE, {"u": str(other.id), "r": "super_admin"}, headers=admin.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    assert (await roles_in(rustok_client, admin))[str(other.id)] == ["super_admin"]
    data = await rustok_client.graphql_data(REVOKE, {"u": str(other.id), "r": "super_admin"}, headers=root.headers)
    assert data == {"revokeRole": True}
    assert await my_grants(rustok_client, other) == {}


async def test_the_last_admin_cannot_lose_the_admin_role(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    first = await make_user(tenant, role="admin")

    body = await rustok_client.graphql(REVOKE, {"u": str(first.id), "r": "admin"}, headers=first.headers)
    assert error_codes(body) == ["CONFLICT"]
    assert "last admin" in body["errors"][0]["message"]
    assert (await roles_in(rustok_client, first))[str(first.id)] == ["admin"]

    second = await make_user(tenant, role="admin")
    data = await rustok_client.graphql_data(REVOKE, {"u": str(first.id), "r": "admin"}, headers=second.headers)
    assert data == {"revokeRole": True}
    assert await my_grants(rustok_client, first) == {}
    # Now the second one is the last.
    body = await rustok_client.graphql(REVOKE, {"u": str(second.id), "r": "admin"}, headers=second.headers)
    assert error_codes(body) == ["CONFLICT"]
    # Revoking a role the user does not hold is not an error: it returns false.
    data = await rustok_client.graphql_data(REVOKE, {"u": str(first.id), "r": "admin"}, headers=second.headers)
    assert data == {"revokeRole": False}
    data = await rustok_client.graphql_data(REVOKE, {"u": str(second.id), "r": "customer"}, headers=second.headers)
    assert data == {"revokeRole": False}
    assert (await roles_in(rustok_client, second))[str(second.id)] == ["admin"]


def request_for(platform: Any, tenant: Any, user_id: uuid.UUID) -> RequestContext:
    conn = HTTPConnection({"type": "http", "headers": [], "path": "/graphql"})
    principal = Principal(kind=PrincipalKind.USER, tenant_id=tenant.id, user_id=user_id)
    return RequestContext(app=platform.ctx, conn=conn, tenant=tenant, principal=principal)


async def test_two_admins_revoking_each_other_at_once_leave_one_admin(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    a, b = await asyncio.gather(
        make_user(tenant, role="admin"),
        make_user(tenant, role="admin"),
    )
    access = rustok_platform.ctx.services.get(Authorizer)
    # Both requests have passed their permission checks before either revokes.
    ctx_a, ctx_b = request_for(rustok_platform, tenant, a.id), request_for(rustok_platform, tenant, b.id)
    for ctx in (ctx_a, ctx_b):
        assert await access.authorize(ctx, "roles:manage") == "all"
    results = await asyncio.gather(
        access.revoke(ctx_a, b.id, "admin"), access.revoke(ctx_b, a.id, "admin"), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "bool"], results
    assert True in results
    roles = await access.roles_of_users(tenant.id, [a.id, b.id])
    assert sorted(roles) == [[], ["admin"]]

    # Over the API: whichever request comes second is refused (by the last-admin rule,
    # or because it has just lost the admin role).
    c = await make_user(tenant, role="admin")
    survivor = a if roles[0] == ["admin"] else b
    bodies = await asyncio.gather(
        rustok_client.graphql(REVOKE, {"u": str(c.id), "r": "admin"}, headers=survivor.headers),
        rustok_client.graphql(REVOKE, {"u": str(survivor.id), "r": "admin"}, headers=c.headers),
    )
    assert [body.get("data") for body in bodies].count({"revokeRole": True}) == 1, bodies
    assert [error_codes(body) for body in bodies if body.get("errors")] in ([["CONFLICT"]], [["FORBIDDEN"]]), bodies
    left = await access.roles_of_users(tenant.id, [survivor.id, c.id])
    assert sorted(left) == [[], ["admin"]]


async def test_assigning_to_an_unknown_user_or_another_tenants_user_is_not_found(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    a, b = await make_tenant(), await make_tenant()
    admin_a, admin_b, customer_b = await asyncio.gather(
        make_user(a, role="admin"),
        make_user(b, role="admin"),
        make_user(b, role="customer"),
    )
    await rustok_client.graphql_data(CREATE_ROLE, role_input("helpers", "users:read"), headers=admin_a.headers)

    for user_id in (uuid.uuid4(), customer_b.id, admin_b.id):
        for role in ("admin", "helpers", "manager"):
            body = await rustok_client.graphql(ASSIGN, {"u": str(user_id), "r": role}, headers=admin_a.headers)
            assert error_codes(body) == ["NOT_FOUND"], (user_id, role, body)
            assert body["errors"][0]["message"] == "user not found"

    # Tenant b's users gained nothing, in b and in a.
    assert await my_grants(rustok_client, customer_b) == builtin_grants(rustok_platform.ctx.permissions, "customer")
    assert (await roles_in(rustok_client, admin_b)) == {str(admin_b.id): ["admin"], str(customer_b.id): ["customer"]}
    async with rustok_platform.ctx.db.system_session() as session:
        rows = (
            await session.scalars(select(RoleAssignment).where(RoleAssignment.user_id.in_([customer_b.id, admin_b.id])))
        ).all()
    assert sorted((r.tenant_id, r.role_slug) for r in rows) == sorted([(b.id, "admin"), (b.id, "customer")])
    # Revoking from another tenant's user does nothing either.
    data = await rustok_client.graphql_data(REVOKE, {"u": str(customer_b.id), "r": "customer"}, headers=admin_a.headers)
    assert data == {"revokeRole": False}
    assert (await roles_in(rustok_client, admin_b))[str(customer_b.id)] == ["customer"]


async def test_a_role_manager_cannot_delete_a_role_with_more_than_it_holds(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    """Deleting a role revokes it from every holder: the same rule as revoking applies."""
    tenant = await make_tenant()
    admin, keeper = await asyncio.gather(
        make_user(tenant, role="admin"),
        make_user(tenant, role=None),
    )
    h = admin.headers
    await rustok_client.graphql_data(CREATE_ROLE, role_input("role-keepers", "roles:manage"), headers=h)
    await rustok_client.graphql_data(CREATE_ROLE, role_input("user-admins", "users:manage"), headers=h)
    await rustok_client.graphql_data(CREATE_ROLE, role_input("role-readers", "roles:read"), headers=h)
    await rustok_client.graphql_data(ASSIGN, {"u": str(keeper.id), "r": "role-keepers"}, headers=h)
    await rustok_client.graphql_data(ASSIGN, {"u": str(admin.id), "r": "user-admins"}, headers=h)

    delete = "mutation($s: String!) { deleteRole(slug: $s) }"
    body = await rustok_client.graphql(delete, {"s": "user-admins"}, headers=keeper.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["missingPermissions"] == ["users:manage"]
    assert (await roles_in(rustok_client, admin))[str(admin.id)] == ["admin", "user-admins"]
    data = await rustok_client.graphql_data(delete, {"s": "role-readers"}, headers=keeper.headers)
    assert data == {"deleteRole": True}


async def test_a_role_deleted_while_being_assigned_leaves_no_assignment_behind(
    rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin, user = await asyncio.gather(
        make_user(tenant, role="admin"),
        make_user(tenant, role=None),
    )
    access = rustok_platform.ctx.services.get(Authorizer)
    admin_ctx = request_for(rustok_platform, tenant, admin.id)
    await access.create_role(admin_ctx, slug="fleeting", name="Fleeting", grants={"users:read": "all"})

    # An assignment inside a caller's transaction (as sign-up does) races a deletion.
    async with rustok_platform.ctx.db.session(tenant.id) as session, session.begin():
        await access.assign_role(tenant.id, user.id, "fleeting", session=session)
        deleting = asyncio.create_task(access.delete_role(admin_ctx, "fleeting"))
        await asyncio.sleep(0.15)
    await deleting

    assert await access.roles_of(tenant.id, user.id) == []
    # Re-creating the slug must not hand the old grant back.
    await access.create_role(admin_ctx, slug="fleeting", name="Fleeting", grants={"users:read": "all"})
    assert await access.roles_of(tenant.id, user.id) == []
    assert dict(await access.effective_permissions(request_for(rustok_platform, tenant, user.id))) == {}
