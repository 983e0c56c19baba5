"""Built-in roles over the GraphQL API: who may call which rbac field, what the catalog
and the role list show, and that ``<resource>:manage`` implies every action."""

from __future__ import annotations

import asyncio
from typing import Any

from rustok_testing.client import RustokClient, builtin_grants, error_codes

ROLES = "{ roles { slug name builtIn grants { permission scope } } }"
PERMISSIONS = "{ permissions { name resource action module platform description } }"
MY_PERMISSIONS = "{ myPermissions { permission scope } }"
CREATE_ROLE = """
mutation($input: CreateRoleInput!) { createRole(input: $input) { slug builtIn grants { permission scope } } }
"""
ASSIGN = "mutation($u: UUID!, $r: String!) { assignRole(userId: $u, role: $r) { userId role } }"
REVOKE = "mutation($u: UUID!, $r: String!) { revokeRole(userId: $u, role: $r) }"
DELETE = "mutation($s: String!) { deleteRole(slug: $s) }"

# What the server, the tenant module and the rbac module declare (and who owns it).
DECLARED = {
    "users:read": "server",
    "users:manage": "server",
    "api_keys:read": "server",
    "api_keys:manage": "server",
    "tenants:read": "tenant",
    "tenants:manage": "tenant",
    "modules:read": "tenant",
    "modules:manage": "tenant",
    "roles:read": "rbac",
    "roles:manage": "rbac",
}
BUILT_IN = ["super_admin", "admin", "manager", "editor", "customer"]


def grants(items: list[dict[str, str]]) -> dict[str, str]:
    return {g["permission"]: g["scope"] for g in items}


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    assert len(body["errors"]) == 1, body["errors"]
    error: dict[str, Any] = body["errors"][0]
    return error


