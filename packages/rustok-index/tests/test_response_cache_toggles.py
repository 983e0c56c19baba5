"""Module toggles and the response cache, with the index's event handler doing its part.

Tenant → commerce enabled → a product shown by commerce is listed and cached →
commerce disabled: the next answer hides it at once (the enabled modules are part of
the key) → the index applies ``module.disabled``: the rows go and the tenant's
generation moves, so no answer of the old rows can be served again.
"""

from __future__ import annotations

import pytest

from rustok_core.interfaces import TenantDirectory
from rustok_index.runtime import runtime_of
from rustok_index.services.writer import lock_entities
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.events import deliver_events

from .conftest import product, rows

pytestmark = pytest.mark.usefixtures("app")

LIST = "{ catalogProducts { edges { node { handle } } } }"


async def listed(client: RustokClient, tenant: object) -> list[str]:
    data = await client.graphql_data(LIST, tenant=tenant)  # type: ignore[arg-type]
    return [edge["node"]["handle"] for edge in data["catalogProducts"]["edges"]]


async def test_disabling_a_module_hides_its_documents_at_once_and_its_index_removal_invalidates(
    client: RustokClient, platform: Platform
) -> None:
    directory = platform.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug="toggled", name="Toggled", modules=["commerce"])
    await deliver_events(platform)  # the tenant's creation and enablement, applied before any product exists
    runtime = runtime_of(platform.ctx)
    shown = product(handle="sold-by-commerce")
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        await lock_entities(session, tenant.id, "product", [shown.product_id])
        await runtime.writer.write(session, tenant.id, "product", [shown.product_id], [shown], owner="commerce")
    assert await listed(client, tenant) == ["sold-by-commerce"]
    assert runtime.response_cache is not None
    generation = runtime.response_cache.generation(tenant.id)

    await directory.set_module_enabled(tenant.id, "commerce", False)
    assert await listed(client, tenant) == []  # before the index heard of it

    await deliver_events(platform)  # module.disabled: the index drops what commerce showed
    assert await rows(platform, "SELECT 1 FROM index_products WHERE tenant_id = :t", t=tenant.id) == []
    assert runtime.response_cache.generation(tenant.id) != generation

    await directory.set_module_enabled(tenant.id, "commerce", True)
    await deliver_events(platform)
    assert await listed(client, tenant) == []  # the rows are gone; no answer of them comes back
