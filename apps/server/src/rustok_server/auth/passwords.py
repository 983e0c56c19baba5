"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from rustok_core.errors import Validation
from rustok_core.settings import AuthSettings

_hasher = PasswordHasher()
# Verified against when an email is unknown, so a miss costs the same as a wrong password.
_DUMMY_HASH = _hasher.hash("rustok-timing-equalizer")


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


async def hash_password(password: str) -> str:
    # argon2 takes tens of milliseconds of CPU: keep the event loop free.
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; runs a full argon2 verify even without a hash."""
    target = password_hash or _DUMMY_HASH

    def verify() -> bool:
        try:
            return _hasher.verify(target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    matched = await asyncio.to_thread(verify)
    return matched and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
