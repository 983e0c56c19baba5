"""Scenario: the deployment boots with every module listed in modules.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

from rustok_server.app import create_app
from rustok_server.boot import boot
from rustok_testing.client import RustokClient
from rustok_testing.plugin import settings_for_tests

ROOT = Path(__file__).resolve().parents[1]


async def test_every_listed_module_is_installed_composed_and_ready(rustok_database_url: str, make_tenant) -> None:
    listed = tomllib.loads((ROOT / "modules.toml").read_text())["modules"]
    platform = boot(settings_for_tests(), database_url=rustok_database_url)  # checks the generated manifest
    assert set(platform.registry.slugs) == set(listed)
    assert platform.migrations.up_to_date
    for slug, spec in listed.items():
        assert platform.registry.get(slug).info.is_core == spec.get("required", False)

    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        assert (await client.get("/health/ready")).status_code == 200
        tenant = await make_tenant(platform=platform)
        data = await client.graphql_data("{ moduleRegistry { slug enabledForTenant } }", tenant=tenant)
        assert {m["slug"] for m in data["moduleRegistry"]} == set(listed)
        assert all(m["enabledForTenant"] for m in data["moduleRegistry"])
        openapi = (await client.get("/api/openapi.json")).json()
        assert any(path.startswith("/api/v1/tenant/") for path in openapi["paths"])
