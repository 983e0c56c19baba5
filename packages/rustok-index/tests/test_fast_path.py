"""The fast path answers storefront queries byte for byte like graphql-core.

Two apps share one database: one answers with the fast path, the other executes every
query with graphql-core (both with the response cache off). A few hundred generated
documents — random selections of every storefront type, aliases, repeated fields,
fragments and inline fragments, ``__typename``, one to three root fields, arguments
as variables or literals, locales with and without fallback, filters, sorts, page
sizes, cursors of the same or another sort, garbage — go to both; the responses
(status and body bytes) must be equal. Every answer without errors must come from the
fast path, every answer with errors from graphql-core (the fast path steps aside).
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from graphql import parse
from starlette.applications import Starlette

from rustok_core.index import PriceRange
from rustok_index.graphql import STOREFRONT_READS
from rustok_index.responses.plan import NotPlannable, compile_operation
from rustok_index.runtime import runtime_of
from rustok_index.services.storefront import CatalogFilter, ReadScope, text_array
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.plugin import BootPlatform
from rustok_testing.queries import count_queries

from .conftest import product, rows, write
from .storefront_corpus import CATEGORIES, TAGS, WORDS, Storefront, seed_storefront, storefront_tenant


@dataclass
class Instance:
    platform: Platform
    app: Starlette
    client: RustokClient


async def _instance(boot_platform: BootPlatform, **settings: Any) -> AsyncIterator[Instance]:
    platform = boot_platform(
        **{
            "rustok.events.relay": False,
            "rustok.rate_limit.enabled": False,
            "graphql.response_cache": False,
            **settings,
        }
    )
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield Instance(platform, app, client)


@pytest.fixture(scope="module")
async def fast(boot_platform: BootPlatform) -> AsyncIterator[Instance]:
    async for instance in _instance(boot_platform, **{"graphql.fast_path": True}):
        yield instance


@pytest.fixture(scope="module")
async def normal(boot_platform: BootPlatform) -> AsyncIterator[Instance]:
    async for instance in _instance(boot_platform, **{"graphql.fast_path": False}):
        yield instance


@pytest.fixture(scope="module")
async def shop(fast: Instance) -> Storefront:
    return await seed_storefront(fast.platform, products=30, items=12)


def fast_answers(instance: Instance) -> float:
    return runtime_of(instance.platform.ctx).response_metrics.fast.value


def fallbacks(instance: Instance, reason: str) -> float:
    return runtime_of(instance.platform.ctx).response_metrics.fallbacks[reason].value


# -- generated documents ------------------------------------------------------------------------

PRODUCT_FIELDS = [
    "id", "locale", "handle", "title", "subtitle", "description", "status", "currencies", "totalStock",
    "inStock", "tags", "seoTitle", "seoDescription", "thumbnail", "publishedAt", "extra",
]  # fmt: skip
PRODUCT_OBJECTS = {"prices": ["currency", "min", "max"], "categories": ["id", "handle", "name"]}
FEED_FIELDS = [
    "id", "kind", "locale", "title", "slug", "excerpt", "bodyPreview", "bodyHtml", "status", "tags",
    "parentId", "rootId", "replyCount", "seoTitle", "seoDescription", "publishedAt", "extra",
]  # fmt: skip
FEED_OBJECTS = {"author": ["id", "name"], "category": ["id", "name", "slug"]}
HIT_FIELDS = ["type", "id", "locale", "title", "handle", "kind", "rank", "highlight", "titleHighlight"]
TYPES = {"CatalogProduct": "product", "FeedItem": "feed", "SearchHit": "hit"}


class Generator:
    """Random, valid storefront documents (seeded, so a failure reproduces)."""

    def __init__(self, rng: random.Random, shop: Storefront, cursors: dict[tuple[str, str], str]) -> None:
        self.rng = rng
        self.shop = shop
        self.cursors = cursors
        self.fragments: list[str] = []
        self.variables: dict[str, Any] = {}
        self.definitions: list[str] = []
        self.names = 0

    def fresh(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    # selections

    def fields(self, names: list[str], objects: dict[str, list[str] | str]) -> list[str]:
        rng = self.rng
        chosen = rng.sample(names, rng.randint(1, min(6, len(names))))
        parts = [f"{self.fresh('a')}: {name}" if rng.random() < 0.2 else name for name in chosen]
        if rng.random() < 0.2:
            parts.append(chosen[0])  # the same field twice: merged
        for name, inner in objects.items():
            if rng.random() < 0.5:
                sub = (
                    self.selection(inner)
                    if isinstance(inner, str)
                    else " ".join(rng.sample(inner, rng.randint(1, len(inner))))
                )
                parts.append(f"{name} {{ {sub} }}")
        if rng.random() < 0.2:
            parts.append("__typename")
        return parts

    def selection(self, type_name: str) -> str:
        rng = self.rng
        if type_name == "CatalogProduct":
            parts = self.fields(PRODUCT_FIELDS, dict(PRODUCT_OBJECTS))
        elif type_name == "FeedItem":
            parts = self.fields(FEED_FIELDS, dict(FEED_OBJECTS))
        else:
            objects: dict[str, list[str] | str] = {}
            if rng.random() < 0.5:
                objects["product"] = "CatalogProduct"
            if rng.random() < 0.5:
                objects["content"] = "FeedItem"
            parts = self.fields(HIT_FIELDS, objects)
        if len(parts) > 1 and rng.random() < 0.3:  # part of it through a fragment
            cut = rng.randint(1, len(parts) - 1)
            inner = " ".join(parts[cut:])
            if rng.random() < 0.5:
                name = self.fresh("F")
                self.fragments.append(f"fragment {name} on {type_name} {{ {inner} }}")
                parts = [*parts[:cut], f"...{name}"]
            else:
                condition = f" on {type_name}" if rng.random() < 0.5 else ""
                parts = [*parts[:cut], f"...{condition} {{ {inner} }}"]
        return " ".join(parts)

    def connection(self, node_type: str, extra: str = "") -> str:
        rng = self.rng
        parts = []
        edge = []
        if rng.random() < 0.7:
            edge.append("cursor")
        edge.append(f"node {{ {self.selection(node_type)} }}")
        if rng.random() < 0.1:
            edge.append("__typename")
        parts.append(f"{'list: ' if rng.random() < 0.15 else ''}edges {{ {' '.join(edge)} }}")
        if rng.random() < 0.7:
            parts.append("pageInfo { " + " ".join(rng.sample(["hasNextPage", "endCursor"], rng.randint(1, 2))) + " }")
        if extra and rng.random() < 0.6:
            parts.append(extra)
        return " ".join(parts)

    # arguments

    def argument(self, name: str, graphql_type: str, value: Any) -> str | None:
        """``name: $var`` (declared, value in variables) or the literal; ``None`` leaves it out."""
        if value is _OMIT:
            return None
        if self.rng.random() < 0.7:
            var = self.fresh("v")
            self.definitions.append(f"${var}: {graphql_type}")
            self.variables[var] = value
            return f"{name}: ${var}"
        return f"{name}: {literal(value, enum=graphql_type in ('CatalogSort', '[IndexEntityType!]'))}"

    def arguments(self, spec: list[tuple[str, str, Any]]) -> str:
        given = [a for a in (self.argument(*item) for item in spec) if a is not None]
        return f"({', '.join(given)})" if given else ""

    def pick(self, *choices: Any, omit: float = 0.3) -> Any:
        return _OMIT if self.rng.random() < omit else self.rng.choice(choices)

    def cursor(self, field: str, sort: str) -> Any:
        roll = self.rng.random()
        if roll < 0.45:
            return _OMIT
        if roll < 0.85:
            return self.cursors.get((field, sort), _OMIT)
        if roll < 0.93:
            other = self.rng.choice([s for (f, s) in self.cursors if f == field and s != sort] or ["x"])
            return self.cursors.get((field, other), "djE6WyJub3BlIl0")
        return "not a cursor"

    def root(self) -> str:
        rng = self.rng
        shop = self.shop
        kind = rng.choice(["products", "products", "product", "feed", "item", "search"])
        if kind == "products":
            sort = rng.choice(["NEWEST", "TITLE", "PRICE_ASC", "PRICE_DESC", "RELEVANCE"])
            filters: dict[str, Any] = {}
            if rng.random() < 0.5:
                if rng.random() < 0.5:
                    filters["categoryHandle"] = rng.choice([c.handle for c in CATEGORIES] + ["nowhere"])
                if rng.random() < 0.3:
                    filters["tags"] = rng.sample(TAGS, rng.randint(1, 2))
                if rng.random() < 0.4 or sort.startswith("PRICE"):
                    filters["currency"] = rng.choice(["EUR", "USD", "GBP", "EUR", "eur"])
                if rng.random() < 0.3:
                    filters["minPrice"] = rng.choice([0, 5_000, 50_000])
                if rng.random() < 0.3:
                    filters["inStock"] = rng.random() < 0.5
                if rng.random() < 0.3:
                    filters["query"] = rng.choice([*WORDS, "jacket or socks", "-wool shoes"])
            args = self.arguments(
                [
                    ("locale", "String", self.pick("en", "de", "fr", "x_Y1")),
                    ("filter", "CatalogFilter", filters or _OMIT),
                    ("sort", "CatalogSort", sort if rng.random() < 0.8 else _OMIT),
                    ("first", "Int", self.pick(1, 3, 7, 20, 25, 0, 101, omit=0.4)),
                    ("after", "String", self.cursor("catalogProducts", sort)),
                ]
            )
            return f"catalogProducts{args} {{ {self.connection('CatalogProduct')} }}"
        if kind == "product":
            handle = rng.choice([*shop.handles[:10], "wool-socks-3-de", "no-such-product"])
            args = self.arguments([("handle", "String!", handle), ("locale", "String", self.pick("en", "de", "it"))])
            return f"catalogProduct{args} {{ {self.selection('CatalogProduct')} }}"
        if kind == "feed":
            args = self.arguments(
                [
                    ("kind", "String!", rng.choice(["article", "page", "article", "topic"])),
                    ("locale", "String", self.pick("en", "de")),
                    ("categorySlug", "String", self.pick(*(c.handle for c in CATEGORIES), omit=0.7)),
                    ("tag", "String", self.pick(*TAGS, omit=0.7)),
                    ("first", "Int", self.pick(1, 2, 5, 50)),
                    ("after", "String", self.cursor("contentFeed", "FEED")),
                ]
            )
            return f"contentFeed{args} {{ {self.connection('FeedItem')} }}"
        if kind == "item":
            item_kind = rng.choice(["article", "page"])
            slug = rng.choice([*shop.slugs[item_kind], "missing-slug"])
            args = self.arguments(
                [("kind", "String!", item_kind), ("slug", "String!", slug), ("locale", "String", self.pick("en", "de"))]
            )
            return f"contentItem{args} {{ {self.selection('FeedItem')} }}"
        args = self.arguments(
            [
                ("query", "String!", rng.choice([*WORDS, "lether jaket", "stories", "   ", "silk or wool"])),
                ("locale", "String", self.pick("en", "de")),
                ("types", "[IndexEntityType!]", self.pick(["PRODUCT"], ["CONTENT"], ["PRODUCT", "CONTENT"], [])),
                ("first", "Int", self.pick(1, 4, 10)),
                ("after", "String", self.cursor("search", "SEARCH")),
            ]
        )
        return f"search{args} {{ {self.connection('SearchHit', 'didYouMean')} }}"

    def document(self) -> tuple[str, dict[str, Any]]:
        roots = [self.root() for _ in range(self.rng.choice([1, 1, 1, 2, 3]))]
        body = " ".join(
            f"r{n}: {root}" if len(roots) > 1 or self.rng.random() < 0.2 else root for n, root in enumerate(roots)
        )
        if self.rng.random() < 0.1:
            body += " __typename"
        header = f"query Storefront({', '.join(self.definitions)})" if self.definitions else "query"
        return "\n".join([f"{header} {{ {body} }}", *self.fragments]), self.variables


class _Omit:
    pass


_OMIT = _Omit()


def literal(value: Any, *, enum: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v, enum=False)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v, enum=enum) for v in value) + "]"
    if isinstance(value, str) and enum:
        return value
    return orjson.dumps(value).decode()


async def cursors_of(client: RustokClient, shop: Storefront) -> dict[tuple[str, str], str]:
    """An end cursor of a first page per list field and sort (for valid ``after`` arguments)."""
    found: dict[tuple[str, str], str] = {}
    query = "query($s: CatalogSort, $f: CatalogFilter) { catalogProducts(sort: $s, filter: $f, first: 3) { %s } }"
    for sort in ("NEWEST", "TITLE", "PRICE_ASC", "PRICE_DESC", "RELEVANCE"):
        variables = {"s": sort, "f": {"currency": "EUR", "query": "shoes or socks"}}
        body = await client.graphql_data(query % "pageInfo { endCursor }", variables, tenant=shop.tenant)
        found[("catalogProducts", sort)] = body["catalogProducts"]["pageInfo"]["endCursor"]
    feed = await client.graphql_data(
        '{ contentFeed(kind: "article", first: 2) { pageInfo { endCursor } } }', tenant=shop.tenant
    )
    found[("contentFeed", "FEED")] = feed["contentFeed"]["pageInfo"]["endCursor"]
    hits = await client.graphql_data(
        '{ search(query: "stories or shoes", first: 2) { pageInfo { endCursor } } }', tenant=shop.tenant
    )
    found[("search", "SEARCH")] = hits["search"]["pageInfo"]["endCursor"]
    return found


async def post(instance: Instance, shop: Storefront, query: str, variables: dict[str, Any]) -> tuple[int, bytes]:
    response = await instance.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=instance.client.tenant_headers(shop.tenant)
    )
    return response.status_code, response.content


async def fast_statement(fast: Instance, normal: Instance, shop: Storefront, query: str) -> str:
    """The one statement the fast path runs for ``query``, whose answer is graphql-core's to the byte."""
    async with count_queries(fast.platform) as counted:
        fast_body = await post(fast, shop, query, {})
    assert counted.count == 1, counted
    assert fast_body == await post(normal, shop, query, {}), query
    return counted.statements[0]


