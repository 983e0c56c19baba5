"""REST: module routes under /api/v1/<slug>/, problem details, OpenAPI and Swagger UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.routing import Route

from rustok_core.errors import BootError
from rustok_core.interfaces import TenantDirectory
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.samples import SampleModule, core_plugins, sample_plugins

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def sample(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform = boot_platform(plugins=sample_plugins())
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield platform, client


@pytest.fixture
async def tenant(make_tenant: Any, sample: tuple[Platform, RustokClient]) -> Any:
    return await make_tenant(platform=sample[0])


async def test_module_routes_are_mounted_under_their_slug(sample: Any, tenant: Any) -> None:
    _, client = sample
    response = await client.get("/api/v1/alpha/echo", params={"text": "hey"}, headers={"X-Tenant-ID": tenant.slug})
    assert response.status_code == 200
    assert response.json() == {"text": "hey"}


async def test_request_bodies_are_validated_with_field_paths(sample: Any, tenant: Any, make_user: Any) -> None:
    platform, client = sample
    anonymous = await client.post("/api/v1/alpha/items", json={"name": "bolt"}, headers={"X-Tenant-ID": tenant.slug})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    headers = (await make_user(tenant, platform=platform)).headers
    created = await client.post("/api/v1/alpha/items", json={"name": "bolt", "quantity": 3}, headers=headers)
    assert created.status_code == 201
    assert created.json() == {"name": "bolt", "quantity": 3}

    invalid = await client.post("/api/v1/alpha/items", json={"quantity": "many"}, headers=headers)
    assert invalid.status_code == 422
    assert invalid.headers["content-type"].startswith(PROBLEM)
    problem = invalid.json()
    assert problem["code"] == "VALIDATION"
    assert problem["status"] == 422
    assert {tuple(e["path"]) for e in problem["errors"]} == {("body", "name"), ("body", "quantity")}
    assert problem["instance"] == "/api/v1/alpha/items"
    assert problem["requestId"] == invalid.headers["x-request-id"]


async def test_unknown_tenants_get_a_problem_document(sample: Any) -> None:
    _, client = sample
    response = await client.get("/api/v1/alpha/echo", params={"text": "x"}, headers={"X-Tenant-ID": "nobody-here"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == "NOT_FOUND"
    assert "nobody-here" in response.json()["detail"]


async def test_disabled_module_routes_answer_module_disabled(sample: Any, tenant: Any) -> None:
    platform, client = sample
    directory = platform.ctx.services.get(TenantDirectory)
    await directory.set_module_enabled(tenant.id, "beta", False)
    await directory.set_module_enabled(tenant.id, "alpha", False)
    response = await client.get("/api/v1/alpha/echo", params={"text": "x"}, headers={"X-Tenant-ID": tenant.slug})
    assert response.status_code == 403
    assert response.json()["code"] == "MODULE_DISABLED"
    assert response.json()["module"] == "alpha"


async def test_core_module_routes_work_without_toggles(sample: Any, tenant: Any) -> None:
    _, client = sample
    response = await client.get("/api/v1/tenant/current", headers={"X-Tenant-ID": str(tenant.id)})
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == tenant.slug
    assert body["defaultLocale"] == "en"
    assert "alpha" in body["enabledModules"]


async def test_toggling_a_module_over_rest(sample: Any, tenant: Any, make_user: Any) -> None:
    platform, client = sample
    headers = (await make_user(tenant, platform=platform)).headers
    refused = await client.put("/api/v1/tenant/modules/alpha", json={"enabled": False}, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["enabledDependents"] == ["beta"]
    done = await client.put("/api/v1/tenant/modules/beta", json={"enabled": False}, headers=headers)
    assert done.status_code == 200
    assert "beta" not in done.json()["enabledModules"]
    unknown = await client.put("/api/v1/tenant/modules/gamma", json={"enabled": True}, headers=headers)
    assert unknown.status_code == 404
    extra = await client.put("/api/v1/tenant/modules/beta", json={"enabled": True, "x": 1}, headers=headers)
    assert extra.status_code == 422


async def test_openapi_is_generated_from_the_route_models(sample: Any) -> None:
    _, client = sample
    document = (await client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    post_items = document["paths"]["/api/v1/alpha/items"]["post"]
    body_schema = post_items["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/ItemInput"}
    assert document["components"]["schemas"]["ItemInput"]["required"] == ["name"]
    assert "201" in post_items["responses"]
    assert post_items["x-rustok-access"] == {"permission": "alpha:write"}
    echo = document["paths"]["/api/v1/alpha/echo"]["get"]
    assert {p["name"] for p in echo["parameters"]} == {"text", "X-Tenant-ID"}
    toggle = document["paths"]["/api/v1/tenant/modules/{slug}"]["put"]
    assert toggle["parameters"][0] == {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
    assert "Problem" in document["components"]["schemas"]


async def test_swagger_ui_is_served_with_local_assets(sample: Any) -> None:
    _, client = sample
    page = await client.get("/swagger")
    assert page.status_code == 200
    assert "/api/openapi.json" in page.text
    assert "https://" not in page.text
    bundle = await client.get("/swagger/static/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert len(bundle.content) > 100_000


async def test_routes_must_declare_models_and_access(boot_platform: Any) -> None:
    async def plain(_: Any) -> Any:
        return None

    rogue = SampleModule("rogue", routes=[Route("/plain", plain)])
    with pytest.raises(BootError, match=r"module 'rogue': route '/plain' is not a rustok_core\.rest\.RestRoute"):
        boot_platform(plugins=[*core_plugins(), rogue])
