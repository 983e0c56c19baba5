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
from time import monotonic
from typing import Any

import orjson
import psycopg
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus
from psycopg.rows import AsyncRowFactory
from psycopg_pool import AsyncConnectionPool

IDLE = TransactionStatus.IDLE


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
    """One connection for one statement (``async with``), given back on exit.

    A connection comes from the reads' kept connections when one is free, else from the
    pool. On exit, a connection left idle is kept for the next lease unless a lease is
    waiting on the pool (it is given back there so that lease gets it); a busy one (a
    cancelled read) or a broken one goes back to the pool, which closes and replaces it.
    """

    __slots__ = ("_connection", "_pool", "_reads")

    def __init__(self, reads: ReadConnections) -> None:
        self._reads = reads
        self._pool: AsyncConnectionPool[ReadConnection] | None = None
        self._connection: ReadConnection | None = None

    async def __aenter__(self) -> ReadConnection:
        reads = self._reads
        await reads._turn()
        kept = reads._kept
        if kept and monotonic() < reads._return_at:
            self._pool = reads._pool
            connection = self._connection = kept.pop()
        else:
            self._pool, connection = await reads._take()
            self._connection = connection
        return connection

    async def __aexit__(self, *_: object) -> None:
        pool, connection = self._pool, self._connection
        assert pool is not None
        assert connection is not None
        self._pool = self._connection = None
        reads = self._reads
        if pool is reads._pool and not reads._asking and connection.pgconn.transaction_status == IDLE:
            reads._kept.append(connection)
        else:
            await pool.putconn(connection)


async def _configure(connection: ReadConnection) -> None:
    for name in ("json", "jsonb"):
        connection.adapters.register_loader(name, _JsonLoader)
    # Timestamps in UTC whatever the server's TimeZone: psycopg then gives them
    # ``datetime.timezone.utc``, the cheapest zone to convert to (a zoneinfo zone such as
    # Debian's default ``Etc/UTC`` cost ~0.4 µs a value), and answers print ``+00:00``.
    await connection.execute("SET TimeZone TO 'UTC'")


class ReadConnections:
    """A lazily opened pool of autocommit connections (at most ``max_size``).

    psycopg_pool makes, checks, replaces and closes the connections. Between two reads a
    connection is kept out of the pool, ready for the next read: a read then takes and
    gives back its connection with a list ``pop``/``append`` instead of the pool's
    ``getconn``/``putconn``, which take its lock twice and log and count every checkout
    (~11 µs of CPU per statement, measured on ``SELECT 1``: 49 µs through the pool, 38 µs
    without it). At most every :data:`KEEP_FOR` seconds, and whenever a read waits on the
    pool, the kept connections go back to it, so its lifetime, drain and shrink rules
    still apply to every connection.
    """

    KEEP_FOR = 1.0
    """Seconds a connection may stay kept out of the pool before the next read gives it back."""

    def __init__(self, conninfo: str, *, max_size: int) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._conninfo = conninfo
        self.max_size = max_size
        self._pool: AsyncConnectionPool[ReadConnection] | None = None
        self._lock = asyncio.Lock()
        self._kept: list[ReadConnection] = []
        self._return_at = 0.0
        self._asking = 0
        self._waiting: list[asyncio.Future[None]] = []
        self._waiting_loop: asyncio.AbstractEventLoop | None = None

    def connection(self) -> _Lease:
        """A connection for one statement (``async with``); a broken or busy one (cancelled read) is not reused."""
        return _Lease(self)

    def _turn(self) -> asyncio.Future[None]:
        """Done on the event loop's next turn: the leases asked for in one turn start together.

        Their statements then go out back to back. Sending a statement wakes the database
        server's process; when its core is idle, that wake-up costs the sender far more
        than the send itself (on this project's two-core benchmark machine, a virtual
        machine, ~15 µs of CPU per statement more for 16 reads issued between ~50-150 µs
        of other work each than for the same reads issued together). A turn's first send
        wakes the core; the rest find it running. Each lease waits on a future of its own,
        so cancelling one read leaves the others of its turn alone.
        """
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        waiting = self._waiting
        if waiting and self._waiting_loop is loop:
            waiting.append(waiter)
        else:  # the turn's first lease, or a turn left by a loop that stopped before its next round
            waiting = self._waiting = [waiter]
            self._waiting_loop = loop
            loop.call_soon(self._start_turn, waiting)
        return waiter

    def _start_turn(self, waiting: list[asyncio.Future[None]]) -> None:
        if self._waiting is waiting:
            self._waiting = []
        for waiter in waiting:
            if not waiter.done():  # not cancelled
                waiter.set_result(None)

    async def _take(self) -> tuple[AsyncConnectionPool[ReadConnection], ReadConnection]:
        """A connection from the pool, after giving the kept ones back to it."""
        pool = self._pool or await self._open()
        await self._give_back_kept()
        self._return_at = monotonic() + self.KEEP_FOR
        self._asking += 1
        try:
            return pool, await pool.getconn()
        finally:
            self._asking -= 1

    async def _give_back_kept(self) -> None:
        kept, self._kept = self._kept, []
        pool = self._pool
        for connection in kept:
            assert pool is not None
            await pool.putconn(connection)

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
            await self._give_back_kept()
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
