"""Tenant-defined roles over the GraphQL API: create with grants and scopes, assign,
revoke and delete with immediate effect on the holders' permissions, and refusals
that leave nothing behind."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from rustok_rbac.models import Role, RoleAssignment, RolePermission
from rustok_testing.client import RustokClient, builtin_grants, error_codes

ROLES = "{ roles { slug name description builtIn grants { permission scope } } }"
MY_PERMISSIONS = "{ myPermissions { permission scope } }"
CREATE_ROLE = """
mutation($input: CreateRoleInput!) {
  createRole(input: $input) { slug name description builtIn grants { permission scope } }
}
"""
ASSIGN = "mutation($u: UUID!, $r: String!) { assignRole(userId: $u, role: $r) { userId role } }"
REVOKE = "mutation($u: UUID!, $r: String!) { revokeRole(userId: $u, role: $r) }"
DELETE = "mutation($s: String!) { deleteRole(slug: $s) }"
USER_ROLES = "{ users { edges { node { id roles } } } }"


def grants(items: list[dict[str, str]]) -> dict[str, str]:
    return {g["permission"]: g["scope"] for g in items}


def role_input(slug: str, *grant: tuple[str, str | None], name: str = "A role", **extra: Any) -> dict[str, Any]:
    items = [{"permission": p} if s is None else {"permission": p, "scope": s} for p, s in grant]
    return {"input": {"slug": slug, "name": name, "grants": items, **extra}}


@pytest.fixture
async def setup(make_tenant: Any, make_user: Any) -> tuple[Any, Any, Any]:
    tenant = await make_tenant()
    admin, user = await asyncio.gather(make_user(tenant, role="admin"), make_user(tenant, role=None))
    return tenant, admin, user


async def my_grants(client: RustokClient, user: Any) -> dict[str, str]:
    return grants((await client.graphql_data(MY_PERMISSIONS, headers=user.headers))["myPermissions"])


async def slugs(client: RustokClient, admin: Any) -> list[str]:
    return [r["slug"] for r in (await client.graphql_data(ROLES, headers=admin.headers))["roles"]]


async def stored(platform: Any, tenant: Any) -> tuple[int, int, int]:
    """Rows of the tenant in roles, role_permissions and role_assignments."""
    async with platform.ctx.db.session(tenant.id) as session:
        counts = [
            await session.scalar(select(func.count()).select_from(m)) for m in (Role, RolePermission, RoleAssignment)
        ]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


async def test_create_role_with_scoped_grants_lists_it(rustok_client: RustokClient, setup: Any) -> None:
    _, admin, _ = setup
    variables = role_input(
        "support",
        ("users:read", None),
        ("roles:read", "OWN"),
        ("api_keys:read", "ALL"),
        name="  Support desk ",
        description="Answers customers",
    )
    created = await rustok_client.graphql_data(CREATE_ROLE, variables, headers=admin.headers)
    expected = {
        "slug": "support",
        "name": "Support desk",
        "description": "Answers customers",
        "builtIn": False,
        "grants": [
            {"permission": "api_keys:read", "scope": "ALL"},
            {"permission": "roles:read", "scope": "OWN"},
            {"permission": "users:read", "scope": "ALL"},
        ],
    }
    assert created["createRole"] == expected
    listed = (await rustok_client.graphql_data(ROLES, headers=admin.headers))["roles"]
    assert listed[-1] == expected
    assert [r["slug"] for r in listed if not r["builtIn"]] == ["support"]


async def test_assign_and_revoke_change_permissions_immediately(
    rustok_client: RustokClient, rustok_platform: Any, setup: Any
) -> None:
    tenant, admin, user = setup
    await rustok_client.graphql_data(
        CREATE_ROLE, role_input("auditors", ("users:read", None), ("roles:read", "OWN")), headers=admin.headers
    )
    # Warm the cache with the user's (empty) grants: a stale entry would show below.
    assert await my_grants(rustok_client, user) == {}
    assert error_codes(await rustok_client.graphql(USER_ROLES, headers=user.headers)) == ["FORBIDDEN"]

    data = await rustok_client.graphql_data(ASSIGN, {"u": str(user.id), "r": "auditors"}, headers=admin.headers)
    assert data["assignRole"] == {"userId": str(user.id), "role": "auditors"}
    assert await my_grants(rustok_client, user) == {"users:read": "ALL", "roles:read": "OWN"}
    data = await rustok_client.graphql_data(USER_ROLES, headers=user.headers)
    assert {e["node"]["id"]: e["node"]["roles"] for e in data["users"]["edges"]}[str(user.id)] == ["auditors"]

    # Assigning twice is harmless: still one assignment.
    await rustok_client.graphql_data(ASSIGN, {"u": str(user.id), "r": "auditors"}, headers=admin.headers)
    assert (await stored(rustok_platform, tenant))[2] == 2  # the admin's and the user's

    data = await rustok_client.graphql_data(REVOKE, {"u": str(user.id), "r": "auditors"}, headers=admin.headers)
    assert data == {"revokeRole": True}
    assert await my_grants(rustok_client, user) == {}
    assert error_codes(await rustok_client.graphql(USER_ROLES, headers=user.headers)) == ["FORBIDDEN"]
    data = await rustok_client.graphql_data(REVOKE, {"u": str(user.id), "r": "auditors"}, headers=admin.headers)
    assert data == {"revokeRole": False}


async def test_assigning_an_unknown_role_is_not_found(rustok_client: RustokClient, setup: Any) -> None:
    _, admin, user = setup
    body = await rustok_client.graphql(ASSIGN, {"u": str(user.id), "r": "no-such-role"}, headers=admin.headers)
    assert error_codes(body) == ["NOT_FOUND"]
    assert "no-such-role" in body["errors"][0]["message"]
    assert await my_grants(rustok_client, user) == {}


async def test_delete_role_removes_it_and_its_assignments_at_once(
    rustok_client: RustokClient, rustok_platform: Any, setup: Any, make_user: Any
) -> None:
    tenant, admin, user = setup
    second = await make_user(tenant, role="customer")
    await rustok_client.graphql_data(
        CREATE_ROLE, role_input("temps", ("users:read", None), ("api_keys:read", None)), headers=admin.headers
    )
    for holder in (user, second):
        await rustok_client.graphql_data(ASSIGN, {"u": str(holder.id), "r": "temps"}, headers=admin.headers)
        # Cached now: the deletion must invalidate it.
        assert await my_grants(rustok_client, holder) == {
            **(builtin_grants(rustok_platform.ctx.permissions, "customer") if holder is second else {}),
            "users:read": "ALL",
            "api_keys:read": "ALL",
        }
    before = await stored(rustok_platform, tenant)

    assert await rustok_client.graphql_data(DELETE, {"s": "temps"}, headers=admin.headers) == {"deleteRole": True}
    assert "temps" not in await slugs(rustok_client, admin)
    assert await my_grants(rustok_client, user) == {}
    assert await my_grants(rustok_client, second) == builtin_grants(rustok_platform.ctx.permissions, "customer")
    data = await rustok_client.graphql_data(USER_ROLES, headers=admin.headers)
    roles = {e["node"]["id"]: e["node"]["roles"] for e in data["users"]["edges"]}
    assert roles == {str(admin.id): ["admin"], str(user.id): [], str(second.id): ["customer"]}
    # The role, its two grants and its two assignments are gone, nothing else.
    assert await stored(rustok_platform, tenant) == (before[0] - 1, before[1] - 2, before[2] - 2)

    # A new role with the same slug does not inherit the old assignments.
    await rustok_client.graphql_data(CREATE_ROLE, role_input("temps", ("roles:read", None)), headers=admin.headers)
    assert await my_grants(rustok_client, user) == {}
    body = await rustok_client.graphql(DELETE, {"s": "temps-2"}, headers=admin.headers)
    assert error_codes(body) == ["NOT_FOUND"]


async def test_built_in_roles_cannot_be_deleted(rustok_client: RustokClient, setup: Any) -> None:
    _, admin, _ = setup
    for slug in ("admin", "super_admin", "customer"):
        body = await rustok_client.graphql(DELETE, {"s": slug}, headers=admin.headers)
        assert error_codes(body) == ["CONFLICT"], slug
        assert "built-in" in body["errors"][0]["message"]
    assert await my_grants(rustok_client, admin) != {}


INVALID = [
    (role_input("Bad Slug", ("roles:read", None)), "VALIDATION", "role slug", ["slug"]),
    (role_input("x", ("roles:read", None)), "VALIDATION", "role slug", ["slug"]),
    (role_input("9lives", ("roles:read", None)), "VALIDATION", "role slug", ["slug"]),
    (role_input("a" * 65, ("roles:read", None)), "VALIDATION", "role slug", ["slug"]),
    (role_input("admin", ("roles:read", None)), "CONFLICT", "'admin' is a built-in role", None),
    (role_input("super_admin", ("roles:read", None)), "CONFLICT", "built-in role", None),
    (role_input("ghost", ("nope:read", None)), "VALIDATION", "unknown permission 'nope:read'", None),
    (
        role_input("ghost", ("roles:read", None), ("roles:fly", None)),
        "VALIDATION",
        "unknown permission 'roles:fly'",
        None,
    ),
    (role_input("ghost", ("nope:manage", None)), "VALIDATION", "unknown permission 'nope:manage'", None),
    (role_input("ghost"), "VALIDATION", "at least one permission", ["grants"]),
    (role_input("ghost", ("roles:read", None), name="   "), "VALIDATION", "name", ["name"]),
    (role_input("ghost", ("roles:read", None), name="n" * 101), "VALIDATION", "name", ["name"]),
    (role_input("ghost", ("roles:read", None), description="d" * 501), "VALIDATION", "description", ["description"]),
]


async def test_invalid_roles_are_refused_with_clear_messages_and_nothing_is_stored(
    rustok_client: RustokClient, rustok_platform: Any, setup: Any
) -> None:
    tenant, admin, _ = setup
    before = await stored(rustok_platform, tenant)
    for variables, code, message, field in INVALID:
        body = await rustok_client.graphql(CREATE_ROLE, variables, headers=admin.headers)
        assert error_codes(body) == [code], (variables, body)
        error = body["errors"][0]
        assert message in error["message"], (variables, error)
        if field is not None:
            assert [fe["path"] for fe in error["extensions"]["fieldErrors"]] == [field], error
        assert await stored(rustok_platform, tenant) == before, variables
    assert len(await slugs(rustok_client, admin)) == 5


async def test_duplicate_slug_is_a_conflict_and_keeps_the_first_role(
    rustok_client: RustokClient, rustok_platform: Any, setup: Any
) -> None:
    tenant, admin, _ = setup
    await rustok_client.graphql_data(CREATE_ROLE, role_input("dupe", ("users:read", None)), headers=admin.headers)
    before = await stored(rustok_platform, tenant)
    body = await rustok_client.graphql(
        CREATE_ROLE, role_input("dupe", ("roles:read", None), ("api_keys:read", None)), headers=admin.headers
    )
    assert error_codes(body) == ["CONFLICT"]
    assert body["errors"][0]["message"] == "a role 'dupe' already exists"
    assert await stored(rustok_platform, tenant) == before
    listed = (await rustok_client.graphql_data(ROLES, headers=admin.headers))["roles"]
    assert [grants(r["grants"]) for r in listed if r["slug"] == "dupe"] == [{"users:read": "ALL"}]


async def test_the_same_slug_may_exist_in_two_tenants(
    rustok_client: RustokClient, setup: Any, make_tenant: Any, make_user: Any
) -> None:
    _, admin, _ = setup
    other_admin = await make_user(await make_tenant())
    for who in (admin, other_admin):
        await rustok_client.graphql_data(CREATE_ROLE, role_input("shared", ("users:read", None)), headers=who.headers)
        assert (await slugs(rustok_client, who))[-1] == "shared"
    assert await rustok_client.graphql_data(DELETE, {"s": "shared"}, headers=admin.headers) == {"deleteRole": True}
    assert (await slugs(rustok_client, other_admin))[-1] == "shared"


async def test_a_manage_grant_of_a_declared_resource_is_accepted(rustok_client: RustokClient, setup: Any) -> None:
    _, admin, user = setup
    await rustok_client.graphql_data(
        CREATE_ROLE, role_input("key-admins", ("api_keys:manage", None)), headers=admin.headers
    )
    await rustok_client.graphql_data(ASSIGN, {"u": str(user.id), "r": "key-admins"}, headers=admin.headers)
    data = await rustok_client.graphql_data("{ apiKeys { id } }", headers=user.headers)
    assert data == {"apiKeys": []}