# -- the property ---------------------------------------------------------------------------------


async def test_generated_documents_get_the_same_bytes_from_both_paths_and_the_fast_path_answers_every_error_free_one(
    fast: Instance, normal: Instance, shop: Storefront
) -> None:
    cursors = await cursors_of(normal.client, shop)
    rng = random.Random(20260401)
    answered_fast = with_errors = 0
    for case in range(260):
        query, variables = Generator(rng, shop, cursors).document()
        before = fast_answers(fast)
        fast_status, fast_body = await post(fast, shop, query, variables)
        normal_status, normal_body = await post(normal, shop, query, variables)
        context = f"case {case}:\n{query}\n{variables}"
        assert (fast_status, fast_body) == (normal_status, normal_body), context
        assert fast_status == 200, context + f"\n{fast_body!r}"  # generated documents are valid
        errors = "errors" in orjson.loads(fast_body)
        took_fast_path = fast_answers(fast) - before == 1
        # Again: now the rows' JSON is the one the first answer rendered and kept.
        assert await post(fast, shop, query, variables) == (fast_status, fast_body), context
        assert took_fast_path == (not errors), context + f"\n{fast_body[:500]!r}"
        answered_fast += took_fast_path
        with_errors += errors
    # The corpus covers both sides well.
    assert answered_fast >= 150, answered_fast
    assert with_errors >= 20, with_errors


