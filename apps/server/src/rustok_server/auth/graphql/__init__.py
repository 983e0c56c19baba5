"""GraphQL surface of accounts, sessions and API keys (server-owned fields)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo
from sqlalchemy import select

from rustok_core.context import RequestContext
from rustok_core.errors import Validation
from rustok_core.interfaces import Authorizer
from rustok_core.pagination import connection, decode_cursor, page_size
from rustok_server.auth.models import User
from rustok_server.auth.service import AuthResult

query = QueryType()
mutation = MutationType()
user_type = ObjectType("User")
status_enum = EnumType("UserStatus", {"ACTIVE": "active", "DISABLED": "disabled"})


def _auth(ctx: RequestContext) -> Any:
    return ctx.app.state["auth.service"]


def _keys(ctx: RequestContext) -> Any:
    return ctx.app.state["auth.api_keys"]


def _client(ctx: RequestContext) -> tuple[str | None, str | None]:
    return ctx.client_ip, ctx.conn.headers.get("user-agent")


def _payload(result: AuthResult) -> dict[str, Any]:
    return {
        "access_token": result.access_token,
        "access_token_expires_at": result.access_token_expires_at,
        "refresh_token": result.refresh_token,
        "verification_required": result.verification_required,
        "user": result.user,
    }


@user_type.field("emailVerified")
def resolve_email_verified(user: User, _: GraphQLResolveInfo) -> bool:
    return user.email_verified_at is not None


@query.field("me")
async def resolve_me(_: Any, info: GraphQLResolveInfo) -> User | None:
    ctx: RequestContext = info.context
    principal = ctx.require_principal()
    if principal.user_id is None:
        return None
    user: User | None = await _auth(ctx).get_user(principal.tenant_id, principal.user_id)
    return user


@query.field("users")
async def resolve_users(_: Any, info: GraphQLResolveInfo, first: int = 20, after: str | None = None) -> dict[str, Any]:
    ctx: RequestContext = info.context
    tenant = ctx.require_tenant()
    size = page_size(first)
    stmt = select(User).order_by(User.id).limit(size + 1)
    cursor = decode_cursor(after)
    if cursor is not None:
        try:
            stmt = stmt.where(User.id > uuid.UUID(cursor))
        except ValueError:
            raise Validation("invalid cursor", field="after") from None
    async with ctx.app.db.session(tenant.id) as session:
        rows = (await session.scalars(stmt)).all()
    return connection(rows, size, key=lambda user: str(user.id))


@query.field("apiKeys")
async def resolve_api_keys(_: Any, info: GraphQLResolveInfo) -> Any:
    ctx: RequestContext = info.context
    return await _keys(ctx).list(ctx.require_tenant().id)


@mutation.field("signUp")
async def resolve_sign_up(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    ctx: RequestContext = info.context
    ip, agent = _client(ctx)
    result = await _auth(ctx).sign_up(
        ctx.require_tenant(),
        email=input["email"],
        password=input["password"],
        display_name=input.get("display_name"),
        ip=ip,
        user_agent=agent,
    )
    return _payload(result)


@mutation.field("signIn")
async def resolve_sign_in(_: Any, info: GraphQLResolveInfo, email: str, password: str) -> dict[str, Any]:
    ctx: RequestContext = info.context
    ip, agent = _client(ctx)
    result = await _auth(ctx).sign_in(ctx.require_tenant(), email=email, password=password, ip=ip, user_agent=agent)
    return _payload(result)


@mutation.field("refreshToken")
async def resolve_refresh(_: Any, info: GraphQLResolveInfo, token: str) -> dict[str, Any]:
    ctx: RequestContext = info.context
    ip, agent = _client(ctx)
    return _payload(await _auth(ctx).refresh(ctx.require_tenant(), token, ip=ip, user_agent=agent))


@mutation.field("signOut")
async def resolve_sign_out(_: Any, info: GraphQLResolveInfo, refresh_token: str | None = None) -> bool:
    ctx: RequestContext = info.context
    await _auth(ctx).sign_out(ctx.require_principal(), refresh_token)
    return True


@mutation.field("forgotPassword")
async def resolve_forgot(_: Any, info: GraphQLResolveInfo, email: str) -> bool:
    ctx: RequestContext = info.context
    await _auth(ctx).forgot_password(ctx.require_tenant(), email)
    return True


@mutation.field("resetPassword")
async def resolve_reset(_: Any, info: GraphQLResolveInfo, token: str, password: str) -> bool:
    ctx: RequestContext = info.context
    await _auth(ctx).reset_password(ctx.require_tenant(), token, password)
    return True


@mutation.field("verifyEmail")
async def resolve_verify(_: Any, info: GraphQLResolveInfo, token: str) -> bool:
    ctx: RequestContext = info.context
    await _auth(ctx).verify_email(ctx.require_tenant(), token)
    return True


@mutation.field("resendVerification")
async def resolve_resend_verification(_: Any, info: GraphQLResolveInfo, email: str) -> bool:
    ctx: RequestContext = info.context
    await _auth(ctx).resend_verification(ctx.require_tenant(), email)
    return True


@mutation.field("changePassword")
async def resolve_change_password(_: Any, info: GraphQLResolveInfo, current_password: str, new_password: str) -> bool:
    ctx: RequestContext = info.context
    await _auth(ctx).change_password(ctx.require_principal(), current_password, new_password)
    return True


@mutation.field("setUserStatus")
async def resolve_set_status(_: Any, info: GraphQLResolveInfo, user_id: uuid.UUID, status: str) -> User:
    ctx: RequestContext = info.context
    user: User = await _auth(ctx).set_status(ctx.require_tenant().id, user_id, status, actor=ctx.require_principal())
    return user


@mutation.field("createApiKey")
async def resolve_create_api_key(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    ctx: RequestContext = info.context
    grants = await ctx.app.services.get(Authorizer).effective_permissions(ctx)
    expires_at: datetime | None = input.get("expires_at")
    key, row = await _keys(ctx).create(
        ctx.require_tenant().id,
        name=input["name"],
        permissions=input["permissions"],
        expires_at=expires_at,
        actor=ctx.require_principal(),
        actor_grants=grants,
    )
    return {"key": key, "api_key": row}


@mutation.field("revokeApiKey")
async def resolve_revoke_api_key(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> Any:
    ctx: RequestContext = info.context
    return await _keys(ctx).revoke(ctx.require_tenant().id, id)


BINDABLES = (query, mutation, user_type, status_enum)
