"""One-statement reads for the storefront, run on the driver connection.

Storefront reads are single ``SELECT`` statements on the hottest path of the platform.
Run through SQLAlchemy's async ``Connection``, each one costs about twice the CPU of
the statement on psycopg itself (greenlet hops, execution context, result metadata,
``BEGIN``/``ROLLBACK``): measured ~500 µs against ~300 µs for 20 product rows. The
reader borrows a connection from the engine's pool — the same connections, limits
and disposal as everything else — switches it to autocommit for the statement (a
single statement sees one snapshot anyway, and no transaction means no extra round
trips), and hands the rows back as named tuples.

Every statement is reported to the engine's ``before_cursor_execute`` and
``after_cursor_execute`` listeners, with the psycopg cursor and no SQLAlchemy
connection or execution context (``conn`` and ``context`` are ``None``), so statement
counters (``rustok_testing.queries``) and timers see storefront reads like any other.
SQL is written with SQLAlchemy's ``:name`` parameters and translated once per text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

# SQLAlchemy's rule for bind parameters in text(): ``:name`` not preceded by ``:``, a word
# character or a backslash, and not followed by ``:`` or a word character (so ``::type``
# casts and ``[:space:]`` classes stay).
_BIND = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])")


@lru_cache(maxsize=1024)
def driver_sql(sql: str) -> str:
    """``sql`` with ``:name`` parameters in psycopg's ``%(name)s`` style (``%`` escaped)."""
    return _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))


class StorefrontReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def rows(self, sql: str, params: Mapping[str, Any]) -> Sequence[Any]:
        """The rows of one statement, as named tuples."""
        statement = driver_sql(sql)
        dispatch = self.engine.sync_engine.dispatch
        pooled = await self.engine.raw_connection()
        connection = pooled.driver_connection
        assert isinstance(connection, psycopg.AsyncConnection)  # the engine's driver is psycopg
        try:
            await connection.set_autocommit(True)
            async with connection.cursor(row_factory=namedtuple_row) as cursor:
                if dispatch.before_cursor_execute:
                    dispatch.before_cursor_execute(None, cursor, statement, params, None, False)
                await cursor.execute(statement, params)
                if dispatch.after_cursor_execute:
                    dispatch.after_cursor_execute(None, cursor, statement, params, None, False)
                return await cursor.fetchall()
        finally:
            await _give_back(pooled, connection)


async def _give_back(pooled: PoolProxiedConnection, connection: psycopg.AsyncConnection[Any]) -> None:
    """Return the connection as the pool's other users expect it (transactions on, idle)."""
    reusable = not connection.closed and connection.info.transaction_status is TransactionStatus.IDLE
    if reusable:
        try:
            await connection.set_autocommit(False)
        except psycopg.Error:
            reusable = False
    if not reusable:
        pooled.invalidate()  # broken, or left in the middle of a statement (a cancelled request)
    await greenlet_spawn(pooled.close)
