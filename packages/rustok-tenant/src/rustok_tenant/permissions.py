"""Permissions declared by the tenant module."""

from rustok_core.permissions import Permission

PERMISSIONS = (
    Permission("tenants", "read", "See the tenant's profile and settings"),
    Permission("tenants", "manage", "Change the tenant's profile and settings"),
    Permission("modules", "read", "See which modules are enabled for the tenant"),
    Permission("modules", "manage", "Enable and disable modules for the tenant"),
)
