"""Password hashing (argon2id, cost from settings) and the password policy."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from rustok_core.errors import Validation
from rustok_core.settings import AuthSettings


def validate_password(
    password: str, settings: AuthSettings, *, email: str | None = None, field: str = "password"
) -> str:
    if not isinstance(password, str) or len(password) < settings.password_min_length:
        raise Validation(f"password must have at least {settings.password_min_length} characters", field=field)
    if len(password) > settings.password_max_length:
        raise Validation(f"password must have at most {settings.password_max_length} characters", field=field)
    if email is not None and password.strip().lower() == email.lower():
        raise Validation("password must not be the email address", field=field)
    return password


class Passwords:
    """argon2id with the cost from ``auth.argon2_*``; hashing runs off the event loop."""

    def __init__(self, settings: AuthSettings) -> None:
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # Verified against when an email is unknown, so a miss costs the same as a wrong password.
        self.dummy_hash = self.hasher.hash("rustok-timing-equalizer")

    async def hash(self, password: str) -> str:
        # argon2 takes tens of milliseconds of CPU: keep the event loop free.
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; runs a full argon2 verify even without a hash."""
        target = password_hash or self.dummy_hash

        def verify() -> bool:
            try:
                return self.hasher.verify(target, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        matched = await asyncio.to_thread(verify)
        return matched and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)
