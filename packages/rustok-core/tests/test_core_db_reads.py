"""The read pool (``Database.reads``): autocommit connections whose values come back the same
whatever the server's settings — JSON decoded, timestamps in UTC. Real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg.rows import namedtuple_row, tuple_row

from rustok_core.db.database import driver_conninfo
from rustok_core.db.reads import ReadConnections

ROW = (
    "SELECT TIMESTAMPTZ '2026-01-02 03:04:05.25+00', CAST('{\"b\": [1, 2], \"a\": null}' AS jsonb), "
    "current_setting('TimeZone')"
)


@pytest.fixture
async def tokyo_reads(rustok_database_url: str) -> AsyncIterator[ReadConnections]:
    """Read connections to a server whose sessions default to Tokyo time."""
    reads = ReadConnections(
        make_conninfo(driver_conninfo(rustok_database_url), options="-c TimeZone=Asia/Tokyo"), max_size=1
    )
    yield reads
    await reads.close()


async def test_timestamps_come_back_in_utc_and_json_decoded(tokyo_reads: ReadConnections) -> None:
    async with tokyo_reads.connection() as connection, connection.cursor() as cursor:
        await cursor.execute(ROW)
        row = await cursor.fetchone()
    assert row is not None
    stamp, document, zone = row
    assert zone == "UTC"
    assert stamp == datetime(2026, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)
    assert stamp.tzinfo is UTC  # the fixed zone, not a zoneinfo one: isoformat prints +00:00
    assert stamp.isoformat() == "2026-01-02T03:04:05.250000+00:00"
    assert document == {"b": [1, 2], "a": None}


async def test_a_connection_stays_in_autocommit(tokyo_reads: ReadConnections) -> None:
    async with tokyo_reads.connection() as connection:
        assert connection.autocommit
        await connection.execute("SELECT 1")
        assert connection.info.transaction_status.name == "IDLE"


async def test_a_connection_keeps_one_cursor_per_row_factory_across_leases(tokyo_reads: ReadConnections) -> None:
    async with tokyo_reads.connection() as connection:
        first = connection.read_cursor(tuple_row)
        named = connection.read_cursor(namedtuple_row)
        await first.execute("SELECT 1 AS n")
        assert await first.fetchall() == [(1,)]
        await named.execute("SELECT 2 AS n")
        assert [row.n for row in await named.fetchall()] == [2]
    async with tokyo_reads.connection() as again:
        assert again is connection  # a pool of one: the same connection, and its same cursor
        assert again.read_cursor(tuple_row) is first
        with pytest.raises(psycopg.errors.DivisionByZero):
            await first.execute("SELECT 1 / 0")
    async with tokyo_reads.connection() as after_error:
        cursor = after_error.read_cursor(tuple_row)
        await cursor.execute("SELECT CAST(%(x)s AS int) + 1", {"x": 41})  # usable after a failed statement
        assert await cursor.fetchall() == [(42,)]


async def test_after_a_cancelled_read_the_next_lease_answers_through_its_cursor(tokyo_reads: ReadConnections) -> None:
    """A cancelled statement leaves no busy connection or cursor behind (a pool of one: the next lease gets it)."""

    async def slow() -> None:
        async with tokyo_reads.connection() as connection:
            await connection.read_cursor(tuple_row).execute("SELECT pg_sleep(5)")

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(3), tokyo_reads.connection() as connection:  # not after the 5 s sleep
        assert connection.info.transaction_status.name == "IDLE"
        cursor = connection.read_cursor(tuple_row)
        await cursor.execute("SELECT 1")
        assert await cursor.fetchall() == [(1,)]


@pytest.fixture
async def reads_of_one(rustok_database_url: str) -> AsyncIterator[ReadConnections]:
    reads = ReadConnections(driver_conninfo(rustok_database_url), max_size=1)
    yield reads
    await reads.close()


@pytest.fixture
async def reads_of_three(rustok_database_url: str) -> AsyncIterator[ReadConnections]:
    reads = ReadConnections(driver_conninfo(rustok_database_url), max_size=3)
    yield reads
    await reads.close()


def pool_requests(reads: ReadConnections) -> int:
    assert reads._pool is not None
    return reads._pool.get_stats().get("requests_num", 0)


async def test_consecutive_reads_reuse_the_kept_connection_without_asking_the_pool(
    reads_of_one: ReadConnections,
) -> None:
    async with reads_of_one.connection() as first:
        await first.execute("SELECT 1")
    asked = pool_requests(reads_of_one)
    for _ in range(5):
        async with reads_of_one.connection() as again:
            assert again is first
            await again.execute("SELECT 1")
    assert pool_requests(reads_of_one) == asked


async def test_a_read_waiting_on_the_pool_gets_the_connection_when_the_holder_is_done(
    reads_of_one: ReadConnections,
) -> None:
    """With every connection out, a read waits in the pool; the holder gives its connection there, not to the keep."""
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> int:
        async with reads_of_one.connection() as connection:
            holding.set()
            await release.wait()
            return connection.info.backend_pid

    async def waiter() -> int:
        async with reads_of_one.connection() as connection:
            cursor = connection.read_cursor(tuple_row)
            await cursor.execute("SELECT pg_backend_pid()")
            (row,) = await cursor.fetchall()
            return int(row[0])

    held = asyncio.create_task(holder())
    await holding.wait()
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.1)
    assert not waiting.done()
    release.set()
    async with asyncio.timeout(5):  # the pool's own timeout is 30 s
        assert await waiting == await held


async def test_kept_connections_go_back_to_the_pool_so_its_drain_replaces_them(
    reads_of_one: ReadConnections,
) -> None:
    reads_of_one.KEEP_FOR = 0.05
    async with reads_of_one.connection() as first:
        await first.execute("SELECT 1")
    assert reads_of_one._pool is not None
    await reads_of_one._pool.drain()  # retires every connection, the kept one when it comes back
    await asyncio.sleep(0.1)
    async with asyncio.timeout(5), reads_of_one.connection() as second:
        assert second is not first
        await second.execute("SELECT 1")
    assert first.closed


async def test_a_broken_connection_is_not_kept(reads_of_one: ReadConnections, rustok_database_url: str) -> None:
    async with reads_of_one.connection() as first:
        pid = first.info.backend_pid
    async with await psycopg.AsyncConnection.connect(driver_conninfo(rustok_database_url), autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    await asyncio.sleep(0.1)

    async def read_on_the_kept_connection() -> None:
        async with reads_of_one.connection() as broken:
            assert broken is first
            await broken.execute("SELECT 1")

    with pytest.raises(psycopg.OperationalError):
        await read_on_the_kept_connection()
    async with asyncio.timeout(5), reads_of_one.connection() as fresh:
        assert fresh is not first
        cursor = fresh.read_cursor(tuple_row)
        await cursor.execute("SELECT 1")
        assert await cursor.fetchall() == [(1,)]


async def test_closing_closes_the_kept_connections_and_a_later_read_opens_again(
    reads_of_one: ReadConnections,
) -> None:
    async with reads_of_one.connection() as first:
        await first.execute("SELECT 1")
    await reads_of_one.close()
    assert first.closed
    async with reads_of_one.connection() as reopened:
        assert reopened is not first
        await reopened.execute("SELECT 1")


async def test_leases_asked_for_in_one_turn_start_together(reads_of_three: ReadConnections) -> None:
    """Every lease asked for in a turn of the loop is given before any of their statements is sent."""
    async with reads_of_three.connection() as warm:  # the pool opened: later leases need no I/O to start
        await warm.execute("SELECT 1")
    order: list[str] = []

    async def read(name: str) -> None:
        order.append(f"ask {name}")
        async with reads_of_three.connection() as connection:
            order.append(f"send {name}")
            await connection.execute("SELECT 1")

    await asyncio.gather(read("a"), read("b"), read("c"))
    assert order[:3] == ["ask a", "ask b", "ask c"]
    assert sorted(order[3:]) == ["send a", "send b", "send c"]


async def test_a_read_cancelled_while_its_turn_waits_leaves_the_others_of_that_turn_alone(
    reads_of_three: ReadConnections,
) -> None:
    async def read(value: int) -> int:
        async with reads_of_three.connection() as connection:
            cursor = connection.read_cursor(tuple_row)
            await cursor.execute("SELECT CAST(%(v)s AS int)", {"v": value})
            ((answer,),) = await cursor.fetchall()
            return int(answer)

    first, cancelled, last = (asyncio.create_task(read(n)) for n in (1, 2, 3))
    await asyncio.sleep(0)  # all three wait for the next turn
    cancelled.cancel()
    async with asyncio.timeout(5):
        assert await first == 1
        assert await last == 3
    assert cancelled.cancelled()


async def test_a_turn_left_waiting_by_a_stopped_loop_does_not_hold_later_reads(reads_of_one: ReadConnections) -> None:
    def stop_a_loop_with_a_turn_waiting() -> None:
        async def ask_then_stop() -> None:
            reads_of_one._turn()  # the turn's opening is scheduled for the loop's next round...
            asyncio.get_running_loop().stop()  # ...which never comes
            await asyncio.Event().wait()

        loop = asyncio.new_event_loop()
        with pytest.raises(RuntimeError, match="stopped before"):
            loop.run_until_complete(ask_then_stop())
        loop.close()

    await asyncio.to_thread(stop_a_loop_with_a_turn_waiting)
    async with asyncio.timeout(5), reads_of_one.connection() as connection:
        cursor = connection.read_cursor(tuple_row)
        await cursor.execute("SELECT 1")
        assert await cursor.fetchall() == [(1,)]
