"""Fixtures of the index tests: a platform whose relay is off (tests deliver events
themselves with ``deliver_events``), its app and client, and helpers to write
documents straight through the index writer.

The documents written here are real :class:`ProductDocument` / :class:`ContentDocument`
values, data the tests construct (no stand-in module): this package's own test run has
no owning module installed. They are written as module ``index`` (a core module,
enabled for every tenant), so the storefront shows them whatever else is installed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from starlette.applications import Starlette

from rustok_core.context import TenantContext
from rustok_core.index import CONTENT, PRODUCT, ContentDocument, IndexDocument, ProductDocument
from rustok_index.runtime import runtime_of
from rustok_index.services.writer import WriteResult, lock_entities
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.plugin import BootPlatform

SHOWN_BY = "index"


@pytest.fixture(scope="module")
def platform(boot_platform: BootPlatform) -> Platform:
    return boot_platform(**{"rustok.events.relay": False})


@pytest.fixture(scope="module")
async def app(platform: Platform) -> AsyncIterator[Starlette]:
    application = create_app(platform)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def client(app: Starlette, platform: Platform) -> AsyncIterator[RustokClient]:
    async with RustokClient(app, tenant_header=platform.settings.rustok.tenant.header_name) as http:
        yield http


async def write(
    platform: Platform,
    tenant: TenantContext,
    documents: Sequence[IndexDocument],
    *,
    entity_ids: Sequence[uuid.UUID] | None = None,
) -> WriteResult:
    """Make the index rows of ``entity_ids`` (default: the documents' entities) exactly ``documents``."""
    if not documents and entity_ids is None:
        raise ValueError("give documents or entity_ids")
    entity_type = CONTENT if documents and isinstance(documents[0], ContentDocument) else PRODUCT
    ids = sorted(set(entity_ids if entity_ids is not None else (d.entity_id for d in documents)))
    writer = runtime_of(platform.ctx).writer
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        await lock_entities(session, tenant.id, entity_type, ids)
        return await writer.write(session, tenant.id, entity_type, ids, documents, owner=SHOWN_BY)


async def rows(platform: Platform, sql: str, **params: Any) -> list[Any]:
    from sqlalchemy import text

    async with platform.ctx.db.system_session() as session:
        return list((await session.execute(text(sql), params)).all())


def product(
    product_id: uuid.UUID | None = None,
    *,
    locale: str = "en",
    title: str = "Product",
    handle: str | None = None,
    **fields: Any,
) -> ProductDocument:
    pid = product_id or uuid.uuid4()
    return ProductDocument(
        product_id=pid,
        locale=locale,
        handle=handle or f"product-{pid.hex[:8]}",
        title=title,
        status=fields.pop("status", "active"),
        **fields,
    )
