"""The GraphQL endpoint: bad documents, limits, error codes, caching."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from rustok_core.interfaces import TenantDirectory
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.samples import sample_plugins


@pytest.fixture(scope="module")
async def sample(boot_platform: Any) -> AsyncIterator[tuple[Platform, Any, RustokClient]]:
    platform = boot_platform(plugins=sample_plugins(), **{"graphql.max_cost": 200, "graphql.max_depth": 8})
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield platform, app, client


@pytest.fixture(scope="module")
def client(sample: tuple[Platform, Any, RustokClient]) -> RustokClient:
    return sample[2]


@pytest.fixture
async def tenant(make_tenant: Any, sample: tuple[Platform, Any, RustokClient]) -> Any:
    return await make_tenant(platform=sample[0])


def reason(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["reason"]


async def test_a_query_answers_with_data(client: RustokClient, tenant: Any) -> None:
    data = await client.graphql_data('{ alphaEcho(text: "hi") serverInfo { environment } }', tenant=tenant)
    assert data == {"alphaEcho": "hi", "serverInfo": {"environment": "test"}}


async def test_malformed_graphql_is_a_validation_error_with_location(client: RustokClient) -> None:
    body = await client.graphql("{ alphaEcho(text: ", expect_status=400)
    assert error_codes(body) == ["VALIDATION"]
    assert reason(body) == "GRAPHQL_PARSE_FAILED"
    assert body["errors"][0]["locations"][0]["line"] == 1
    assert "data" not in body


async def test_unknown_fields_are_refused_before_execution(client: RustokClient) -> None:
    body = await client.graphql("{ noSuchField }", expect_status=400)
    assert error_codes(body) == ["VALIDATION"]
    assert reason(body) == "GRAPHQL_VALIDATION_FAILED"
    assert "noSuchField" in body["errors"][0]["message"]


async def test_over_deep_queries_are_refused(client: RustokClient, tenant: Any) -> None:
    def nested(depth: int) -> str:
        return "{ alphaTree " + "{ child " * (depth - 1) + "{ name }" + " }" * (depth - 1) + " }"

    ok = await client.graphql_data(nested(6), tenant=tenant)
    assert ok["alphaTree"]["child"]["child"]["child"]["child"]["child"]["name"] == "node-5"

    body = await client.graphql(nested(9), tenant=tenant, expect_status=400)
    assert error_codes(body) == ["VALIDATION"]
    assert reason(body) == "QUERY_TOO_DEEP"
    assert body["errors"][0]["extensions"]["maxDepth"] == 8


async def test_depth_counts_through_fragments(client: RustokClient, tenant: Any) -> None:
    query = """
    query { alphaTree { ...Deep } }
    fragment Deep on AlphaNode { child { child { child { child { child { child { child { name } } } } } } } }
    """
    body = await client.graphql(query, tenant=tenant, expect_status=400)
    assert reason(body) == "QUERY_TOO_DEEP"


async def test_introspection_is_not_counted_as_depth(client: RustokClient) -> None:
    query = "{ __schema { types { name fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }"
    body = await client.graphql(query)
    assert "errors" not in body
    assert any(t["name"] == "AlphaNode" for t in body["data"]["__schema"]["types"])


async def test_over_costly_queries_are_refused(client: RustokClient, tenant: Any) -> None:
    aliases = " ".join(f'e{i}: alphaEcho(text: "x")' for i in range(250))
    body = await client.graphql("{ " + aliases + " }", tenant=tenant, expect_status=400)
    assert error_codes(body) == ["VALIDATION"]
    assert reason(body) == "QUERY_TOO_COSTLY"
    assert body["errors"][0]["extensions"]["maximumAvailable"] == 200


async def test_cost_depends_on_variables_even_for_a_cached_document(client: RustokClient, tenant: Any) -> None:
    query = "query Items($n: Int) { alphaTree { items(first: $n) { name } } }"
    cheap = await client.graphql_data(query, {"n": 2}, tenant=tenant)
    assert len(cheap["alphaTree"]["items"]) == 2
    costly = await client.graphql(query, {"n": 5000}, tenant=tenant, expect_status=400)
    assert reason(costly) == "QUERY_TOO_COSTLY"
    again = await client.graphql_data(query, {"n": 1}, tenant=tenant)
    assert len(again["alphaTree"]["items"]) == 1


async def test_parsed_documents_are_cached_by_query_text(sample: Any, tenant: Any) -> None:
    _, app, client = sample
    cache = app.state.graphql.cache
    query = '{ alphaEcho(text: "cache me") }'
    await client.graphql_data(query, tenant=tenant)
    entry = cache.get(query)
    assert entry is not None
    await client.graphql_data(query, tenant=tenant)
    assert cache.get(query) is entry
    metrics = (await client.get("/metrics")).text
    assert 'rustok_graphql_document_cache_total{result="hit"}' in metrics


async def test_bad_request_bodies_are_refused_with_a_reason(client: RustokClient) -> None:
    not_json = await client.post("/graphql", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    assert not_json.json()["errors"][0]["extensions"]["code"] == "VALIDATION"
    for payload in ([], {"query": ""}, {"query": 3}, {"query": "{ serverInfo { version } }", "variables": [1]}):
        response = await client.post("/graphql", json=payload)
        assert response.status_code == 400, payload
        assert response.json()["errors"][0]["extensions"]["reason"] == "BAD_REQUEST"


async def test_unexpected_resolver_errors_are_internal_without_leaking_details(boot_platform: Any) -> None:
    platform = boot_platform(plugins=sample_plugins(), env="production")
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        tenant = await platform.ctx.services.get(TenantDirectory).create(slug="prod-tenant", name="Prod")
        body = await client.graphql("{ alphaFail }", tenant=tenant)
    assert error_codes(body) == ["INTERNAL"]
    assert body["errors"][0]["message"] == "internal error"
    assert "boom" not in str(body)
    assert body["errors"][0]["extensions"]["requestId"]
    assert body["data"] == {"alphaFail": None}


async def test_the_explorer_is_served_on_get(client: RustokClient) -> None:
    response = await client.get("/graphql")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "graphiql" in response.text.lower()


async def test_fields_needing_a_tenant_say_which_header_to_send(client: RustokClient) -> None:
    body = await client.graphql("{ enabledModules }")
    assert error_codes(body) == ["VALIDATION"]
    assert "X-Tenant-ID" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        ("mutation($id: UUID!) { revokeApiKey(id: $id) { id } }", {"id": "not-an-id"}),
        ("mutation($id: UUID!) { revokeApiKey(id: $id) { id } }", {"id": 42}),
        ('mutation { revokeApiKey(id: "not-an-id") { id } }', None),
        ("mutation { revokeApiKey(id: 42) { id } }", None),
    ],
)
async def test_a_value_a_scalar_refuses_is_a_validation_error(
    client: RustokClient, document: str, variables: dict[str, Any] | None
) -> None:
    body = await client.graphql(document, variables, expect_status=None)
    assert error_codes(body) == ["VALIDATION"], body
    assert reason(body) == "GRAPHQL_VALIDATION_FAILED"
    assert "UUID" in body["errors"][0]["message"]
