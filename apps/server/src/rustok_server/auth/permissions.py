"""Permissions declared by the server (users and API keys)."""

from rustok_core.permissions import Permission

SERVER_PERMISSIONS = (
    Permission("users", "read", "List the tenant's users", grants={"manager": "all"}),
    Permission("users", "manage", "Disable and enable users"),
    Permission("api_keys", "read", "List API keys"),
    Permission("api_keys", "manage", "Create and revoke API keys"),
)
