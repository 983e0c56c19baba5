"""SingleFlight: one execution per key for concurrent callers, robust to cancellation."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from rustok_core.cache import SingleFlight


class Boom(Exception):
    pass


async def test_concurrent_callers_share_one_execution() -> None:
    flight = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def fn() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await release.wait()
        return {"value": 42}

    waiters = [asyncio.create_task(flight.run("k", fn)) for _ in range(100)]
    await asyncio.sleep(0)
    assert len(flight) == 1
    release.set()
    results = await asyncio.gather(*waiters)
    assert calls == 1
    assert all(result == {"value": 42} for result in results)
    assert all(result is results[0] for result in results)  # literally the one result
    assert len(flight) == 0  # forgotten once done

    # A later call runs fn again.
    assert await flight.run("k", fn) == {"value": 42}
    assert calls == 2


async def test_different_keys_run_independently() -> None:
    flight = SingleFlight()
    started: list[str] = []
    release = asyncio.Event()

    async def fn(key: str) -> str:
        started.append(key)
        await release.wait()
        return key

    tasks = [asyncio.create_task(flight.run(key, lambda key=key: fn(key))) for key in ("a", "b", "a", ("t", 1))]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert sorted(map(str, started)) == sorted(["a", "b", "('t', 1)"])  # both in flight at once
    release.set()
    assert await asyncio.gather(*tasks) == ["a", "b", "a", ("t", 1)]


async def test_the_exception_reaches_every_caller_and_is_not_remembered() -> None:
    flight = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        raise Boom("loader down")

    waiters = [asyncio.create_task(flight.run("k", failing)) for _ in range(100)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert calls == 1
    assert all(isinstance(result, Boom) and str(result) == "loader down" for result in results)

    async def working() -> int:
        return 7

    assert await flight.run("k", working) == 7


async def test_cancelling_one_caller_does_not_cancel_the_others() -> None:
    flight = SingleFlight()
    release = asyncio.Event()
    finished = False

    async def fn() -> str:
        nonlocal finished
        await release.wait()
        finished = True
        return "done"

    first = asyncio.create_task(flight.run("k", fn))  # the caller that started it
    others = [asyncio.create_task(flight.run("k", fn)) for _ in range(5)]
    await asyncio.sleep(0)
    first.cancel()
    others[0].cancel()
    await asyncio.sleep(0)
    assert first.cancelled()
    release.set()
    assert await asyncio.gather(*others[1:]) == ["done"] * 4
    assert finished
    with pytest.raises(asyncio.CancelledError):
        await others[0]


async def test_an_abandoned_execution_completes_quietly() -> None:
    """Every caller cancelled: the work still finishes and its error is not reported as lost."""
    flight = SingleFlight()
    release = asyncio.Event()
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:

        async def fn() -> None:
            try:
                await release.wait()
                raise Boom("nobody is listening")
            finally:
                done.set()

        caller = asyncio.create_task(flight.run("k", fn))
        await asyncio.sleep(0)
        caller.cancel()
        release.set()
        await asyncio.wait_for(done.wait(), 5)
        await asyncio.sleep(0)
        assert len(flight) == 0
        gc.collect()
        assert reported == []
    finally:
        loop.set_exception_handler(previous)
