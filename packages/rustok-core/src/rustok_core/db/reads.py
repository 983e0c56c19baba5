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
from typing import Any

import orjson
import psycopg
from psycopg.adapt import Loader
from psycopg.rows import AsyncRowFactory
from psycopg_pool import AsyncConnectionPool


class _JsonLoader(Loader):
    """``json``/``jsonb`` text to Python by orjson, called directly (no Python frame per value)."""

    load = staticmethod(orjson.loads)  # type: ignore[assignment]


class ReadConnection(psycopg.AsyncConnection[Any]):
    """A connection of the read pool; it keeps one cursor per row factory for its lease holders."""

    _read_cursors: dict[AsyncRowFactory[Any], psycopg.AsyncCursor[Any]] | None = None

    def read_cursor(self, row_factory: AsyncRowFactory[Any]) -> psycopg.AsyncCursor[Any]:
        """The connection's cursor making rows with ``row_factory`` (only the lease holder uses it).

        A cursor keeps the loaders it made for the columns it has seen, so a reused one
        skips building them for every statement (measured on one connection: ~9 of ~77 µs
        of CPU for a page of 21 storefront rows). The cursors go with the connection.
        """
        kept = self._read_cursors
        if kept is None:
            kept = self._read_cursors = {}
        cursor = kept.get(row_factory)
        if cursor is None or cursor.closed:
            cursor = kept[row_factory] = self.cursor(row_factory=row_factory)
        return cursor


class _Lease:
    """One connection of the pool, given back on exit: ``getconn``/``putconn`` without the two
    generator-based context managers of ``pool.connection()`` (a sampling profile put ~6% of
    a cold storefront read's CPU in them; 15 interleaved pairs of runs put the saving at ~10 µs
    of ~290 by the medians, inside the runs' spread). ``putconn`` closes a connection left busy
    (a cancelled read) or broken; in autocommit there is no transaction to end."""

    __slots__ = ("_connection", "_pool", "_reads")

    def __init__(self, reads: ReadConnections) -> None:
        self._reads = reads
        self._pool: AsyncConnectionPool[ReadConnection] | None = None
        self._connection: ReadConnection | None = None

    async def __aenter__(self) -> ReadConnection:
        pool = self._reads._pool or await self._reads._open()
        self._connection = await pool.getconn()
        self._pool = pool
        return self._connection

    async def __aexit__(self, *_: object) -> None:
        pool, connection = self._pool, self._connection
        assert pool is not None
        assert connection is not None
        self._connection = None
        await pool.putconn(connection)


async def _configure(connection: ReadConnection) -> None:
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
        self._pool: AsyncConnectionPool[ReadConnection] | None = None
        self._lock = asyncio.Lock()

    def connection(self) -> _Lease:
        """A connection for one statement (``async with``); a broken or busy one (cancelled read) is not reused."""
        return _Lease(self)

    async def _open(self) -> AsyncConnectionPool[ReadConnection]:
        async with self._lock:
            if self._pool is None:
                pool: AsyncConnectionPool[ReadConnection] = AsyncConnectionPool(
                    self._conninfo,
                    min_size=1,
                    max_size=self.max_size,
                    connection_class=ReadConnection,
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
