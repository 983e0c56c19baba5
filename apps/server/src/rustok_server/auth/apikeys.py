"""API keys for integrations: ``rtk_<prefix>_<secret>``, stored as SHA-256 hashes.

A key belongs to one tenant and carries a fixed permission set (never more than its
creator held). Lookups by prefix are cached; revocation invalidates the cache across
processes at once. ``last_used_at`` is written at most once per
``auth.api_key_touch_interval`` seconds per key.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select, update

from rustok_core.auth import Principal, PrincipalKind
from rustok_core.cache import ReadThrough
from rustok_core.context import AppContext
from rustok_core.errors import FieldError, Forbidden, NotFound, Unauthenticated, Validation
from rustok_core.permissions import Scope, missing_grants
from rustok_server.auth.models import ApiKey
from rustok_server.auth.tokens import digest, new_secret

KEY_PREFIX = "rtk_"
MAX_KEY_LENGTH = 128
MAX_LIFETIME = timedelta(days=5 * 365)


def _encode(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)


def _decode(raw: bytes) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(raw)
    return result


class ApiKeyService:
    def __init__(self, ctx: AppContext) -> None:
        assert ctx.cache is not None
        self.ctx = ctx
        self.records: ReadThrough[dict[str, Any]] = ReadThrough(
            ctx.cache, "apikey", ttl=300.0, negative_ttl=60.0, encode=_encode, decode=_decode
        )
        ctx.state.setdefault("cache_lookups", []).append(self.records)

    async def create(
        self,
        tenant_id: uuid.UUID,
        *,
        name: str,
        permissions: Sequence[str],
        expires_at: datetime | None,
        actor: Principal,
        actor_grants: Mapping[str, Scope],
    ) -> tuple[str, ApiKey]:
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise Validation("name must be 1-100 characters", field="name")
        wanted = sorted(set(permissions))
        if not wanted:
            raise Validation("an API key needs at least one permission", field="permissions")
        catalog = self.ctx.permissions
        # Report the position in the caller's list (``wanted`` is sorted and deduplicated).
        for index, permission in enumerate(permissions):
            if not catalog.is_known(permission):
                message = f"unknown permission '{permission}'"
                raise Validation(message, errors=[FieldError(("permissions", index), message)])
            declared = catalog.get(permission)
            if declared is not None and declared.platform:
                raise Forbidden(f"'{permission}' is a platform permission and cannot be given to a key")
        missing = missing_grants(actor_grants, dict.fromkeys(wanted, "all"), catalog)
        if missing:
            raise Forbidden(
                f"a key cannot hold permissions you do not hold for all records: {', '.join(missing)}",
                missingPermissions=missing,
            )
        now = datetime.now(UTC)
        if expires_at is not None and not now < expires_at <= now + MAX_LIFETIME:
            raise Validation("expiresAt must be in the future and within 5 years", field="expiresAt")
        prefix = secrets.token_hex(4)
        key = f"{KEY_PREFIX}{prefix}_{new_secret()}"
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            row = ApiKey(
                name=name,
                prefix=prefix,
                key_hash=digest(key),
                permissions=wanted,
                expires_at=expires_at,
                created_by=actor.user_id,
            )
            session.add(row)
        await self.records.invalidate(prefix)
        return key, row

    async def list(self, tenant_id: uuid.UUID) -> Sequence[ApiKey]:
        async with self.ctx.db.session(tenant_id) as session:
            return (await session.scalars(select(ApiKey).order_by(ApiKey.id))).all()

    async def revoke(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            row = await session.get(ApiKey, key_id)
            if row is None:
                raise NotFound("API key not found")
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
        await self.records.invalidate(row.prefix)
        return row

    async def authenticate(self, key: str) -> Principal:
        parts = key.split("_", 2)
        if len(key) > MAX_KEY_LENGTH or len(parts) != 3 or not parts[1]:
            raise Unauthenticated("the API key is not valid", reason="API_KEY_INVALID")
        prefix = parts[1]

        async def load() -> dict[str, Any] | None:
            # Authentication happens before the tenant is known: a system lookup by prefix.
            async with self.ctx.db.system_session() as session:
                row = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
            if row is None:
                return None
            return {
                "id": str(row.id),
                "tenant_id": str(row.tenant_id),
                "hash": row.key_hash,
                "permissions": list(row.permissions),
                "expires_at": row.expires_at.timestamp() if row.expires_at else None,
                "revoked": row.revoked_at is not None,
            }

        record = await self.records.get(prefix, load)
        if record is None or not hmac.compare_digest(record["hash"], digest(key)):
            raise Unauthenticated("the API key is not valid", reason="API_KEY_INVALID")
        if record["revoked"]:
            raise Unauthenticated("the API key has been revoked", reason="API_KEY_REVOKED")
        if record["expires_at"] is not None and record["expires_at"] <= datetime.now(UTC).timestamp():
            raise Unauthenticated("the API key has expired", reason="API_KEY_EXPIRED")
        key_id = uuid.UUID(record["id"])
        tenant_id = uuid.UUID(record["tenant_id"])
        await self._touch(tenant_id, key_id)
        return Principal(
            kind=PrincipalKind.API_KEY,
            tenant_id=tenant_id,
            api_key_id=key_id,
            permissions=frozenset(record["permissions"]),
        )

    async def _touch(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> None:
        assert self.ctx.cache is not None
        interval = float(self.ctx.settings.auth.api_key_touch_interval)
        if await self.ctx.cache.incr(f"apikey-touch:{key_id}", ttl=interval) != 1:
            return
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=datetime.now(UTC)))
