"""Core interfaces that modules implement and the server consumes.

The server never imports a module; it asks :class:`rustok_core.context.Services` for
these interfaces, which modules register through the ``rustok_provide`` hook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from rustok_core.context import RequestContext, TenantContext
from rustok_core.graphql import CacheableRequest, GraphQLAnswer
from rustok_core.permissions import Scope


@runtime_checkable
class TenantResolver(Protocol):
    """Finds the tenant of an HTTP request according to the configured mode."""

    async def resolve(self, conn: HTTPConnection) -> TenantContext | None:
        """Return the request's tenant, ``None`` when the request names none.

        Raises ``NotFound`` for an unknown tenant and ``Forbidden`` for an inactive one.
        """
        ...

    async def by_id(self, tenant_id: UUID) -> TenantContext:
        """The active tenant with this id (cached like every resolution)."""
        ...


@runtime_checkable
class TenantDirectory(Protocol):
    """Tenant administration: create, find, list, toggle modules."""

    async def get(self, key: str | UUID) -> TenantContext:
        """Find a tenant by id (UUID/ULID text) or slug; ``NotFound`` otherwise."""
        ...

    async def list_all(self) -> Sequence[TenantContext]: ...

    async def create(
        self,
        *,
        slug: str,
        name: str,
        default_locale: str = "en",
        locales: Sequence[str] | None = None,
        modules: Iterable[str] | None = None,
    ) -> TenantContext:
        """Create a tenant and enable ``modules`` (default: every optional module)."""
        ...

    async def update(
        self,
        key: str | UUID,
        *,
        name: str | None = None,
        is_active: bool | None = None,
        default_locale: str | None = None,
        locales: Sequence[str] | None = None,
    ) -> TenantContext:
        """Change a tenant's profile; ``is_active=False`` stops serving it."""
        ...

    async def set_module_enabled(self, tenant: str | UUID, module: str, enabled: bool) -> TenantContext:
        """Enable or disable an optional module for a tenant, enforcing dependencies."""
        ...

    async def add_domain(self, tenant: str | UUID, domain: str) -> TenantContext:
        """Serve the tenant on ``domain`` (host resolution); domains are unique platform-wide."""
        ...

    async def remove_domain(self, tenant: str | UUID, domain: str) -> TenantContext: ...


@runtime_checkable
class Authorizer(Protocol):
    """Checks that the caller of a request holds a permission (provided by rbac)."""

    async def authorize(self, ctx: RequestContext, permission: str, *, owner_id: UUID | None = None) -> Scope:
        """Return the scope held (``all``/``own``) or raise ``UNAUTHENTICATED`` / ``FORBIDDEN``.

        With ``owner_id``, an ``own``-scoped grant passes only when the caller owns the
        record. Without it (the guard run before a resolver) any scope passes, and the
        resolver repeats the check with the record's owner.
        """
        ...

    async def effective_permissions(self, ctx: RequestContext) -> Mapping[str, Scope]:
        """Everything the caller holds, ``{permission: scope}``."""
        ...


@runtime_checkable
class RoleAssigner(Protocol):
    """Gives users roles (provided by rbac; used by the CLI and sign-up)."""

    async def assign_role(
        self, tenant_id: UUID, user_id: UUID, role: str, *, session: AsyncSession | None = None
    ) -> None:
        """Give ``user_id`` the role; with ``session``, inside the caller's transaction."""
        ...

    async def roles_of(self, tenant_id: UUID, user_id: UUID) -> Sequence[str]: ...


@dataclass(frozen=True)
class UserRef:
    id: UUID
    tenant_id: UUID
    email: str
    display_name: str
    active: bool


@runtime_checkable
class UserDirectory(Protocol):
    """Looks users up (provided by the server, which owns them)."""

    async def find_user(self, tenant_id: UUID, user_id: UUID) -> UserRef | None:
        """The tenant's user with this id, ``None`` when the tenant has none."""
        ...

    async def find_users(self, tenant_id: UUID, user_ids: Sequence[UUID]) -> Mapping[UUID, UserRef]:
        """The tenant's users among ``user_ids``, by id, in one query; unknown ids are absent."""
        ...


@dataclass(frozen=True)
class PendingEvents:
    """Events of one type that a handler has not applied yet."""

    event_type: str
    count: int
    oldest_occurred_at: datetime | None


@runtime_checkable
class EventBacklog(Protocol):
    """What handlers still have to apply (provided by the events module).

    Consumers such as the index report their lag from it without reading the events
    module's tables.
    """

    async def pending(
        self, handler: str, event_types: Sequence[str], *, tenant_id: UUID | None = None
    ) -> Sequence[PendingEvents]:
        """Per event type (types with nothing pending are left out): stored events that
        ``handler`` has no receipt for, for one tenant or all."""
        ...


@runtime_checkable
class GraphQLResponder(Protocol):
    """Answers cacheable GraphQL queries (provided by the index module).

    The server hands it every validated query operation that
    :class:`~rustok_core.graphql.CacheableRequest` describes instead of executing it;
    the responder may answer from a cache or by a faster route than graphql-core's
    execution, and must answer exactly as ``request.execute()`` would.
    """

    async def respond(self, request: CacheableRequest) -> GraphQLAnswer:
        """The answer to ``request`` (run ``request.check()`` before computing one)."""
        ...
