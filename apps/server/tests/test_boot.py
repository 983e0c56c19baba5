"""Boot decisions: migrate in development, refuse a stale schema in production."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rustok_core.errors import BootError
from rustok_core.registry import ModuleRegistry
from rustok_server.boot import boot, resolve_database_url
from rustok_testing import postgres
from rustok_testing.plugin import settings_for_tests


@pytest.fixture
def empty_database(rustok_pg_url: str) -> Iterator[str]:
    name = postgres.create_database(rustok_pg_url, prefix="rustok_boot")
    yield postgres.with_database(rustok_pg_url, name)
    postgres.drop_database(rustok_pg_url, name)


async def test_production_refuses_a_schema_that_is_behind(empty_database: str) -> None:
    registry = ModuleRegistry.from_entry_points()
    with pytest.raises(BootError) as excinfo:
        boot(settings_for_tests(env="production"), registry=registry, manifest=None, database_url=empty_database)
    assert "schema is behind" in str(excinfo.value)
    assert "tenant_001" in str(excinfo.value)
    assert "rustok migrate" in str(excinfo.value)


async def test_development_migrates_at_boot_and_reports_timings(empty_database: str) -> None:
    registry = ModuleRegistry.from_entry_points()
    dev = settings_for_tests(env="development")
    platform = boot(dev, registry=registry, manifest=None, database_url=empty_database)
    try:
        assert platform.migrations.up_to_date
        assert "tenant_002" in platform.migrations.current
        assert platform.migrations.missing(platform.migrations.current) == []
        assert list(platform.timings) == ["modules", "database", "migrations", "services", "schema"]
        # A second production boot on the migrated database is accepted.
        prod = settings_for_tests(env="production")
        again = boot(prod, registry=registry, manifest=None, database_url=empty_database)
        await again.ctx.db.dispose()
    finally:
        await platform.ctx.db.dispose()


def test_production_needs_a_database_url() -> None:
    with pytest.raises(BootError, match="set DATABASE_URL"):
        resolve_database_url(settings_for_tests(env="production"))


def test_a_configured_url_is_used_as_is() -> None:
    url = "postgresql://db.example:5432/shop"
    assert resolve_database_url(settings_for_tests(**{"database.url": url})) == url
