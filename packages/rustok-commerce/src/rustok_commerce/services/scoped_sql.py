"""Plain SQL in a tenant-scoped session, for the few hot reads that go around the ORM.

The ORM adds ``tenant_id = <tenant>`` to every statement of a scoped session, but a
``text()`` statement gets nothing: such a statement names ``tenant_id = :tenant`` on
every table it reads, and takes the tenant from the session's own scope
(:func:`scoped_tenant`), never from a caller, so it cannot read another tenant's rows
through a session scoped to one.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.db.scoping import RustokSession


def scoped_tenant(session: AsyncSession) -> uuid.UUID:
    """The tenant ``session`` is scoped to; a system session (or any other) is refused."""
    sync = session.sync_session
    tenant_id = sync.tenant_id if isinstance(sync, RustokSession) else None
    if tenant_id is None:
        raise RuntimeError("plain tenant SQL needs a session scoped to one tenant (Database.session(tenant_id))")
    return tenant_id
