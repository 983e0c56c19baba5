"""Runtime context handed to hooks and resolvers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from rustok_core.auth import Principal
from rustok_core.errors import BootError, Forbidden, Unauthenticated, Validation
from rustok_core.permissions import PermissionCatalog

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

    from rustok_core.cache import InvalidationBus, TieredCache
    from rustok_core.db import Database
    from rustok_core.mail import Mailer
    from rustok_core.registry import ModuleRegistry
    from rustok_core.settings import Settings
    from rustok_core.storage import MediaStorage

T = TypeVar("T")


@dataclass(frozen=True)
class TenantContext:
    """The tenant a request is served for, with its enabled modules."""

    id: UUID
    slug: str
    name: str
    default_locale: str
    locales: tuple[str, ...]
    is_active: bool
    enabled_modules: frozenset[str]
    settings: Mapping[str, Any] = field(default_factory=dict)
    domains: tuple[str, ...] = ()

    def module_enabled(self, slug: str) -> bool:
        return slug in self.enabled_modules


class Services:
    """Implementations of core interfaces, provided by modules via ``rustok_provide``."""

    def __init__(self) -> None:
        self._impls: dict[type[Any], object] = {}
        self._providers: dict[type[Any], str] = {}

    def register(self, interface: type[T], implementation: T, *, provider: str) -> None:
        if interface in self._impls:
            raise BootError(
                f"both '{self._providers[interface]}' and '{provider}' provide "
                f"{interface.__name__}; only one module may"
            )
        self._impls[interface] = implementation
        self._providers[interface] = provider

    def get(self, interface: type[T]) -> T:
        try:
            return self._impls[interface]  # type: ignore[return-value]
        except KeyError:
            raise BootError(f"no installed module provides {interface.__name__}") from None

    def find(self, interface: type[T]) -> T | None:
        return self._impls.get(interface)  # type: ignore[return-value]

    def provider_of(self, interface: type[Any]) -> str | None:
        return self._providers.get(interface)


@dataclass
class AppContext:
    """Everything a module may use at runtime: settings, modules, database, services.

    ``cache`` is the process's tiered cache (in-memory, plus Redis when configured),
    ``bus`` carries invalidations between processes, ``mailer`` sends mail,
    ``storage`` keeps uploaded media and ``permissions`` lists every declared permission.
    """

    settings: Settings
    registry: ModuleRegistry
    db: Database
    services: Services = field(default_factory=Services)
    state: dict[str, Any] = field(default_factory=dict)
    cache: TieredCache | None = None
    bus: InvalidationBus | None = None
    mailer: Mailer | None = None
    storage: MediaStorage | None = None
    permissions: PermissionCatalog = field(default_factory=PermissionCatalog)


REQUEST_CONTEXT_KEY = "rustok.ctx"


@dataclass
class RequestContext:
    """Per-request context: the app, the resolved tenant, the caller, loaders.

    GraphQL resolvers get it as ``info.context``; REST endpoints through
    :func:`request_context`. Resolvers run concurrently, so each unit of work opens its
    own session from ``app.db`` rather than sharing one.
    """

    app: AppContext
    conn: HTTPConnection
    tenant: TenantContext | None = None
    principal: Principal | None = None
    client_ip: str | None = None
    loaders: dict[str, Any] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)
    """Per-request memo (e.g. the caller's effective permissions, loaded once)."""

    @property
    def actor_id(self) -> UUID | None:
        """The signed-in user's id: who a write is recorded as done by (``None``: anonymous or a bare key)."""
        return self.principal.user_id if self.principal is not None else None

    async def may(self, permission: str) -> bool:
        """Whether the caller holds ``permission`` in any scope, without failing (once per request)."""
        key = f"may:{permission}"
        if key not in self.memo:
            try:
                await self.authorize(permission)
                self.memo[key] = True
            except (Unauthenticated, Forbidden):
                self.memo[key] = False
        return bool(self.memo[key])

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated("sign in first: send 'Authorization: Bearer <token>'")
        return self.principal

    async def authorize(self, permission: str, *, owner_id: UUID | None = None) -> str:
        """Check ``permission`` for the caller (see ``Authorizer.authorize``)."""
        from rustok_core.interfaces import Authorizer

        return await self.app.services.get(Authorizer).authorize(self, permission, owner_id=owner_id)

    def require_tenant(self) -> TenantContext:
        if self.tenant is None:
            header = self.app.settings.rustok.tenant.header_name
            raise Validation(f"this operation needs a tenant: send the {header} header", field=header)
        return self.tenant


def request_context(conn: HTTPConnection) -> RequestContext:
    """The :class:`RequestContext` the server attached to this request."""
    ctx = conn.scope.get(REQUEST_CONTEXT_KEY)
    if ctx is None:
        raise RuntimeError("no RequestContext on this request; is the RusToK middleware installed?")
    return ctx  # type: ignore[no-any-return]
