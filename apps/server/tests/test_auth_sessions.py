"""Sessions: refresh rotation, reuse detection, sign-out, password change and reset."""

from __future__ import annotations

import email
import re
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from sqlalchemy import select

from rustok_core.mail import FileMailer
from rustok_server.auth.models import AuthSession, AuthToken
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient

SIGN_IN = """
mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { accessToken refreshToken }
}"""
REFRESH = "mutation($token: String!) { refreshToken(token: $token) { accessToken refreshToken user { email } } }"
SIGN_OUT = "mutation($token: String) { signOut(refreshToken: $token) }"
CHANGE = "mutation($current: String!, $new: String!) { changePassword(currentPassword: $current, newPassword: $new) }"
FORGOT = "mutation($email: String!) { forgotPassword(email: $email) }"
RESET = "mutation($token: String!, $password: String!) { resetPassword(token: $token, password: $password) }"
ME = "{ me { email } }"
NEW_PASSWORD = "an entirely new passphrase"


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    assert len(body["errors"]) == 1, body["errors"]
    error: dict[str, Any] = body["errors"][0]
    return error


def bearer(tenant: Any, access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}", "X-Tenant-ID": tenant.slug}


async def refresh(client: RustokClient, tenant: Any, token: str) -> dict[str, Any]:
    return await client.graphql(REFRESH, {"token": token}, tenant=tenant)


async def refreshed(client: RustokClient, tenant: Any, token: str) -> dict[str, Any]:
    body = await refresh(client, tenant, token)
    assert not body.get("errors"), body
    payload: dict[str, Any] = body["data"]["refreshToken"]
    return payload


async def sign_in(client: RustokClient, tenant: Any, address: str, password: str) -> dict[str, Any]:
    body = await client.graphql(SIGN_IN, {"email": address, "password": password}, tenant=tenant)
    assert not body.get("errors"), body
    payload: dict[str, Any] = body["data"]["signIn"]
    return payload


def refused(body: dict[str, Any], reason: str | None = None) -> None:
    error = only_error(body)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    if reason is not None:
        assert error["extensions"]["reason"] == reason
    assert body.get("data") is None


def mails_to(platform: Platform, address: str) -> list[EmailMessage]:
    found = []
    for path in FileMailer(platform.settings.mail.directory, "").messages():
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(message, EmailMessage)
        if message["To"] == address:
            found.append(message)
    return found


def reset_token(platform: Platform, message: EmailMessage) -> str:
    body = message.get_content()
    link = re.escape(platform.settings.mail.public_url) + r"/reset-password\?token=([A-Za-z0-9_-]{20,})"
    match = re.search(link, body)
    assert match, body
    return match.group(1)


# --- refresh ---------------------------------------------------------------------------------


