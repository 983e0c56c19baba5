"""Storing and reading the blocks of pages (the ``pages_blocks`` table)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, delete, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.context import AppContext
from rustok_core.ids import generate_id
from rustok_pages.models import PageBlock
from rustok_pages.services.blocks import CheckedBlock

BLOCKS: Table = PageBlock.__table__  # type: ignore[assignment]


class PageBlocks:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def replace(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        page_id: uuid.UUID,
        locale: str,
        blocks: Sequence[CheckedBlock],
    ) -> None:
        """Make ``blocks`` the page's blocks in ``locale``, in the caller's transaction."""
        await session.execute(
            delete(BLOCKS).where(
                BLOCKS.c.tenant_id == tenant_id, BLOCKS.c.page_id == page_id, BLOCKS.c.locale == locale
            )
        )
        if not blocks:
            return
        now = datetime.now(UTC)
        # Through the ORM entity so the tenant-scoped session stamps (and checks) tenant_id.
        await session.execute(
            insert(PageBlock),
            [
                {
                    "id": generate_id(),
                    "page_id": page_id,
                    "locale": locale,
                    "position": position,
                    "type": block.type,
                    "data": block.data,
                    "html": block.html,
                    "created_at": now,
                    "updated_at": now,
                }
                for position, block in enumerate(blocks)
            ],
        )

    async def remove_pages(self, session: AsyncSession, tenant_id: uuid.UUID, page_ids: Sequence[uuid.UUID]) -> int:
        """Drop every block of ``page_ids`` (pages being deleted); return how many went."""
        if not page_ids:
            return 0
        result = await session.execute(
            delete(BLOCKS)
            .where(BLOCKS.c.tenant_id == tenant_id, BLOCKS.c.page_id.in_(list(page_ids)))
            .returning(BLOCKS.c.id)
        )
        return len(result.all())

    async def page_ids(self, session: AsyncSession) -> list[uuid.UUID]:
        """Every page that has blocks (for sweeping blocks of pages deleted elsewhere)."""
        return list((await session.scalars(select(PageBlock.page_id).distinct())).all())

    async def of(
        self, tenant_id: uuid.UUID, keys: Sequence[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], list[PageBlock]]:
        """The blocks of each (page, locale), in order (one query)."""
        found: dict[tuple[uuid.UUID, str], list[PageBlock]] = {key: [] for key in keys}
        if not keys:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(PageBlock)
                .where(tuple_(PageBlock.page_id, PageBlock.locale).in_(list(keys)))
                .order_by(PageBlock.page_id, PageBlock.locale, PageBlock.position)
            )
            for block in rows.all():
                found[(block.page_id, block.locale)].append(block)
        return found
