"""The storefront's statements on the driver connection: parameters, pool hygiene, observability."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import text

from rustok_index.services.reader import StorefrontReader, driver_sql
from rustok_server.boot import Platform
from rustok_testing.events import eventually
from rustok_testing.queries import count_queries


def test_parameters_are_translated_like_sqlalchemy_text_binds():
    sql = "SELECT :a::text, CAST(:b AS int), regexp_split_to_table(:q, '[[:space:]]+'), x <% y, 'a:b' WHERE k = :k0"
    # ``:a::text`` is no parameter for SQLAlchemy either (write CAST(:a AS text)).
    assert driver_sql(sql) == (
        "SELECT :a::text, CAST(%(b)s AS int), regexp_split_to_table(%(q)s, '[[:space:]]+'), x <%% y, 'a:b' "
        "WHERE k = %(k0)s"
    )
    assert set(text(sql)._bindparams) == {"b", "q", "k0"}


async def test_a_statement_returns_named_rows_and_is_counted(platform: Platform) -> None:
    reader = StorefrontReader(platform.ctx.db)
    async with count_queries(platform) as counted:
        (row,) = await reader.rows("SELECT CAST(:n AS int) + 1 AS answer", {"n": 41})
    assert row.answer == 42
    assert counted.count == 1, counted


async def test_a_failed_statement_leaves_a_usable_pool_and_the_engine_untouched(platform: Platform) -> None:
    reader = StorefrontReader(platform.ctx.db)
    with pytest.raises(psycopg.errors.DivisionByZero):
        await reader.rows("SELECT 1 / :zero AS x", {"zero": 0})
    assert [tuple(row) for row in await reader.tuples("SELECT 1 AS x", {})] == [(1,)]
    async with platform.ctx.db.engine.connect() as conn:  # reads never borrow the engine's connections
        raw = await conn.get_raw_connection()
        assert raw.driver_connection.autocommit is False  # type: ignore[union-attr]


async def test_reads_run_outside_transactions_and_decode_json(platform: Platform) -> None:
    reader = StorefrontReader(platform.ctx.db)
    (row,) = await reader.rows("SELECT CAST(:j AS jsonb) AS j", {"j": '{"a": [1]}'})
    assert row.j == {"a": [1]}
    async with platform.ctx.db.reads.connection() as connection:
        assert connection.autocommit is True  # no BEGIN/ROLLBACK round trips around a read


async def test_disposing_the_database_closes_the_read_pool_and_a_later_read_opens_it_again(platform: Platform) -> None:
    reader = StorefrontReader(platform.ctx.db)
    (before,) = await reader.rows("SELECT pg_backend_pid() AS pid", {})
    await platform.ctx.db.dispose()

    async def gone() -> bool:  # the server ends a backend just after its client closed it
        async with platform.ctx.db.engine.connect() as conn:
            found = await conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": before.pid}
            )
            return found.scalar_one() == 0

    assert await eventually(gone), "the read pool's connection outlived dispose()"
    (after,) = await reader.rows("SELECT pg_backend_pid() AS pid", {})
    assert after.pid != before.pid


async def test_a_cancelled_statement_does_not_leave_a_busy_connection_in_the_pool(platform: Platform) -> None:
    reader = StorefrontReader(platform.ctx.db)
    marker = "storefront-reader-cancel-test"
    task = asyncio.create_task(reader.rows(f"SELECT pg_sleep(30) AS x, '{marker}' AS m", {}))
    async with asyncio.timeout(10):  # a failure guard: the statement shows up at once
        while not await running(platform, marker):  # noqa: ASYNC110 - the server's state cannot be awaited
            await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(platform.settings.database.read_pool_size + 1):  # every pooled connection answers
        assert [tuple(row) for row in await reader.rows("SELECT 7 AS x", {})] == [(7,)]


async def running(platform: Platform, marker: str) -> bool:
    sql = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE :q AND pid <> pg_backend_pid()"
    async with platform.ctx.db.engine.connect() as conn:
        return bool((await conn.execute(text(sql), {"q": f"%{marker}%"})).scalar_one())
