"""Wire accounts and authentication into a booted platform."""

from __future__ import annotations

from rustok_core.cache import ReadThrough
from rustok_core.context import AppContext
from rustok_core.interfaces import TenantResolver, UserDirectory
from rustok_server.auth.apikeys import ApiKeyService
from rustok_server.auth.authenticate import Authenticator
from rustok_server.auth.service import AuthService
from rustok_server.auth.tokens import TokenSigner, load_signing_key

ACTIVE_USERS_TTL = 60.0


def install_auth(ctx: AppContext) -> Authenticator:
    """Create the auth services, register ``UserDirectory``, return the request authenticator."""
    assert ctx.cache is not None
    settings = ctx.settings
    signer = TokenSigner(
        load_signing_key(settings), issuer=settings.auth.jwt_issuer, ttl=settings.auth.access_token_ttl
    )
    ctx.state["auth.active_users"] = ReadThrough(
        ctx.cache,
        "active-user",
        ttl=ACTIVE_USERS_TTL,
        negative_ttl=ACTIVE_USERS_TTL,
        encode=lambda active: b"1" if active else b"0",
        decode=lambda raw: raw == b"1",
    )
    ctx.state["auth.open_sessions"] = ReadThrough(
        ctx.cache,
        "open-session",
        ttl=float(settings.auth.refresh_token_ttl),
        negative_ttl=float(settings.auth.refresh_token_ttl),
        encode=lambda _: b"1",
        decode=lambda _: True,
    )
    ctx.state.setdefault("cache_lookups", []).extend([ctx.state["auth.active_users"], ctx.state["auth.open_sessions"]])
    users = AuthService(ctx, signer)
    api_keys = ApiKeyService(ctx)
    ctx.state["auth.service"] = users
    ctx.state["auth.api_keys"] = api_keys
    ctx.state["auth.signer"] = signer
    ctx.services.register(UserDirectory, users, provider="server")
    return Authenticator(signer, users, api_keys, ctx.services.get(TenantResolver))
