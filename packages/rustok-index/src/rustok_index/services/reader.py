"""One-statement reads for the storefront, run on the driver connection.

Storefront reads are single ``SELECT`` statements on the hottest path of the platform.
Run through SQLAlchemy's async ``Connection``, each one costs about twice the CPU of
the statement on psycopg itself (greenlet hops, execution context, result metadata,
``BEGIN``/``ROLLBACK``). The reader takes an autocommit connection from the
database's read pool (:class:`rustok_core.db.reads.ReadConnections`: a single
statement sees one snapshot anyway, and no transaction means no extra round trips),
runs the statement on that connection's kept cursor (its column loaders are made once)
and hands the rows back as tuples; psycopg prepares a statement on a connection once
it has run a few times.

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

from psycopg.rows import AsyncRowFactory, namedtuple_row, tuple_row

from rustok_core.db.database import Database

# SQLAlchemy's rule for bind parameters in text(): ``:name`` not preceded by ``:``, a word
# character or a backslash, and not followed by ``:`` or a word character (so ``::type``
# casts and ``[:space:]`` classes stay).
_BIND = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])")


@lru_cache(maxsize=1024)
def driver_sql(sql: str) -> str:
    """``sql`` with ``:name`` parameters in psycopg's ``%(name)s`` style (``%`` escaped)."""
    return _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))


class StorefrontReader:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._dispatch = db.engine.sync_engine.dispatch

    async def rows(self, sql: str, params: Mapping[str, Any]) -> Sequence[Any]:
        """The rows of one statement, as named tuples."""
        return await self._fetch(sql, params, namedtuple_row)

    async def tuples(self, sql: str, params: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        """The rows of one statement, as plain tuples (columns by position: the cheapest rows)."""
        return await self._fetch(sql, params, tuple_row)

    async def _fetch(self, sql: str, params: Mapping[str, Any], row_factory: AsyncRowFactory[Any]) -> Sequence[Any]:
        statement = driver_sql(sql)
        dispatch = self._dispatch
        async with self.db.reads.connection() as connection:
            cursor = connection.read_cursor(row_factory)
            if dispatch.before_cursor_execute:
                dispatch.before_cursor_execute(None, cursor, statement, params, None, False)
            await cursor.execute(statement, params)
            if dispatch.after_cursor_execute:
                dispatch.after_cursor_execute(None, cursor, statement, params, None, False)
            return await cursor.fetchall()
