"""Access tokens (JWT, HS256) and opaque secrets (refresh, mail and API-key tokens).

Access tokens are short-lived and carry the tenant id (``tid``), user id (``sub``) and
session family (``sid``). Opaque tokens are random 256-bit values; only their
SHA-256 hashes are stored.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt

from rustok_core.errors import BootError, Unauthenticated
from rustok_core.lru import LRU
from rustok_core.settings import Settings

ALGORITHM = "HS256"
ACCESS = "access"
SECRET_FILE = Path("var") / "jwt-secret"


def load_signing_key(settings: Settings) -> bytes:
    """The configured secret; outside production a generated one kept in ``var/jwt-secret``."""
    configured = settings.auth.jwt_secret
    if configured is not None:
        value = configured.get_secret_value()
        if len(value) < 32:
            raise BootError("settings auth.jwt_secret must be at least 32 characters")
        return value.encode()
    if settings.env == "production":
        raise BootError("production needs settings auth.jwt_secret (or RUSTOK_JWT_SECRET), 32+ characters")
    path = SECRET_FILE
    if path.is_file():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
    return secret


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    session_id: uuid.UUID | None
    expires_at: int


class TokenSigner:
    """Issues and verifies access tokens.

    Verified tokens are remembered (by their full text, until they expire) so that a
    client's repeated requests skip the HMAC and JSON work; a token that fails never
    enters the memory.
    """

    def __init__(self, key: bytes, *, issuer: str, ttl: int, remember: int = 10_000) -> None:
        self.key = key
        self.issuer = issuer
        self.ttl = ttl
        self._verified: LRU[str, AccessClaims] = LRU(remember)

    def issue(self, *, user_id: uuid.UUID, tenant_id: uuid.UUID, session_id: uuid.UUID | None) -> tuple[str, int]:
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "tid": str(tenant_id),
            "sid": str(session_id) if session_id else None,
            "typ": ACCESS,
            "iss": self.issuer,
            "iat": now,
            "exp": now + self.ttl,
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM), now + self.ttl

    def verify(self, token: str) -> AccessClaims:
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at > time.time():
                return known
            self._verified.pop(token)
        claims = self._decode(token)
        self._verified.put(token, claims)
        return claims

    def _decode(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "tid", "typ"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the access token has expired; refresh it", reason="TOKEN_EXPIRED") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the access token is not valid", reason="TOKEN_INVALID") from None
        if claims.get("typ") != ACCESS:
            raise Unauthenticated("the access token is not valid", reason="TOKEN_INVALID")
        try:
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                tenant_id=uuid.UUID(claims["tid"]),
                session_id=uuid.UUID(claims["sid"]) if claims.get("sid") else None,
                expires_at=int(claims["exp"]),
            )
        except (ValueError, TypeError):
            raise Unauthenticated("the access token is not valid", reason="TOKEN_INVALID") from None


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