async def test_refresh_returns_a_new_pair_and_retires_the_old_refresh_token(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer")
    pair = await refreshed(rustok_client, tenant, user.refresh_token)
    assert pair["refreshToken"] != user.refresh_token
    assert pair["user"]["email"] == user.email
    me = await rustok_client.graphql_data(ME, headers=bearer(tenant, pair["accessToken"]))
    assert me["me"]["email"] == user.email

    refused(await refresh(rustok_client, tenant, user.refresh_token), "REFRESH_TOKEN_REUSED")


async def test_reusing_a_rotated_refresh_token_ends_its_whole_family_but_not_other_sign_ins(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer")
    other_device = await sign_in(rustok_client, tenant, user.email, user.password)

    second = await refreshed(rustok_client, tenant, user.refresh_token)
    third = await refreshed(rustok_client, tenant, second["refreshToken"])

    # An attacker replays the stolen first token: the family is revoked...
    refused(await refresh(rustok_client, tenant, user.refresh_token), "REFRESH_TOKEN_REUSED")
    # ...so the legitimate holder of the newest token must sign in again.
    refused(await refresh(rustok_client, tenant, third["refreshToken"]))

    elsewhere = await refreshed(rustok_client, tenant, other_device["refreshToken"])
    assert elsewhere["accessToken"]


@pytest.mark.parametrize("token", ["garbage", "", "x" * 5000])
async def test_an_unknown_refresh_token_is_refused(rustok_client: RustokClient, make_tenant: Any, token: str) -> None:
    tenant = await make_tenant()
    refused(await refresh(rustok_client, tenant, token), "REFRESH_TOKEN_INVALID")


async def test_a_refresh_token_only_works_in_its_own_tenant(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    home, elsewhere = await make_tenant(), await make_tenant()
    user = await make_user(home, role="customer")
    refused(await refresh(rustok_client, elsewhere, user.refresh_token), "REFRESH_TOKEN_INVALID")
    assert (await refreshed(rustok_client, home, user.refresh_token))["accessToken"]


async def test_an_expired_refresh_token_is_refused(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer")
    async with rustok_platform.ctx.db.session(tenant.id) as session, session.begin():
        row = await session.scalar(select(AuthSession).where(AuthSession.user_id == user.id))
        assert row is not None
        row.expires_at = row.created_at
    refused(await refresh(rustok_client, tenant, user.refresh_token), "REFRESH_TOKEN_EXPIRED")


# --- sign-out --------------------------------------------------------------------------------


async def test_sign_out_ends_the_current_family(rustok_client: RustokClient, make_tenant: Any, make_user: Any) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer")
    other_device = await sign_in(rustok_client, tenant, user.email, user.password)
    rotated = await refreshed(rustok_client, tenant, user.refresh_token)

    # The access token works while the sign-in is open (and is cached as such)...
    assert (await rustok_client.graphql_data(ME, headers=bearer(tenant, rotated["accessToken"])))["me"]
    out = await rustok_client.graphql_data(SIGN_OUT, headers=bearer(tenant, rotated["accessToken"]))
    assert out["signOut"] is True
    refused(await refresh(rustok_client, tenant, rotated["refreshToken"]))
    # ...and stops at once when the sign-in ends, long before it expires.
    ended = await rustok_client.graphql(ME, headers=bearer(tenant, rotated["accessToken"]), expect_status=401)
    refused(ended, "SESSION_ENDED")
    assert (await refreshed(rustok_client, tenant, other_device["refreshToken"]))["accessToken"]
    assert (await rustok_client.graphql_data(ME, headers=bearer(tenant, other_device["accessToken"])))["me"]


async def test_sign_out_with_a_refresh_token_ends_that_family_too_but_only_the_callers(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer")
    stranger = await make_user(tenant, role="customer")
    second = await sign_in(rustok_client, tenant, user.email, user.password)
    third = await sign_in(rustok_client, tenant, user.email, user.password)

    await rustok_client.graphql_data(SIGN_OUT, {"token": second["refreshToken"]}, headers=user.headers)
    refused(await refresh(rustok_client, tenant, user.refresh_token))
    refused(await refresh(rustok_client, tenant, second["refreshToken"]))
    assert (await refreshed(rustok_client, tenant, third["refreshToken"]))["accessToken"]

    # Naming somebody else's refresh token ends nothing of theirs.
    await rustok_client.graphql_data(
        SIGN_OUT, {"token": stranger.refresh_token}, headers=bearer(tenant, third["accessToken"])
    )
    assert (await refreshed(rustok_client, tenant, stranger.refresh_token))["accessToken"]


async def test_sign_out_needs_a_signed_in_caller(rustok_client: RustokClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    body = await rustok_client.graphql(SIGN_OUT, tenant=tenant)
    assert only_error(body)["extensions"]["code"] == "UNAUTHENTICATED"


# --- change password ----------------------------------------------------------------------------


async def test_change_password_needs_the_current_password_and_a_valid_new_one(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer")

    wrong = await rustok_client.graphql(CHANGE, {"current": "not it at all", "new": NEW_PASSWORD}, headers=user.headers)
    error = only_error(wrong)
    assert error["extensions"]["code"] == "VALIDATION"
    assert [fe["path"][-1] for fe in error["extensions"]["fieldErrors"]] == ["currentPassword"]

    weak = await rustok_client.graphql(CHANGE, {"current": user.password, "new": "short"}, headers=user.headers)
    error = only_error(weak)
    assert error["extensions"]["code"] == "VALIDATION"
    assert [fe["path"][-1] for fe in error["extensions"]["fieldErrors"]] == ["newPassword"]

    # Neither attempt changed anything.
    assert await sign_in(rustok_client, tenant, user.email, user.password)


async def test_change_password_keeps_the_current_session_and_ends_the_others(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer")
    laptop = await sign_in(rustok_client, tenant, user.email, user.password)

    changed = await rustok_client.graphql_data(
        CHANGE, {"current": user.password, "new": NEW_PASSWORD}, headers=bearer(tenant, laptop["accessToken"])
    )
    assert changed["changePassword"] is True

    refused(await refresh(rustok_client, tenant, user.refresh_token))
    other = await rustok_client.graphql(ME, headers=bearer(tenant, user.access_token), expect_status=401)
    refused(other, "SESSION_ENDED")
    assert (await rustok_client.graphql_data(ME, headers=bearer(tenant, laptop["accessToken"])))["me"]
    assert (await refreshed(rustok_client, tenant, laptop["refreshToken"]))["accessToken"]

    old = await rustok_client.graphql(SIGN_IN, {"email": user.email, "password": user.password}, tenant=tenant)
    refused(old, "INVALID_CREDENTIALS")
    assert (await sign_in(rustok_client, tenant, user.email, NEW_PASSWORD))["accessToken"]


# --- forgot and reset password ------------------------------------------------------------------


async def test_forgot_password_answers_true_for_unknown_emails_and_sends_nothing(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    before = FileMailer(rustok_platform.settings.mail.directory, "").messages()
    for address in ("nobody@example.com", "not an email", "x" * 300):
        data = await rustok_client.graphql_data(FORGOT, {"email": address}, tenant=tenant)
        assert data["forgotPassword"] is True
    assert FileMailer(rustok_platform.settings.mail.directory, "").messages() == before


async def test_forgot_password_sends_nothing_for_a_user_of_another_tenant(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    home, elsewhere = await make_tenant(), await make_tenant()
    user = await make_user(home, role="customer")
    assert (await rustok_client.graphql_data(FORGOT, {"email": user.email}, tenant=elsewhere))["forgotPassword"]
    assert mails_to(rustok_platform, user.email) == []


async def test_reset_password_with_the_mailed_token_sets_the_password_and_ends_all_sessions(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer")

    sent = await rustok_client.graphql_data(FORGOT, {"email": user.email.upper()}, tenant=tenant)
    assert sent["forgotPassword"] is True
    [message] = mails_to(rustok_platform, user.email)
    assert message["X-Rustok-Purpose"] == "reset"
    token = reset_token(rustok_platform, message)
    async with rustok_platform.ctx.db.session(tenant.id) as session:
        hashes = (await session.scalars(select(AuthToken.token_hash))).all()
    assert len(hashes) == 1
    assert token not in hashes

    # An invalid new password does not use the token up.
    weak = await rustok_client.graphql(RESET, {"token": token, "password": "short"}, tenant=tenant)
    assert only_error(weak)["extensions"]["code"] == "VALIDATION"
    assert only_error(weak)["extensions"]["fieldErrors"][0]["path"][-1] == "password"

    done = await rustok_client.graphql_data(RESET, {"token": token, "password": NEW_PASSWORD}, tenant=tenant)
    assert done["resetPassword"] is True
    refused(await refresh(rustok_client, tenant, user.refresh_token))
    old = await rustok_client.graphql(SIGN_IN, {"email": user.email, "password": user.password}, tenant=tenant)
    refused(old, "INVALID_CREDENTIALS")
    assert (await sign_in(rustok_client, tenant, user.email, NEW_PASSWORD))["accessToken"]

    twice = await rustok_client.graphql(RESET, {"token": token, "password": "yet another passphrase"}, tenant=tenant)
    error = only_error(twice)
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["reason"] == "TOKEN_INVALID"
    assert (await sign_in(rustok_client, tenant, user.email, NEW_PASSWORD))["accessToken"]


async def test_an_expired_reset_token_is_refused(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    user = await make_user(tenant, role="customer")
    await rustok_client.graphql_data(FORGOT, {"email": user.email}, tenant=tenant)
    [message] = mails_to(rustok_platform, user.email)
    token = reset_token(rustok_platform, message)
    async with rustok_platform.ctx.db.session(tenant.id) as session, session.begin():
        row = await session.scalar(select(AuthToken).where(AuthToken.user_id == user.id))
        assert row is not None
        row.expires_at = row.created_at

    body = await rustok_client.graphql(RESET, {"token": token, "password": NEW_PASSWORD}, tenant=tenant)
    assert only_error(body)["extensions"]["reason"] == "TOKEN_INVALID"
    assert (await sign_in(rustok_client, tenant, user.email, user.password))["accessToken"]


async def test_a_disabled_user_gets_no_reset_mail(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    user = await make_user(tenant, role="customer")
    await rustok_client.graphql_data(
        "mutation($id: UUID!) { setUserStatus(userId: $id, status: DISABLED) { status } }",
        {"id": str(user.id)},
        headers=admin.headers,
    )
    assert (await rustok_client.graphql_data(FORGOT, {"email": user.email}, tenant=tenant))["forgotPassword"]
    assert mails_to(rustok_platform, user.email) == []
