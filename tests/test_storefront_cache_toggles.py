"""Scenario: module toggles and the storefront's response cache, with the index's handler doing its part.

Tenant with commerce → a product shown by commerce is listed (and the answer cached) →
commerce disabled: the next answer hides it at once, because the enabled modules are
part of the cache key → the index applies ``module.disabled``: the rows go and the
tenant's generation moves, so no answer of the old rows can be served again.

Needs the commerce module installed, so it lives here rather than in the index package.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from rustok_core.context import TenantContext
from rustok_core.index import ProductDocument
from rustok_core.interfaces import TenantDirectory
from rustok_index.runtime import runtime_of
from rustok_index.services.writer import lock_entities
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.events import deliver_events
from rustok_testing.plugin import BootPlatform

LIST = "{ catalogProducts { edges { node { handle } } } }"


@pytest.fixture(scope="module")
def platform(boot_platform: BootPlatform) -> Platform:
    # The relay is off: the test delivers events itself, at the moments it checks.
    return boot_platform(**{"rustok.events.relay": False, "rustok.rate_limit.enabled": False})


@pytest.fixture(scope="module")
async def client(platform: Platform) -> AsyncIterator[RustokClient]:
    app: Starlette = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as http:
        yield http


async def listed(client: RustokClient, tenant: TenantContext) -> list[str]:
    data = await client.graphql_data(LIST, tenant=tenant)
    return [edge["node"]["handle"] for edge in data["catalogProducts"]["edges"]]


async def shown_by_commerce(platform: Platform, tenant: TenantContext, handle: str) -> None:
    """A product document in the index as commerce would write it (owner ``commerce``)."""
    document = ProductDocument(product_id=uuid.uuid4(), locale="en", handle=handle, title=handle, status="active")
    ids = [document.product_id]
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        await lock_entities(session, tenant.id, "product", ids)
        await runtime_of(platform.ctx).writer.write(session, tenant.id, "product", ids, [document], owner="commerce")


async def index_rows(platform: Platform, tenant_id: uuid.UUID) -> list[Any]:
    async with platform.ctx.db.system_session() as session:
        result = await session.execute(text("SELECT 1 FROM index_products WHERE tenant_id = :t"), {"t": tenant_id})
        return list(result.all())


async def test_a_module_toggle_changes_the_cached_answer_at_once(client: RustokClient, platform: Platform) -> None:
    directory = platform.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug=f"toggle-{uuid.uuid4().hex[:6]}", name="Toggle", modules=["commerce"])
    await shown_by_commerce(platform, tenant, "commerce-product")
    assert await listed(client, tenant) == ["commerce-product"]

    await directory.set_module_enabled(tenant.id, "commerce", False)
    assert await listed(client, tenant) == []  # not the answer cached while commerce was on

    await directory.set_module_enabled(tenant.id, "commerce", True)
    assert await listed(client, tenant) == ["commerce-product"]


async def test_disabling_a_module_hides_its_documents_at_once_and_its_index_removal_invalidates(
    client: RustokClient, platform: Platform
) -> None:
    directory = platform.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug=f"toggled-{uuid.uuid4().hex[:6]}", name="Toggled", modules=["commerce"])
    await deliver_events(platform)  # the tenant's creation and enablement, applied before any product exists
    await shown_by_commerce(platform, tenant, "sold-by-commerce")
    assert await listed(client, tenant) == ["sold-by-commerce"]
    cache = runtime_of(platform.ctx).response_cache
    assert cache is not None
    generation = cache.generation(tenant.id)

    await directory.set_module_enabled(tenant.id, "commerce", False)
    assert await listed(client, tenant) == []  # before the index heard of it

    await deliver_events(platform)  # module.disabled: the index drops what commerce showed
    assert await index_rows(platform, tenant.id) == []
    assert cache.generation(tenant.id) != generation

    await directory.set_module_enabled(tenant.id, "commerce", True)
    await deliver_events(platform)
    assert await listed(client, tenant) == []  # the rows are gone; no answer of them comes back