@pytest.mark.parametrize(
    "query",
    [
        "{ catalogProducts(first: 2) { edges { node { handle title @include(if: true) } } } }",
        "query($x: Boolean!) { catalogProducts(first: 2) { edges { node { handle @skip(if: $x) title } } } }",
        '{ contentFeed(kind: "article", first: 2) @include(if: true) { edges { node { slug } } } }',
    ],
)
async def test_documents_with_directives_are_executed_by_graphql_core_with_the_same_answer(
    fast: Instance, normal: Instance, shop: Storefront, query: str
) -> None:
    before = fallbacks(fast, "selection")
    variables = {"x": True}
    assert await post(fast, shop, query, variables) == await post(normal, shop, query, variables)
    assert fallbacks(fast, "selection") - before == 1


async def test_a_value_graphql_core_refuses_makes_the_fast_path_step_aside(fast: Instance, normal: Instance) -> None:
    # CatalogPrice.min is an Int: a price beyond 32 bits cannot be represented.
    tenant = await storefront_tenant(fast.platform)
    await write(
        fast.platform, tenant, [product(handle="gold-bar", prices={"EUR": PriceRange(3_000_000_000, 3_000_000_000)})]
    )
    query = "{ catalogProducts { edges { node { handle prices { currency min } } } } }"
    before = fallbacks(fast, "value")
    shop = Storefront(tenant)
    fast_answer = await post(fast, shop, query, {})
    assert fast_answer == await post(normal, shop, query, {})
    body = orjson.loads(fast_answer[1])
    assert body["data"] is None and "32-bit" in body["errors"][0]["message"], body
    assert fallbacks(fast, "value") - before == 1


