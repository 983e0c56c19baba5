"""API-key principals hold exactly the key's permissions, whatever their creator holds."""

from __future__ import annotations

import asyncio
from typing import Any

from rustok_testing.client import RustokClient, error_codes

CREATE_KEY = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { permissions } } }"
CREATE_ROLE = "mutation($input: CreateRoleInput!) { createRole(input: $input) { slug } }"
ASSIGN = "mutation($u: UUID!, $r: String!) { assignRole(userId: $u, role: $r) { role } }"
MY_PERMISSIONS = "{ myPermissions { permission scope } }"


async def new_key(client: RustokClient, admin: Any, *permissions: str) -> dict[str, str]:
    data = await client.graphql_data(
        CREATE_KEY, {"input": {"name": "integration", "permissions": list(permissions)}}, headers=admin.headers
    )
    assert data["createApiKey"]["apiKey"]["permissions"] == sorted(permissions)
    return {"Authorization": f"Bearer {data['createApiKey']['key']}"}


async def test_a_key_holds_exactly_its_permissions(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    key = await new_key(rustok_client, admin, "roles:read")

    data = await rustok_client.graphql_data("{ roles { slug } }", headers=key, tenant=tenant)
    assert [r["slug"] for r in data["roles"]][:2] == ["super_admin", "admin"]
    # Without a tenant header the key's tenant serves the request.
    data = await rustok_client.graphql_data("{ roles { slug } }", headers=key)
    assert len(data["roles"]) == 5
    data = await rustok_client.graphql_data(MY_PERMISSIONS, headers=key)
    assert data["myPermissions"] == [{"permission": "roles:read", "scope": "ALL"}]

    body = await rustok_client.graphql(
        CREATE_ROLE, {"input": {"slug": "by-key", "name": "K", "grants": [{"permission": "roles:read"}]}}, headers=key
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["permission"] == "roles:manage"
    # The admin who made it may list users; the key may not.
    body = await rustok_client.graphql("{ users { edges { node { id } } } }", headers=key)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["permission"] == "users:read"


async def test_a_role_managing_key_cannot_escalate(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin, other = await asyncio.gather(
        make_user(tenant, role="admin"),
        make_user(tenant, role=None),
    )
    key = await new_key(rustok_client, admin, "roles:manage")

    data = await rustok_client.graphql_data(
        CREATE_ROLE,
        {"input": {"slug": "key-made", "name": "Key made", "grants": [{"permission": "roles:read"}]}},
        headers=key,
    )
    assert data == {"createRole": {"slug": "key-made"}}
    body = await rustok_client.graphql(
        CREATE_ROLE,
        {"input": {"slug": "key-wide", "name": "K", "grants": [{"permission": "users:read"}]}},
        headers=key,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["missingPermissions"] == ["users:read"]

    for role in ("admin", "manager", "super_admin"):
        body = await rustok_client.graphql(ASSIGN, {"u": str(other.id), "r": role}, headers=key)
        assert error_codes(body) == ["FORBIDDEN"], role
    data = await rustok_client.graphql_data(ASSIGN, {"u": str(other.id), "r": "key-made"}, headers=key)
    assert data == {"assignRole": {"role": "key-made"}}
    data = await rustok_client.graphql_data(MY_PERMISSIONS, headers=other.headers)
    assert data["myPermissions"] == [{"permission": "roles:read", "scope": "ALL"}]


async def test_a_keys_permissions_do_not_follow_its_creators_roles(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    key = await new_key(rustok_client, admin, "roles:read", "users:read")
    # Giving the creator a further role changes nothing for the key.
    await rustok_client.graphql_data(
        CREATE_ROLE,
        {"input": {"slug": "extra", "name": "Extra", "grants": [{"permission": "api_keys:read"}]}},
        headers=admin.headers,
    )
    await rustok_client.graphql_data(ASSIGN, {"u": str(admin.id), "r": "extra"}, headers=admin.headers)
    data = await rustok_client.graphql_data(MY_PERMISSIONS, headers=key)
    assert data["myPermissions"] == [
        {"permission": "roles:read", "scope": "ALL"},
        {"permission": "users:read", "scope": "ALL"},
    ]
    data = await rustok_client.graphql_data("{ users { edges { node { id roles } } } }", headers=key)
    assert data["users"]["edges"][0]["node"]["roles"] == ["admin", "extra"]
    assert error_codes(await rustok_client.graphql("{ apiKeys { id } }", headers=key)) == ["FORBIDDEN"]
