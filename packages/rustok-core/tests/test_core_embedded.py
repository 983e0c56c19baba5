"""``ensure_database``: the database the embedded server (or any server) needs, created once."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest

from rustok_core.embedded import ensure_database
from rustok_testing import postgres


def database_exists(admin_url: str, name: str) -> bool:
    with postgres.admin_connection(admin_url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


@pytest.fixture
def database_name(rustok_pg_url: str) -> Iterator[str]:
    # Upper case and a dash: the name must be quoted as an identifier, not pasted into SQL.
    name = f"rustok_core_Ensure-{secrets.token_hex(4)}"
    yield name
    postgres.drop_database(rustok_pg_url, name)


def test_ensure_database_creates_a_missing_database(rustok_pg_url: str, database_name: str) -> None:
    assert not database_exists(rustok_pg_url, database_name)
    ensure_database(rustok_pg_url, database_name)
    assert database_exists(rustok_pg_url, database_name)
    with psycopg.connect(postgres.libpq(postgres.with_database(rustok_pg_url, database_name))) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (database_name,)


def test_ensure_database_is_idempotent(rustok_pg_url: str, database_name: str) -> None:
    ensure_database(rustok_pg_url, database_name)
    with psycopg.connect(postgres.libpq(postgres.with_database(rustok_pg_url, database_name)), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (id int)")
    ensure_database(rustok_pg_url, database_name)  # no error, nothing recreated
    with psycopg.connect(postgres.libpq(postgres.with_database(rustok_pg_url, database_name))) as conn:
        assert conn.execute("SELECT to_regclass('kept') IS NOT NULL").fetchone() == (True,)


def test_ensure_database_accepts_any_postgres_url_spelling(rustok_pg_url: str, database_name: str) -> None:
    plain = postgres.libpq(rustok_pg_url)  # postgresql:// without the driver
    assert plain.startswith("postgresql://")
    ensure_database(plain, database_name)
    assert database_exists(rustok_pg_url, database_name)
