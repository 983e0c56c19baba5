"""Idempotency-Key on REST routes declared ``idempotent=True`` (alpha's ``POST /orders``).

Every execution of the order endpoint writes one ``alpha_orders`` row, so the tests
count executions in the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_server.rest.idempotency import Fingerprint, IdempotencyStore
from rustok_testing.client import RustokClient
from rustok_testing.samples import ensure_alpha_tables, sample_plugins

ORDERS = "/api/v1/alpha/orders"


@pytest.fixture(scope="module")
async def sample(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform = boot_platform(plugins=sample_plugins(), **{"rustok.rate_limit.enabled": False})
    await ensure_alpha_tables(platform.ctx.db)
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield platform, client


@pytest.fixture
def platform(sample: tuple[Platform, RustokClient]) -> Platform:
    return sample[0]


@pytest.fixture
def client(sample: tuple[Platform, RustokClient]) -> RustokClient:
    return sample[1]


@pytest.fixture
async def tenant(make_tenant: Any, platform: Platform) -> Any:
    return await make_tenant(platform=platform)


@pytest.fixture
async def headers(make_user: Any, platform: Platform, tenant: Any) -> dict[str, str]:
    return dict((await make_user(tenant, platform=platform)).headers)


def new_key() -> str:
    return f"order-{secrets.token_hex(8)}"


async def executions(platform: Platform, tenant: Any) -> int:
    async with platform.ctx.db.engine.connect() as conn:
        result = await conn.execute(text("SELECT count(*) FROM alpha_orders WHERE tenant_id = :t"), {"t": tenant.id})
        return int(result.scalar_one())


async def stored_keys(platform: Platform, tenant: Any) -> list[str]:
    async with platform.ctx.db.engine.connect() as conn:
        result = await conn.execute(
            text("SELECT key FROM sys_idempotency_keys WHERE tenant_id = :t ORDER BY key"), {"t": tenant.id}
        )
        return list(result.scalars())


async def run_sql(platform: Platform, statement: str, **params: Any) -> None:
    async with platform.ctx.db.engine.begin() as conn:
        await conn.execute(text(statement), params)


async def test_a_retry_with_the_same_key_replays_the_recorded_response(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    key = {"Idempotency-Key": new_key()}
    first = await client.post(ORDERS, json={"name": "bolts", "quantity": 3}, headers={**headers, **key})
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers

    again = await client.post(ORDERS, json={"name": "bolts", "quantity": 3}, headers={**headers, **key})
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["location"] == first.headers["location"] == f"{ORDERS}/{first.json()['id']}"
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert await executions(platform, tenant) == 1


async def test_concurrent_duplicates_run_the_endpoint_once(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    key = {"Idempotency-Key": new_key()}
    body = {"name": "nuts", "sleep": 0.3}
    responses = await asyncio.gather(*(client.post(ORDERS, json=body, headers={**headers, **key}) for _ in range(2)))
    assert await executions(platform, tenant) == 1
    executed = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(executed) == 1
    (other,) = [r for r in responses if r is not executed[0]]
    if other.status_code == 409:
        assert other.json()["code"] == "CONFLICT"
        assert other.json()["reason"] == "IDEMPOTENCY_KEY_IN_USE"
    else:  # it arrived after the first had finished
        assert other.headers["idempotent-replayed"] == "true"
        assert other.content == executed[0].content

    later = await client.post(ORDERS, json=body, headers={**headers, **key})
    assert later.headers["idempotent-replayed"] == "true"
    assert later.content == executed[0].content
    assert await executions(platform, tenant) == 1


async def test_the_same_key_for_a_different_request_is_refused(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str], make_user: Any
) -> None:
    key = {"Idempotency-Key": new_key()}
    assert (await client.post(ORDERS, json={"name": "a"}, headers={**headers, **key})).status_code == 201

    other_body = await client.post(ORDERS, json={"name": "b"}, headers={**headers, **key})
    other_query = await client.post(f"{ORDERS}?note=1", json={"name": "a"}, headers={**headers, **key})
    colleague = (await make_user(tenant, platform=platform)).headers
    other_caller = await client.post(ORDERS, json={"name": "a"}, headers={**colleague, **key})
    for refused in (other_body, other_query, other_caller):
        assert refused.status_code == 422
        problem = refused.json()
        assert problem["code"] == "VALIDATION"
        assert problem["reason"] == "IDEMPOTENCY_KEY_REUSED"
        assert "different request" in problem["detail"]
        assert problem["errors"][0]["path"] == ["header", "Idempotency-Key"]
    assert await executions(platform, tenant) == 1


async def test_keys_belong_to_one_tenant(
    platform: Platform, client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    a = await make_tenant(platform=platform)
    b = await make_tenant(platform=platform)
    a_headers = (await make_user(a, platform=platform)).headers
    b_headers = (await make_user(b, platform=platform)).headers
    key = {"Idempotency-Key": new_key()}

    in_a = await client.post(ORDERS, json={"name": "same"}, headers={**a_headers, **key})
    in_b = await client.post(ORDERS, json={"name": "same"}, headers={**b_headers, **key})
    assert in_a.status_code == in_b.status_code == 201
    assert "idempotent-replayed" not in in_b.headers  # B's call ran: A's outcome is not B's
    assert in_a.json()["id"] != in_b.json()["id"]
    # B using the key for another request is B's business, not a reuse of A's key.
    b_other = await client.post(ORDERS, json={"name": "other"}, headers={**b_headers, "Idempotency-Key": new_key()})
    assert b_other.status_code == 201

    replay_a = await client.post(ORDERS, json={"name": "same"}, headers={**a_headers, **key})
    replay_b = await client.post(ORDERS, json={"name": "same"}, headers={**b_headers, **key})
    assert replay_a.content == in_a.content
    assert replay_b.content == in_b.content
    assert await executions(platform, a) == 1
    assert await executions(platform, b) == 2


async def test_server_errors_are_not_recorded_so_a_retry_runs_again(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    key = {"Idempotency-Key": new_key()}
    for attempt in (1, 2):
        failed = await client.post(ORDERS, json={"name": "x", "fail": "internal"}, headers={**headers, **key})
        assert failed.status_code == 500
        assert failed.json()["code"] == "INTERNAL"
        assert "idempotent-replayed" not in failed.headers
        assert await executions(platform, tenant) == attempt
    assert await stored_keys(platform, tenant) == []


async def test_unexpected_exceptions_are_not_recorded_so_a_retry_runs_again(
    platform: Platform, tenant: Any, headers: dict[str, str]
) -> None:
    app = create_app(platform)
    key = {"Idempotency-Key": new_key()}
    async with RustokClient(app, raise_app_exceptions=False) as client:
        for attempt in (1, 2):
            crashed = await client.post(ORDERS, json={"name": "x", "fail": "crash"}, headers={**headers, **key})
            assert crashed.status_code == 500
            assert await executions(platform, tenant) == attempt
    assert await stored_keys(platform, tenant) == []


async def test_client_errors_of_the_endpoint_are_recorded_and_replayed(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    key = {"Idempotency-Key": new_key()}
    rejected = await client.post(ORDERS, json={"name": "x", "reject": True}, headers={**headers, **key})
    assert rejected.status_code == 409
    assert rejected.headers["content-type"].startswith("application/problem+json")
    again = await client.post(ORDERS, json={"name": "x", "reject": True}, headers={**headers, **key})
    assert again.status_code == 409
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == rejected.content  # the original problem, request id included
    assert await executions(platform, tenant) == 1


async def test_an_expired_key_runs_the_request_again(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    key = new_key()
    first = await client.post(ORDERS, json={"name": "x"}, headers={**headers, "Idempotency-Key": key})
    await run_sql(
        platform,
        "UPDATE sys_idempotency_keys SET expires_at = now() - interval '1 second' WHERE tenant_id = :t AND key = :k",
        t=tenant.id,
        k=key,
    )
    second = await client.post(ORDERS, json={"name": "x"}, headers={**headers, "Idempotency-Key": key})
    assert second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    third = await client.post(ORDERS, json={"name": "x"}, headers={**headers, "Idempotency-Key": key})
    assert third.content == second.content
    assert await executions(platform, tenant) == 2


async def test_expired_keys_are_ignored_even_for_a_different_request(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    key = new_key()
    await client.post(ORDERS, json={"name": "x"}, headers={**headers, "Idempotency-Key": key})
    await run_sql(platform, "UPDATE sys_idempotency_keys SET expires_at = now() WHERE key = :k", k=key)
    other = await client.post(ORDERS, json={"name": "y"}, headers={**headers, "Idempotency-Key": key})
    assert other.status_code == 201
    assert other.json()["name"] == "y"


async def test_a_claim_whose_request_died_is_taken_over_after_its_lease(
    platform: Platform, client: RustokClient, tenant: Any, make_user: Any
) -> None:
    store: IdempotencyStore = platform.ctx.state["rest.idempotency"]
    user = await make_user(tenant, platform=platform)
    key = new_key()
    body = b'{"name":"x"}'
    # A request claimed the key and never finished (its process died).
    fingerprint = Fingerprint("POST", ORDERS, hashlib.sha256(body).hexdigest(), f"user:{user.id}")
    await store.claim(tenant.id, key, fingerprint)
    request_headers = {**user.headers, "Idempotency-Key": key, "content-type": "application/json"}

    held = await client.post(ORDERS, content=body, headers=request_headers)
    assert held.status_code == 409
    assert held.json()["reason"] == "IDEMPOTENCY_KEY_IN_USE"
    await run_sql(platform, "UPDATE sys_idempotency_keys SET locked_until = now() WHERE key = :k", k=key)
    taken_over = await client.post(ORDERS, content=body, headers=request_headers)
    assert taken_over.status_code == 201
    assert "idempotent-replayed" not in taken_over.headers
    assert await executions(platform, tenant) == 1


async def test_without_the_header_every_call_runs(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    for _ in range(2):
        response = await client.post(ORDERS, json={"name": "x"}, headers=headers)
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert await executions(platform, tenant) == 2
    assert await stored_keys(platform, tenant) == []


@pytest.mark.parametrize(
    "value",
    [b"", b"k" * 256, "cl\u00e9".encode("latin-1"), b"tab\there"],
    ids=["empty", "too-long", "not-ascii", "control-character"],
)
async def test_malformed_keys_are_refused(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str], value: bytes
) -> None:
    response = await client.post(ORDERS, json={"name": "x"}, headers=[*headers.items(), (b"Idempotency-Key", value)])
    assert response.status_code == 422
    assert response.json()["reason"] == "IDEMPOTENCY_KEY_INVALID"
    assert await executions(platform, tenant) == 0


async def test_two_keys_in_one_request_are_refused(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    response = await client.post(
        ORDERS, json={"name": "x"}, headers=[*headers.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "IDEMPOTENCY_KEY_INVALID"
    assert await executions(platform, tenant) == 0


async def test_callers_refused_by_the_access_check_claim_nothing(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    key = {"Idempotency-Key": new_key()}
    anonymous = await client.post(ORDERS, json={"name": "x"}, headers={"X-Tenant-ID": tenant.slug, **key})
    assert anonymous.status_code == 401
    assert await stored_keys(platform, tenant) == []
    signed_in = await client.post(ORDERS, json={"name": "x"}, headers={**headers, **key})
    assert signed_in.status_code == 201
    assert "idempotent-replayed" not in signed_in.headers


async def test_the_header_is_ignored_on_routes_that_are_not_idempotent(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    key = {"Idempotency-Key": new_key()}
    for _ in range(2):
        response = await client.post("/api/v1/alpha/items", json={"name": "x"}, headers={**headers, **key})
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert await stored_keys(platform, tenant) == []


async def test_expired_keys_are_pruned(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    store: IdempotencyStore = platform.ctx.state["rest.idempotency"]
    keys = sorted(new_key() for _ in range(3))
    for key in keys:
        await client.post(ORDERS, json={"name": "x"}, headers={**headers, "Idempotency-Key": key})
    await run_sql(
        platform,
        "UPDATE sys_idempotency_keys SET expires_at = now() - interval '1 hour' WHERE key = ANY(:keys)",
        keys=keys[:2],
    )
    assert await store.prune() >= 2
    assert await stored_keys(platform, tenant) == keys[2:]


async def test_keys_go_with_their_tenant(
    platform: Platform, client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    doomed = await make_tenant(platform=platform)
    doomed_headers = (await make_user(doomed, platform=platform)).headers
    await client.post(ORDERS, json={"name": "x"}, headers={**doomed_headers, "Idempotency-Key": new_key()})
    assert len(await stored_keys(platform, doomed)) == 1
    await run_sql(platform, "DELETE FROM tenants WHERE id = :t", t=doomed.id)
    assert await stored_keys(platform, doomed) == []


async def test_openapi_lists_the_header_on_idempotent_routes(client: RustokClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    orders = document["paths"][ORDERS]["post"]
    (parameter,) = [p for p in orders["parameters"] if p["name"] == "Idempotency-Key"]
    assert parameter["in"] == "header"
    assert parameter["required"] is False
    assert parameter["schema"]["maxLength"] == 255
    assert "Idempotent-Replayed" in orders["responses"]["201"]["headers"]
    items = document["paths"]["/api/v1/alpha/items"]["post"]
    assert "Idempotency-Key" not in {p["name"] for p in items["parameters"]}
