"""Autocommit driver connections for one-statement reads (the storefront's hot path).

A storefront read is a single ``SELECT``: it needs no transaction (one statement sees
one snapshot), no ORM and no SQLAlchemy execution context. Going through the engine's
pool costs more CPU than the statement's own round trip on the driver: checkout and
check-in through greenlets, switching the connection to autocommit and back. These
connections stay in autocommit for their whole life in a small psycopg pool of their
own, opened on first use and closed (until the next use) with the :class:`~rustok_core.db.database.Database`.

JSON columns are decoded by orjson (psycopg's default is the standard library's
``json``), like the engine's; the session's time zone is UTC.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import psycopg
from psycopg.adapt import Loader
from psycopg_pool import AsyncConnectionPool


class _JsonLoader(Loader):
    """``json``/``jsonb`` text to Python by orjson, called directly (no Python frame per value)."""

    load = staticmethod(orjson.loads)  # type: ignore[assignment]


async def _configure(connection: psycopg.AsyncConnection[Any]) -> None:
    for name in ("json", "jsonb"):
        connection.adapters.register_loader(name, _JsonLoader)
    # Timestamps in UTC whatever the server's TimeZone: psycopg then gives them
    # ``datetime.timezone.utc``, the cheapest zone to convert to (a zoneinfo zone such as
    # Debian's default ``Etc/UTC`` cost ~0.4 µs a value), and answers print ``+00:00``.
    await connection.execute("SET TimeZone TO 'UTC'")


class ReadConnections:
    """A lazily opened pool of autocommit connections (at most ``max_size``)."""

    def __init__(self, conninfo: str, *, max_size: int) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._conninfo = conninfo
        self.max_size = max_size
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for one statement; a broken or busy one (cancelled read) is not reused."""
        pool = self._pool or await self._open()
        async with pool.connection() as connection:
            yield connection

    async def _open(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        async with self._lock:
            if self._pool is None:
                pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                    self._conninfo,
                    min_size=1,
                    max_size=self.max_size,
                    kwargs={"autocommit": True},
                    configure=_configure,
                    open=False,
                    name="rustok-reads",
                )
                await pool.open()
                self._pool = pool
            return self._pool

    async def close(self) -> None:
        """Close every connection; like the engine's ``dispose``, a later read opens the pool again."""
        async with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