async def test_a_cold_fast_answer_runs_one_statement_per_root_field(fast: Instance, shop: Storefront) -> None:
    client = fast.client
    await client.graphql_data("{ enabledModules }", tenant=shop.tenant)  # the tenant is resolved from memory now
    one = "{ catalogProducts(first: 5) { edges { node { handle prices { min } categories { name } } } } }"
    three = """{
      products: catalogProducts(first: 5, sort: TITLE) { edges { node { handle } } }
      feed: contentFeed(kind: "article") { edges { node { slug author { name } } } }
      found: search(query: "stories") { edges { node { title } } didYouMean }
    }"""
    for query, statements in ((one, 1), (three, 3)):
        before = fast_answers(fast)
        async with count_queries(fast.platform) as counted:
            await client.graphql_data(query, tenant=shop.tenant)
        assert counted.count == statements, counted
        assert fast_answers(fast) - before == 1


def test_plans_exist_only_for_what_the_fast_path_reproduces(fast: Instance) -> None:
    schema = fast.platform.schema.schema

    def plannable(query: str) -> bool:
        document = parse(query)
        try:
            compile_operation(schema, document, document.definitions[0], STOREFRONT_READS)  # type: ignore[arg-type]
        except NotPlannable:
            return False
        return True

    assert plannable("{ catalogProducts { edges { node { ...P } } } } fragment P on CatalogProduct { id t: title }")
    assert plannable('{ __typename contentItem(kind: "page", slug: "x") { ... { slug } ... on FeedItem { kind } } }')
    assert not plannable("{ catalogProducts { edges { node { id @include(if: true) } } } }")
    assert not plannable("{ catalogProducts { edges { cursor } } serverInfo { version } }")
    assert not plannable("{ __schema { queryType { name } } }")
    assert not plannable("{ indexStatus { type } }")


