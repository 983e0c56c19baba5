"""Database helpers: engine, sessions that enforce tenant isolation, declarative base.

Tenant isolation lives here, not in each query: a session opened with
:meth:`Database.session` for a tenant adds ``tenant_id = <tenant>`` to every ORM
SELECT, UPDATE and DELETE touching a :class:`TenantOwned` entity, and stamps (or
verifies) ``tenant_id`` on every insert. :meth:`Database.system_session` is the only
unscoped session and exists for explicit platform work (migrations, tenant
administration, index rebuilds).
"""

from rustok_core.db.base import Base, TenantOwned, Timestamped, Versioned, expect_version, metadata
from rustok_core.db.database import Database, driver_conninfo, normalize_url
from rustok_core.db.errors import translate_db_error
from rustok_core.db.scoping import TenantIsolationError, after_commit

__all__ = [
    "Base",
    "Database",
    "TenantIsolationError",
    "TenantOwned",
    "Timestamped",
    "Versioned",
    "after_commit",
    "driver_conninfo",
    "expect_version",
    "metadata",
    "normalize_url",
    "translate_db_error",
]
