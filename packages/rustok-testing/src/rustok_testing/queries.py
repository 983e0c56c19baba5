"""Count SQL statements, for tests that fail when code starts issuing N+1 queries.

::

    async with count_queries(platform) as queries:
        await loader.load_many(ids)
    assert queries.count == 1, queries

Every cursor execution on the engine counts (SQLAlchemy's ``before_cursor_execute``)
that the code inside the block causes: the task that opened the block and every task
it starts (they inherit its context), on any connection. Work that other tasks were
already doing — an event relay polling, the index applying events in the background —
does not count, so a measurement does not depend on what the platform does meanwhile;
pass ``everywhere=True`` to count every statement on the engine. ``BEGIN``, ``COMMIT``
and ``ROLLBACK`` are not cursor executions (the driver issues them), so they never
count; an ``executemany`` counts once per batch the driver sends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

_COUNTING: ContextVar[frozenset[int]] = ContextVar("rustok_counting_queries", default=frozenset())
"""The counters whose block the current context runs inside (by ``id``)."""


def _sync_engine(target: Any) -> Engine:
    """The sync engine behind a platform, an ``AppContext``, a ``Database`` or an engine."""
    for attribute in ("ctx", "db", "engine"):
        if isinstance(target, (Engine, AsyncEngine)):
            break
        if hasattr(target, attribute):
            target = getattr(target, attribute)
    if isinstance(target, AsyncEngine):
        return target.sync_engine
    if isinstance(target, Engine):
        return target
    raise TypeError(f"cannot count queries on {target!r}: pass a Platform, AppContext, Database or engine")


class QueryCounter:
    """Statements run on one engine while the context is open.

    Use it as ``with`` or ``async with``; ``statements`` holds the SQL text in order,
    ``count`` their number. ``str(counter)`` lists them, for assertion messages.
    """

    def __init__(self, target: Any, *, ignore: Iterable[str] = (), everywhere: bool = False) -> None:
        self.engine = _sync_engine(target)
        self.ignore = tuple(re.compile(pattern) for pattern in ignore)
        self.everywhere = everywhere
        self.statements: list[str] = []
        self._listening = False
        self._token: Token[frozenset[int]] | None = None

    @property
    def count(self) -> int:
        return len(self.statements)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not self.everywhere and id(self) not in _COUNTING.get():
            return
        if not any(pattern.search(statement) for pattern in self.ignore):
            self.statements.append(statement)

    def start(self) -> QueryCounter:
        if self._listening:
            raise RuntimeError("this query counter is already counting")
        self._token = _COUNTING.set(_COUNTING.get() | {id(self)})
        event.listen(self.engine, "before_cursor_execute", self._record)
        self._listening = True
        return self

    def stop(self) -> None:
        if self._listening:
            event.remove(self.engine, "before_cursor_execute", self._record)
            self._listening = False
        if self._token is not None:
            try:
                _COUNTING.reset(self._token)
            except ValueError:  # stopped from another context than it started in
                _COUNTING.set(_COUNTING.get() - {id(self)})
            self._token = None

    def __enter__(self) -> QueryCounter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> QueryCounter:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __str__(self) -> str:
        lines = [f"{self.count} statement(s):"]
        lines.extend(f"  {n}. {' '.join(statement.split())}" for n, statement in enumerate(self.statements, 1))
        return "\n".join(lines)


def count_queries(target: Any, *, ignore: Iterable[str] = (), everywhere: bool = False) -> QueryCounter:
    """Count SQL statements the block causes on ``target``'s engine (``with``/``async with``).

    ``target`` is a booted ``Platform``, an ``AppContext``, a ``Database`` or a
    (sync or async) engine. Statements matching any regular expression in ``ignore``
    are left out; ``everywhere`` counts other tasks' statements too.
    """
    return QueryCounter(target, ignore=ignore, everywhere=everywhere)