async def test_a_fast_read_fetches_only_the_columns_its_selection_shows(
    fast: Instance, normal: Instance, shop: Storefront
) -> None:
    narrow = "{ catalogProducts(first: 3) { edges { node { handle inStock } } pageInfo { endCursor } } }"
    wide = "{ catalogProducts(first: 3) { edges { cursor node { handle description extra seoTitle } } } }"
    feed = '{ contentFeed(kind: "article", first: 2) { edges { node { slug author { name } } } } }'
    item = '{ catalogProduct(handle: "x") { title } }'
    seen = {query: await fast_statement(fast, normal, shop, query) for query in (narrow, wide, feed, item)}
    assert "has_stock" in seen[narrow] and "description" not in seen[narrow] and "extra" not in seen[narrow]
    assert "description" in seen[wide] and "extra" in seen[wide] and "meta_title" in seen[wide]
    assert "author_name" in seen[feed] and "body_preview" not in seen[feed]
    assert "p.title" in seen[item] and "p.prices" not in seen[item]


async def test_a_read_takes_ids_as_the_text_the_answer_prints(
    fast: Instance, normal: Instance, shop: Storefront
) -> None:
    """Ids are printed, never computed with: reads select them as text instead of parsing a UUID per row."""
    products = "{ catalogProducts(first: 4) { edges { node { id categories { id handle } } } } }"
    feed = '{ contentFeed(kind: "article", first: 3) { edges { node { id author { id } category { id } } } } }'
    products_with_cursors = "{ catalogProducts(first: 4) { edges { cursor node { id } } } }"
    for query, raw, cast in (
        (products, "p.product_id", "CAST(p.product_id AS text)"),
        (products_with_cursors, "p.product_id", "CAST(p.product_id AS text)"),
        (feed, "c.node_id", "CAST(c.node_id AS text)"),
    ):
        statement = await fast_statement(fast, normal, shop, query)
        # What reaches the client, the sort key's id too; the id as such only orders rows inside the statement.
        sent = statement.replace(cast, "").replace(f"{raw} AS ku", "").split(" WHERE ")[0]
        assert cast in statement and raw not in sent
    tenant = shop.tenant
    scope = ReadScope(tenant.id, "en", tenant.default_locale, tuple(sorted(tenant.enabled_modules)))
    page = await runtime_of(fast.platform.ctx).storefront.catalog_products(
        scope, CatalogFilter(), first=4, fields=["id", "categories"]
    )
    nodes = [edge["node"] for edge in page.edges]
    answered = orjson.loads((await post(fast, shop, products, {}))[1])["data"]["catalogProducts"]["edges"]
    assert [node["id"] for node in nodes] == [edge["node"]["id"] for edge in answered]
    assert all(type(node["id"]) is str for node in nodes)
    categories = [category for node in nodes for category in node["categories"]]
    assert categories and all(type(category["id"]) is str for category in categories)


