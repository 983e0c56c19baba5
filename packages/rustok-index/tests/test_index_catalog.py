"""The storefront catalog read from the index: filters, sorts, keyset pages, locale
fallback, product by handle, search — each in one SQL query.

The catalog is written through the index writer as real ``ProductDocument`` values
(the owning module's documents are tested with that module).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text

from rustok_core.context import TenantContext
from rustok_core.db.database import driver_conninfo
from rustok_core.db.reads import ReadConnections
from rustok_core.errors import Validation
from rustok_core.index import CategoryRef, ContentDocument, PriceRange, ProductDocument
from rustok_index.runtime import runtime_of
from rustok_index.services.reader import StorefrontReader
from rustok_index.services.storefront import CatalogFilter, ReadScope, StorefrontQueries
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.queries import count_queries

from .conftest import product, write

pytestmark = pytest.mark.usefixtures("app")

DAY = datetime(2026, 3, 1, tzinfo=UTC)
APPAREL = CategoryRef(uuid.uuid4(), "apparel", "Apparel")
SHOES = CategoryRef(uuid.uuid4(), "shoes", "Shoes")
JACKETS = CategoryRef(uuid.uuid4(), "jackets", "Jackets")

LIST = """
query($locale: String, $filter: CatalogFilter, $sort: CatalogSort, $first: Int, $after: String) {
  catalogProducts(locale: $locale, filter: $filter, sort: $sort, first: $first, after: $after) {
    edges { cursor node { id locale handle title inStock prices { currency min max } categories { handle } tags } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ONE = "query($h: String!, $l: String) { catalogProduct(handle: $h, locale: $l) { id locale title handle } }"
SEARCH = """
query($q: String!, $locale: String, $first: Int, $after: String) {
  search(query: $q, locale: $locale, types: [PRODUCT], first: $first, after: $after) {
    edges { cursor node { type id title handle highlight titleHighlight rank product { handle prices { currency } } } }
    pageInfo { hasNextPage endCursor }
    didYouMean
  }
}"""


class Catalog:
    def __init__(self, tenant: TenantContext) -> None:
        self.tenant = tenant
        self.ids: dict[str, uuid.UUID] = {}

    def id(self, name: str) -> uuid.UUID:
        return self.ids.setdefault(name, uuid.uuid4())


def docs(catalog: Catalog) -> list[ProductDocument]:
    eur, usd = "EUR", "USD"
    return [
        product(
            catalog.id("shoes"),
            title="Red running shoes",
            handle="red-running-shoes",
            description="Light shoes for long runs on the road.",
            tags=["sport", "red"],
            categories=[SHOES, APPAREL],
            prices={eur: PriceRange(5000, 6000), usd: PriceRange(5500, 6500)},
            has_stock=True,
            total_stock=12,
            published_at=DAY,
        ),
        product(
            catalog.id("sandals"),
            title="Blue sandals",
            handle="blue-sandals",
            tags=["summer"],
            categories=[SHOES, APPAREL],
            prices={eur: PriceRange(2000, 2000)},
            has_stock=False,
            published_at=DAY + timedelta(days=1),
        ),
        product(
            catalog.id("jacket"),
            title="Leather jacket",
            handle="leather-jacket",
            description="A jacket of soft leather.",
            categories=[JACKETS, APPAREL],
            prices={eur: PriceRange(15000, 20000), usd: PriceRange(17000, 17000)},
            has_stock=True,
            published_at=DAY + timedelta(days=2),
        ),
        product(
            catalog.id("jacket"),
            locale="de",
            title="Lederjacke",
            handle="lederjacke",
            description="Eine Jacke aus weichem Leder.",
            categories=[JACKETS, APPAREL],
            prices={eur: PriceRange(15000, 20000), usd: PriceRange(17000, 17000)},
            has_stock=True,
            published_at=DAY + timedelta(days=2),
        ),
        product(
            catalog.id("socks"),
            locale="de",
            title="Wollsocken",
            handle="wollsocken",
            tags=["winter", "sport"],
            prices={eur: PriceRange(900, 900)},
            has_stock=True,
            published_at=DAY + timedelta(days=3),
        ),
        product(
            catalog.id("tie"),
            title="Silk tie",
            handle="silk-tie",
            prices={usd: PriceRange(3000, 3000)},
            has_stock=True,
            published_at=DAY + timedelta(days=4),
        ),
    ]


@pytest.fixture(scope="module")
async def catalog(platform: Platform, app: Any) -> Catalog:
    from rustok_core.interfaces import TenantDirectory

    tenant = await platform.ctx.services.get(TenantDirectory).create(
        slug=f"shop-{uuid.uuid4().hex[:6]}", name="Shop", default_locale="en", locales=["en", "de"]
    )
    shop = Catalog(tenant)
    await write(platform, tenant, docs(shop))
    return shop


async def handles(client: RustokClient, catalog: Catalog, **variables: Any) -> list[str]:
    data = await client.graphql_data(LIST, variables, tenant=catalog.tenant)
    return [edge["node"]["handle"] for edge in data["catalogProducts"]["edges"]]


async def test_products_list_newest_first_in_the_asked_locale(client: RustokClient, catalog: Catalog) -> None:
    assert await handles(client, catalog) == ["silk-tie", "leather-jacket", "blue-sandals", "red-running-shoes"]


async def test_a_locale_falls_back_to_the_default_per_product(client: RustokClient, catalog: Catalog) -> None:
    data = await client.graphql_data(LIST, {"locale": "de"}, tenant=catalog.tenant)
    got = [(e["node"]["handle"], e["node"]["locale"]) for e in data["catalogProducts"]["edges"]]
    assert got == [
        ("silk-tie", "en"),
        ("wollsocken", "de"),
        ("lederjacke", "de"),
        ("blue-sandals", "en"),
        ("red-running-shoes", "en"),
    ]


async def test_filters_by_category_tags_stock_and_price(client: RustokClient, catalog: Catalog) -> None:
    assert await handles(client, catalog, filter={"categoryHandle": "apparel"}) == [
        "leather-jacket",
        "blue-sandals",
        "red-running-shoes",
    ]
    assert await handles(client, catalog, filter={"categoryHandle": "shoes", "inStock": True}) == ["red-running-shoes"]
    assert await handles(client, catalog, filter={"inStock": False}) == ["blue-sandals"]
    assert await handles(client, catalog, locale="de", filter={"tags": ["sport"]}) == [
        "wollsocken",
        "red-running-shoes",
    ]
    assert await handles(client, catalog, filter={"tags": ["sport", "red"]}) == ["red-running-shoes"]
    assert await handles(client, catalog, filter={"currency": "USD"}) == [
        "silk-tie",
        "leather-jacket",
        "red-running-shoes",
    ]
    assert await handles(client, catalog, filter={"currency": "EUR", "minPrice": 1000, "maxPrice": 6000}) == [
        "blue-sandals",
        "red-running-shoes",
    ]


async def test_sorts_by_price_in_a_currency_and_by_title(client: RustokClient, catalog: Catalog) -> None:
    eur = {"currency": "EUR"}
    assert await handles(client, catalog, filter=eur, sort="PRICE_ASC") == [
        "blue-sandals",
        "red-running-shoes",
        "leather-jacket",
    ]
    assert await handles(client, catalog, filter=eur, sort="PRICE_DESC") == [
        "leather-jacket",
        "red-running-shoes",
        "blue-sandals",
    ]
    assert await handles(client, catalog, locale="de", filter=eur, sort="PRICE_ASC") == [
        "wollsocken",
        "blue-sandals",
        "red-running-shoes",
        "lederjacke",
    ]
    assert await handles(client, catalog, sort="TITLE") == [
        "blue-sandals",
        "leather-jacket",
        "red-running-shoes",
        "silk-tie",
    ]


@pytest.mark.parametrize(
    ("sort", "filter"),
    [
        ("NEWEST", None),
        ("TITLE", None),
        ("PRICE_ASC", {"currency": "EUR"}),
        ("PRICE_DESC", {"currency": "EUR"}),
        ("RELEVANCE", {"query": "apparel or sport"}),
    ],
)
async def test_keyset_pages_walk_the_whole_list_once(
    client: RustokClient, catalog: Catalog, sort: str, filter: dict[str, Any] | None
) -> None:
    everything = await handles(client, catalog, locale="de", sort=sort, filter=filter)
    walked: list[str] = []
    after = None
    while True:
        data = await client.graphql_data(
            LIST, {"locale": "de", "sort": sort, "filter": filter, "first": 2, "after": after}, tenant=catalog.tenant
        )
        page = data["catalogProducts"]
        walked += [edge["node"]["handle"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == everything
    assert len(everything) >= 3


async def test_bad_arguments_are_validation_errors_that_do_not_echo_input(
    client: RustokClient, catalog: Catalog
) -> None:
    newest = await client.graphql_data(LIST, {"first": 1}, tenant=catalog.tenant)
    cursor = newest["catalogProducts"]["pageInfo"]["endCursor"]
    cases = [
        {"sort": "TITLE", "after": cursor},
        {"after": "<script>alert(1)</script>"},
        {"filter": {"minPrice": 100}},
        {"sort": "PRICE_ASC"},
        {"filter": {"currency": "<b>eur</b>"}},
        {"locale": "<img src=x>"},
        {"first": 1000},
    ]
    for variables in cases:
        body = await client.graphql(LIST, variables, tenant=catalog.tenant)
        assert error_codes(body) == ["VALIDATION"], (variables, body)
        assert "<" not in body["errors"][0]["message"], body


async def test_a_product_by_handle_in_any_locale_is_served_in_the_asked_one(
    client: RustokClient, catalog: Catalog
) -> None:
    english = (await client.graphql_data(ONE, {"h": "lederjacke", "l": "en"}, tenant=catalog.tenant))["catalogProduct"]
    assert (english["title"], english["locale"]) == ("Leather jacket", "en")
    german = (await client.graphql_data(ONE, {"h": "leather-jacket", "l": "de"}, tenant=catalog.tenant))[
        "catalogProduct"
    ]
    assert (german["title"], german["locale"]) == ("Lederjacke", "de")
    fallback = (await client.graphql_data(ONE, {"h": "silk-tie", "l": "de"}, tenant=catalog.tenant))["catalogProduct"]
    assert fallback["locale"] == "en"
    only_german = (await client.graphql_data(ONE, {"h": "wollsocken"}, tenant=catalog.tenant))["catalogProduct"]
    assert only_german["locale"] == "de"
    missing = await client.graphql_data(ONE, {"h": "no-such-thing"}, tenant=catalog.tenant)
    assert missing["catalogProduct"] is None


async def test_search_ranks_highlights_and_suggests(client: RustokClient, catalog: Catalog) -> None:
    found = (await client.graphql_data(SEARCH, {"q": "leather"}, tenant=catalog.tenant))["search"]
    hit = found["edges"][0]["node"]
    assert (hit["type"], hit["handle"], hit["product"]["handle"]) == ("PRODUCT", "leather-jacket", "leather-jacket")
    assert hit["titleHighlight"] == "<mark>Leather</mark> jacket"
    assert "<mark>leather</mark>" in hit["highlight"]
    assert found["didYouMean"] is None or found["didYouMean"] != "leather"

    german = (await client.graphql_data(SEARCH, {"q": "Jacken", "locale": "de"}, tenant=catalog.tenant))["search"]
    assert [e["node"]["handle"] for e in german["edges"]] == ["lederjacke"]

    typo = (await client.graphql_data(SEARCH, {"q": "lether jackat"}, tenant=catalog.tenant))["search"]
    assert typo["edges"] == []
    assert typo["didYouMean"] == "leather jacket"

    ranked = await client.graphql_data(LIST, {"filter": {"query": "shoes"}, "sort": "RELEVANCE"}, tenant=catalog.tenant)
    # The title (weight A) outranks the category name (weight C).
    assert [e["node"]["handle"] for e in ranked["catalogProducts"]["edges"]] == ["red-running-shoes", "blue-sandals"]


async def test_search_pages_walk_every_hit_once(client: RustokClient, catalog: Catalog) -> None:
    variables: dict[str, Any] = {"q": "apparel or sport or tie", "locale": "de"}
    everything = (await client.graphql_data(SEARCH, variables, tenant=catalog.tenant))["search"]
    expected = [edge["node"]["handle"] for edge in everything["edges"]]
    assert len(expected) == 5
    walked: list[str] = []
    after = None
    while True:
        page = (await client.graphql_data(SEARCH, {**variables, "first": 2, "after": after}, tenant=catalog.tenant))[
            "search"
        ]
        walked += [edge["node"]["handle"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == expected


async def test_another_tenant_sees_none_of_it(
    client: RustokClient, catalog: Catalog, platform: Platform, make_tenant: Any
) -> None:
    other = await make_tenant(platform=platform)
    assert (await client.graphql_data(LIST, {}, tenant=other))["catalogProducts"]["edges"] == []
    assert (await client.graphql_data(ONE, {"h": "silk-tie"}, tenant=other))["catalogProduct"] is None
    assert (await client.graphql_data(SEARCH, {"q": "jacket"}, tenant=other))["search"]["edges"] == []


async def test_read_scopes_are_kept_per_tenant_context_and_locale(platform: Platform, catalog: Catalog) -> None:
    """A scope and its values are made once per tenant context and asked locale; a changed tenant (a new
    context, as the tenant cache hands out) gets a scope of its own, and a bad locale is refused each time."""
    queries = StorefrontQueries(platform.ctx)
    tenant = catalog.tenant
    scope = queries.scope(tenant, "de")
    assert queries.scope(tenant, "de") is scope
    assert (scope.locale, scope.fallback, scope.falls_back) == ("de", "en", True)
    assert queries.scope(tenant, None).locale == "en" and not queries.scope(tenant, None).falls_back

    values = scope.params()
    values["currency"] = "EUR"  # a read adds its own values to the dict it is given
    assert "currency" not in scope.params()

    dropped = max(tenant.enabled_modules)  # whichever modules this environment installs
    changed = dataclasses.replace(tenant, enabled_modules=tenant.enabled_modules - {dropped})
    other = queries.scope(changed, "de")
    assert other is not scope and dropped in scope.modules and dropped not in other.modules
    assert other.params()["modules"] != scope.params()["modules"]
    for _ in range(2):
        with pytest.raises(Validation):
            queries.scope(tenant, "<img src=x>")


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (LIST, {"locale": "de", "filter": {"currency": "EUR", "categoryHandle": "apparel"}, "sort": "PRICE_ASC"}),
        (LIST, {"filter": {"query": "jacket", "tags": ["sport"]}, "sort": "RELEVANCE"}),
        (ONE, {"h": "leather-jacket", "l": "de"}),
        (SEARCH, {"q": "lether", "locale": "de"}),
    ],
)
async def test_each_storefront_read_is_one_sql_query(
    client: RustokClient, catalog: Catalog, platform: Platform, document: str, variables: dict[str, Any]
) -> None:
    await client.graphql_data(document, variables, tenant=catalog.tenant)  # warm the tenant cache
    runtime_of(platform.ctx).invalidation.changed(catalog.tenant.id)  # forget the cached answers
    async with count_queries(platform) as counted:
        await client.graphql_data(document, variables, tenant=catalog.tenant)
    assert counted.count == 1, counted
    async with count_queries(platform) as cached:
        await client.graphql_data(document, variables, tenant=catalog.tenant)
    assert cached.count == 0, cached


async def prepared_plans(reads: ReadConnections, statement: str) -> tuple[int, int]:
    """(generic, custom) plans PostgreSQL made for ``statement`` on the connection of ``reads``."""
    async with reads.connection() as connection:
        cursor = await connection.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = %s", (statement,)
        )
        found = await cursor.fetchone()
    return (found[0], found[1]) if found else (0, 0)


def as_prepared(statement: str) -> str:
    """psycopg's ``%(name)s`` placeholders as the ``$n`` PostgreSQL shows (numbered by first appearance)."""
    numbers: dict[str, int] = {}
    return re.sub(r"%\((\w+)\)s", lambda m: f"${numbers.setdefault(m[1], len(numbers) + 1)}", statement)


LARGE = 2_000
"""Rows of a tenant large enough that the planner's guess for a parameter LIMIT (a tenth of them) loses."""


@pytest.fixture(scope="module")
async def large_shop(platform: Platform, app: Any) -> TenantContext:
    from rustok_core.interfaces import TenantDirectory

    tenant = await platform.ctx.services.get(TenantDirectory).create(
        slug=f"large-{uuid.uuid4().hex[:6]}", name="Large shop", default_locale="en", locales=["en"]
    )
    await write(
        platform, tenant, [product(title=f"Item {n}", published_at=DAY + timedelta(minutes=n)) for n in range(LARGE)]
    )
    posts = [ContentDocument(uuid.uuid4(), "en", "post", f"Post {n}", f"post-{n}", "published") for n in range(LARGE)]
    await write(platform, tenant, posts)
    # The statistics autovacuum keeps in a live database.
    async with platform.ctx.db.system_session() as session, session.begin():
        await session.execute(text("ANALYZE index_products, index_content"))
    return tenant


@pytest.mark.parametrize("listing", ["products", "feed"])
async def test_an_unfiltered_listing_is_planned_once_per_connection(
    platform: Platform, large_shop: TenantContext, listing: str
) -> None:
    """A listing without filters has one plan for every tenant and page: PostgreSQL keeps it on the
    connection instead of planning each execution again (a parameter LIMIT made it do that)."""
    queries = StorefrontQueries(platform.ctx)
    # The reads on one connection of their own, where its prepared statements can be looked at.
    reads = ReadConnections(driver_conninfo(platform.ctx.db.url), max_size=1)
    queries._reader = StorefrontReader(SimpleNamespace(reads=reads, engine=platform.ctx.db.engine))  # type: ignore[arg-type]
    tenant = large_shop
    scope = ReadScope(tenant.id, "en", tenant.default_locale, tuple(sorted(tenant.enabled_modules)))
    listings = {
        "products": lambda: queries.catalog_products(scope, CatalogFilter(), first=20),
        "feed": lambda: queries.content_feed(scope, "post", first=20),
    }
    read = listings[listing]
    try:
        async with count_queries(platform) as counted:
            page = await read()
        (statement,) = counted.statements
        for _ in range(15):  # psycopg prepares a statement from its sixth run on a connection
            assert (await read()).edges == page.edges
        generic, custom = await prepared_plans(reads, as_prepared(statement))
    finally:
        await reads.close()
    assert len(page.edges) == 20 and page.has_next_page
    assert (generic, custom) == (6, 5)  # planned for its first five runs, then the kept plan
