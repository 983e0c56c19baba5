"""count_queries: counting the SQL statements a piece of code runs (for N+1 tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from rustok_core.db import Database
from rustok_server.boot import Platform
from rustok_testing.queries import count_queries


@pytest.fixture(scope="module")
async def db(rustok_database_url: str) -> AsyncIterator[Database]:
    database = Database(rustok_database_url)
    yield database
    await database.dispose()


async def test_every_statement_inside_the_block_counts_and_nothing_outside(db: Database) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 0"))
        async with count_queries(db) as queries:
            for n in (1, 2, 3):
                await conn.execute(text(f"SELECT {n}"))
        await conn.execute(text("SELECT 4"))
    assert queries.count == 3
    assert queries.statements == ["SELECT 1", "SELECT 2", "SELECT 3"]


async def test_transaction_control_is_not_a_cursor_execution(db: Database) -> None:
    async with count_queries(db) as queries, db.engine.begin() as conn:
        await conn.execute(text("SELECT 1"))
    assert queries.statements == ["SELECT 1"]


async def test_statements_of_concurrent_tasks_count_too(db: Database) -> None:
    async def one(n: int) -> None:
        async with db.engine.connect() as conn:
            await conn.execute(text(f"SELECT {n}"))

    with count_queries(db) as queries:
        await asyncio.gather(*(one(n) for n in range(5)))
    assert sorted(queries.statements) == [f"SELECT {n}" for n in range(5)]


async def test_ignored_patterns_are_left_out(db: Database) -> None:
    async with count_queries(db, ignore=[r"pg_sleep", r"^SELECT 2$"]) as queries, db.engine.connect() as conn:
        for statement in ("SELECT 1", "SELECT 2", "SELECT pg_sleep(0)", "SELECT 3"):
            await conn.execute(text(statement))
    assert queries.statements == ["SELECT 1", "SELECT 3"]


async def test_a_platform_its_context_its_database_or_an_engine_can_be_counted(rustok_platform: Platform) -> None:
    targets = (rustok_platform, rustok_platform.ctx, rustok_platform.ctx.db, rustok_platform.ctx.db.engine)
    for target in targets:
        async with count_queries(target) as queries:
            await rustok_platform.ctx.db.ping()
        assert queries.count == 1, f"{target!r}: {queries}"
    with pytest.raises(TypeError, match="cannot count queries"):
        count_queries(object())


async def test_the_report_lists_the_statements(db: Database) -> None:
    async with count_queries(db) as queries, db.engine.connect() as conn:
        await conn.execute(text("SELECT\n    1"))
    assert str(queries) == "1 statement(s):\n  1. SELECT 1"


async def test_a_counter_counts_one_block_at_a_time(db: Database) -> None:
    counter = count_queries(db)
    with counter, pytest.raises(RuntimeError, match="already counting"):
        counter.start()


async def test_work_other_tasks_were_already_doing_counts_only_everywhere(db: Database) -> None:
    go, done = asyncio.Event(), asyncio.Event()

    async def background() -> None:
        # Started before the block, like an event relay: its statements are not the code under test.
        await go.wait()
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 'background'"))
        done.set()

    for everywhere in (False, True):
        go.clear()
        done.clear()
        task = asyncio.create_task(background())
        async with count_queries(db, everywhere=everywhere) as queries, db.engine.connect() as conn:
            go.set()
            await done.wait()
            await conn.execute(text("SELECT 'mine'"))
        await task
        expected = ["SELECT 'background'", "SELECT 'mine'"] if everywhere else ["SELECT 'mine'"]
        assert queries.statements == expected, everywhere