async def test_module_lists_reach_postgresql_as_the_same_text_array(fast: Instance) -> None:
    """Reads pass a tenant's modules as an array literal (cheaper to adapt than a list): exactly those strings."""
    values = ("commerce", 'say "hi"', "back\\slash", "a,b", "{braces}", " padded ", "NULL", "", "ünï")
    async with fast.platform.ctx.db.reads.connection() as connection, connection.cursor() as cursor:
        for given in (values, ("content",), ()):
            await cursor.execute("SELECT CAST(%s AS text[])", (text_array(given),))
            assert await cursor.fetchone() == (list(given),)


def test_a_plan_knows_what_each_root_field_reads(fast: Instance) -> None:
    schema = fast.platform.schema.schema
    document = parse(
        "{ a: catalogProducts { edges { node { id inStock p: prices { min } } } pageInfo { hasNextPage } } "
        "b: catalogProducts { edges { cursor node { prices { currency } seoTitle } } } "
        'c: contentItem(kind: "page", slug: "x") { ...F author { name } __typename } } '
        "fragment F on FeedItem { slug author { id } }"
    )
    plan = compile_operation(schema, document, document.definitions[0], STOREFRONT_READS)  # type: ignore[arg-type]
    needs = {root.key: root.needs for root in plan.roots}
    assert needs["a"] == {
        "edges": {"node": {"id": {}, "in_stock": {}, "prices": {"min": {}}}},
        "page_info": {"has_next_page": {}},
    }
    assert needs["b"] == {"edges": {"cursor": {}, "node": {"prices": {"currency": {}}, "seo_title": {}}}}
    assert needs["c"] == {"slug": {}, "author": {"id": {}, "name": {}}}


