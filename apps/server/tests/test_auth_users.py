"""The users listing: keyset pages, argument validation, access control, tenant isolation."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from rustok_server.boot import Platform
from rustok_testing.client import RustokClient

USERS = """
query($first: Int, $after: String) {
  users(first: $first, after: $after) {
    edges { cursor node { email status emailVerified } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    assert len(body["errors"]) == 1, body["errors"]
    error: dict[str, Any] = body["errors"][0]
    return error


async def add_users(platform: Platform, tenant: Any, count: int, stem: str) -> list[str]:
    auth = platform.ctx.state["auth.service"]
    created = await asyncio.gather(
        *(
            auth.create_user(tenant.id, email=f"{stem}-{index}@example.com", password="listing passphrase")
            for index in range(count)
        )
    )
    return [user.email for user in created]


async def test_users_are_listed_in_pages_of_first_following_end_cursors(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    admin = await make_user(tenant, role="admin")
    everyone = {admin.email, *await add_users(rustok_platform, tenant, 4, "member")}
    await add_users(rustok_platform, other, 2, "outsider")

    seen: list[str] = []
    pages: list[bool] = []
    after = None
    while True:
        data = await rustok_client.graphql_data(USERS, {"first": 2, "after": after}, headers=admin.headers)
        connection = data["users"]
        assert 1 <= len(connection["edges"]) <= 2
        seen.extend(edge["node"]["email"] for edge in connection["edges"])
        pages.append(connection["pageInfo"]["hasNextPage"])
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert len(pages) < 10, "paging does not end"

    assert pages == [True, True, False]
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == everyone

    whole = await rustok_client.graphql_data(USERS, {"first": 100}, headers=admin.headers)
    assert [edge["node"]["email"] for edge in whole["users"]["edges"]] == seen
    assert whole["users"]["pageInfo"]["hasNextPage"] is False

    last = await rustok_client.graphql_data(USERS, {"first": 5, "after": after}, headers=admin.headers)
    assert len(last["users"]["edges"]) == 1
    beyond = await rustok_client.graphql_data(
        USERS, {"after": last["users"]["pageInfo"]["endCursor"]}, headers=admin.headers
    )
    assert beyond["users"] == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        pytest.param({"first": 0}, "first", id="first-0"),
        pytest.param({"first": -1}, "first", id="first-negative"),
        pytest.param({"first": 101}, "first", id="first-101"),
        pytest.param({"after": "garbage!"}, "after", id="garbage-cursor"),
        pytest.param({"after": "not-base64-at-all~~"}, "after", id="not-base64"),
        pytest.param({"after": base64.urlsafe_b64encode(b"v1:not-a-uuid").decode()}, "after", id="not-a-key"),
        pytest.param({"after": base64.urlsafe_b64encode(b"v9:whatever").decode()}, "after", id="other-version"),
    ],
)
async def test_invalid_paging_arguments_are_validation_errors(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any, variables: dict[str, Any], field: str
) -> None:
    tenant = await make_tenant()
    admin = await make_user(tenant, role="admin")
    body = await rustok_client.graphql(USERS, variables, headers=admin.headers)
    error = only_error(body)
    assert error["extensions"]["code"] == "VALIDATION"
    assert [fe["path"][-1] for fe in error["extensions"]["fieldErrors"]] == [field]
    assert body["data"] is None


async def test_listing_users_needs_the_users_read_permission(
    rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    customer = await make_user(tenant, role="customer")
    manager = await make_user(tenant, role="manager")

    forbidden = await rustok_client.graphql(USERS, headers=customer.headers)
    error = only_error(forbidden)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["permission"] == "users:read"
    assert forbidden["data"] is None

    anonymous = await rustok_client.graphql(USERS, tenant=tenant)
    assert only_error(anonymous)["extensions"]["code"] == "UNAUTHENTICATED"
    assert anonymous["data"] is None

    listed = await rustok_client.graphql_data(USERS, headers=manager.headers)
    assert {edge["node"]["email"] for edge in listed["users"]["edges"]} == {customer.email, manager.email}
