"""The only events core declares: tenants, users and module toggles.

Every other event belongs to the module that owns the data (``content.node.published``
is declared by the content module, ``commerce.order.placed`` by commerce).
"""

from __future__ import annotations

import uuid

from rustok_core.events.base import DomainEvent


class TenantCreated(DomainEvent):
    """A tenant was created."""

    event_type = "tenant.created"
    tenant_id: uuid.UUID
    slug: str
    name: str
    default_locale: str


class TenantUpdated(DomainEvent):
    """A tenant's profile or activity changed."""

    event_type = "tenant.updated"
    tenant_id: uuid.UUID
    slug: str
    is_active: bool
    changed: list[str]


class ModuleEnabled(DomainEvent):
    """An optional module was enabled for a tenant."""

    event_type = "module.enabled"
    module: str


class ModuleDisabled(DomainEvent):
    """An optional module was disabled for a tenant (its data stays)."""

    event_type = "module.disabled"
    module: str


class UserRegistered(DomainEvent):
    """A user signed up (or was created by an administrator)."""

    event_type = "user.registered"
    user_id: uuid.UUID
    email: str
    verification_required: bool


class UserStatusChanged(DomainEvent):
    """A user was disabled or enabled."""

    event_type = "user.status_changed"
    user_id: uuid.UUID
    status: str


CORE_EVENTS: tuple[type[DomainEvent], ...] = (
    TenantCreated,
    TenantUpdated,
    ModuleEnabled,
    ModuleDisabled,
    UserRegistered,
    UserStatusChanged,
)