async def test_coerced_arguments_are_kept_per_variable_set_and_never_mixed_up(fast: Instance, shop: Storefront) -> None:
    query = (
        "query($n: Int!, $sort: CatalogSort) { catalogProducts(first: $n, sort: $sort) { edges { node { handle } } } }"
    )

    async def handles(variables: dict[str, Any]) -> list[str] | str:
        status, body = await post(fast, shop, query, variables)
        payload = orjson.loads(body)
        assert status == 200
        if payload.get("errors"):
            return payload["errors"][0]["message"]
        return [edge["node"]["handle"] for edge in payload["data"]["catalogProducts"]["edges"]]

    first = await handles({"n": 1, "sort": "TITLE"})
    two = await handles({"n": 2, "sort": "TITLE"})
    assert isinstance(first, list) and isinstance(two, list) and len(first) == 1 and two[:1] == first
    assert await handles({"sort": "TITLE", "n": 1}) == first  # the same set, keys in another order
    newest = await handles({"n": 2, "sort": "NEWEST"})
    assert isinstance(newest, list) and len(newest) == 2
    refused = await handles({"n": "two", "sort": "TITLE"})
    assert isinstance(refused, str) and "Int" in refused
    assert await handles({"n": "two", "sort": "TITLE"}) == refused  # a kept refusal is still executed for its errors
    assert await handles({"n": 2, "sort": "TITLE"}) == two


# -- rendered rows ----------------------------------------------------------------------------------

LISTING = (
    "query($locale: String) { catalogProducts(first: 5, locale: $locale) { edges { cursor node { handle title "
    "prices { currency min max } } } pageInfo { endCursor } } }"
)


def rendered_of(instance: Instance) -> Any:
    rendered = runtime_of(instance.platform.ctx).storefront.rendered
    assert rendered is not None
    return rendered


async def test_an_unchanged_row_is_rendered_once_and_a_written_row_again(fast: Instance, normal: Instance) -> None:
    tenant = await storefront_tenant(fast.platform)
    shop = Storefront(tenant)
    documents = [
        product(handle=f"kept-{n}", title=f"Kept {n}", prices={"EUR": PriceRange(100 * n, 100 * n)}) for n in (1, 2, 3)
    ]
    await write(fast.platform, tenant, documents)
    rendered = rendered_of(fast)
    item = '{ catalogProduct(handle: "kept-2") { title prices { min } } }'

    async def answer(query: str, variables: dict[str, Any]) -> tuple[bytes, int, int]:
        """The body (graphql-core's to the byte), and how many rows were made and served meanwhile."""
        made, served = rendered.made, rendered.served
        status, body = await post(fast, shop, query, variables)
        assert (status, body) == await post(normal, shop, query, variables)
        return body, rendered.made - made, rendered.served - served

    first = await answer(LISTING, {})
    assert first[1:] == (3, 3)
    assert await answer(LISTING, {}) == (first[0], 0, 3)
    item_first = await answer(item, {})
    assert item_first[1:] == (1, 1)
    assert await answer(item, {}) == (item_first[0], 0, 1)

    # A price change writes the row: a new version, rendered anew; nothing was invalidated.
    await write(fast.platform, tenant, [dataclasses.replace(documents[0], prices={"EUR": PriceRange(7, 9)})])
    changed, made, served = await answer(LISTING, {})
    assert (made, served) == (1, 3)
    nodes = {e["node"]["handle"]: e["node"] for e in orjson.loads(changed)["data"]["catalogProducts"]["edges"]}
    assert nodes["kept-1"]["prices"] == [{"currency": "EUR", "min": 7, "max": 9}]
    assert changed != first[0]

    metrics = (await fast.client.get("/metrics")).text
    assert f'rustok_storefront_rendered_rows_total{{result="made"}} {float(rendered.made)}' in metrics
    assert (
        f'rustok_storefront_rendered_rows_total{{result="reused"}} {float(rendered.served - rendered.made)}' in metrics
    )


