"""The storefront's response cache: answers kept per tenant until the tenant's index changes.

Scenario by scenario: a repeated query is served from memory without SQL; documents
that print the same and variables in any order share an answer; an index write drops
the answers of its tenant only (after it commits, not when it rolls back); a new
default locale changes the answer at once (module toggles are tested in
``tests/test_storefront_cache_toggles.py``, which needs commerce installed); concurrent
misses compute once; queries that mix in other fields, that need a caller, that fail, or that name no
tenant are never cached.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from rustok_core.interfaces import TenantDirectory
from rustok_index.runtime import runtime_of
from rustok_index.services.writer import lock_entities
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.plugin import BootPlatform
from rustok_testing.queries import count_queries

from .conftest import SHOWN_BY, product, write
from .storefront_corpus import Storefront, seed_storefront, storefront_tenant

pytestmark = pytest.mark.usefixtures("app")

LIST = """
query($locale: String, $first: Int, $after: String) {
  catalogProducts(locale: $locale, first: $first, after: $after) {
    edges { cursor node { handle title locale prices { currency min } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture(scope="module")
def platform(boot_platform: BootPlatform) -> Platform:
    return boot_platform(**{"rustok.events.relay": False, "rustok.rate_limit.enabled": False})


@pytest.fixture(scope="module")
async def shop(platform: Platform) -> Storefront:
    return await seed_storefront(platform, products=8, items=3)


def counter(platform: Platform, name: str) -> float:
    metrics = runtime_of(platform.ctx).response_metrics
    return float(getattr(metrics, name).value)


async def handles(client: RustokClient, tenant: Any, query: str = LIST, **variables: Any) -> list[str]:
    data = await client.graphql_data(query, variables, tenant=tenant)
    return [edge["node"]["handle"] for edge in data["catalogProducts"]["edges"]]


async def test_a_repeated_query_is_answered_from_memory_without_sql(
    client: RustokClient, platform: Platform, shop: Storefront
) -> None:
    await client.graphql_data("{ enabledModules }", tenant=shop.tenant)  # the tenant is resolved from memory now
    hits = counter(platform, "hit")
    async with count_queries(platform) as cold:
        first = await client.post("/graphql", json={"query": LIST}, headers=client.tenant_headers(shop.tenant))
    async with count_queries(platform) as warm:
        again = await client.post("/graphql", json={"query": LIST}, headers=client.tenant_headers(shop.tenant))
    assert cold.count == 1, cold
    assert warm.count == 0, warm
    assert again.content == first.content
    assert counter(platform, "hit") == hits + 1


async def test_documents_that_print_the_same_and_reordered_variables_share_one_answer(
    client: RustokClient, platform: Platform, shop: Storefront
) -> None:
    variables = {"locale": "de", "first": 3}
    await client.graphql_data(LIST, variables, tenant=shop.tenant)
    hits = counter(platform, "hit")
    reformatted = "# the same document\n" + " ".join(LIST.split())
    await client.graphql_data(reformatted, {"first": 3, "locale": "de"}, tenant=shop.tenant)
    await client.graphql_data(LIST, {**variables, "unused": "ignored by GraphQL"}, tenant=shop.tenant)
    assert counter(platform, "hit") == hits + 2


async def test_an_index_write_drops_the_answers_of_its_tenant_only(
    client: RustokClient, platform: Platform, shop: Storefront
) -> None:
    other = await storefront_tenant(platform)
    await write(platform, other, [product(handle="other-shop-only", title="Other")])
    before = await handles(client, shop.tenant)
    assert await handles(client, other) == ["other-shop-only"]

    await write(platform, shop.tenant, [product(handle="brand-new", title="Brand new", published_at=None)])

    async with count_queries(platform) as recomputed:
        after = await handles(client, shop.tenant)
    assert recomputed.count == 1, recomputed
    assert after[0] == "brand-new"  # listed first: newest
    assert after[1:] == before[:-1] or after[1:] == before  # one page: the rest moved down
    async with count_queries(platform) as untouched:
        assert await handles(client, other) == ["other-shop-only"]
    assert untouched.count == 0, untouched  # the other tenant's answer survived


async def test_a_rolled_back_write_drops_nothing(client: RustokClient, platform: Platform, shop: Storefront) -> None:
    before = await handles(client, shop.tenant)
    writer = runtime_of(platform.ctx).writer
    document = product(handle="never-committed")

    async def write_then_give_up() -> None:
        async with platform.ctx.db.session(shop.tenant.id) as session, session.begin():
            await lock_entities(session, shop.tenant.id, "product", [document.product_id])
            await writer.write(session, shop.tenant.id, "product", [document.product_id], [document], owner=SHOWN_BY)
            raise RuntimeError("the caller gives up: the transaction rolls back")

    with pytest.raises(RuntimeError, match="gives up"):
        await write_then_give_up()
    async with count_queries(platform) as counted:
        assert await handles(client, shop.tenant) == before
    assert counted.count == 0, counted


async def test_a_new_default_locale_changes_the_answer_at_once(client: RustokClient, platform: Platform) -> None:
    directory = platform.ctx.services.get(TenantDirectory)
    tenant = await storefront_tenant(platform)
    product_id = uuid.uuid4()
    await write(
        platform,
        tenant,
        [
            product(product_id, handle="shirt", title="Shirt"),
            product(product_id, locale="de", handle="hemd", title="Hemd"),
        ],
    )
    query = "{ catalogProducts { edges { node { handle locale } } } }"
    assert await handles(client, tenant, query) == ["shirt"]
    await directory.update(tenant.id, default_locale="de")
    assert await handles(client, tenant, query) == ["hemd"]


async def test_concurrent_misses_of_one_query_compute_it_once(
    client: RustokClient, platform: Platform, shop: Storefront
) -> None:
    await client.graphql_data("{ enabledModules }", tenant=shop.tenant)
    query = "query($n: Int) { catalogProducts(first: $n) { edges { node { title } } } }"
    misses, answers = counter(platform, "miss"), counter(platform, "fast")
    async with count_queries(platform) as counted:
        bodies = await asyncio.gather(
            *(
                client.post(
                    "/graphql", json={"query": query, "variables": {"n": 4}}, headers=client.tenant_headers(shop.tenant)
                )
                for _ in range(12)
            )
        )
    assert counted.count == 1, counted
    assert len({body.content for body in bodies}) == 1
    assert counter(platform, "miss") == misses + 12
    assert counter(platform, "fast") == answers + 1


async def test_queries_that_mix_in_other_fields_are_not_cached(
    client: RustokClient, platform: Platform, shop: Storefront
) -> None:
    query = "{ catalogProducts(first: 2) { edges { node { handle } } } enabledModules }"
    lookups = counter(platform, "hit") + counter(platform, "miss")
    for _ in range(2):
        async with count_queries(platform) as counted:
            await client.graphql_data(query, tenant=shop.tenant)
        assert counted.count == 1, counted
    assert counter(platform, "hit") + counter(platform, "miss") == lookups  # never reached the cache


async def test_an_answer_that_needs_a_caller_is_never_shared(
    client: RustokClient, platform: Platform, shop: Storefront, make_user: Any
) -> None:
    admin = await make_user(shop.tenant, role="admin", platform=platform)
    query = "{ catalogProducts(first: 1) { edges { node { handle } } } indexStatus { type documents } }"
    as_admin = await client.graphql(query, headers=admin.headers)
    assert "errors" not in as_admin, as_admin
    anonymous = await client.graphql(query, tenant=shop.tenant)
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_error_answers_are_not_cached(client: RustokClient, platform: Platform, shop: Storefront) -> None:
    entries = len(runtime_of(platform.ctx).response_cache or ())
    hits = counter(platform, "hit")
    for _ in range(2):
        body = await client.graphql(LIST, {"after": "not-a-cursor"}, tenant=shop.tenant)
        assert error_codes(body) == ["VALIDATION"]
    assert counter(platform, "hit") == hits
    assert len(runtime_of(platform.ctx).response_cache or ()) == entries


async def test_without_a_tenant_nothing_is_cached(client: RustokClient, platform: Platform) -> None:
    bypassed = counter(platform, "bypass")
    body = await client.graphql(LIST)
    assert error_codes(body) == ["VALIDATION"]
    assert counter(platform, "bypass") == bypassed + 1


async def test_index_writes_are_the_only_clock(client: RustokClient, platform: Platform, shop: Storefront) -> None:
    # A change of the rows behind the writer's back is not seen: answers live until
    # the index says it changed (the writer is the only code that writes these tables).
    before = await handles(client, shop.tenant)
    async with platform.ctx.db.session(shop.tenant.id) as session, session.begin():
        await session.execute(
            text("UPDATE index_products SET title = 'Changed in secret' WHERE tenant_id = :t"), {"t": shop.tenant.id}
        )
    assert await handles(client, shop.tenant) == before
    runtime_of(platform.ctx).invalidation.changed(shop.tenant.id)  # type: ignore[union-attr]
    data = await client.graphql_data(LIST, tenant=shop.tenant)
    assert {edge["node"]["title"] for edge in data["catalogProducts"]["edges"]} == {"Changed in secret"}
