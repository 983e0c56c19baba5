"""Permissions declared by the events module."""

from rustok_core.permissions import Permission

PERMISSIONS = (
    Permission("events", "read", "See event statistics and the dead-letter queue"),
    Permission("events", "manage", "Replay or discard dead-lettered events"),
)
