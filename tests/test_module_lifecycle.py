"""Scenario: a tenant turns modules off and on; the API follows at once.

tenant created (alpha + beta on) → alpha answers → beta switched off → beta's root
field and the field beta adds to alpha's type answer MODULE_DISABLED, alpha still
works → alpha cannot be switched off while beta is on (and vice versa for enabling)
→ beta back on → everything answers again.
"""

from __future__ import annotations

from typing import Any

from rustok_server.app import create_app
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.samples import sample_plugins

TOGGLE = "mutation($slug: String!, $on: Boolean!) { toggleModule(slug: $slug, enabled: $on) { slug enabledForTenant } }"


async def test_toggling_modules_switches_their_api_per_tenant(
    boot_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    platform = boot_platform(plugins=sample_plugins())
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        shop = await make_tenant(platform=platform, name="Shop")
        neighbour = await make_tenant(platform=platform, name="Neighbour")
        admin = (await make_user(shop, platform=platform)).headers

        data = await client.graphql_data('{ alphaEcho(text: "on") betaHello alphaTree { betaNote } }', tenant=shop)
        assert data == {"alphaEcho": "on", "betaHello": "hello from beta", "alphaTree": {"betaNote": "note on node-0"}}

        off = await client.graphql_data(TOGGLE, {"slug": "beta", "on": False}, headers=admin)
        assert off["toggleModule"] == {"slug": "beta", "enabledForTenant": False}

        hello = await client.graphql("{ betaHello }", tenant=shop)
        assert error_codes(hello) == ["MODULE_DISABLED"]
        assert hello["errors"][0]["extensions"]["module"] == "beta"
        note = await client.graphql("{ alphaTree { name betaNote } }", tenant=shop)
        assert error_codes(note) == ["MODULE_DISABLED"]
        assert note["data"]["alphaTree"] == {"name": "node-0", "betaNote": None}
        assert (await client.graphql_data('{ alphaEcho(text: "still") }', tenant=shop)) == {"alphaEcho": "still"}

        # The neighbour is not affected.
        assert (await client.graphql_data("{ betaHello }", tenant=neighbour)) == {"betaHello": "hello from beta"}

        modules = await client.graphql_data("{ enabledModules }", tenant=shop)
        assert modules["enabledModules"] == ["events", "rbac", "tenant", "alpha"]

        refused = await client.graphql(TOGGLE, {"slug": "alpha", "on": True}, headers=admin)
        assert "errors" not in refused  # already on: a no-op, not an error

        await client.graphql_data(TOGGLE, {"slug": "alpha", "on": False}, headers=admin)
        blocked = await client.graphql(TOGGLE, {"slug": "beta", "on": True}, headers=admin)
        assert error_codes(blocked) == ["CONFLICT"]
        assert blocked["errors"][0]["extensions"]["missingDependencies"] == ["alpha"]
        rest = await client.get("/api/v1/alpha/echo", params={"text": "x"}, headers={"X-Tenant-ID": shop.slug})
        assert rest.status_code == 403

        await client.graphql_data(TOGGLE, {"slug": "alpha", "on": True}, headers=admin)
        await client.graphql_data(TOGGLE, {"slug": "beta", "on": True}, headers=admin)
        data = await client.graphql_data('{ alphaEcho(text: "back") betaHello }', tenant=shop)
        assert data == {"alphaEcho": "back", "betaHello": "hello from beta"}

        registry_query = "{ moduleRegistry { slug kind dependencies enabledForTenant } }"
        registry = await client.graphql_data(registry_query, tenant=shop)
        assert registry["moduleRegistry"] == [
            {"slug": "events", "kind": "CORE", "dependencies": [], "enabledForTenant": True},
            {"slug": "rbac", "kind": "CORE", "dependencies": [], "enabledForTenant": True},
            {"slug": "tenant", "kind": "CORE", "dependencies": [], "enabledForTenant": True},
            {"slug": "alpha", "kind": "OPTIONAL", "dependencies": [], "enabledForTenant": True},
            {"slug": "beta", "kind": "OPTIONAL", "dependencies": ["alpha"], "enabledForTenant": True},
        ]

        core = await client.graphql(TOGGLE, {"slug": "tenant", "on": False}, headers=admin)
        assert error_codes(core) == ["CONFLICT"]
