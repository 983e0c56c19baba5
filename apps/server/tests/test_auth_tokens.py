"""Access tokens on REST and GraphQL: forged, tampered, expired, foreign and malformed credentials."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from rustok_core.context import TenantContext
from rustok_core.interfaces import TenantDirectory
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.plugin import TEST_JWT_SECRET

REST = "/api/v1/tenant/current"
WHO = "{ currentTenant { slug } me { email } }"


@dataclass
class Account:
    tenant: TenantContext
    other_tenant: TenantContext
    user_id: uuid.UUID
    email: str
    other_user_id: uuid.UUID
    access_token: str

    @property
    def session_id(self) -> str:
        return str(jwt.decode(self.access_token, options={"verify_signature": False})["sid"])

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "sub": str(self.user_id),
            "tid": str(self.tenant.id),
            "sid": self.session_id,
            "typ": "access",
            "iss": "rustok",
            "iat": now,
            "exp": now + 600,
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}


@pytest.fixture(scope="module")
async def account(rustok_platform: Platform) -> Account:
    directory = rustok_platform.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug=f"tok-{uuid.uuid4().hex[:8]}", name="Token Home")
    other = await directory.create(slug=f"tok-{uuid.uuid4().hex[:8]}", name="Token Elsewhere")
    auth = rustok_platform.ctx.state["auth.service"]
    password = "token tests passphrase"
    user = await auth.create_user(tenant.id, email="holder@example.com", password=password, verified=True)
    other_user = await auth.create_user(tenant.id, email="neighbour@example.com", password=password, verified=True)
    signed = await auth.sign_in(tenant, email=user.email, password=password, ip=None, user_agent="pytest")
    return Account(tenant, other, user.id, user.email, other_user.id, signed.access_token)


def sign(claims: dict[str, Any], key: str = TEST_JWT_SECRET) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def swap_payload(token: str, claims: dict[str, Any]) -> str:
    """Keep header and signature, replace the payload: what a forger without the key can do."""
    header, _, signature = token.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{payload}.{signature}"


def flip_signature(token: str) -> str:
    head, _, signature = token.rpartition(".")
    middle = len(signature) // 2
    replacement = "A" if signature[middle] != "A" else "B"
    return f"{head}.{signature[:middle]}{replacement}{signature[middle + 1 :]}"


BAD_TOKENS: dict[str, tuple[Callable[[Account], str], str]] = {
    "other-key": (lambda a: sign(a.claims(), "an-attackers-own-signing-key-0123456789abcdef"), "TOKEN_INVALID"),
    "payload-swapped-to-another-user": (
        lambda a: swap_payload(a.access_token, a.claims(sub=str(a.other_user_id))),
        "TOKEN_INVALID",
    ),
    "signature-flipped": (lambda a: flip_signature(a.access_token), "TOKEN_INVALID"),
    "expired": (
        lambda a: sign(a.claims(iat=int(time.time()) - 3600, exp=int(time.time()) - 60)),
        "TOKEN_EXPIRED",
    ),
    "other-issuer": (lambda a: sign(a.claims(iss="someone-else")), "TOKEN_INVALID"),
    "alg-none": (lambda a: jwt.encode(a.claims(), None, algorithm="none"), "TOKEN_INVALID"),
    "not-an-access-token": (lambda a: sign(a.claims(typ="refresh")), "TOKEN_INVALID"),
    "without-tenant": (lambda a: sign(a.claims(tid=None)), "TOKEN_INVALID"),
    "without-expiry": (lambda a: sign(a.claims(exp=None)), "TOKEN_INVALID"),
    "subject-not-a-uuid": (lambda a: sign(a.claims(sub="admin")), "TOKEN_INVALID"),
    "not-a-jwt": (lambda a: "abc.def.ghi", "TOKEN_INVALID"),
}


def assert_refused_on_rest(response: httpx.Response, reason: str, account: Account) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "UNAUTHENTICATED"
    assert problem["reason"] == reason
    assert_nothing_leaks(response.text, account)


def assert_refused_on_graphql(response: httpx.Response, reason: str, account: Account) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["reason"] == reason
    assert_nothing_leaks(response.text, account)


def assert_nothing_leaks(text: str, account: Account) -> None:
    assert account.email not in text
    assert account.tenant.slug not in text
    assert account.other_tenant.slug not in text
    assert str(account.user_id) not in text


async def test_a_correctly_signed_crafted_token_is_accepted(rustok_client: RustokClient, account: Account) -> None:
    """The control for the forgeries below: claims built like this are what the server issues."""
    headers = {"Authorization": f"Bearer {sign(account.claims())}", "X-Tenant-ID": account.tenant.slug}
    data = await rustok_client.graphql_data(WHO, headers=headers)
    assert data == {"currentTenant": {"slug": account.tenant.slug}, "me": {"email": account.email}}
    assert (await rustok_client.get(REST, headers=headers)).status_code == 200


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_a_bad_access_token_is_refused_on_rest_and_graphql(
    rustok_client: RustokClient, account: Account, case: str
) -> None:
    make, reason = BAD_TOKENS[case]
    headers = {"Authorization": f"Bearer {make(account)}", "X-Tenant-ID": account.tenant.slug}
    assert_refused_on_rest(await rustok_client.get(REST, headers=headers), reason, account)
    graphql = await rustok_client.post("/graphql", json={"query": WHO}, headers=headers)
    assert_refused_on_graphql(graphql, reason, account)


async def test_a_token_of_an_unknown_or_ended_sign_in_is_refused(rustok_client: RustokClient, account: Account) -> None:
    headers = {
        "Authorization": f"Bearer {sign(account.claims(sid=str(uuid.uuid4())))}",
        "X-Tenant-ID": account.tenant.slug,
    }
    assert_refused_on_rest(await rustok_client.get(REST, headers=headers), "SESSION_ENDED", account)


async def test_a_token_is_refused_for_another_tenant(rustok_client: RustokClient, account: Account) -> None:
    headers = {"Authorization": f"Bearer {account.access_token}", "X-Tenant-ID": account.other_tenant.slug}
    assert_refused_on_rest(await rustok_client.get(REST, headers=headers), "TENANT_MISMATCH", account)
    graphql = await rustok_client.post("/graphql", json={"query": WHO}, headers=headers)
    assert_refused_on_graphql(graphql, "TENANT_MISMATCH", account)
    by_id = {**headers, "X-Tenant-ID": str(account.other_tenant.id)}
    assert_refused_on_rest(await rustok_client.get(REST, headers=by_id), "TENANT_MISMATCH", account)


async def test_a_token_without_a_tenant_header_is_served_for_its_own_tenant(
    rustok_client: RustokClient, account: Account
) -> None:
    headers = {"Authorization": f"Bearer {account.access_token}"}
    data = await rustok_client.graphql_data(WHO, headers=headers)
    assert data == {"currentTenant": {"slug": account.tenant.slug}, "me": {"email": account.email}}
    rest = await rustok_client.get(REST, headers=headers)
    assert rest.status_code == 200
    assert rest.json()["slug"] == account.tenant.slug


async def test_the_bearer_scheme_is_case_insensitive(rustok_client: RustokClient, account: Account) -> None:
    headers = {"Authorization": f"bearer   {account.access_token} ", "X-Tenant-ID": account.tenant.slug}
    assert (await rustok_client.graphql_data(WHO, headers=headers))["me"] == {"email": account.email}


MALFORMED_HEADERS = {
    "basic": "Basic dXNlcjpwYXNz",
    "basic-with-token": "Basic {token}",
    "other-scheme": "Token {token}",
    "no-scheme": "{token}",
    "bearer-alone": "Bearer",
    "bearer-blank": "Bearer    ",
    "empty": "",
    "two-tokens": "Bearer {token} {token}",
    "oversized": "Bearer " + "a" * 5000,
}


@pytest.mark.parametrize("case", sorted(MALFORMED_HEADERS))
async def test_a_malformed_authorization_header_is_refused_not_ignored(
    rustok_client: RustokClient, account: Account, case: str
) -> None:
    authorization = MALFORMED_HEADERS[case].replace("{token}", account.access_token)
    headers = {"Authorization": authorization, "X-Tenant-ID": account.tenant.slug}
    rest = await rustok_client.get(REST, headers=headers)
    assert rest.status_code == 401
    assert rest.json()["code"] == "UNAUTHENTICATED"
    assert rest.headers["www-authenticate"].startswith("Bearer")
    body = await rustok_client.graphql(WHO, headers=headers, expect_status=401)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_a_token_of_a_user_that_no_longer_exists_is_refused(
    rustok_client: RustokClient, account: Account
) -> None:
    headers = {"Authorization": f"Bearer {sign(account.claims(sub=str(uuid.uuid4())))}"}
    body = await rustok_client.graphql(WHO, headers=headers, expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
