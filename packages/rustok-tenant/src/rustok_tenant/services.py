"""Tenant administration and per-tenant module toggles: the only writers of this module."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.context import AppContext, TenantContext
from rustok_core.db import translate_db_error
from rustok_core.errors import BootError, Conflict, Internal, NotFound, RustokError, Validation
from rustok_core.events import DomainEvent, EventPublisher
from rustok_core.events.core_events import ModuleDisabled, ModuleEnabled, TenantCreated, TenantUpdated
from rustok_core.ids import find_id, generate_id
from rustok_core.module import ModuleKind
from rustok_tenant.lookups import keys_of, tenant_lookups
from rustok_tenant.models import Tenant, TenantDomain, TenantModule
from rustok_tenant.slugs import SLUG_RE, validate_domain, validate_locale, validate_slug

log = logging.getLogger(__name__)


class TenantService:
    """Creates, finds and updates tenants; enables and disables their modules.

    Implements :class:`rustok_core.interfaces.TenantDirectory`.
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        if ctx.cache is None:
            raise BootError("the tenant module needs the platform cache (AppContext.cache)")
        self.lookups = tenant_lookups(ctx.cache, ctx.settings.rustok.tenant)
        ctx.state.setdefault("cache_lookups", []).append(self.lookups)

    # -- cached resolution -------------------------------------------------------------

    async def lookup(self, kind: str, value: str | uuid.UUID) -> TenantContext | None:
        """Cached lookup by ``id``, ``slug`` or ``host`` (``None``: no such tenant)."""

        async def load() -> TenantContext | None:
            stmt = self._context_query()
            if kind == "id":
                stmt = stmt.where(Tenant.id == value)
            elif kind == "slug":
                stmt = stmt.where(Tenant.slug == value)
            else:
                host_owner = select(TenantDomain.tenant_id).where(TenantDomain.domain == value).scalar_subquery()
                stmt = stmt.where(Tenant.id == host_owner)
            async with self.ctx.db.system_session() as session:
                row = (await session.execute(stmt)).first()
            return None if row is None else self._to_context(*row)

        return await self.lookups.get(f"{kind}:{value}", load)

    async def _changed(self, *versions: TenantContext | None) -> None:
        keys: set[str] = set()
        for version in versions:
            if version is not None:
                keys.update(keys_of(version))
        if keys:
            await self.lookups.invalidate(*sorted(keys))

    # -- reads ---------------------------------------------------------------------

    async def get(self, key: str | uuid.UUID) -> TenantContext:
        """Find a tenant by id (UUID or ULID text) or slug, in one query."""
        stmt = self._context_query()
        if isinstance(key, uuid.UUID):
            stmt = stmt.where(Tenant.id == key)
        else:
            text = key.strip() if isinstance(key, str) else ""
            as_id = find_id(text)
            as_slug = text if SLUG_RE.match(text) else None
            if as_id is None and as_slug is None:
                raise Validation(f"{text!r} is neither a tenant id nor a tenant slug", field="tenant")
            conditions = []
            if as_id is not None:
                conditions.append(Tenant.id == as_id)
            if as_slug is not None:
                conditions.append(Tenant.slug == as_slug)
            stmt = stmt.where(or_(*conditions))
        async with self.ctx.db.system_session() as session:
            row = (await session.execute(stmt)).first()
        if row is None:
            raise NotFound(f"tenant '{key}' not found", tenant=str(key))
        return self._to_context(*row)

    async def list_all(self) -> Sequence[TenantContext]:
        async with self.ctx.db.system_session() as session:
            rows = (await session.execute(self._context_query().order_by(Tenant.slug))).all()
        return [self._to_context(*row) for row in rows]

    def _context_query(self) -> Select[Tenant, Sequence[str] | None, Sequence[str] | None]:
        enabled = (
            select(func.array_agg(TenantModule.module_slug))
            .where(TenantModule.tenant_id == Tenant.id, TenantModule.enabled.is_(True))
            .scalar_subquery()
        )
        domains = (
            select(func.array_agg(aggregate_order_by(TenantDomain.domain, TenantDomain.domain)))
            .where(TenantDomain.tenant_id == Tenant.id)
            .scalar_subquery()
        )
        return select(Tenant, enabled, domains)

    def _to_context(
        self, tenant: Tenant, enabled_slugs: Iterable[str] | None, domains: Iterable[str] | None = None
    ) -> TenantContext:
        registry = self.ctx.registry
        enabled = {m.slug for m in registry.core}
        enabled.update(slug for slug in enabled_slugs or () if slug in registry)
        return TenantContext(
            id=tenant.id,
            slug=tenant.slug,
            name=tenant.name,
            default_locale=tenant.default_locale,
            locales=tuple(tenant.locales),
            is_active=tenant.is_active,
            enabled_modules=frozenset(enabled),
            settings=dict(tenant.settings or {}),
            domains=tuple(domains or ()),
        )

    # -- writes ------------------------------------------------------------------------

    async def create(
        self,
        *,
        slug: str,
        name: str,
        default_locale: str = "en",
        locales: Sequence[str] | None = None,
        modules: Iterable[str] | None = None,
    ) -> TenantContext:
        """Create a tenant and enable ``modules`` (default: every optional module).

        The tenant, its module rows and every module's ``rustok_on_enable`` run in one
        transaction: if any step fails nothing is stored.
        """
        validate_slug(slug)
        name = _validate_name(name)
        validate_locale(default_locale, "defaultLocale")
        all_locales = _merge_locales(default_locale, locales)
        to_enable = self._plan_enable(modules)

        tenant_id = generate_id()
        try:
            async with self.ctx.db.session(tenant_id) as session, session.begin():
                session.add(
                    Tenant(
                        id=tenant_id,
                        slug=slug,
                        name=name,
                        default_locale=default_locale,
                        locales=list(all_locales),
                        settings={},
                        is_active=True,
                    )
                )
                await session.flush()
                await self._publish(
                    session,
                    tenant_id,
                    TenantCreated(tenant_id=tenant_id, slug=slug, name=name, default_locale=default_locale),
                )
                for module in to_enable:
                    await self._switch(session, tenant_id, module, enabled=True, existing=None)
        except IntegrityError as exc:
            if _is_unique_violation(exc, "uq_tenants_slug"):
                raise Conflict(f"tenant slug '{slug}' is already taken", field="slug") from None
            raise translate_db_error(exc) or exc from None
        created = await self.get(tenant_id)
        await self._changed(created)  # drops cached "not found" entries for its keys
        return created

    async def update(
        self,
        key: str | uuid.UUID,
        *,
        name: str | None = None,
        is_active: bool | None = None,
        default_locale: str | None = None,
        locales: Sequence[str] | None = None,
    ) -> TenantContext:
        current = await self.get(key)
        async with self.ctx.db.system_session() as session, session.begin():
            tenant = await session.get(Tenant, current.id, with_for_update=True)
            if tenant is None:
                raise NotFound(f"tenant '{key}' not found")
            before = (tenant.name, tenant.is_active, tenant.default_locale, tuple(tenant.locales))
            if name is not None:
                tenant.name = _validate_name(name)
            if is_active is not None:
                tenant.is_active = is_active
            if default_locale is not None or locales is not None:
                new_default = validate_locale(default_locale or tenant.default_locale, "defaultLocale")
                tenant.default_locale = new_default
                tenant.locales = list(_merge_locales(new_default, locales if locales is not None else tenant.locales))
            after = (tenant.name, tenant.is_active, tenant.default_locale, tuple(tenant.locales))
            changed = [field for field, old, new in zip(_PROFILE_FIELDS, before, after, strict=True) if old != new]
            if changed:
                await self._publish(
                    session,
                    tenant.id,
                    TenantUpdated(tenant_id=tenant.id, slug=tenant.slug, is_active=tenant.is_active, changed=changed),
                )
        updated = await self.get(current.id)
        await self._changed(current, updated)
        return updated

    async def set_module_enabled(self, tenant: str | uuid.UUID, module: str, enabled: bool) -> TenantContext:
        """Enable or disable an optional module for a tenant.

        Enabling needs the module's dependencies enabled; disabling is refused while a
        module that depends on it is enabled; core modules cannot be disabled. The
        module's lifecycle hook runs in the same transaction and a failure rolls the
        toggle back.
        """
        registry = self.ctx.registry
        if module not in registry:
            raise NotFound(f"unknown module '{module}'", module=module)
        info = registry.get(module).info
        current = await self.get(tenant)
        if info.kind is ModuleKind.CORE:
            if enabled:
                return current
            raise Conflict(f"'{module}' is a core module and cannot be disabled", module=module)

        async with self.ctx.db.session(current.id) as session, session.begin():
            # Serialize toggles of one tenant so that dependency checks cannot race.
            await session.execute(select(Tenant.id).where(Tenant.id == current.id).with_for_update())
            rows = {r.module_slug: r for r in (await session.scalars(select(TenantModule))).all()}
            enabled_now = {m.slug for m in registry.core} | {
                slug for slug, row in rows.items() if row.enabled and slug in registry
            }
            if enabled == (module in enabled_now):
                return current
            if enabled:
                missing = [dep for dep in info.dependencies if dep not in enabled_now]
                if missing:
                    raise Conflict(
                        f"cannot enable '{module}': enable {', '.join(repr(m) for m in missing)} first",
                        module=module,
                        missingDependencies=missing,
                    )
            else:
                blocking = [slug for slug in registry.dependents(module) if slug in enabled_now]
                if blocking:
                    raise Conflict(
                        f"cannot disable '{module}': {', '.join(repr(s) for s in blocking)} "
                        "depend on it; disable them first",
                        module=module,
                        enabledDependents=blocking,
                    )
            await self._switch(session, current.id, module, enabled=enabled, existing=rows.get(module))
        updated = await self.get(current.id)
        await self._changed(updated)
        return updated

    async def add_domain(self, tenant: str | uuid.UUID, domain: str) -> TenantContext:
        current = await self.get(tenant)
        host = validate_domain(domain)
        try:
            async with self.ctx.db.session(current.id) as session, session.begin():
                session.add(TenantDomain(domain=host))
        except IntegrityError:
            raise Conflict(f"the domain '{host}' is already in use", field="domain") from None
        updated = await self.get(current.id)
        await self._changed(current, updated)
        return updated

    async def remove_domain(self, tenant: str | uuid.UUID, domain: str) -> TenantContext:
        current = await self.get(tenant)
        host = validate_domain(domain)
        async with self.ctx.db.session(current.id) as session, session.begin():
            removed = await session.execute(delete(TenantDomain).where(TenantDomain.domain == host))
        if cast("CursorResult[Any]", removed).rowcount == 0:
            raise NotFound(f"the tenant has no domain '{host}'", domain=host)
        updated = await self.get(current.id)
        await self._changed(current, updated)
        return updated

    # -- helpers ------------------------------------------------------------------------

    def _plan_enable(self, modules: Iterable[str] | None) -> list[str]:
        registry = self.ctx.registry
        if modules is None:
            return [m.slug for m in registry.optional]
        wanted = set(modules)
        unknown = sorted(wanted - set(registry.slugs))
        if unknown:
            raise NotFound(f"unknown modules: {', '.join(unknown)}", modules=unknown)
        core = {m.slug for m in registry.core}
        plan = [m.slug for m in registry.optional if m.slug in wanted]
        for slug in plan:
            missing = [d for d in registry.get(slug).info.dependencies if d not in wanted and d not in core]
            if missing:
                raise Conflict(
                    f"cannot enable '{slug}' without {', '.join(repr(m) for m in missing)}",
                    module=slug,
                    missingDependencies=missing,
                )
        return plan

    async def _publish(self, session: AsyncSession, tenant_id: uuid.UUID, event: DomainEvent) -> None:
        await self.ctx.services.get(EventPublisher).publish(session, event, tenant_id=tenant_id)

    async def _switch(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        module: str,
        *,
        enabled: bool,
        existing: TenantModule | None,
    ) -> None:
        now = datetime.now(UTC)
        if existing is None:
            session.add(
                TenantModule(module_slug=module, enabled=enabled, settings={}, enabled_at=now if enabled else None)
            )
        else:
            existing.enabled = enabled
            if enabled:
                existing.enabled_at = now
        await session.flush()
        await self._publish(
            session, tenant_id, ModuleEnabled(module=module) if enabled else ModuleDisabled(module=module)
        )
        hook = "rustok_on_enable" if enabled else "rustok_on_disable"
        action = "enable" if enabled else "disable"
        try:
            result = self.ctx.registry.call_module(module, hook, ctx=self.ctx, session=session, tenant_id=tenant_id)
            if inspect.isawaitable(result):
                await result
        except RustokError:
            raise
        except Exception as exc:
            log.exception("module %s failed to %s for tenant %s", module, action, tenant_id)
            raise Internal(f"module '{module}' failed to {action}: {exc}", module=module) from exc


_PROFILE_FIELDS = ("name", "isActive", "defaultLocale", "locales")


def _validate_name(name: str) -> str:
    cleaned = (name or "").strip()
    if not cleaned or len(cleaned) > 255:
        raise Validation("tenant name must be 1-255 characters", field="name")
    return cleaned


def _merge_locales(default_locale: str, locales: Sequence[str] | None) -> tuple[str, ...]:
    merged = [default_locale]
    for index, locale in enumerate(locales or ()):
        validate_locale(locale, f"locales.{index}")
        if locale not in merged:
            merged.append(locale)
    return tuple(merged)


def _is_unique_violation(exc: IntegrityError, constraint: str) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint
