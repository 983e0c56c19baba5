"""``@storefrontCached``: which fields may be cached, which queries reach the responder.

The server knows no responder of its own: a module provides ``GraphQLResponder``. Here a
sample module does, recording what it is handed, so the server's part is visible alone:
composition refuses the directive where an answer could depend on the caller; only
query operations made entirely of marked fields (and fields their types' owners
declared) are handed over; everything else is executed as always; the responder's
``check`` is the cost limit and its ``execute`` the normal execution.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
import pytest
from ariadne import QueryType
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from rustok_core import ModuleInfo, hookimpl
from rustok_core.context import AppContext
from rustok_core.graphql import CacheableRequest, GraphQLAnswer, GraphQLContribution
from rustok_core.interfaces import GraphQLResponder, TenantDirectory
from rustok_core.module import ModuleKind
from rustok_core.permissions import Permission
from rustok_core.registry import ModuleRegistry
from rustok_server.app import create_app
from rustok_server.graphql.cacheable import CachePolicy
from rustok_server.graphql.schema import SchemaCompositionError, compose_schema
from rustok_server.graphql.validation import cost_errors, cost_limit_rule
from rustok_tenant.module import module as tenant_module
from rustok_testing.client import RustokClient
from rustok_testing.plugin import BootPlatform
from rustok_testing.samples import SampleModule, core_plugins

SHELF_SDL = """
type ShelfItem { name: String! price: Int! }
extend type Query {
  shelf(first: Int = 2): [ShelfItem!]! @public @storefrontCached
  shelfPlain: String @public
  shelfSecret: String @requires(permission: "shelf:read")
}
"""
EXTENSION_SDL = "extend type ShelfItem { opinion: String }"

shelf_query = QueryType()


@shelf_query.field("shelf")
def resolve_shelf(_: Any, __: Any, first: int = 2) -> list[dict[str, Any]]:
    return [{"name": f"item-{n}", "price": n * 100} for n in range(first)]


@shelf_query.field("shelfPlain")
def resolve_plain(_: Any, __: Any) -> str:
    return "plain"


class RecordingResponder:
    """Answers from a dict when it can, else runs the server's checks and execution."""

    def __init__(self) -> None:
        self.requests: list[CacheableRequest] = []
        self.canned: dict[str, bytes] = {}

    async def respond(self, request: CacheableRequest) -> GraphQLAnswer:
        self.requests.append(request)
        if request.document_key in self.canned:
            return GraphQLAnswer(self.canned[request.document_key])
        refused = request.check()
        if refused is not None:
            return refused
        return await request.execute()


class ShelfModule:
    def __init__(self) -> None:
        self.responder = RecordingResponder()

    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(slug="shelf", name="Shelf", version="1.0.0", description="a shelf", kind=ModuleKind.OPTIONAL)

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution:
        return GraphQLContribution((SHELF_SDL,), (shelf_query,))

    @hookimpl
    def rustok_permissions(self) -> list[Permission]:
        return [Permission("shelf", "read")]

    @hookimpl
    def rustok_provide(self, ctx: AppContext) -> Mapping[type[Any], object]:
        return {GraphQLResponder: self.responder}


def compose(*modules: object) -> Any:
    return compose_schema(ModuleRegistry.from_plugins([tenant_module, *modules]))


def with_sdl(slug: str, sdl: str) -> SampleModule:
    return SampleModule(slug, graphql=GraphQLContribution((sdl,), ()))


# -- composition -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sdl",
    [
        'extend type Query { guarded: String @requires(permission: "x:read") @storefrontCached }',
        "extend type Query { signedIn: String @authenticated @storefrontCached }",
        "type Thing { name: String @storefrontCached }\nextend type Query { thing: Thing @public }",
        'extend type Mutation { change: Boolean @requires(permission: "x:write") @storefrontCached }',
    ],
)
def test_the_mark_is_refused_where_an_answer_could_depend_on_the_caller(sdl: str) -> None:
    with pytest.raises(SchemaCompositionError, match="@storefrontCached is only for Query fields that are @public"):
        compose(with_sdl("wrong", sdl))


def test_marked_public_query_fields_are_listed() -> None:
    assert compose(ShelfModule()).cached_fields == frozenset({"shelf"})


# -- the policy ------------------------------------------------------------------------------------


def allowed(policy: CachePolicy, query: str) -> bool:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return policy.allows(operation, fragments)


