"""The module contract: every hook a RusToK module may implement.

A module is a distribution that registers an object under the ``rustok.modules``
entry-point group. The object implements some of the hooks below with
``@hookimpl``; only ``rustok_module`` is mandatory. pluggy lets an implementation
accept fewer arguments than its spec, so hooks can grow new keyword arguments without
breaking existing modules. Every hook is documented in ``docs/hooks.md`` (a test
keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pluggy

if TYPE_CHECKING:
    import click
    from pydantic import BaseModel
    from sqlalchemy.ext.asyncio import AsyncSession

    from rustok_core.context import AppContext
    from rustok_core.events import DomainEvent, EventHandler
    from rustok_core.graphql import GraphQLContribution
    from rustok_core.health import HealthCheck
    from rustok_core.module import ModuleInfo
    from rustok_core.permissions import Permission
    from rustok_core.rest import RestRoute

PROJECT = "rustok"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- identity -------------------------------------------------------------------


@hookspec
def rustok_module() -> ModuleInfo:  # type: ignore[empty-body]
    """Return the module's identity: slug, name, version, kind and dependencies."""


@hookspec
def rustok_settings_model() -> type[BaseModel] | None:
    """Return a pydantic model validating the module's per-tenant settings.

    The model validates ``tenant_modules.settings`` when a tenant changes them;
    defaults apply where a tenant has set nothing.
    """


# --- storage --------------------------------------------------------------------


@hookspec
def rustok_migrations() -> Path | str | None:
    """Return the module's Alembic versions directory.

    The directory's base revision carries ``branch_labels = ("<slug>",)``; revisions
    that reference another module's tables pin that module's revision in
    ``depends_on``. The server upgrades every branch to ``heads`` at boot (development)
    or with ``rustok migrate``.
    """


# --- APIs -----------------------------------------------------------------------


@hookspec
def rustok_graphql() -> GraphQLContribution | None:
    """Return the module's SDL and Ariadne bindables.

    SDL extends ``Query`` / ``Mutation`` with ``extend type``. Every root field
    declares its access with ``@public`` or ``@requires(permission: "...")``. Fields of
    an optional module answer ``MODULE_DISABLED`` for tenants that have it off.
    """


@hookspec
def rustok_routes() -> Sequence[RestRoute]:  # type: ignore[empty-body]
    """Return REST routes; the server mounts them under ``/api/v1/<slug>/``.

    Routes are :class:`rustok_core.rest.RestRoute` objects so that their request and
    response models feed the OpenAPI document and their permission is declared.
    """


@hookspec
def rustok_permissions() -> Sequence[Permission]:  # type: ignore[empty-body]
    """Return the permissions (``resource:action``) the module declares."""


# --- events and the read model ----------------------------------------------------


@hookspec
def rustok_event_types() -> Sequence[type[DomainEvent]]:  # type: ignore[empty-body]
    """Return the module's domain event classes (``DomainEvent`` subclasses) for the registry.

    Each has a stable ``event_type`` and ``schema_version``; their JSON Schemas are
    exported to ``docs/events/`` by ``xtask generate``.
    """


@hookspec
def rustok_event_handlers(ctx: AppContext) -> Sequence[EventHandler]:  # type: ignore[empty-body]
    """Return the event handlers the module subscribes (``rustok_core.events.EventHandler``).

    Delivery is at least once; the events module writes a receipt per (handler, event)
    in the handler's transaction so that effects happen once.
    """


@hookspec
def rustok_index_documents(
    ctx: AppContext, session: AsyncSession, tenant_id: UUID, entity_type: str, entity_ids: Sequence[UUID]
) -> Sequence[Any] | None:
    """Return read-model documents for entities the module owns (all locales).

    Return ``None`` when ``entity_type`` is not the module's; an empty sequence for an
    entity means it must leave the index (deleted, unpublished, archived).
    Documents are the classes of :mod:`rustok_core.index` (``ProductDocument`` for
    ``product``, ``ContentDocument`` for ``content``), one per (entity, locale), built
    from the entity's current state through ``session`` (scoped to ``tenant_id``, in
    the index's transaction). Any number of ids costs a fixed number of queries.
    """


@hookspec
def rustok_index_entity_ids(
    ctx: AppContext,
    session: AsyncSession,
    tenant_id: UUID,
    entity_type: str,
    after: UUID | None,
    limit: int,
) -> Sequence[UUID] | None:
    """Return ids of the tenant's entities of ``entity_type`` that may have documents.

    The index pages through them to rebuild: up to ``limit`` ids greater than
    ``after`` (all from the start when ``None``), in ascending order; fewer than
    ``limit`` means the last page. Return ``None`` when ``entity_type`` is not the
    module's. Listing an id that has no document is fine (the index asks
    ``rustok_index_documents`` next, which may return nothing for it); leaving out one
    that has documents keeps it out of a rebuilt index.
    """


# --- per-tenant lifecycle -------------------------------------------------------------


@hookspec
def rustok_on_enable(ctx: AppContext, session: AsyncSession, tenant_id: UUID) -> None:
    """Prepare the module for a tenant that enables it.

    Runs inside the toggling transaction: raising rolls the toggle back.
    """


@hookspec
def rustok_on_disable(ctx: AppContext, session: AsyncSession, tenant_id: UUID) -> None:
    """Clean up after a tenant disables the module; data stays. Raising rolls back."""


@hookspec
async def rustok_demo_data(ctx: AppContext, tenant_id: UUID) -> None:
    """Create a small, realistic set of the module's records for a tenant.

    Used by ``rustok seed demo`` and by the isolation tests, which seed two tenants
    with every installed module's data and try to reach one from the other. Must be
    safe to run once per tenant.
    """


# --- operations -------------------------------------------------------------------


@hookspec
def rustok_provide(ctx: AppContext) -> Mapping[type[Any], object] | None:
    """Return implementations of core interfaces (:mod:`rustok_core.interfaces`).

    This is how the server reaches a module's services without importing it: e.g. the
    tenant module provides ``TenantResolver`` and ``TenantDirectory``. Two modules
    providing the same interface is a boot error.
    """


@hookspec
def rustok_health(ctx: AppContext) -> Sequence[HealthCheck] | HealthCheck | None:
    """Report the module's health for ``/health/modules`` (and readiness if critical)."""


@hookspec
def rustok_cli(cli: click.Group) -> None:
    """Add commands to the ``rustok`` command line."""


@hookspec
async def rustok_startup(ctx: AppContext) -> None:
    """Start background work the module owns (called once per process, in order)."""


@hookspec
async def rustok_shutdown(ctx: AppContext) -> None:
    """Stop the module's background work (called in reverse order)."""
