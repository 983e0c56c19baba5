"""SQL behaviour: ``User.roles`` is batched (no N+1), a request loads its caller's
grants at most once (memo), and later requests are served from the grants cache."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from starlette.requests import HTTPConnection

from rustok_core.auth import Principal, PrincipalKind
from rustok_core.context import RequestContext
from rustok_core.interfaces import Authorizer, RoleAssigner
from rustok_rbac.services import AccessControl
from rustok_server.auth.models import User
from rustok_testing.client import RustokClient, builtin_grants

USERS_WITH_ROLES = "{ users(first: 20) { edges { node { email roles } } } }"
TWO_GUARDED_FIELDS = "{ roles { slug } permissions { name } }"


@contextmanager
def statements(platform: Any) -> Iterator[list[str]]:
    """Collect every SQL statement the platform's engine sends while the block runs."""
    seen: list[str] = []
    engine = platform.ctx.db.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def touching(seen: list[str], table: str) -> list[str]:
    return [s for s in seen if f"FROM {table}" in s or f"JOIN {table}" in s]


def grant_loads(seen: list[str]) -> list[str]:
    """The statements loading a caller's grants (assignments joined with role grants)."""
    return [s for s in touching(seen, "role_assignments") if "role_permissions" in s]


async def add_users(platform: Any, tenant: Any, roles: list[str | None]) -> dict[str, list[str]]:
    """Users that never sign in (no password hashing): ``{email: roles}``."""
    assigner = platform.ctx.services.get(RoleAssigner)
    expected: dict[str, list[str]] = {}
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        for role in roles:
            email = f"bulk-{secrets.token_hex(4)}@example.com"
            user = User(email=email, password_hash="!", display_name=email)
            session.add(user)
            await session.flush()
            if role is not None:
                await assigner.assign_role(tenant.id, user.id, role, session=session)
            expected[email] = [] if role is None else [role]
    return expected


async def test_user_roles_are_loaded_in_one_query_whatever_the_number_of_users(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    cycle = ["manager", "editor", "customer", None]
    counts: dict[int, int] = {}
    for size in (3, 10):
        tenant = await make_tenant()
        admin = await make_user(tenant, role="admin")
        expected = {
            admin.email: ["admin"],
            **await add_users(rustok_platform, tenant, [cycle[i % 4] for i in range(size - 1)]),
        }
        # Warm up: tenant resolution, the account check and the grants are cached after this.
        await rustok_client.graphql_data("{ myPermissions { permission } }", headers=admin.headers)

        with statements(rustok_platform) as seen:
            data = await rustok_client.graphql_data(USERS_WITH_ROLES, headers=admin.headers)
        got = {e["node"]["email"]: e["node"]["roles"] for e in data["users"]["edges"]}
        assert got == expected
        assert len(got) == size
        role_queries = touching(seen, "role_assignments")
        assert len(role_queries) == 1, role_queries
        assert grant_loads(seen) == []  # the caller's grants came from the cache
        assert touching(seen, "users"), seen
        counts[size] = len(seen)
    assert counts[3] == counts[10], counts


async def test_one_request_loads_the_callers_grants_once_and_the_next_uses_the_cache(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    manager = await make_user(tenant, role="manager")
    access = rustok_platform.ctx.services.get(Authorizer)
    assert isinstance(access, AccessControl)
    await rustok_client.graphql_data(TWO_GUARDED_FIELDS, headers=manager.headers)

    # Cold cache: two guarded fields (plus the resolvers' own work), one grants load.
    await access.grants_cache.invalidate(f"{tenant.id}:{manager.id}")
    with statements(rustok_platform) as cold:
        await rustok_client.graphql_data(TWO_GUARDED_FIELDS, headers=manager.headers)
    assert len(grant_loads(cold)) == 1, cold

    # The next request by the same user: no grants query at all.
    with statements(rustok_platform) as warm:
        data = await rustok_client.graphql_data(TWO_GUARDED_FIELDS, headers=manager.headers)
    assert grant_loads(warm) == []
    assert len(warm) == len(cold) - 1
    assert len(data["roles"]) == 5

    # Three guarded fields, two of them the same: still one load per request.
    await access.grants_cache.invalidate(f"{tenant.id}:{manager.id}")
    with statements(rustok_platform) as serial:
        await rustok_client.graphql_data(
            "query { a: roles { slug } b: roles { slug } c: myPermissions { scope } }", headers=manager.headers
        )
    assert len(grant_loads(serial)) == 1


async def test_the_request_memo_answers_repeated_checks_without_the_cache(
    rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    manager = await make_user(tenant, role="manager")
    access = rustok_platform.ctx.services.get(Authorizer)
    assert isinstance(access, AccessControl)
    conn = HTTPConnection({"type": "http", "headers": [], "path": "/graphql"})
    principal = Principal(kind=PrincipalKind.USER, tenant_id=tenant.id, user_id=manager.id)
    ctx = RequestContext(app=rustok_platform.ctx, conn=conn, tenant=tenant, principal=principal)

    await access.grants_cache.invalidate(f"{tenant.id}:{manager.id}")
    with statements(rustok_platform) as first:
        assert await access.authorize(ctx, "roles:read") == "all"
    assert len(grant_loads(first)) == 1
    # Even with the cache emptied again, the same request does not load them twice.
    await access.grants_cache.invalidate(f"{tenant.id}:{manager.id}")
    with statements(rustok_platform) as again:
        assert await access.authorize(ctx, "users:read") == "all"
        assert dict(await access.effective_permissions(ctx)) == builtin_grants(
            rustok_platform.ctx.permissions, "manager", upper=False
        )
    assert again == []
    # A new request does load them (and fills the cache for the one after).
    fresh = RequestContext(app=rustok_platform.ctx, conn=conn, tenant=tenant, principal=principal)
    with statements(rustok_platform) as third:
        await access.authorize(fresh, "roles:read")
    assert len(grant_loads(third)) == 1
    with statements(rustok_platform) as fourth:
        await access.authorize(
            RequestContext(app=rustok_platform.ctx, conn=conn, tenant=tenant, principal=principal), "roles:read"
        )
    assert fourth == []


async def test_users_without_roles_are_cached_too(
    rustok_client: RustokClient, rustok_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    nobody = await make_user(tenant, role=None)
    await rustok_client.graphql_data("{ myPermissions { permission } }", headers=nobody.headers)
    with statements(rustok_platform) as seen:
        data = await rustok_client.graphql_data("{ myPermissions { permission } }", headers=nobody.headers)
    assert data == {"myPermissions": []}
    assert grant_loads(seen) == []