async def test_rows_written_in_one_transaction_are_rendered_apart(fast: Instance, normal: Instance) -> None:
    """The locales of a product are written by one statement, so their rows share ``xmin``:
    the row's id tells them apart."""
    tenant = await storefront_tenant(fast.platform)
    shop = Storefront(tenant)
    pid = uuid.uuid4()
    await write(
        fast.platform,
        tenant,
        [
            product(pid, locale="en", handle="twin", title="Boots"),
            product(pid, locale="de", handle="twin", title="Stiefel"),
        ],
    )
    versions = await rows(
        fast.platform, "SELECT CAST(xmin AS text) FROM index_products WHERE tenant_id = :t", t=tenant.id
    )
    assert len(versions) == 2 and versions[0] == versions[1]  # the case this test is about
    titles = {}
    for locale in ("en", "de", "en", "de"):
        answer = await post(fast, shop, LISTING, {"locale": locale})
        assert answer == await post(normal, shop, LISTING, {"locale": locale})
        titles.setdefault(locale, set()).add(
            orjson.loads(answer[1])["data"]["catalogProducts"]["edges"][0]["node"]["title"]
        )
    assert titles == {"en": {"Boots"}, "de": {"Stiefel"}}


async def test_tenants_never_see_each_others_rendered_rows(fast: Instance) -> None:
    shops = []
    for title in ("Alpha", "Beta"):
        tenant = await storefront_tenant(fast.platform)
        await write(fast.platform, tenant, [product(handle="same-handle", title=title)])
        shops.append(Storefront(tenant))
    item = '{ catalogProduct(handle: "same-handle") { title } }'
    for _ in range(2):
        for shop, title in zip(shops, ("Alpha", "Beta"), strict=True):
            for query, path in (
                (LISTING, ("catalogProducts", "edges", 0, "node", "title")),
                (item, ("catalogProduct", "title")),
            ):
                value: Any = orjson.loads((await post(fast, shop, query, {}))[1])["data"]
                for step in path:
                    value = value[step]
                assert value == title


async def test_with_rendered_rows_off_reads_render_nothing_and_answer_the_same(
    boot_platform: BootPlatform, normal: Instance, shop: Storefront
) -> None:
    async for off in _instance(boot_platform, **{"graphql.fast_path": True, "graphql.rendered_rows": 0}):
        assert runtime_of(off.platform.ctx).storefront.rendered is None
        async with count_queries(off.platform) as counted:
            answer = await post(off, shop, LISTING, {})
        assert answer == await post(normal, shop, LISTING, {})
        assert "xmin" not in counted.statements[0]


async def test_rows_of_the_last_page_come_back_without_their_columns_until_they_are_written(
    fast: Instance, normal: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await storefront_tenant(fast.platform)
    shop = Storefront(tenant)
    documents = [product(handle=f"again-{n}", title=f"Again {n}") for n in (1, 2, 3)]
    await write(fast.platform, tenant, documents)
    storefront = runtime_of(fast.platform.ctx).storefront
    reader = storefront._reader
    fetched: list[Any] = []
    tuples = reader.tuples

    async def recording(sql: str, params: Any) -> Any:
        rows = await tuples(sql, params)
        fetched.append(rows)
        return rows

    monkeypatch.setattr(reader, "tuples", recording)

    async def read() -> tuple[bytes, dict[str, tuple[Any, ...]]]:
        """The answer (graphql-core's to the byte) and the rows the statement sent, by title."""
        answer = await post(fast, shop, LISTING, {})
        assert answer == await post(normal, shop, LISTING, {})
        (rows,) = fetched[-1:]
        titles = [edge["node"]["title"] for edge in orjson.loads(answer[1])["data"]["catalogProducts"]["edges"]]
        return answer[1], dict(zip(titles, rows, strict=True))

    first, rows = await read()
    assert all(row[3] is False and all(value is not None for value in row[4:]) for row in rows.values())
    again, rows = await read()
    assert again == first
    # Known versions: the keys and the version travel, nothing else (the edges are kept with the versions).
    assert all(row[3] is True and all(value is None for value in row[4:]) for row in rows.values())

    await write(fast.platform, tenant, [dataclasses.replace(documents[1], title="Again, renamed")])
    changed, rows = await read()
    assert {title for title, row in rows.items() if not row[3]} == {"Again, renamed"}
    assert rows["Again, renamed"][4:] != (None,) * len(rows["Again, renamed"][4:])
    assert changed != first and b"Again, renamed" in changed
