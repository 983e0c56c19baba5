"""Password-reset mail through a real SMTP server (aiosmtpd on a free local port)."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient

FORGOT = "mutation($email: String!) { forgotPassword(email: $email) }"
RESET = "mutation($token: String!, $password: String!) { resetPassword(token: $token, password: $password) }"
SIGN_IN = "mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { accessToken } }"
NEW_PASSWORD = "a password chosen from the mail"


class Collector:
    """An aiosmtpd handler keeping every envelope it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


@asynccontextmanager
async def serve(platform: Platform) -> AsyncIterator[RustokClient]:
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield client


@pytest.fixture(scope="module")
async def smtp_platform(
    boot_platform: Any, smtp_server: tuple[Collector, int]
) -> AsyncIterator[tuple[Platform, RustokClient]]:
    _, port = smtp_server
    platform = boot_platform(
        **{
            "mail.transport": "smtp",
            "mail.smtp_host": "127.0.0.1",
            "mail.smtp_port": port,
            "mail.from_address": "Shop <no-reply@shop.test>",
            "mail.public_url": "https://shop.test",
        }
    )
    async with serve(platform) as client:
        yield platform, client


@pytest.fixture(scope="module")
async def unreachable_smtp_platform(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform = boot_platform(
        **{
            "mail.transport": "smtp",
            "mail.smtp_host": "127.0.0.1",
            "mail.smtp_port": free_port(),
            "mail.smtp_timeout": 2,
        }
    )
    async with serve(platform) as client:
        yield platform, client


async def test_forgot_password_delivers_the_reset_token_over_smtp(
    smtp_platform: tuple[Platform, RustokClient],
    smtp_server: tuple[Collector, int],
    make_tenant: Any,
    make_user: Any,
) -> None:
    platform, client = smtp_platform
    collector, _ = smtp_server
    tenant = await make_tenant(platform=platform, name="Smtp Shop")
    user = await make_user(tenant, role="customer", platform=platform)
    already = len(collector.envelopes)

    sent = await client.graphql_data(FORGOT, {"email": user.email}, tenant=tenant)
    assert sent["forgotPassword"] is True

    [envelope] = collector.envelopes[already:]
    assert envelope.rcpt_tos == [user.email]
    assert envelope.mail_from == "no-reply@shop.test"
    assert isinstance(envelope.content, bytes)
    message = email.message_from_bytes(envelope.content, policy=default_policy)
    assert isinstance(message, EmailMessage)
    assert message["To"] == user.email
    assert message["X-Rustok-Purpose"] == "reset"
    assert "Smtp Shop" in message["Subject"]
    match = re.search(r"https://shop\.test/reset-password\?token=([A-Za-z0-9_-]{20,})", message.get_content())
    assert match, message.get_content()

    # The mailed token is the real one.
    reset = await client.graphql_data(RESET, {"token": match.group(1), "password": NEW_PASSWORD}, tenant=tenant)
    assert reset["resetPassword"] is True
    signed_in = await client.graphql_data(SIGN_IN, {"email": user.email, "password": NEW_PASSWORD}, tenant=tenant)
    assert signed_in["signIn"]["accessToken"]


async def test_forgot_password_sends_no_mail_for_an_unknown_email(
    smtp_platform: tuple[Platform, RustokClient], smtp_server: tuple[Collector, int], make_tenant: Any
) -> None:
    platform, client = smtp_platform
    collector, _ = smtp_server
    tenant = await make_tenant(platform=platform)
    already = len(collector.envelopes)
    assert (await client.graphql_data(FORGOT, {"email": "ghost@example.com"}, tenant=tenant))["forgotPassword"]
    assert collector.envelopes[already:] == []


async def test_forgot_password_answers_the_same_when_the_mail_server_is_down(
    unreachable_smtp_platform: tuple[Platform, RustokClient], make_tenant: Any, make_user: Any
) -> None:
    """A delivery failure must not tell a caller that the email belongs to an account."""
    platform, client = unreachable_smtp_platform
    tenant = await make_tenant(platform=platform)
    user = await make_user(tenant, role="customer", platform=platform)
    known = await client.graphql(FORGOT, {"email": user.email}, tenant=tenant)
    unknown = await client.graphql(FORGOT, {"email": "ghost@example.com"}, tenant=tenant)
    assert known == unknown == {"data": {"forgotPassword": True}}