async def test_permissions_lists_every_declared_permission_with_its_module(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    data = await rustok_client.graphql_data(PERMISSIONS, headers=admin.headers)
    listed = {p["name"]: p for p in data["permissions"]}

    catalog = rustok_platform.ctx.permissions
    assert set(listed) == {p.name for p in catalog}
    assert len(data["permissions"]) == len(listed), "a permission is listed twice"
    for name, module in DECLARED.items():
        assert listed[name]["module"] == module, name
        resource, action = name.split(":")
        assert (listed[name]["resource"], listed[name]["action"]) == (resource, action)
        assert listed[name]["platform"] is False
        assert listed[name]["description"]


async def test_roles_lists_built_in_roles_with_computed_grants_then_tenant_roles(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    await rustok_client.graphql_data(
        CREATE_ROLE,
        {"input": {"slug": "support", "name": "Support", "grants": [{"permission": "users:read"}]}},
        headers=admin.headers,
    )
    data = await rustok_client.graphql_data(ROLES, headers=admin.headers)
    roles = {r["slug"]: r for r in data["roles"]}
    assert [r["slug"] for r in data["roles"]] == [*BUILT_IN, "support"]
    assert all(roles[slug]["builtIn"] for slug in BUILT_IN)
    assert roles["support"]["builtIn"] is False
    assert roles["super_admin"]["name"] == "Super Admin"

    catalog = rustok_platform.ctx.permissions
    everything = {p.name: "ALL" for p in catalog}
    not_platform = {p.name: "ALL" for p in catalog if not p.platform}
    assert grants(roles["super_admin"]["grants"]) == everything
    assert grants(roles["admin"]["grants"]) == not_platform
    assert set(DECLARED) <= set(not_platform)
    # Each other built-in role gets exactly what the installed modules grant it.
    for role in ("manager", "editor", "customer"):
        assert grants(roles[role]["grants"]) == builtin_grants(catalog, role), role
    # The server and rbac grant the manager these; they grant the others nothing.
    assert {"roles:read": "ALL", "users:read": "ALL"}.items() <= grants(roles["manager"]["grants"]).items()
    assert not set(DECLARED) & set(grants(roles["editor"]["grants"]) | grants(roles["customer"]["grants"]))
    assert grants(roles["support"]["grants"]) == {"users:read": "ALL"}


async def test_roles_of_one_tenant_are_not_listed_in_another(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    a, b = await make_tenant(), await make_tenant()
    admin_a, admin_b = await asyncio.gather(make_user(a), make_user(b))
    await rustok_client.graphql_data(
        CREATE_ROLE,
        {"input": {"slug": "only-in-a", "name": "A", "grants": [{"permission": "roles:read"}]}},
        headers=admin_a.headers,
    )
    data = await rustok_client.graphql_data(ROLES, headers=admin_b.headers)
    assert [r["slug"] for r in data["roles"]] == BUILT_IN


async def test_admin_can_use_every_tenant_level_rbac_field(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin, other = await asyncio.gather(
        make_user(tenant, role="admin"),
        make_user(tenant, role=None),
    )
    h = admin.headers

    data = await rustok_client.graphql_data(
        "{ roles { slug } permissions { name } myPermissions { permission }"
        " users { edges { node { id } } } apiKeys { id } }",
        headers=h,
    )
    assert len(data["roles"]) == 5
    assert len(data["users"]["edges"]) == 2
    created = await rustok_client.graphql_data(
        CREATE_ROLE,
        {"input": {"slug": "writers", "name": "Writers", "grants": [{"permission": "roles:read", "scope": "OWN"}]}},
        headers=h,
    )
    assert created["createRole"] == {
        "slug": "writers",
        "builtIn": False,
        "grants": [{"permission": "roles:read", "scope": "OWN"}],
    }
    assigned = await rustok_client.graphql_data(ASSIGN, {"u": str(other.id), "r": "writers"}, headers=h)
    assert assigned["assignRole"] == {"userId": str(other.id), "role": "writers"}
    assert (await rustok_client.graphql_data(REVOKE, {"u": str(other.id), "r": "writers"}, headers=h)) == {
        "revokeRole": True
    }
    assert (await rustok_client.graphql_data(DELETE, {"s": "writers"}, headers=h)) == {"deleteRole": True}


async def test_manager_reads_roles_but_cannot_manage_them(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    manager, customer, admin = await asyncio.gather(
        make_user(tenant, role="manager"),
        make_user(tenant, role="customer"),
        make_user(tenant, role="admin"),
    )

    data = await rustok_client.graphql_data("{ roles { slug } permissions { name } }", headers=manager.headers)
    assert [r["slug"] for r in data["roles"]] == BUILT_IN
    assert data["permissions"]

    body = await rustok_client.graphql(
        CREATE_ROLE,
        {"input": {"slug": "x-role", "name": "X", "grants": [{"permission": "roles:read"}]}},
        headers=manager.headers,
    )
    error = only_error(body)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["permission"] == "roles:manage"
    assert error["path"] == ["createRole"]
    for mutation, variables in (
        (ASSIGN, {"u": str(customer.id), "r": "manager"}),
        (REVOKE, {"u": str(customer.id), "r": "customer"}),
        (DELETE, {"s": "x-role"}),
    ):
        body = await rustok_client.graphql(mutation, variables, headers=manager.headers)
        assert error_codes(body) == ["FORBIDDEN"]
        assert body["errors"][0]["extensions"]["permission"] == "roles:manage"
    # Nothing was changed by the refused calls.
    data = await rustok_client.graphql_data("{ users { edges { node { id roles } } } }", headers=admin.headers)
    roles = {e["node"]["id"]: e["node"]["roles"] for e in data["users"]["edges"]}
    assert roles[str(customer.id)] == ["customer"]


async def test_customer_is_forbidden_and_anonymous_is_unauthenticated(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    customer = await make_user(tenant, role="customer")
    for query in ("{ roles { slug } }", "{ permissions { name } }"):
        body = await rustok_client.graphql(query, headers=customer.headers)
        error = only_error(body)
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["extensions"]["permission"] == "roles:read"
        assert body["data"] is None

        body = await rustok_client.graphql(query, tenant=tenant)
        error = only_error(body)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    body = await rustok_client.graphql(MY_PERMISSIONS, tenant=tenant)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    body = await rustok_client.graphql(
        CREATE_ROLE, {"input": {"slug": "anon", "name": "A", "grants": [{"permission": "roles:read"}]}}, tenant=tenant
    )
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_my_permissions_reflect_the_callers_roles(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    names = ("admin", "manager", "editor", "customer", None)
    users = await asyncio.gather(*(make_user(tenant, role=role) for role in names))
    by_role = dict(zip(names, users, strict=True))
    nobody = by_role[None]

    async def mine(user: Any) -> dict[str, str]:
        data = await rustok_client.graphql_data(MY_PERMISSIONS, headers=user.headers)
        listed = [g["permission"] for g in data["myPermissions"]]
        assert listed == sorted(listed)
        return grants(data["myPermissions"])

    catalog = rustok_platform.ctx.permissions
    assert await mine(by_role["admin"]) == {p.name: "ALL" for p in catalog if not p.platform}
    for role in ("manager", "editor", "customer"):
        assert await mine(by_role[role]) == builtin_grants(catalog, role), role
    assert await mine(nobody) == {}

    # Two roles: the union of their grants.
    admin = by_role["admin"]
    await rustok_client.graphql_data(
        CREATE_ROLE,
        {"input": {"slug": "key-readers", "name": "Key readers", "grants": [{"permission": "api_keys:read"}]}},
        headers=admin.headers,
    )
    await rustok_client.graphql_data(
        ASSIGN, {"u": str(by_role["manager"].id), "r": "key-readers"}, headers=admin.headers
    )
    assert await mine(by_role["manager"]) == {**builtin_grants(catalog, "manager"), "api_keys:read": "ALL"}


async def test_manage_implies_every_action_of_its_resource(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin, holder = await asyncio.gather(
        make_user(tenant, role="admin"),
        make_user(tenant, role=None),
    )
    await rustok_client.graphql_data(
        CREATE_ROLE,
        {"input": {"slug": "role-admins", "name": "Role admins", "grants": [{"permission": "roles:manage"}]}},
        headers=admin.headers,
    )
    await rustok_client.graphql_data(ASSIGN, {"u": str(holder.id), "r": "role-admins"}, headers=admin.headers)

    # roles:read is not granted as such, but roles:manage implies it.
    data = await rustok_client.graphql_data(MY_PERMISSIONS, headers=holder.headers)
    assert grants(data["myPermissions"]) == {"roles:manage": "ALL"}
    data = await rustok_client.graphql_data("{ roles { slug } permissions { name } }", headers=holder.headers)
    assert "role-admins" in [r["slug"] for r in data["roles"]]
    # ...but nothing on another resource.
    body = await rustok_client.graphql("{ users { edges { node { id } } } }", headers=holder.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["permission"] == "users:read"