def test_only_queries_made_of_marked_fields_and_their_owners_fields_are_cacheable() -> None:
    policy = CachePolicy(compose(ShelfModule(), SampleModule("critic", graphql=GraphQLContribution((EXTENSION_SDL,)))))
    assert allowed(policy, "{ shelf { name } }")
    assert allowed(
        policy, "{ __typename a: shelf(first: 1) { price } b: shelf { ...F } } fragment F on ShelfItem { name }"
    )
    assert allowed(policy, "{ ... on Query { shelf { ... { name } } } }")
    assert not allowed(policy, "{ shelf { name } shelfPlain }")  # an unmarked root field
    assert not allowed(policy, "{ shelf { name } shelfSecret }")  # a caller's permission
    assert not allowed(policy, "{ shelf { name opinion } }")  # another module's field on the type
    assert not allowed(policy, "{ shelf { ...F } } fragment F on ShelfItem { opinion }")
    assert not allowed(policy, "{ __schema { queryType { name } } }")
    assert not allowed(policy, "mutation { __typename }")


# -- the endpoint ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def shelf(boot_platform: BootPlatform) -> AsyncIterator[tuple[ShelfModule, RustokClient, Any]]:
    module = ShelfModule()
    platform = boot_platform(plugins=[*core_plugins(), module], **{"graphql.max_cost": 50})
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        tenant = await platform.ctx.services.get(TenantDirectory).create(
            slug="shelf-shop", name="Shelf shop", modules=["shelf"]
        )
        yield module, client, tenant


async def test_a_cacheable_query_is_handed_to_the_responder_and_others_are_executed(shelf: Any) -> None:
    module, client, tenant = shelf
    module.responder.requests.clear()
    data = await client.graphql_data("query Shelf($n: Int) { shelf(first: $n) { name } }", {"n": 1}, tenant=tenant)
    assert data == {"shelf": [{"name": "item-0"}]}
    (request,) = module.responder.requests
    assert request.operation.name is not None and request.operation.name.value == "Shelf"
    assert request.variables == {"n": 1}
    assert request.context.tenant is not None and request.context.tenant.id == tenant.id

    await client.graphql_data("{ shelf { name } shelfPlain }", tenant=tenant)
    await client.graphql_data("mutation { __typename }", tenant=tenant)
    assert len(module.responder.requests) == 1


async def test_documents_that_print_the_same_have_one_key_and_the_responders_answer_is_sent(shelf: Any) -> None:
    module, client, tenant = shelf
    module.responder.requests.clear()
    await client.graphql_data("{ shelf { name } }", tenant=tenant)
    await client.graphql_data("query {\n  shelf {\n    name\n  }\n}", tenant=tenant)
    first, second = module.responder.requests
    assert first.document_key == second.document_key
    module.responder.canned[first.document_key] = orjson.dumps({"data": {"shelf": []}})
    try:
        assert await client.graphql_data("{ shelf { name } }", tenant=tenant) == {"shelf": []}
    finally:
        module.responder.canned.clear()


async def test_the_responders_check_is_the_cost_limit(shelf: Any) -> None:
    module, client, tenant = shelf
    module.responder.requests.clear()
    costly = "{ " + " ".join(f"s{n}: shelf {{ name }}" for n in range(30)) + " }"
    response = await client.post("/graphql", json={"query": costly}, headers=client.tenant_headers(tenant))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["reason"] == "QUERY_TOO_COSTLY"
    assert len(module.responder.requests) == 1  # handed over; its check refused it


def test_the_direct_cost_check_reports_what_validation_would() -> None:
    from graphql import validate

    schema = compose(ShelfModule()).schema
    cases = [
        ("{ shelf { name } }", None, 50),
        ("{ shelf { name price } a: shelf { name } b: shelf { name } }", None, 3),
        ("query($n: Int!) { shelf(first: $n) { name } }", {}, 50),
        ("query($n: Int!) { shelf(first: $n) { name } }", {"n": 3}, 50),
        ("query A { shelf { name } } query B { a: shelf { name } b: shelf { price } }", None, 3),
    ]
    for query, variables, limit in cases:
        document = parse(query)
        expected = validate(schema, document, [cost_limit_rule(limit, variables)])
        got = cost_errors(schema, document, limit, variables)
        assert [(e.message, e.extensions) for e in got] == [(e.message, e.extensions) for e in expected], query
