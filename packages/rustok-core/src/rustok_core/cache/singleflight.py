"""Collapse concurrent calls for the same key into one execution."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    """Concurrent :meth:`run` calls with one key share a single execution of ``fn``.

    The execution runs in its own task: a caller that is cancelled stops waiting but
    the others (and the execution) carry on. If every caller goes away the execution
    still completes, which lets it finish filling a cache. The key is forgotten the
    moment the execution finishes, so a later call runs ``fn`` again. Per event loop;
    not shared between processes.
    """

    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Task[Any]] = {}

    def __len__(self) -> int:
        """How many executions are in flight."""
        return len(self._flights)

    async def run(self, key: Hashable, fn: Callable[[], Awaitable[T]]) -> T:
        """Return the result of ``fn()`` (or raise its exception), shared per ``key``.

        When a call for ``key`` is already in flight, ``fn`` is not called: this caller
        waits for that execution instead.
        """
        task = self._flights.get(key)
        if task is None:
            task = asyncio.create_task(self._execute(key, fn))
            self._flights[key] = task
        # A cancelled caller stops waiting; the execution goes on. (When nobody waits
        # any more, shield also marks its exception as retrieved: no "never retrieved".)
        return await asyncio.shield(task)

    async def _execute(self, key: Hashable, fn: Callable[[], Awaitable[T]]) -> T:
        try:
            return await fn()
        finally:
            # Forget the key as part of the execution itself (not in a later callback),
            # so no caller can join a finished flight.
            if self._flights.get(key) is asyncio.current_task():
                del self._flights[key]
