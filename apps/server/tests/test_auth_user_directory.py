"""UserDirectory, as modules see it: one user, or many in one query, never another tenant's."""

from __future__ import annotations

import uuid
from typing import Any

from rustok_core.interfaces import UserDirectory, UserRef
from rustok_server.boot import Platform
from rustok_testing.queries import count_queries


async def test_find_users_loads_any_number_of_ids_in_one_statement(rustok_platform: Platform, make_tenant: Any) -> None:
    tenant = await make_tenant()
    auth = rustok_platform.ctx.state["auth.service"]
    users = [
        await auth.create_user(tenant.id, email=f"batch-{n}@example.com", password="batch passphrase") for n in range(5)
    ]
    directory = rustok_platform.ctx.services.get(UserDirectory)
    unknown = uuid.uuid4()
    wanted = [user.id for user in users] + [unknown, users[0].id]

    async with count_queries(rustok_platform) as queries:
        found = await directory.find_users(tenant.id, wanted)
    assert queries.count == 1, queries

    assert set(found) == {user.id for user in users}
    first = found[users[0].id]
    assert first == UserRef(users[0].id, tenant.id, "batch-0@example.com", users[0].display_name, True)
    assert found[users[0].id] == await directory.find_user(tenant.id, users[0].id)


async def test_find_users_never_returns_another_tenants_users(rustok_platform: Platform, make_tenant: Any) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    auth = rustok_platform.ctx.state["auth.service"]
    own = await auth.create_user(mine.id, email="own@example.com", password="batch passphrase")
    foreign = await auth.create_user(theirs.id, email="foreign@example.com", password="batch passphrase")
    directory = rustok_platform.ctx.services.get(UserDirectory)

    found = await directory.find_users(mine.id, [own.id, foreign.id])
    assert list(found) == [own.id]
    assert await directory.find_users(theirs.id, [own.id]) == {}


async def test_find_users_without_ids_asks_nothing(rustok_platform: Platform, make_tenant: Any) -> None:
    tenant = await make_tenant()
    directory = rustok_platform.ctx.services.get(UserDirectory)
    async with count_queries(rustok_platform) as queries:
        assert await directory.find_users(tenant.id, []) == {}
    assert queries.count == 0
