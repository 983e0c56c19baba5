"""`rustok user create-admin` against the module's database, then the API with the created admin."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from rustok_server.auth.models import User
from rustok_server.boot import Platform
from rustok_server.cli import cli
from rustok_testing.client import RustokClient
from rustok_testing.plugin import TEST_JWT_SECRET

PASSWORD = "an admin's passphrase"
SIGN_IN = """
mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { accessToken user { email displayName emailVerified roles } }
}"""
USERS = "{ users { edges { node { email } } } }"

Run = Callable[..., Awaitable[Result]]


@pytest.fixture
def run(rustok_database_url: str, tmp_path: Path) -> Run:
    """Invoke the CLI in a worker thread: it runs its own event loop (asyncio.run)."""
    (tmp_path / "test.yaml").write_text("{}\n")
    env = {
        "DATABASE_URL": rustok_database_url,
        "RUSTOK_ENV": "test",
        "RUSTOK_CONFIG_DIR": str(tmp_path),
        "RUSTOK__AUTH__JWT_SECRET": TEST_JWT_SECRET,
    }

    async def invoke(*args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        return await asyncio.to_thread(runner.invoke, cli, list(args), env=env, input=input, catch_exceptions=True)

    return invoke


async def count_users(platform: Platform, tenant: Any) -> int:
    async with platform.ctx.db.system_session() as session:
        count = await session.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant.id))
    return int(count or 0)


async def test_create_admin_makes_a_verified_admin_who_can_sign_in_and_administer(
    run: Run, rustok_client: RustokClient, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    customer = await make_user(tenant, role="customer")
    args = ["--tenant", tenant.slug, "--email", "Boss@Example.com", "--password", PASSWORD, "--name", "The Boss"]
    result = await run("user", "create-admin", *args)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "created admin boss@example.com" in result.output
    assert f"in tenant '{tenant.slug}'" in result.output
    assert PASSWORD not in result.output

    body = await rustok_client.graphql_data(SIGN_IN, {"email": "boss@example.com", "password": PASSWORD}, tenant=tenant)
    payload = body["signIn"]
    assert payload["user"] == {
        "email": "boss@example.com",
        "displayName": "The Boss",
        "emailVerified": True,
        "roles": ["admin"],
    }
    headers = {"Authorization": f"Bearer {payload['accessToken']}", "X-Tenant-ID": tenant.slug}
    listed = await rustok_client.graphql_data(USERS, headers=headers)
    assert {edge["node"]["email"] for edge in listed["users"]["edges"]} == {customer.email, "boss@example.com"}
    # The same query is admin-only: the customer is refused.
    refused = await rustok_client.graphql(USERS, headers=customer.headers)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_create_admin_takes_the_tenant_id_and_a_prompted_password(
    run: Run, rustok_client: RustokClient, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    args = ["--tenant", str(tenant.id), "--email", "prompted@example.com", "--password", "-"]
    result = await run("user", "create-admin", *args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, (result.output, result.exception)
    body = await rustok_client.graphql_data(
        SIGN_IN, {"email": "prompted@example.com", "password": PASSWORD}, tenant=tenant
    )
    assert body["signIn"]["user"]["roles"] == ["admin"]


@pytest.mark.parametrize(
    ("email", "password", "problem"),
    [
        pytest.param("short@example.com", "short", "at least 8 characters", id="short-password"),
        pytest.param("not-an-email", PASSWORD, "invalid email", id="invalid-email"),
        pytest.param("same@example.com", "same@example.com", "must not be the email", id="password-is-email"),
    ],
)
async def test_create_admin_with_bad_input_exits_non_zero_naming_the_problem(
    run: Run, rustok_platform: Platform, make_tenant: Any, email: str, password: str, problem: str
) -> None:
    tenant = await make_tenant()
    result = await run("user", "create-admin", "--tenant", tenant.slug, "--email", email, "--password", password)
    assert result.exit_code != 0
    assert problem in str(result.exception)
    assert await count_users(rustok_platform, tenant) == 0


async def test_create_admin_refuses_a_taken_email_and_an_unknown_tenant(
    run: Run, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant()
    existing = await make_user(tenant, role="customer")
    taken = await run(
        "user", "create-admin", "--tenant", tenant.slug, "--email", existing.email.upper(), "--password", PASSWORD
    )
    assert taken.exit_code != 0
    assert "already exists" in str(taken.exception)
    assert await count_users(rustok_platform, tenant) == 1

    unknown = await run(
        "user", "create-admin", "--tenant", "no-such-tenant", "--email", "x@example.com", "--password", PASSWORD
    )
    assert unknown.exit_code != 0
    assert "no-such-tenant" in str(unknown.exception)
