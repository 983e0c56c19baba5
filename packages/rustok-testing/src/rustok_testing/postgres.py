"""PostgreSQL for tests: one server per session, one database per test module.

The server is ``RUSTOK_TEST_DATABASE_URL`` when set (CI uses the machine's PostgreSQL)
or an embedded PostgreSQL under ``var/test-pg``. Migrations of the installed modules
run once into a template database named after a hash of the migration files; each
test module then gets a fresh copy (``CREATE DATABASE ... TEMPLATE``), dropped after.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from rustok_core.db import driver_conninfo, normalize_url
from rustok_core.embedded import start_embedded_postgres
from rustok_core.migrations import MigrationRunner
from rustok_core.registry import ModuleRegistry
from rustok_server.boot import migration_locations

TEST_DATABASE_ENV = "RUSTOK_TEST_DATABASE_URL"
TEMPLATE_LOCK_KEY = 0x5275_5374_6F4B_5450
# Templates of other migration sets unused for this long are dropped.
STALE_TEMPLATE_SECONDS = 6 * 3600


def server_url(var_dir: Path) -> str:
    """Admin URL of the test PostgreSQL server (database ``postgres``)."""
    configured = os.environ.get(TEST_DATABASE_ENV)
    if configured:
        return normalize_url(configured)
    return start_embedded_postgres(var_dir / "test-pg", database="postgres")


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


libpq = driver_conninfo
"""A database URL as a libpq connection string (psycopg's own connections)."""


@contextmanager
def admin_connection(url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq(with_database(url, "postgres")), autocommit=True) as conn:
        yield conn


def migrations_fingerprint(locations: Mapping[str, Path]) -> str:
    digest = hashlib.sha256()
    for slug, location in sorted(locations.items()):
        digest.update(slug.encode())
        for path in sorted(Path(location).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_template(url: str, registry: ModuleRegistry) -> str:
    """Create (once) a migrated template database for ``registry``; return its name."""
    locations = migration_locations(registry)
    name = f"rustok_tpl_{migrations_fingerprint(locations)}"
    with admin_connection(url) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (TEMPLATE_LOCK_KEY,))
        try:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                building = f"{name}_building"
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(building)))
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
                MigrationRunner(with_database(url, building), locations).upgrade()
                conn.execute(
                    sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building), sql.Identifier(name))
                )
            # Remember when each template was last used, so stale ones can be pruned
            # without pulling a template from under a concurrent test session.
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(name), sql.Literal(f"rustok test template, used {int(time.time())}")
                )
            )
            _drop_stale_templates(conn, keep=name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (TEMPLATE_LOCK_KEY,))
    return name


def _drop_stale_templates(conn: psycopg.Connection, keep: str) -> None:
    rows = conn.execute(
        "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname LIKE 'rustok\\_tpl\\_%%' AND datname NOT LIKE '%%\\_building' AND datname <> %s",
        (keep,),
    ).fetchall()
    now = time.time()
    for stale, comment in rows:
        used = _last_used(comment)
        if used is not None and now - used < STALE_TEMPLATE_SECONDS:
            continue
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(stale)))


def _last_used(comment: str | None) -> float | None:
    if not comment or "used " not in comment:
        return None
    try:
        return float(comment.rsplit("used ", 1)[1])
    except ValueError:
        return None


def create_database(url: str, template: str | None = None, prefix: str = "rustok_test") -> str:
    name = f"{prefix}_{secrets.token_hex(6)}"
    with admin_connection(url) as conn:
        if template:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_database(url: str, name: str) -> None:
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
