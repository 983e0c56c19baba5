"""API keys: created once, stored as hashes, bounded by their creator, revocable at once."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select, update

from rustok_server.app import create_app
from rustok_server.auth.models import ApiKey
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient

CREATE = """
mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    key
    apiKey { id name prefix permissions expiresAt lastUsedAt revokedAt createdAt }
  }
}"""
REVOKE = "mutation($id: UUID!) { revokeApiKey(id: $id) { id revokedAt } }"
LIST = "{ apiKeys { id name prefix permissions lastUsedAt revokedAt } }"
USERS = "{ users { edges { node { email } } } }"
REST = "/api/v1/tenant/current"
TOGGLE = "/api/v1/tenant/modules/rbac"


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    assert len(body["errors"]) == 1, body["errors"]
    error: dict[str, Any] = body["errors"][0]
    return error


def key_headers(key: str, tenant: Any | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if tenant is not None:
        headers["X-Tenant-ID"] = tenant.slug
    return headers


async def create_key(
    client: RustokClient, creator: Any, permissions: list[str], **extra: Any
) -> tuple[str, dict[str, Any]]:
    data = await client.graphql_data(
        CREATE, {"input": {"name": "integration", "permissions": permissions, **extra}}, headers=creator.headers
    )
    created = data["createApiKey"]
    return created["key"], created["apiKey"]


async def stored_key(platform: Platform, key_id: str) -> ApiKey:
    async with platform.ctx.db.system_session() as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    assert row is not None
    return row


async def test_a_key_is_shown_once_and_stored_only_as_its_sha256_hash(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    key, api_key = await create_key(rustok_client, admin, ["users:read", "modules:read", "users:read"])

    assert key.startswith("rtk_")
    _, prefix, secret = key.split("_", 2)
    assert api_key["prefix"] == prefix
    assert len(secret) >= 40
    assert api_key["permissions"] == ["modules:read", "users:read"]
    assert api_key["lastUsedAt"] is None
    assert api_key["revokedAt"] is None

    row = await stored_key(rustok_platform, api_key["id"])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.tenant_id == tenant.id
    assert row.created_by == admin.id
    for column in ApiKey.__table__.columns:
        value = str(getattr(row, column.key))
        assert key not in value, column.key
        assert secret not in value, column.key

    listed = await rustok_client.post("/graphql", json={"query": LIST}, headers=admin.headers)
    assert listed.status_code == 200
    assert [k["id"] for k in listed.json()["data"]["apiKeys"]] == [api_key["id"]]
    assert secret not in listed.text


async def test_a_key_works_for_what_its_permissions_allow_and_nothing_else(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    reader, _ = await create_key(rustok_client, admin, ["users:read"])
    manager, _ = await create_key(rustok_client, admin, ["modules:manage"])

    users = await rustok_client.graphql_data(USERS, headers=key_headers(reader, tenant))
    assert [edge["node"]["email"] for edge in users["users"]["edges"]] == [admin.email]
    # A key is no user.
    assert (await rustok_client.graphql_data("{ me { email } }", headers=key_headers(reader, tenant)))["me"] is None

    denied = await rustok_client.graphql(LIST, headers=key_headers(reader, tenant))
    assert only_error(denied)["extensions"]["code"] == "FORBIDDEN"
    denied = await rustok_client.graphql(
        CREATE, {"input": {"name": "x", "permissions": ["users:read"]}}, headers=key_headers(reader, tenant)
    )
    assert only_error(denied)["extensions"]["code"] == "FORBIDDEN"

    # REST: public routes serve the key's own tenant; guarded routes check its permissions.
    current = await rustok_client.get(REST, headers=key_headers(reader))
    assert current.status_code == 200
    assert current.json()["slug"] == tenant.slug
    forbidden = await rustok_client.put(TOGGLE, json={"enabled": True}, headers=key_headers(reader, tenant))
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "FORBIDDEN"
    allowed = await rustok_client.put(TOGGLE, json={"enabled": True}, headers=key_headers(manager, tenant))
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["slug"] == tenant.slug


async def test_a_key_cannot_hold_permissions_its_creator_lacks(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    manager = await make_user(tenant, role="manager")
    denied = await rustok_client.graphql(
        CREATE, {"input": {"name": "mine", "permissions": ["roles:manage"]}}, headers=manager.headers
    )
    assert only_error(denied)["extensions"]["code"] == "FORBIDDEN"

    # A role that may manage keys, holds modules:read for all records, users:read for its own only.
    await rustok_client.graphql_data(
        """mutation($input: CreateRoleInput!) { createRole(input: $input) { slug } }""",
        {
            "input": {
                "slug": "key-maker",
                "name": "Key maker",
                "grants": [
                    {"permission": "api_keys:manage"},
                    {"permission": "modules:read"},
                    {"permission": "users:read", "scope": "OWN"},
                ],
            }
        },
        headers=admin.headers,
    )
    maker = await make_user(tenant, role="key-maker")

    for wanted in (["roles:manage"], ["modules:read", "roles:manage"], ["users:read"], ["modules:manage"]):
        body = await rustok_client.graphql(
            CREATE, {"input": {"name": "escalate", "permissions": wanted}}, headers=maker.headers
        )
        error = only_error(body)
        assert error["extensions"]["code"] == "FORBIDDEN", wanted
        assert error["extensions"]["missingPermissions"] == [p for p in wanted if p != "modules:read"]
    key, api_key = await create_key(rustok_client, maker, ["modules:read"])
    assert api_key["permissions"] == ["modules:read"]
    assert (await rustok_client.get(REST, headers=key_headers(key))).json()["slug"] == tenant.slug

    # And only the creator's grants count, not the caller's wishes: nothing was stored for the refusals.
    listed = await rustok_client.graphql_data(LIST, headers=admin.headers)
    assert [k["permissions"] for k in listed["apiKeys"]] == [["modules:read"]]


@pytest.mark.parametrize(
    ("given", "path"),
    [
        pytest.param({"permissions": ["users:read", "nope:read"]}, ["permissions", 1], id="unknown-permission"),
        pytest.param({"permissions": ["users:read", "users"]}, ["permissions", 1], id="malformed-permission"),
        pytest.param({"permissions": []}, ["permissions"], id="no-permission"),
        pytest.param({"name": "  "}, ["name"], id="blank-name"),
        pytest.param({"name": "n" * 101}, ["name"], id="long-name"),
        pytest.param({"expiresAt": "2020-01-01T00:00:00Z"}, ["expiresAt"], id="expired"),
        pytest.param({"expiresAt": "2999-01-01T00:00:00Z"}, ["expiresAt"], id="beyond-five-years"),
    ],
)
async def test_invalid_key_input_is_a_validation_error_and_creates_nothing(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any, given: dict[str, Any], path: list[Any]
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    body = await rustok_client.graphql(
        CREATE, {"input": {"name": "integration", "permissions": ["users:read"], **given}}, headers=admin.headers
    )
    error = only_error(body)
    assert error["extensions"]["code"] == "VALIDATION"
    assert [fe["path"] for fe in error["extensions"]["fieldErrors"]] == [path]
    assert (await rustok_client.graphql_data(LIST, headers=admin.headers))["apiKeys"] == []


async def test_a_revoked_key_is_refused_at_once(rustok_client: RustokClient, make_tenant: Any, make_user: Any) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    key, api_key = await create_key(rustok_client, admin, ["users:read"])
    # Used once: its record is now in the lookup cache.
    await rustok_client.graphql_data(USERS, headers=key_headers(key, tenant))

    revoked = await rustok_client.graphql_data(REVOKE, {"id": api_key["id"]}, headers=admin.headers)
    assert revoked["revokeApiKey"]["revokedAt"] is not None

    body = await rustok_client.graphql(USERS, headers=key_headers(key, tenant), expect_status=401)
    assert only_error(body)["extensions"] == {"code": "UNAUTHENTICATED", "reason": "API_KEY_REVOKED"}
    rest = await rustok_client.get(REST, headers=key_headers(key))
    assert rest.status_code == 401
    assert rest.json()["reason"] == "API_KEY_REVOKED"


async def test_a_tenant_cannot_see_or_revoke_another_tenants_keys(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    owner = await make_user(mine, role="admin")
    intruder = await make_user(theirs, role="admin")
    key, api_key = await create_key(rustok_client, owner, ["users:read"])

    assert (await rustok_client.graphql_data(LIST, headers=intruder.headers))["apiKeys"] == []
    body = await rustok_client.graphql(REVOKE, {"id": api_key["id"]}, headers=intruder.headers)
    assert only_error(body)["extensions"]["code"] == "NOT_FOUND"
    assert (await rustok_client.graphql_data(USERS, headers=key_headers(key, mine)))["users"]["edges"]


async def test_an_expired_key_is_refused(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    key, api_key = await create_key(rustok_client, admin, ["users:read"], expiresAt=soon)
    assert datetime.fromisoformat(api_key["expiresAt"]) == datetime.fromisoformat(soon)
    await rustok_client.graphql_data(USERS, headers=key_headers(key, tenant))

    async with rustok_platform.ctx.db.system_session() as session, session.begin():
        await session.execute(
            update(ApiKey).where(ApiKey.id == api_key["id"]).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await rustok_platform.ctx.state["auth.api_keys"].records.invalidate(api_key["prefix"])

    body = await rustok_client.graphql(USERS, headers=key_headers(key, tenant), expect_status=401)
    assert only_error(body)["extensions"] == {"code": "UNAUTHENTICATED", "reason": "API_KEY_EXPIRED"}


async def test_last_use_is_recorded_once_and_not_rewritten_on_every_request(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    key, api_key = await create_key(rustok_client, admin, ["users:read"])
    assert (await stored_key(rustok_platform, api_key["id"])).last_used_at is None

    started = datetime.now(UTC)
    await rustok_client.graphql_data(USERS, headers=key_headers(key, tenant))
    first = (await stored_key(rustok_platform, api_key["id"])).last_used_at
    assert first is not None
    assert started - timedelta(seconds=5) <= first <= datetime.now(UTC)

    await rustok_client.graphql_data(USERS, headers=key_headers(key, tenant))
    await rustok_client.get(REST, headers=key_headers(key))
    assert (await stored_key(rustok_platform, api_key["id"])).last_used_at == first
    listed = await rustok_client.graphql_data(LIST, headers=admin.headers)
    assert datetime.fromisoformat(listed["apiKeys"][0]["lastUsedAt"]) == first


async def test_a_key_is_refused_for_another_tenant(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    admin = await make_user(mine, role="admin")
    key, _ = await create_key(rustok_client, admin, ["users:read"])
    body = await rustok_client.graphql(USERS, headers=key_headers(key, theirs), expect_status=401)
    assert only_error(body)["extensions"] == {"code": "UNAUTHENTICATED", "reason": "TENANT_MISMATCH"}
    rest = await rustok_client.get(REST, headers=key_headers(key, theirs))
    assert rest.status_code == 401
    assert rest.json()["reason"] == "TENANT_MISMATCH"
    assert mine.slug not in rest.text
    assert mine.slug not in str(body)


@pytest.mark.parametrize(
    "make_key",
    [
        pytest.param(lambda real: "rtk_nope_x", id="unknown-prefix"),
        pytest.param(lambda real: real[:-4] + "AAAA", id="known-prefix-wrong-secret"),
        pytest.param(lambda real: real + "x", id="longer-than-the-real-key"),
        pytest.param(lambda real: "rtk_", id="prefix-only"),
        pytest.param(lambda real: "rtk__secret", id="empty-prefix"),
        pytest.param(lambda real: "rtk_" + "a" * 200, id="oversized"),
    ],
)
async def test_an_invalid_key_is_refused(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any, make_key: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    real, _ = await create_key(rustok_client, admin, ["users:read"])
    body = await rustok_client.graphql(USERS, headers=key_headers(make_key(real), tenant), expect_status=401)
    assert only_error(body)["extensions"] == {"code": "UNAUTHENTICATED", "reason": "API_KEY_INVALID"}
    rest = await rustok_client.get(REST, headers=key_headers(make_key(real)))
    assert rest.status_code == 401
    assert rest.json()["reason"] == "API_KEY_INVALID"
    # The genuine key still works.
    assert (await rustok_client.graphql_data(USERS, headers=key_headers(real, tenant)))["users"]["edges"]


async def test_a_key_that_manages_keys_cannot_mint_a_stronger_key(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    minter, _ = await create_key(rustok_client, admin, ["api_keys:manage", "users:read"])
    body = await rustok_client.graphql(
        CREATE, {"input": {"name": "stronger", "permissions": ["roles:manage"]}}, headers=key_headers(minter, tenant)
    )
    assert only_error(body)["extensions"]["missingPermissions"] == ["roles:manage"]
    data = await rustok_client.graphql_data(
        CREATE, {"input": {"name": "weaker", "permissions": ["users:read"]}}, headers=key_headers(minter, tenant)
    )
    assert data["createApiKey"]["apiKey"]["permissions"] == ["users:read"]


@asynccontextmanager
async def serve(platform: Platform) -> AsyncIterator[RustokClient]:
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield client


async def test_revocation_reaches_every_process_sharing_redis_at_once(
    boot_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    prefix = f"rustok-test-auth-keys-{secrets.token_hex(4)}"
    shared = {"cache.redis_url": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), "cache.key_prefix": prefix}
    first, second = boot_platform(**shared), boot_platform(**shared)
    try:
        async with serve(first) as one, serve(second) as two:
            tenant = await make_tenant(platform=first)
            admin = await make_user(tenant, role="admin", platform=first)
            key, api_key = await create_key(one, admin, ["users:read"])
            # The second process has the key's record in its own memory now.
            await two.graphql_data(USERS, headers=key_headers(key, tenant))
            await two.graphql_data(USERS, headers=key_headers(key, tenant))

            await one.graphql_data(REVOKE, {"id": api_key["id"]}, headers=admin.headers)
            deadline = time.monotonic() + 1.0  # well under the 5 s an L1 copy may live
            while True:
                response = await two.post("/graphql", json={"query": USERS}, headers=key_headers(key, tenant))
                if response.status_code == 401 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)
            assert response.status_code == 401, response.text
            assert response.json()["errors"][0]["extensions"]["reason"] == "API_KEY_REVOKED"
    finally:
        redis = Redis.from_url(shared["cache.redis_url"])
        try:
            leftovers = [name async for name in redis.scan_iter(match=f"{prefix}:*")]
            if leftovers:
                await redis.delete(*leftovers)
        finally:
            await redis.aclose()
