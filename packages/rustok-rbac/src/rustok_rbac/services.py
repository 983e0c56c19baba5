"""Roles, assignments and permission checks: the only writer of rbac's tables.

Escalation rules: a caller can only create, assign, revoke or delete a role whose
grants it holds itself (with the same or a wider scope); ``super_admin`` is assigned
and revoked only by a user holding it; the last ``admin`` of a tenant cannot be removed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.auth import PrincipalKind
from rustok_core.cache import ReadThrough
from rustok_core.context import AppContext, RequestContext
from rustok_core.errors import BootError, Conflict, FieldError, Forbidden, NotFound, Unauthenticated, Validation
from rustok_core.interfaces import UserDirectory
from rustok_core.permissions import (
    ADMIN,
    BUILTIN_ROLES,
    SCOPES,
    SUPER_ADMIN,
    Scope,
    best_scope,
    missing_grants,
)
from rustok_rbac.models import Role, RoleAssignment, RolePermission

ROLE_SLUG_RE = re.compile(r"^[a-z][a-z0-9_-]{1,63}\Z")
GRANTS_TTL = 300.0
MEMO_KEY = "rbac.grants"


@dataclass(frozen=True)
class RoleView:
    slug: str
    name: str
    description: str
    built_in: bool
    grants: Mapping[str, Scope]


def _encode(grants: Mapping[str, Scope]) -> bytes:
    return orjson.dumps(dict(grants))


def _decode(raw: bytes) -> dict[str, Scope]:
    return dict(orjson.loads(raw))


def _merge(into: dict[str, Scope], grants: Mapping[str, Scope]) -> None:
    for name, scope in grants.items():
        if into.get(name) != "all":
            into[name] = scope


class AccessControl:
    """Implements the ``Authorizer`` and ``RoleAssigner`` interfaces."""

    def __init__(self, ctx: AppContext) -> None:
        if ctx.cache is None:
            raise BootError("the rbac module needs the platform cache (AppContext.cache)")
        self.ctx = ctx
        self.grants_cache: ReadThrough[dict[str, Scope]] = ReadThrough(
            ctx.cache, "grants", ttl=GRANTS_TTL, negative_ttl=GRANTS_TTL, encode=_encode, decode=_decode
        )
        ctx.state.setdefault("cache_lookups", []).append(self.grants_cache)

    # -- checks ------------------------------------------------------------------------

    async def effective_permissions(self, ctx: RequestContext) -> Mapping[str, Scope]:
        principal = ctx.principal
        if principal is None:
            return {}
        memo = ctx.memo.get(MEMO_KEY)
        if memo is None:
            if principal.kind is PrincipalKind.API_KEY:
                memo = dict.fromkeys(principal.permissions or (), "all")
            else:
                assert principal.user_id is not None
                memo = await self.grants_for_user(principal.tenant_id, principal.user_id)
            ctx.memo[MEMO_KEY] = memo
        return cast("Mapping[str, Scope]", memo)

    async def authorize(self, ctx: RequestContext, permission: str, *, owner_id: uuid.UUID | None = None) -> Scope:
        principal = ctx.principal
        if principal is None:
            raise Unauthenticated(f"sign in first: this needs the permission '{permission}'", permission=permission)
        scope = best_scope(await self.effective_permissions(ctx), permission)
        if scope is None:
            raise Forbidden(f"you lack the permission '{permission}'", permission=permission)
        if scope == "own" and owner_id is not None and owner_id != principal.user_id:
            raise Forbidden(f"'{permission}' is granted to you for your own records only", permission=permission)
        return scope

    async def grants_for_user(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, Scope]:
        async def load() -> dict[str, Scope]:
            stmt = (
                select(RoleAssignment.role_slug, RolePermission.permission, RolePermission.scope)
                .outerjoin(Role, Role.slug == RoleAssignment.role_slug)
                .outerjoin(RolePermission, RolePermission.role_id == Role.id)
                .where(RoleAssignment.user_id == user_id)
            )
            async with self.ctx.db.session(tenant_id) as session:
                rows = (await session.execute(stmt)).all()
            held: dict[str, Scope] = {}
            for role_slug, permission, scope in rows:
                if role_slug in BUILTIN_ROLES:
                    _merge(held, self.ctx.permissions.grants_of_builtin(role_slug))
                elif permission is not None:
                    _merge(held, {permission: cast("Scope", scope)})
            return held

        return await self.grants_cache.get(f"{tenant_id}:{user_id}", load) or {}

    # -- RoleAssigner ----------------------------------------------------------------------

    async def assign_role(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str, *, session: AsyncSession | None = None
    ) -> None:
        if session is not None:
            await self._insert_assignment(session, tenant_id, user_id, role)
        else:
            async with self.ctx.db.session(tenant_id) as own, own.begin():
                await self._insert_assignment(own, tenant_id, user_id, role)
        await self.grants_cache.invalidate(f"{tenant_id}:{user_id}")

    async def roles_of(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> Sequence[str]:
        return (await self.roles_of_users(tenant_id, [user_id]))[0]

    async def roles_of_users(self, tenant_id: uuid.UUID, user_ids: Sequence[uuid.UUID]) -> list[list[str]]:
        """Roles of several users in one query (the ``User.roles`` dataloader)."""
        async with self.ctx.db.session(tenant_id) as session:
            rows = (
                await session.execute(
                    select(RoleAssignment.user_id, RoleAssignment.role_slug)
                    .where(RoleAssignment.user_id.in_(list(user_ids)))
                    .order_by(RoleAssignment.role_slug)
                )
            ).all()
        by_user: dict[uuid.UUID, list[str]] = {}
        for user, slug in rows:
            by_user.setdefault(user, []).append(slug)
        return [by_user.get(user, []) for user in user_ids]

    async def _insert_assignment(
        self, session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str
    ) -> None:
        # Share-lock the role row: a concurrent delete_role waits for this transaction
        # (and then removes the assignment), or has committed and the role is not found.
        await self._require_role(session, role, lock=True)
        exists = await session.scalar(
            select(RoleAssignment.id).where(RoleAssignment.user_id == user_id, RoleAssignment.role_slug == role)
        )
        if exists is None:
            session.add(RoleAssignment(user_id=user_id, role_slug=role))
            await session.flush()

    # -- administration ---------------------------------------------------------------------

    async def list_roles(self, tenant_id: uuid.UUID) -> list[RoleView]:
        catalog = self.ctx.permissions
        views = [
            RoleView(slug, slug.replace("_", " ").title(), "built-in role", True, catalog.grants_of_builtin(slug))
            for slug in BUILTIN_ROLES
        ]
        async with self.ctx.db.session(tenant_id) as session:
            roles = (await session.scalars(select(Role).order_by(Role.slug))).all()
            grants = (
                await session.execute(select(RolePermission.role_id, RolePermission.permission, RolePermission.scope))
            ).all()
        by_role: dict[uuid.UUID, dict[str, Scope]] = {}
        for role_id, permission, scope in grants:
            by_role.setdefault(role_id, {})[permission] = cast("Scope", scope)
        views.extend(RoleView(r.slug, r.name, r.description, False, by_role.get(r.id, {})) for r in roles)
        return views

    async def create_role(
        self,
        ctx: RequestContext,
        *,
        slug: str,
        name: str,
        description: str = "",
        grants: Mapping[str, str],
    ) -> RoleView:
        tenant = ctx.require_tenant()
        wanted = self._validate_role(slug, name, description, grants)
        missing = missing_grants(await self.effective_permissions(ctx), wanted, self.ctx.permissions)
        if missing:
            raise Forbidden(
                f"you cannot grant permissions you do not hold: {', '.join(missing)}", missingPermissions=missing
            )
        return await self.create_tenant_role(tenant.id, slug=slug, name=name, description=description, grants=wanted)

    async def create_tenant_role(
        self,
        tenant_id: uuid.UUID,
        *,
        slug: str,
        name: str,
        description: str = "",
        grants: Mapping[str, str],
    ) -> RoleView:
        """Create a tenant role without checking the caller (system work: seeding, imports)."""
        wanted = self._validate_role(slug, name, description, grants)
        name = name.strip()
        try:
            async with self.ctx.db.session(tenant_id) as session, session.begin():
                role = Role(slug=slug, name=name, description=description or "")
                session.add(role)
                await session.flush()
                session.add_all(RolePermission(role_id=role.id, permission=p, scope=s) for p, s in wanted.items())
        except IntegrityError:
            raise Conflict(f"a role '{slug}' already exists", field="slug") from None
        return RoleView(slug, name, description or "", False, wanted)

    def _validate_role(self, slug: str, name: str, description: str, grants: Mapping[str, str]) -> dict[str, Scope]:
        if not isinstance(slug, str) or not ROLE_SLUG_RE.match(slug):
            raise Validation(
                "role slug: 2-64 lowercase letters, digits, '-' or '_', starting with a letter", field="slug"
            )
        if slug in BUILTIN_ROLES:
            raise Conflict(f"'{slug}' is a built-in role", field="slug")
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise Validation("role name must be 1-100 characters", field="name")
        if len(description or "") > 500:
            raise Validation("description must be at most 500 characters", field="description")
        return self._validate_grants(grants)

    async def delete_role(self, ctx: RequestContext, slug: str) -> None:
        tenant = ctx.require_tenant()
        if slug in BUILTIN_ROLES:
            raise Conflict(f"'{slug}' is a built-in role and cannot be deleted", field="slug")
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            # Locked: assignments being inserted concurrently commit first, then go too.
            role = await session.scalar(select(Role).where(Role.slug == slug).with_for_update())
            if role is None:
                raise NotFound(f"role '{slug}' not found", role=slug)
            # Deleting a role revokes it from every holder: the rule of revoke applies.
            grants = await self._require_role(session, slug)
            missing = missing_grants(await self.effective_permissions(ctx), grants, self.ctx.permissions)
            if missing:
                raise Forbidden(
                    f"you cannot delete a role with permissions you do not hold: {', '.join(missing)}",
                    missingPermissions=missing,
                )
            holders = (
                await session.scalars(select(RoleAssignment.user_id).where(RoleAssignment.role_slug == slug))
            ).all()
            await session.execute(delete(RoleAssignment).where(RoleAssignment.role_slug == slug))
            await session.delete(role)
        await self._forget(tenant.id, holders)

    async def assign(self, ctx: RequestContext, user_id: uuid.UUID, role: str) -> None:
        tenant = ctx.require_tenant()
        user = await self.ctx.services.get(UserDirectory).find_user(tenant.id, user_id)
        if user is None:
            raise NotFound("user not found", userId=str(user_id))
        await self._check_escalation(ctx, role)
        await self.assign_role(tenant.id, user_id, role)

    async def revoke(self, ctx: RequestContext, user_id: uuid.UUID, role: str) -> bool:
        tenant = ctx.require_tenant()
        await self._check_escalation(ctx, role)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            if role == ADMIN:
                # Lock the tenant's admin assignments: two admins revoking each other at
                # once must not both succeed (the second waits, then sees one admin left).
                admins = (
                    await session.scalars(
                        select(RoleAssignment.user_id).where(RoleAssignment.role_slug == ADMIN).with_for_update()
                    )
                ).all()
                if user_id in admins and len(admins) == 1:
                    raise Conflict("the tenant's last admin cannot lose the admin role", role=role)
            removed = await session.execute(
                delete(RoleAssignment).where(RoleAssignment.user_id == user_id, RoleAssignment.role_slug == role)
            )
        await self._forget(tenant.id, [user_id])
        return bool(cast("CursorResult[Any]", removed).rowcount)

    # -- helpers ------------------------------------------------------------------------------

    def _validate_grants(self, grants: Mapping[str, str]) -> dict[str, Scope]:
        if not grants:
            raise Validation("a role needs at least one permission", field="grants")
        if len(grants) > 500:
            raise Validation("a role can hold at most 500 permissions", field="grants")
        catalog = self.ctx.permissions
        result: dict[str, Scope] = {}
        for index, (name, scope) in enumerate(grants.items()):
            if not catalog.is_known(name):
                message = f"unknown permission '{name}'"
                raise Validation(message, errors=[FieldError(("grants", index, "permission"), message)])
            declared = catalog.get(name)
            if declared is not None and declared.platform:
                raise Forbidden(f"'{name}' is a platform permission; only super admins hold it")
            if scope not in SCOPES:
                message = "scope must be ALL or OWN"
                raise Validation(message, errors=[FieldError(("grants", index, "scope"), message)])
            result[name] = scope
        return result

    async def _require_role(self, session: AsyncSession, role: str, *, lock: bool = False) -> dict[str, Scope]:
        if role in BUILTIN_ROLES:
            return self.ctx.permissions.grants_of_builtin(role)
        stmt = select(Role).where(Role.slug == role)
        found = await session.scalar(stmt.with_for_update(read=True) if lock else stmt)
        if found is None:
            raise NotFound(f"role '{role}' not found", role=role)
        rows = (
            await session.execute(
                select(RolePermission.permission, RolePermission.scope).where(RolePermission.role_id == found.id)
            )
        ).all()
        return {permission: cast("Scope", scope) for permission, scope in rows}

    async def _check_escalation(self, ctx: RequestContext, role: str) -> None:
        tenant = ctx.require_tenant()
        if role == SUPER_ADMIN:
            # Holding every permission is not enough: without platform permissions an
            # admin holds as much as a super admin. The caller must hold the role itself.
            principal = ctx.principal
            if (
                principal is None
                or principal.kind is not PrincipalKind.USER
                or principal.user_id is None
                or SUPER_ADMIN not in await self.roles_of(tenant.id, principal.user_id)
            ):
                raise Forbidden("only a super admin can assign or revoke super_admin")
            return
        async with self.ctx.db.session(tenant.id) as session:
            role_grants = await self._require_role(session, role)
        missing = missing_grants(await self.effective_permissions(ctx), role_grants, self.ctx.permissions)
        if missing:
            raise Forbidden(
                f"you cannot assign or revoke a role with permissions you do not hold: {', '.join(missing)}",
                missingPermissions=missing,
            )

    async def _forget(self, tenant_id: uuid.UUID, users: Iterable[uuid.UUID]) -> None:
        keys = [f"{tenant_id}:{user}" for user in users]
        if keys:
            await self.grants_cache.invalidate(*keys)
