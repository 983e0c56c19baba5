"""Core interfaces that modules implement and the server consumes.

The server never imports a module; it asks :class:`rustok_core.context.Services` for
these interfaces, which modules register through the ``rustok_provide`` hook.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable
from uuid import UUID

from starlette.requests import HTTPConnection

from rustok_core.context import RequestContext, TenantContext


@runtime_checkable
class TenantResolver(Protocol):
    """Finds the tenant of an HTTP request according to the configured mode."""

    async def resolve(self, conn: HTTPConnection) -> TenantContext | None:
        """Return the request's tenant, ``None`` when the request names none.

        Raises ``NotFound`` for an unknown tenant and ``Forbidden`` for an inactive one.
        """
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


@runtime_checkable
class Authorizer(Protocol):
    """Checks that the caller of a request holds a permission."""

    async def authorize(self, ctx: RequestContext, permission: str) -> None:
        """Return quietly, or raise ``UNAUTHENTICATED`` / ``FORBIDDEN``."""
        ...
