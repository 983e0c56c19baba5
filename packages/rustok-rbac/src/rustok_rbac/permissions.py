"""Permissions declared by the rbac module."""

from rustok_core.permissions import Permission

PERMISSIONS = (
    Permission("roles", "read", "See roles, their grants and the permission catalog", grants={"manager": "all"}),
    Permission("roles", "manage", "Create and delete roles; assign and revoke them"),
)
