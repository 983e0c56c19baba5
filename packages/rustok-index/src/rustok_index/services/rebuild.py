"""Rebuilding the read model from the owners' current data.

A rebuild of one tenant's entity type pages through the owner's ids
(``rustok_index_entity_ids``, ``batch_size`` at a time) and reindexes each page in its
own transaction, so a rebuild of any size holds no long transaction and the
storefront keeps answering from the rows already there. Rows that no page rewrote
(their entity is gone, or has no document any more) are deleted at the end: every
write stamps ``indexed_at`` with the clock, so "written before the rebuild started"
is exactly "not confirmed by this rebuild". Event handlers may run alongside: they
take the same per-entity locks, and whatever they write is newer than the start.
A rebuild computes every search vector anew (``fresh``), where a reindex keeps the
vector of a row whose text did not change.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.context import AppContext, TenantContext
from rustok_core.index import ENTITY_TYPES
from rustok_index.services.owners import Owners
from rustok_index.services.writer import IndexWriter, WriteResult

DEFAULT_BATCH = 500
COUNT_PAGE = 10_000

Progress = Callable[[int], None]


@dataclass
class RebuildSummary:
    """What a rebuild did, for the CLI's summary line and the admin mutation."""

    tenants: int = 0
    entity_types: list[str] = field(default_factory=list)
    entities: int = 0
    """Entity ids the owners listed (each asked for its documents)."""
    written: int = 0
    removed: int = 0
    seconds: float = 0.0

    @property
    def documents_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0

    def add(self, other: RebuildSummary) -> None:
        self.tenants += other.tenants
        self.entity_types.extend(t for t in other.entity_types if t not in self.entity_types)
        self.entities += other.entities
        self.written += other.written
        self.removed += other.removed

    def line(self) -> str:
        types = ", ".join(self.entity_types) or "nothing"
        return (
            f"rebuilt {types} for {self.tenants} tenant(s): {self.entities} entities, "
            f"{self.written} documents written, {self.removed} removed in {self.seconds:.2f}s "
            f"({self.documents_per_second:.0f} documents/s)"
        )


class IndexRebuilder:
    def __init__(self, ctx: AppContext, owners: Owners, writer: IndexWriter) -> None:
        self.ctx = ctx
        self.owners = owners
        self.writer = writer

    async def count(self, tenant_id: uuid.UUID, entity_type: str) -> int:
        """How many ids the owner lists for the tenant (for a progress bar)."""
        total = 0
        after: uuid.UUID | None = None
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            while True:
                ids = await self.owners.entity_ids(session, tenant_id, entity_type, after=after, limit=COUNT_PAGE)
                total += len(ids)
                if len(ids) < COUNT_PAGE:
                    return total
                after = ids[-1]

    async def rebuild(
        self,
        tenants: Sequence[TenantContext],
        entity_types: Sequence[str] = ENTITY_TYPES,
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
    ) -> RebuildSummary:
        """Rebuild ``entity_types`` for every tenant in ``tenants``."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        started = time.perf_counter()
        summary = RebuildSummary(entity_types=list(entity_types))
        for tenant in tenants:
            for entity_type in entity_types:
                summary.add(await self.rebuild_tenant(tenant, entity_type, batch_size=batch_size, progress=progress))
            summary.tenants += 1
        summary.seconds = time.perf_counter() - started
        return summary

    async def rebuild_tenant(
        self,
        tenant: TenantContext,
        entity_type: str,
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
    ) -> RebuildSummary:
        """One tenant's documents of one type, a page per transaction; stale rows go at the end."""
        began = time.perf_counter()
        summary = RebuildSummary(entity_types=[entity_type])
        async with self.ctx.db.session(tenant.id) as session:
            since = await _clock(session)
        after: uuid.UUID | None = None
        while True:
            async with self.ctx.db.session(tenant.id) as session, session.begin():
                ids = await self.owners.entity_ids(session, tenant.id, entity_type, after=after, limit=batch_size)
                result = await self.writer.reindex(
                    session, tenant.id, entity_type, ids, enabled_modules=tenant.enabled_modules, fresh=True
                )
            summary.entities += len(ids)
            summary.written += result.written
            summary.removed += result.removed
            if progress is not None and ids:
                progress(len(ids))
            if len(ids) < batch_size:
                break
            after = ids[-1]
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            summary.removed += await self.writer.clear(session, tenant.id, entity_type, indexed_before=since)
        summary.seconds = time.perf_counter() - began
        return summary

    async def rebuild_in_session(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        entity_type: str,
        *,
        enabled_modules: Collection[str],
        batch_size: int = DEFAULT_BATCH,
    ) -> WriteResult:
        """The same rebuild inside the caller's transaction (an event handler's)."""
        since = await _clock(session)
        total = WriteResult()
        after: uuid.UUID | None = None
        while True:
            ids = await self.owners.entity_ids(session, tenant_id, entity_type, after=after, limit=batch_size)
            total += await self.writer.reindex(
                session, tenant_id, entity_type, ids, enabled_modules=enabled_modules, fresh=True
            )
            if len(ids) < batch_size:
                break
            after = ids[-1]
        removed = await self.writer.clear(session, tenant_id, entity_type, indexed_before=since)
        return total + WriteResult(0, removed)


async def _clock(session: AsyncSession) -> datetime:
    value: datetime = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
    return value
