"""Outgoing mail behind one interface: files under ``var/mail/`` by default, SMTP when configured.

Services build a :class:`MailMessage` and hand it to ``ctx.mailer``; they never know
which transport delivers it. The file transport writes one RFC 5322 ``.eml`` file per
message (readable by any mail client, and by tests).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol, runtime_checkable

import aiosmtplib

from rustok_core.ids import generate_id, id_to_ulid
from rustok_core.settings import MailSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Mailer(Protocol):
    async def send(self, message: MailMessage) -> None:
        """Deliver ``message`` or raise; callers decide whether a failure is fatal."""
        ...


def build_email(message: MailMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="rustok")
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.text)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
    return email


class FileMailer:
    """Writes each message as ``<directory>/<ulid>.eml``."""

    def __init__(self, directory: str | Path, sender: str) -> None:
        self.directory = Path(directory)
        self.sender = sender

    async def send(self, message: MailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{id_to_ulid(generate_id())}.eml"
        path.write_bytes(bytes(build_email(message, self.sender)))
        log.info("mail to %s written to %s", message.to, path)

    def messages(self) -> list[Path]:
        """Written messages, oldest first (ULID names sort by time)."""
        return sorted(self.directory.glob("*.eml")) if self.directory.exists() else []


class SmtpMailer:
    """Delivers through an SMTP server (plain, STARTTLS or implicit TLS)."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    async def send(self, message: MailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            build_email(message, s.from_address),
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_security == "starttls",
            use_tls=s.smtp_security == "tls",
            timeout=s.smtp_timeout,
        )


def mailer_from_settings(settings: MailSettings) -> Mailer:
    if settings.transport == "smtp":
        return SmtpMailer(settings)
    return FileMailer(settings.directory, settings.from_address)
