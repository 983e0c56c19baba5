"""Sign-up over GraphQL: accounts, validation, closed registration, email verification."""

from __future__ import annotations

import email
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from sqlalchemy import func, select

from rustok_core.mail import FileMailer
from rustok_server.app import create_app
from rustok_server.auth.models import AuthSession, AuthToken, User
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient

PASSWORD = "a sound passphrase"
SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) {
    accessToken refreshToken accessTokenExpiresAt verificationRequired
    user { id email displayName emailVerified }
  }
}"""
SIGN_IN = """
mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { accessToken refreshToken user { email emailVerified } }
}"""
VERIFY = "mutation($token: String!) { verifyEmail(token: $token) }"
ME = "{ me { email displayName roles } }"


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


async def count_rows(platform: Platform, model: Any, tenant_id: Any) -> int:
    async with platform.ctx.db.system_session() as session:
        count = await session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id))
    return int(count or 0)


def mails_to(platform: Platform, address: str) -> list[EmailMessage]:
    found = []
    for path in FileMailer(platform.settings.mail.directory, "").messages():
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(message, EmailMessage)
        if message["To"] == address:
            found.append(message)
    return found


def mailed_token(platform: Platform, message: EmailMessage) -> str:
    """The token of a verification mail: written out, and in a link to the public site."""
    body = message.get_content()
    link = re.escape(platform.settings.mail.public_url) + r"/verify-email\?token=([A-Za-z0-9_-]{20,})"
    match = re.search(link, body)
    assert match, body
    token = match.group(1)
    assert f"\n{token}\n" in body
    return token


@pytest.fixture(scope="module")
async def closed(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform = boot_platform(**{"rustok.features.registration_enabled": False})
    async with serve(platform) as client:
        yield platform, client


@pytest.fixture(scope="module")
async def verifying(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform = boot_platform(**{"rustok.features.email_verification": True})
    async with serve(platform) as client:
        yield platform, client


async def test_sign_up_returns_tokens_whose_access_token_identifies_a_new_customer(
    rustok_client: RustokClient, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    data = await rustok_client.graphql_data(
        SIGN_UP,
        {"input": {"email": "  Ada.Lovelace@Example.COM ", "password": PASSWORD, "displayName": "Ada"}},
        tenant=tenant,
    )
    payload = data["signUp"]
    assert payload["verificationRequired"] is False
    assert payload["accessToken"] and payload["refreshToken"]
    assert payload["accessTokenExpiresAt"]
    assert payload["user"]["email"] == "ada.lovelace@example.com"
    assert payload["user"]["emailVerified"] is False

    me = await rustok_client.graphql_data(
        ME, tenant=tenant, headers={"Authorization": f"Bearer {payload['accessToken']}"}
    )
    assert me["me"] == {"email": "ada.lovelace@example.com", "displayName": "Ada", "roles": ["customer"]}


async def test_the_display_name_defaults_to_the_local_part_of_the_email(
    rustok_client: RustokClient, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    data = await rustok_client.graphql_data(
        SIGN_UP, {"input": {"email": "grace@example.com", "password": PASSWORD}}, tenant=tenant
    )
    assert data["signUp"]["user"]["displayName"] == "grace"


async def test_an_email_taken_in_any_letter_case_is_a_conflict_and_stores_no_second_account(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    await rustok_client.graphql_data(
        SIGN_UP, {"input": {"email": "dup@example.com", "password": PASSWORD}}, tenant=tenant
    )

    body = await rustok_client.graphql(
        SIGN_UP, {"input": {"email": "DUP@Example.com", "password": PASSWORD}}, tenant=tenant
    )
    error = only_error(body)
    assert error["extensions"]["code"] == "CONFLICT"
    assert body["data"] is None
    assert await count_rows(rustok_platform, User, tenant.id) == 1

    # Emails are unique per tenant only: another tenant may have the same address.
    again = await rustok_client.graphql_data(
        SIGN_UP, {"input": {"email": "dup@example.com", "password": PASSWORD}}, tenant=other
    )
    assert again["signUp"]["user"]["email"] == "dup@example.com"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        pytest.param({"email": "not-an-email"}, "email", id="invalid-email"),
        pytest.param({"email": "a@b@example.com"}, "email", id="two-at-signs"),
        pytest.param({"email": "x" * 288 + "@example.com"}, "email", id="email-300-chars"),
        pytest.param({"password": "short"}, "password", id="short-password"),
        pytest.param({"password": "p" * 5000}, "password", id="password-5000-chars"),
        pytest.param({"email": "same.as@example.com", "password": "Same.As@Example.com"}, "password", id="pw-is-email"),
        pytest.param({"displayName": "n" * 101}, "displayName", id="display-name-101-chars"),
        pytest.param({"displayName": "   "}, "displayName", id="blank-display-name"),
    ],
)
async def test_invalid_sign_up_input_is_a_validation_error_naming_the_field_and_stores_nothing(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, given: dict[str, str], field: str
) -> None:
    tenant = await make_tenant()
    sign_up = {"email": "valid.person@example.com", "password": PASSWORD, **given}
    body = await rustok_client.graphql(SIGN_UP, {"input": sign_up}, tenant=tenant)
    error = only_error(body)
    assert error["extensions"]["code"] == "VALIDATION"
    assert [fe["path"][-1] for fe in error["extensions"]["fieldErrors"]] == [field]
    assert body["data"] is None
    assert await count_rows(rustok_platform, User, tenant.id) == 0
    assert await count_rows(rustok_platform, AuthSession, tenant.id) == 0


async def test_sign_up_is_forbidden_when_registration_is_disabled(
    closed: tuple[Platform, RustokClient], make_tenant: Any
) -> None:
    platform, client = closed
    tenant = await make_tenant(platform=platform)
    body = await client.graphql(SIGN_UP, {"input": {"email": "late@example.com", "password": PASSWORD}}, tenant=tenant)
    error = only_error(body)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["reason"] == "REGISTRATION_DISABLED"
    assert await count_rows(platform, User, tenant.id) == 0


async def test_with_email_verification_sign_up_mails_a_token_and_sign_in_waits_for_it(
    verifying: tuple[Platform, RustokClient], make_tenant: Any
) -> None:
    platform, client = verifying
    tenant = await make_tenant(platform=platform, name="Verified Shop")
    address = "verify.me@example.com"

    signed_up = await client.graphql_data(SIGN_UP, {"input": {"email": address, "password": PASSWORD}}, tenant=tenant)
    payload = signed_up["signUp"]
    assert payload["verificationRequired"] is True
    assert payload["accessToken"] is None
    assert payload["refreshToken"] is None
    assert payload["user"]["emailVerified"] is False
    assert await count_rows(platform, AuthSession, tenant.id) == 0

    [message] = mails_to(platform, address)
    assert message["X-Rustok-Purpose"] == "verify"
    assert "Verified Shop" in message["Subject"]
    token = mailed_token(platform, message)
    async with platform.ctx.db.system_session() as session:
        stored = (await session.scalars(select(AuthToken.token_hash).where(AuthToken.tenant_id == tenant.id))).all()
    assert token not in stored, "mail tokens are stored as hashes only"

    early = await client.graphql(SIGN_IN, {"email": address, "password": PASSWORD}, tenant=tenant)
    error = only_error(early)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["reason"] == "EMAIL_NOT_VERIFIED"
    assert early["data"] is None

    # A verification token is not a password-reset token.
    misuse = await client.graphql(
        "mutation($t: String!) { resetPassword(token: $t, password: $t) }", {"t": token}, tenant=tenant
    )
    assert only_error(misuse)["extensions"]["reason"] == "TOKEN_INVALID"

    assert (await client.graphql_data(VERIFY, {"token": token}, tenant=tenant))["verifyEmail"] is True
    signed_in = await client.graphql_data(SIGN_IN, {"email": address, "password": PASSWORD}, tenant=tenant)
    assert signed_in["signIn"]["accessToken"]
    assert signed_in["signIn"]["user"]["emailVerified"] is True

    reused = await client.graphql(VERIFY, {"token": token}, tenant=tenant)
    error = only_error(reused)
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["reason"] == "TOKEN_INVALID"


@pytest.mark.parametrize("token", ["garbage", "", "x" * 3000])
async def test_an_unknown_verification_token_is_refused(
    verifying: tuple[Platform, RustokClient], make_tenant: Any, token: str
) -> None:
    platform, client = verifying
    tenant = await make_tenant(platform=platform)
    body = await client.graphql(VERIFY, {"token": token}, tenant=tenant)
    error = only_error(body)
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["reason"] == "TOKEN_INVALID"
    assert error["extensions"]["fieldErrors"][0]["path"][-1] == "token"


async def test_a_verification_token_only_works_in_its_own_tenant(
    verifying: tuple[Platform, RustokClient], make_tenant: Any
) -> None:
    platform, client = verifying
    home, elsewhere = await make_tenant(platform=platform), await make_tenant(platform=platform)
    address = "tenant.bound@example.com"
    await client.graphql_data(SIGN_UP, {"input": {"email": address, "password": PASSWORD}}, tenant=home)
    [message] = [m for m in mails_to(platform, address) if home.name in m["Subject"]]
    token = mailed_token(platform, message)

    body = await client.graphql(VERIFY, {"token": token}, tenant=elsewhere)
    assert only_error(body)["extensions"]["reason"] == "TOKEN_INVALID"
    assert (await client.graphql_data(VERIFY, {"token": token}, tenant=home))["verifyEmail"] is True
