"""Count SQL statements, for tests that fail when code starts issuing N+1 queries.

::

    async with count_queries(platform) as queries:
        await loader.load_many(ids)
    assert queries.count == 1, queries

Every cursor execution on the engine counts (SQLAlchemy's ``before_cursor_execute``),
from any connection and any task, while the block runs. ``BEGIN``, ``COMMIT`` and
``ROLLBACK`` are not cursor executions (the driver issues them), so they never count;
an ``executemany`` counts once per batch the driver sends. Background work on the same
engine (an event relay polling) counts too: pass ``ignore`` patterns for it, or boot
the platform with that work switched off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine


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

    def __init__(self, target: Any, *, ignore: Iterable[str] = ()) -> None:
        self.engine = _sync_engine(target)
        self.ignore = tuple(re.compile(pattern) for pattern in ignore)
        self.statements: list[str] = []
        self._listening = False

    @property
    def count(self) -> int:
        return len(self.statements)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not any(pattern.search(statement) for pattern in self.ignore):
            self.statements.append(statement)

    def start(self) -> QueryCounter:
        if self._listening:
            raise RuntimeError("this query counter is already counting")
        event.listen(self.engine, "before_cursor_execute", self._record)
        self._listening = True
        return self

    def stop(self) -> None:
        if self._listening:
            event.remove(self.engine, "before_cursor_execute", self._record)
            self._listening = False

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


def count_queries(target: Any, *, ignore: Iterable[str] = ()) -> QueryCounter:
    """Count SQL statements executed on ``target``'s engine inside a ``with``/``async with`` block.

    ``target`` is a booted ``Platform``, an ``AppContext``, a ``Database`` or a
    (sync or async) engine. Statements matching any regular expression in ``ignore``
    are left out; nothing is left out by default.
    """
    return QueryCounter(target, ignore=ignore)
