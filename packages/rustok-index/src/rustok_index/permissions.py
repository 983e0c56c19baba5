"""Permissions declared by the index module."""

from rustok_core.permissions import Permission

INDEX_READ = "index:read"
INDEX_REBUILD = "index:rebuild"

PERMISSIONS = (
    Permission("index", "read", "See the index's documents, freshness and event backlog", grants={"manager": "all"}),
    Permission("index", "rebuild", "Rebuild the tenant's index from the owning modules' data"),
)
