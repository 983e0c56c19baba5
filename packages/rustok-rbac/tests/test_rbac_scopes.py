"""Scopes with the sample modules: ``alpha:read`` (editor: all) and ``alpha:write``
(editor: own). The guard lets an ``own`` grant through; the resolver's check with
the record's owner decides."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.requests import HTTPConnection

from rustok_core.auth import Principal, PrincipalKind
from rustok_core.context import RequestContext
from rustok_core.errors import Forbidden, Unauthenticated
from rustok_core.interfaces import Authorizer
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.samples import sample_plugins

MY_PERMISSIONS = "{ myPermissions { permission scope } }"
CREATE_ROLE = "mutation($input: CreateRoleInput!) { createRole(input: $input) { slug grants { permission scope } } }"
ASSIGN = "mutation($u: UUID!, $r: String!) { assignRole(userId: $u, role: $r) { role } }"


@pytest.fixture(scope="module")
async def sample(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient]]:
    platform = boot_platform(plugins=sample_plugins())
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield platform, client


@pytest.fixture
async def tenant(make_tenant: Any, sample: tuple[Platform, RustokClient]) -> Any:
    return await make_tenant(platform=sample[0])


def request_for(platform: Platform, tenant: Any, user_id: uuid.UUID | None) -> RequestContext:
    conn = HTTPConnection({"type": "http", "headers": [], "path": "/graphql"})
    principal = None if user_id is None else Principal(kind=PrincipalKind.USER, tenant_id=tenant.id, user_id=user_id)
    return RequestContext(app=platform.ctx, conn=conn, tenant=tenant, principal=principal)


def grants(items: list[dict[str, str]]) -> dict[str, str]:
    return {g["permission"]: g["scope"] for g in items}


async def test_built_in_roles_get_what_modules_grant_them(
    sample: tuple[Platform, RustokClient], tenant: Any, make_user: Any
) -> None:
    platform, client = sample
    editor = await make_user(tenant, role="editor", platform=platform)
    data = await client.graphql_data(MY_PERMISSIONS, headers=editor.headers)
    assert grants(data["myPermissions"]) == {"alpha:read": "ALL", "alpha:write": "OWN"}
    admin = await make_user(tenant, role="admin", platform=platform)
    data = await client.graphql_data("{ roles { slug grants { permission scope } } }", headers=admin.headers)
    roles = {r["slug"]: grants(r["grants"]) for r in data["roles"]}
    assert roles["editor"] == {"alpha:read": "ALL", "alpha:write": "OWN"}
    assert roles["customer"] == {}
    assert roles["admin"]["alpha:write"] == "ALL"
    data = await client.graphql_data("{ permissions { name module } }", headers=admin.headers)
    assert {p["name"]: p["module"] for p in data["permissions"] if p["module"] == "alpha"} == {
        "alpha:read": "alpha",
        "alpha:write": "alpha",
    }


async def test_editor_passes_the_guards_customer_does_not(
    sample: tuple[Platform, RustokClient], tenant: Any, make_user: Any
) -> None:
    platform, client = sample
    editor, customer = await asyncio.gather(
        make_user(tenant, role="editor", platform=platform),
        make_user(tenant, role="customer", platform=platform),
    )

    assert await client.graphql_data("{ alphaSecret }", headers=editor.headers) == {"alphaSecret": "secret"}
    assert await client.graphql_data("mutation { alphaPing }", headers=editor.headers) == {"alphaPing": True}

    body = await client.graphql("{ alphaSecret }", headers=customer.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["permission"] == "alpha:read"
    body = await client.graphql("mutation { alphaPing }", headers=customer.headers)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["permission"] == "alpha:write"
    body = await client.graphql("mutation { alphaPing }", tenant=tenant)
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_own_scope_passes_only_for_the_callers_records(
    sample: tuple[Platform, RustokClient], tenant: Any, make_user: Any
) -> None:
    platform, _ = sample
    editor, admin = await asyncio.gather(
        make_user(tenant, role="editor", platform=platform),
        make_user(tenant, role="admin", platform=platform),
    )
    access = platform.ctx.services.get(Authorizer)

    ctx = request_for(platform, tenant, editor.id)
    assert await access.authorize(ctx, "alpha:write") == "own"
    assert await access.authorize(ctx, "alpha:write", owner_id=editor.id) == "own"
    with pytest.raises(Forbidden) as refused:
        await access.authorize(ctx, "alpha:write", owner_id=admin.id)
    assert refused.value.details == {"permission": "alpha:write"}
    assert "own records" in refused.value.message
    # An 'all' grant reaches everybody's records.
    assert await access.authorize(ctx, "alpha:read", owner_id=admin.id) == "all"
    # The same check through the RequestContext helper.
    assert await ctx.authorize("alpha:write", owner_id=editor.id) == "own"
    with pytest.raises(Forbidden):
        await ctx.authorize("alpha:write", owner_id=admin.id)
    with pytest.raises(Forbidden):
        await access.authorize(ctx, "roles:read", owner_id=editor.id)

    admin_ctx = request_for(platform, tenant, admin.id)
    assert await access.authorize(admin_ctx, "alpha:write", owner_id=editor.id) == "all"
    with pytest.raises(Unauthenticated):
        await access.authorize(request_for(platform, tenant, None), "alpha:read")


async def test_tenant_roles_with_own_and_all_scopes(
    sample: tuple[Platform, RustokClient], tenant: Any, make_user: Any
) -> None:
    platform, client = sample
    admin, writer = await asyncio.gather(
        make_user(tenant, role="admin", platform=platform),
        make_user(tenant, role="customer", platform=platform),
    )
    role = {
        "slug": "own-writers",
        "name": "Own writers",
        "grants": [{"permission": "alpha:write", "scope": "OWN"}, {"permission": "alpha:read", "scope": "OWN"}],
    }
    await client.graphql_data(CREATE_ROLE, {"input": role}, headers=admin.headers)
    await client.graphql_data(ASSIGN, {"u": str(writer.id), "r": "own-writers"}, headers=admin.headers)
    data = await client.graphql_data(MY_PERMISSIONS, headers=writer.headers)
    assert grants(data["myPermissions"]) == {"alpha:read": "OWN", "alpha:write": "OWN"}

    access = platform.ctx.services.get(Authorizer)
    ctx = request_for(platform, tenant, writer.id)
    with pytest.raises(Forbidden):
        await access.authorize(ctx, "alpha:read", owner_id=admin.id)

    # A second role widening alpha:read to all: the widest scope wins.
    wide = {"slug": "readers", "name": "Readers", "grants": [{"permission": "alpha:read", "scope": "ALL"}]}
    await client.graphql_data(CREATE_ROLE, {"input": wide}, headers=admin.headers)
    await client.graphql_data(ASSIGN, {"u": str(writer.id), "r": "readers"}, headers=admin.headers)
    data = await client.graphql_data(MY_PERMISSIONS, headers=writer.headers)
    assert grants(data["myPermissions"]) == {"alpha:read": "ALL", "alpha:write": "OWN"}
    ctx = request_for(platform, tenant, writer.id)
    assert await access.authorize(ctx, "alpha:read", owner_id=admin.id) == "all"

    # alpha:manage (implied for a declared resource) covers both, for all records.
    manage = {"slug": "alpha-admins", "name": "Alpha admins", "grants": [{"permission": "alpha:manage"}]}
    await client.graphql_data(CREATE_ROLE, {"input": manage}, headers=admin.headers)
    await client.graphql_data(ASSIGN, {"u": str(writer.id), "r": "alpha-admins"}, headers=admin.headers)
    ctx = request_for(platform, tenant, writer.id)
    assert await access.authorize(ctx, "alpha:write", owner_id=admin.id) == "all"


async def test_a_disabled_module_answers_module_disabled_before_the_permission(
    sample: tuple[Platform, RustokClient], make_tenant: Any, make_user: Any
) -> None:
    platform, client = sample
    tenant = await make_tenant(platform=platform, modules=[])
    editor = await make_user(tenant, role="editor", platform=platform)
    # The catalog still holds alpha's permissions, but the fields are off for the tenant.
    body = await client.graphql("{ alphaSecret }", headers=editor.headers)
    assert error_codes(body) == ["MODULE_DISABLED"]


async def test_granting_respects_scopes_and_manage_of_an_undeclared_action(
    sample: tuple[Platform, RustokClient], tenant: Any, make_user: Any
) -> None:
    """``alpha:manage`` is not declared: it is covered by holding every alpha action."""
    platform, client = sample
    admin, keeper = await asyncio.gather(
        make_user(tenant, role="admin", platform=platform),
        make_user(tenant, role=None, platform=platform),
    )
    keepers = {
        "slug": "alpha-keepers",
        "name": "Alpha keepers",
        "grants": [
            {"permission": "roles:manage"},
            {"permission": "alpha:read", "scope": "ALL"},
            {"permission": "alpha:write", "scope": "OWN"},
        ],
    }
    await client.graphql_data(CREATE_ROLE, {"input": keepers}, headers=admin.headers)
    await client.graphql_data(ASSIGN, {"u": str(keeper.id), "r": "alpha-keepers"}, headers=admin.headers)

    def role(slug: str, permission: str, scope: str) -> dict[str, Any]:
        return {"input": {"slug": slug, "name": slug, "grants": [{"permission": permission, "scope": scope}]}}

    for slug, permission, scope in (("w-all", "alpha:write", "ALL"), ("m-all", "alpha:manage", "ALL")):
        body = await client.graphql(CREATE_ROLE, role(slug, permission, scope), headers=keeper.headers)
        assert error_codes(body) == ["FORBIDDEN"], body
        assert body["errors"][0]["extensions"]["missingPermissions"] == [permission]
    for slug, permission, scope in (("w-own", "alpha:write", "OWN"), ("m-own", "alpha:manage", "OWN")):
        data = await client.graphql_data(CREATE_ROLE, role(slug, permission, scope), headers=keeper.headers)
        assert data["createRole"]["grants"] == [{"permission": permission, "scope": scope}]
    # The admin holds every alpha action for all records, so alpha:manage too.
    data = await client.graphql_data(CREATE_ROLE, role("m-all", "alpha:manage", "ALL"), headers=admin.headers)
    assert data["createRole"]["slug"] == "m-all"
    body = await client.graphql(ASSIGN, {"u": str(keeper.id), "r": "m-all"}, headers=keeper.headers)
    assert body["errors"][0]["extensions"]["missingPermissions"] == ["alpha:manage"]
    data = await client.graphql_data(ASSIGN, {"u": str(keeper.id), "r": "m-own"}, headers=keeper.headers)
    assert data["assignRole"]["role"] == "m-own"
