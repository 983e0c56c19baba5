"""The rustok pytest plugin as a module author sees it (run in a nested pytest)."""

from __future__ import annotations

import re
from typing import Any

import pytest

INNER_CONFIG = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, rustok_pg_url: str, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("RUSTOK_TEST_DATABASE_URL", rustok_pg_url)
    monkeypatch.delenv("RUSTOK_TEST_REQUIRE_SERVICES", raising=False)
    pytester.makeini(INNER_CONFIG)
    return pytester


def test_each_test_module_gets_its_own_migrated_database(inner: pytest.Pytester) -> None:
    body = """
from sqlalchemy import text
from rustok_core.db import Database

SEEN = []

async def test_database(rustok_database_url):
    db = Database(rustok_database_url)
    async with db.engine.connect() as conn:
        tables = (await conn.execute(text("select tablename from pg_tables where schemaname='public'"))).scalars().all()
        name = (await conn.execute(text("select current_database()"))).scalar_one()
    await db.dispose()
    assert {"tenants", "tenant_modules", "alembic_version"} <= set(tables)
    print("DATABASE", name)
"""
    inner.makepyfile(test_first=body, test_second=body)
    result = inner.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    names = set(re.findall(r"DATABASE (rustok_test_\w+)", result.stdout.str()))
    assert len(names) == 2
    assert all(name.startswith("rustok_test_") for name in names)


def test_clients_and_tenants_are_ready_to_use(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_client="""
async def test_query(rustok_client, make_tenant):
    first = await make_tenant(name="First")
    second = await make_tenant()
    assert first.slug != second.slug
    data = await rustok_client.graphql_data("{ currentTenant { name } }", tenant=first)
    assert data == {"currentTenant": {"name": "First"}}
"""
    )
    inner.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def _service_test(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_service="""
from rustok_testing import require_service

def test_needs_foo():
    require_service("Foo broker", "FOO_URL", 1)
"""
    )


def test_a_missing_service_skips_the_test_with_a_reason(inner: pytest.Pytester, monkeypatch: Any) -> None:
    monkeypatch.setenv("FOO_URL", "foo://127.0.0.1:9")
    _service_test(inner)
    result = inner.runpytest_subprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*Foo broker at 127.0.0.1:9 is not reachable*"])


def test_a_missing_service_fails_the_test_when_services_are_required(inner: pytest.Pytester, monkeypatch: Any) -> None:
    monkeypatch.delenv("FOO_URL", raising=False)
    monkeypatch.setenv("RUSTOK_TEST_REQUIRE_SERVICES", "1")
    _service_test(inner)
    result = inner.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Foo broker not configured: set FOO_URL*is set, so this is a failure*"])
