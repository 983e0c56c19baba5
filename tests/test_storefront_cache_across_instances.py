"""Scenario: two server instances share PostgreSQL and Redis; each caches storefront answers.

Both instances answer a tenant's catalog and keep the answer in memory (B's second
answer runs no SQL). A product is written through instance A's index writer; when the
write commits, A publishes the tenant's invalidation over Redis pub/sub, B drops that
tenant's answers, and B's next answer lists the new product — while another tenant's
answer, cached on B, is still served from memory. A module toggled through A hides its
documents on B at once too (the tenant's enabled modules are part of the key, and the
tenant's own cache entry crosses over the same bus).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from rustok_core.context import TenantContext
from rustok_core.index import PRODUCT, ProductDocument
from rustok_core.interfaces import TenantDirectory
from rustok_index.responses.invalidation import CHANNEL
from rustok_index.runtime import runtime_of
from rustok_index.services.writer import lock_entities
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing import require_service
from rustok_testing.client import RustokClient
from rustok_testing.queries import count_queries

LIST = "{ catalogProducts { edges { node { handle } } } }"
WITHIN = 10.0
"""Longest wait for a message to cross Redis (a failure guard, not a pause)."""


@dataclass
class Instance:
    platform: Platform
    client: RustokClient


@pytest.fixture
def redis_url() -> str:
    return require_service("Redis", "REDIS_URL", 6379)


@pytest.fixture
async def cluster(boot_platform: Any, redis_url: str) -> AsyncIterator[tuple[Instance, Instance]]:
    shared = {
        "cache.redis_url": redis_url,
        "cache.key_prefix": f"rustok-storefront-{secrets.token_hex(4)}",
        "rustok.events.relay": False,
        "rustok.rate_limit.enabled": False,
    }
    instances = []
    async with AsyncExitStack() as stack:
        for _ in range(2):
            platform = boot_platform(**shared)
            app = create_app(platform)
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(RustokClient(app))
            instances.append(Instance(platform, client))
        yield instances[0], instances[1]


def heard_by(instance: Instance, channel: str, *, naming: str) -> asyncio.Event:
    """An event set when ``instance`` receives a message on ``channel`` that mentions ``naming``.

    Subscribed after the platform's own subscribers, so when it is set they have
    already applied the message.
    """
    arrived = asyncio.Event()

    def received(message: str) -> None:
        if naming in message:
            arrived.set()

    assert instance.platform.ctx.bus is not None
    instance.platform.ctx.bus.subscribe(channel, received)
    return arrived


async def write_products(instance: Instance, tenant: TenantContext, *handles: str, owner: str = "index") -> None:
    documents = [
        ProductDocument(product_id=uuid.uuid4(), locale="en", handle=handle, title=handle.title(), status="active")
        for handle in handles
    ]
    ids = [d.product_id for d in documents]
    async with instance.platform.ctx.db.session(tenant.id) as session, session.begin():
        await lock_entities(session, tenant.id, PRODUCT, ids)
        await runtime_of(instance.platform.ctx).writer.write(session, tenant.id, PRODUCT, ids, documents, owner=owner)


async def listed(instance: Instance, tenant: TenantContext) -> list[str]:
    data = await instance.client.graphql_data(LIST, tenant=tenant)
    return sorted(edge["node"]["handle"] for edge in data["catalogProducts"]["edges"])


async def test_a_write_through_one_instance_invalidates_the_other_instances_answers_of_that_tenant_only(
    cluster: tuple[Instance, Instance],
) -> None:
    a, b = cluster
    directory = a.platform.ctx.services.get(TenantDirectory)
    shop = await directory.create(slug=f"shop-{secrets.token_hex(3)}", name="Shop")
    other = await directory.create(slug=f"other-{secrets.token_hex(3)}", name="Other")
    await write_products(a, shop, "first")
    await write_products(a, other, "elsewhere")

    for instance in (a, b):
        assert await listed(instance, shop) == ["first"]
        assert await listed(instance, other) == ["elsewhere"]
    async with count_queries(b.platform) as cached:
        assert await listed(b, shop) == ["first"]
        assert await listed(b, other) == ["elsewhere"]
    assert cached.count == 0, cached  # B answers both from its memory

    crossed = heard_by(b, CHANNEL, naming=str(shop.id))
    await write_products(a, shop, "second")
    assert await listed(a, shop) == ["first", "second"]  # A dropped its own answer on commit
    async with asyncio.timeout(WITHIN):
        await crossed.wait()

    async with count_queries(b.platform) as recomputed:
        assert await listed(b, shop) == ["first", "second"]
    assert recomputed.count == 1, recomputed
    async with count_queries(b.platform) as kept:
        assert await listed(b, other) == ["elsewhere"]
    assert kept.count == 0, kept  # the other tenant's answer survived on B


async def test_a_module_toggled_through_one_instance_hides_its_documents_on_the_other(
    cluster: tuple[Instance, Instance],
) -> None:
    a, b = cluster
    directory = a.platform.ctx.services.get(TenantDirectory)
    shop = await directory.create(slug=f"shop-{secrets.token_hex(3)}", name="Shop", modules=["commerce"])
    await write_products(a, shop, "sold-by-commerce", owner="commerce")
    assert await listed(b, shop) == ["sold-by-commerce"]
    assert await listed(b, shop) == ["sold-by-commerce"]  # cached on B

    tenant_dropped = heard_by(b, "cache-invalidate", naming=shop.slug)
    await directory.set_module_enabled(shop.id, "commerce", False)
    async with asyncio.timeout(WITHIN):
        await tenant_dropped.wait()
    assert await listed(b, shop) == []
