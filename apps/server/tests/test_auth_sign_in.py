"""Sign-in over GraphQL: one answer for every failure, disabled accounts, throttling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import select

from rustok_server.app import create_app
from rustok_server.auth.models import User
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient

SIGN_IN = """
mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { accessToken refreshToken user { id email } }
}"""
REFRESH = "mutation($token: String!) { refreshToken(token: $token) { accessToken refreshToken } }"
SET_STATUS = """
mutation($id: UUID!, $status: UserStatus!) { setUserStatus(userId: $id, status: $status) { id status } }"""
ME = "{ me { email } }"
WRONG = "not the password at all"


@asynccontextmanager
async def serve(platform: Platform) -> AsyncIterator[RustokClient]:
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield client


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    assert len(body["errors"]) == 1, body["errors"]
    error: dict[str, Any] = body["errors"][0]
    return error


async def sign_in(client: RustokClient, tenant: Any, email: str, password: str) -> dict[str, Any]:
    return await client.graphql(SIGN_IN, {"email": email, "password": password}, tenant=tenant)


async def test_wrong_password_and_unknown_email_get_the_same_error(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer")

    wrong_password = await sign_in(rustok_client, tenant, user.email, WRONG)
    unknown_email = await sign_in(rustok_client, tenant, "nobody-here@example.com", WRONG)
    empty_email = await sign_in(rustok_client, tenant, "", WRONG)
    oversized = await sign_in(rustok_client, tenant, user.email, "x" * 5000)

    first = only_error(wrong_password)
    assert first["extensions"] == {"code": "UNAUTHENTICATED", "reason": "INVALID_CREDENTIALS"}
    for body in (unknown_email, empty_email, oversized):
        error = only_error(body)
        assert error["message"] == first["message"]
        assert error["extensions"] == first["extensions"]
        assert body["data"] is None
    assert user.email not in first["message"]


async def test_sign_in_matches_the_email_case_insensitively(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer", email="mixed.case@example.com")
    body = await sign_in(rustok_client, tenant, "  Mixed.CASE@Example.com ", user.password)
    assert not body.get("errors"), body
    payload = body["data"]["signIn"]
    assert payload["user"] == {"id": str(user.id), "email": "mixed.case@example.com"}
    me = await rustok_client.graphql_data(
        ME, tenant=tenant, headers={"Authorization": f"Bearer {payload['accessToken']}"}
    )
    assert me["me"]["email"] == user.email


async def test_an_account_only_signs_in_to_its_own_tenant(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    home, elsewhere = await make_tenant(), await make_tenant()
    user = await make_user(home, role="customer")
    body = await sign_in(rustok_client, elsewhere, user.email, user.password)
    assert only_error(body)["extensions"]["reason"] == "INVALID_CREDENTIALS"


async def test_a_disabled_user_cannot_sign_in_and_its_tokens_stop_working(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    user = await make_user(tenant, role="customer")
    assert (await rustok_client.graphql_data(ME, headers=user.headers))["me"]["email"] == user.email

    disabled = await rustok_client.graphql_data(
        SET_STATUS, {"id": str(user.id), "status": "DISABLED"}, headers=admin.headers
    )
    assert disabled["setUserStatus"] == {"id": str(user.id), "status": "DISABLED"}

    refused = await rustok_client.graphql(ME, headers=user.headers, expect_status=401)
    assert only_error(refused)["extensions"] == {"code": "UNAUTHENTICATED", "reason": "ACCOUNT_DISABLED"}
    rest = await rustok_client.get("/api/v1/tenant/current", headers=user.headers)
    assert rest.status_code == 401
    assert rest.json()["reason"] == "ACCOUNT_DISABLED"

    again = await sign_in(rustok_client, tenant, user.email, user.password)
    error = only_error(again)
    assert error["extensions"]["reason"] == "ACCOUNT_DISABLED"
    assert again["data"] is None
    # A wrong password says nothing about the account's status.
    guess = await sign_in(rustok_client, tenant, user.email, WRONG)
    assert only_error(guess)["extensions"]["reason"] == "INVALID_CREDENTIALS"
    refreshed = await rustok_client.graphql(REFRESH, {"token": user.refresh_token}, tenant=tenant)
    assert only_error(refreshed)["extensions"]["code"] == "UNAUTHENTICATED"

    await rustok_client.graphql_data(SET_STATUS, {"id": str(user.id), "status": "ACTIVE"}, headers=admin.headers)
    back = await sign_in(rustok_client, tenant, user.email, user.password)
    assert not back.get("errors"), back
    assert back["data"]["signIn"]["accessToken"]


async def test_users_cannot_be_disabled_by_themselves_or_by_customers(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    customer = await make_user(tenant, role="customer")

    own = await rustok_client.graphql(SET_STATUS, {"id": str(admin.id), "status": "DISABLED"}, headers=admin.headers)
    assert only_error(own)["extensions"]["code"] == "VALIDATION"
    by_customer = await rustok_client.graphql(
        SET_STATUS, {"id": str(admin.id), "status": "DISABLED"}, headers=customer.headers
    )
    assert only_error(by_customer)["extensions"]["code"] == "FORBIDDEN"
    assert (await rustok_client.graphql_data(ME, headers=admin.headers))["me"]["email"] == admin.email


async def test_users_of_another_tenant_cannot_be_disabled(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    admin = await make_user(mine, role="admin")
    victim = await make_user(theirs, role="customer")
    body = await rustok_client.graphql(SET_STATUS, {"id": str(victim.id), "status": "DISABLED"}, headers=admin.headers)
    assert only_error(body)["extensions"]["code"] == "NOT_FOUND"
    assert (await rustok_client.graphql_data(ME, headers=victim.headers))["me"]["email"] == victim.email


# --- throttling: fresh platforms, so counters in their process-local cache start at zero --


@pytest.fixture(scope="module")
async def email_throttled(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform = boot_platform(
        **{"auth.login_failures_per_email": 3, "auth.login_failures_per_ip": 1000, "auth.login_window": 120}
    )
    async with serve(platform) as client:
        yield platform, client


@pytest.fixture(scope="module")
async def ip_throttled(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform = boot_platform(**{"auth.login_failures_per_email": 1000, "auth.login_failures_per_ip": 3})
    async with serve(platform) as client:
        yield platform, client


async def test_failed_sign_ins_lock_one_email_of_one_tenant_even_for_the_right_password(
    email_throttled: tuple[Platform, RustokClient], make_tenant: Any, make_user: Any
) -> None:
    platform, client = email_throttled
    tenant, other_tenant = await make_tenant(platform=platform), await make_tenant(platform=platform)
    target = await make_user(tenant, role="customer", email="target@example.com", platform=platform)
    bystander = await make_user(tenant, role="customer", platform=platform)
    namesake = await make_user(other_tenant, role="customer", email="target@example.com", platform=platform)

    # Letter case does not give an attacker extra attempts.
    for address in ("target@example.com", "TARGET@example.com", " Target@Example.com"):
        failed = await sign_in(client, tenant, address, WRONG)
        assert only_error(failed)["extensions"]["reason"] == "INVALID_CREDENTIALS"

    locked = await sign_in(client, tenant, target.email, target.password)
    error = only_error(locked)
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == 120
    assert locked["data"] is None

    for tenant_, user in ((tenant, bystander), (other_tenant, namesake)):
        body = await sign_in(client, tenant_, user.email, user.password)
        assert not body.get("errors"), body
        assert body["data"]["signIn"]["accessToken"]


async def test_a_successful_sign_in_clears_the_failures_of_its_email(
    email_throttled: tuple[Platform, RustokClient], make_tenant: Any, make_user: Any
) -> None:
    platform, client = email_throttled
    tenant = await make_tenant(platform=platform)
    user = await make_user(tenant, role="customer", platform=platform)
    for _ in range(2):
        assert only_error(await sign_in(client, tenant, user.email, WRONG))["extensions"]["code"] == "UNAUTHENTICATED"
    assert not (await sign_in(client, tenant, user.email, user.password)).get("errors")
    for _ in range(2):
        assert only_error(await sign_in(client, tenant, user.email, WRONG))["extensions"]["code"] == "UNAUTHENTICATED"
    assert not (await sign_in(client, tenant, user.email, user.password)).get("errors")


async def test_failed_sign_ins_from_one_ip_lock_every_email_from_that_ip(
    ip_throttled: tuple[Platform, RustokClient], make_tenant: Any, make_user: Any
) -> None:
    platform, client = ip_throttled
    tenant = await make_tenant(platform=platform)
    user = await make_user(tenant, role="customer", platform=platform)

    for index in range(3):
        failed = await sign_in(client, tenant, f"spray-{index}@example.com", WRONG)
        assert only_error(failed)["extensions"]["reason"] == "INVALID_CREDENTIALS"

    locked = await sign_in(client, tenant, user.email, user.password)
    assert only_error(locked)["extensions"]["code"] == "RATE_LIMITED"
    assert only_error(locked)["extensions"]["retryAfter"] > 0
    # The direct peer (127.0.0.1) is no trusted proxy: a forged X-Forwarded-For changes nothing.
    forged = await client.graphql(
        SIGN_IN,
        {"email": user.email, "password": user.password},
        tenant=tenant,
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert only_error(forged)["extensions"]["code"] == "RATE_LIMITED"


# --- password hashing behind sign-in ----------------------------------------------------------


class RecordingHasher(PasswordHasher):
    verified: list[str]

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


async def test_an_unknown_email_costs_a_full_password_verification(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await make_tenant()
    recording = RecordingHasher.from_parameters(profiles.CHEAPEST)
    recording.verified = []
    hashing = rustok_platform.ctx.state["auth.service"].passwords
    monkeypatch.setattr(hashing, "hasher", recording)
    body = await sign_in(rustok_client, tenant, "ghost@example.com", WRONG)
    assert only_error(body)["extensions"]["reason"] == "INVALID_CREDENTIALS"
    assert recording.verified == [hashing.dummy_hash]


async def test_sign_in_rehashes_a_password_stored_with_outdated_parameters(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await make_tenant()
    auth = rustok_platform.ctx.state["auth.service"]
    user = await auth.create_user(tenant.id, email="rehash@example.com", password=WRONG, verified=True)
    assert "m=8,t=1,p=1" in user.password_hash

    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    monkeypatch.setattr(auth.passwords, "hasher", stronger)
    assert not (await sign_in(rustok_client, tenant, user.email, WRONG)).get("errors")

    async with rustok_platform.ctx.db.system_session() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert "m=16,t=2,p=1" in stored
    assert stronger.verify(stored, WRONG)
    assert not (await sign_in(rustok_client, tenant, user.email, WRONG)).get("errors")


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("JU\u0308RGEN@BÜCHER.de", id="decomposed-umlaut"),
        pytest.param("jürgen@xn--bcher-kva.de", id="punycode-domain"),
    ],
)
async def test_sign_in_normalizes_the_email_like_sign_up_does(
    rustok_client: RustokClient, make_tenant: Any, typed: str
) -> None:
    tenant = await make_tenant()
    await rustok_client.graphql_data(
        "mutation($input: SignUpInput!) { signUp(input: $input) { user { email } } }",
        {"input": {"email": "Jürgen@bücher.de", "password": WRONG}},
        tenant=tenant,
    )
    body = await sign_in(rustok_client, tenant, typed, WRONG)
    assert not body.get("errors"), body
    assert body["data"]["signIn"]["user"]["email"] == "jürgen@bücher.de"
