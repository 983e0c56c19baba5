"""``after_commit`` hands work to the outside world only once a write is durable.

Callbacks run after the outermost commit; a rollback drops them and runs their
``on_rollback`` instead. Savepoints count: work registered inside a savepoint that
rolls back is dropped even though the outer transaction commits. Real PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from rustok_core.db import Database, after_commit


class Abort(Exception):
    pass


@pytest.fixture(scope="module")
async def db(rustok_database_url: str) -> AsyncIterator[Database]:
    database = Database(rustok_database_url, pool_size=2)
    yield database
    await database.dispose()


class Log:
    def __init__(self) -> None:
        self.entries: list[str] = []

    def on(self, session: object, name: str) -> None:
        after_commit(
            session,  # type: ignore[arg-type]
            lambda: self.entries.append(f"commit:{name}"),
            on_rollback=lambda: self.entries.append(f"rollback:{name}"),
        )


async def test_callbacks_run_after_commit_not_before(db: Database) -> None:
    log = Log()
    async with db.system_session() as session, session.begin():
        await session.execute(text("select 1"))
        log.on(session, "a")
        assert log.entries == []
    assert log.entries == ["commit:a"]


async def test_a_rollback_runs_on_rollback_instead(db: Database) -> None:
    log = Log()
    with contextlib.suppress(Abort):
        async with db.system_session() as session, session.begin():
            await session.execute(text("select 1"))
            log.on(session, "a")
            raise Abort
    assert log.entries == ["rollback:a"]


async def test_a_rolled_back_savepoint_drops_only_its_own_callbacks(db: Database) -> None:
    log = Log()
    async with db.system_session() as session, session.begin():
        log.on(session, "outer-before")
        with contextlib.suppress(Abort):
            async with session.begin_nested():
                log.on(session, "inner")
                async with session.begin_nested():
                    log.on(session, "innermost")
                raise Abort
        assert log.entries == ["rollback:inner", "rollback:innermost"]
        log.on(session, "outer-after")
    assert log.entries == ["rollback:inner", "rollback:innermost", "commit:outer-before", "commit:outer-after"]


async def test_a_released_savepoint_keeps_its_callbacks_until_the_outer_outcome(db: Database) -> None:
    log = Log()
    with contextlib.suppress(Abort):
        async with db.system_session() as session, session.begin():
            async with session.begin_nested():
                log.on(session, "inner")
            assert log.entries == []
            raise Abort
    assert log.entries == ["rollback:inner"]


async def test_callbacks_registered_before_the_transaction_begins_belong_to_it(db: Database) -> None:
    log = Log()
    async with db.system_session() as session:
        log.on(session, "early")
        async with session.begin():
            with contextlib.suppress(Abort):
                async with session.begin_nested():
                    raise Abort
    assert log.entries == ["commit:early"]


async def test_transaction_joins_the_callers_session_or_commits_its_own(db: Database) -> None:
    import uuid

    tenant_id = uuid.uuid4()
    own_outcomes: list[str] = []
    async with db.transaction(tenant_id) as own:
        after_commit(own, lambda: own_outcomes.append("committed"))
    assert own_outcomes == ["committed"]  # opened alone: committed when the block ends

    joined_outcomes: list[str] = []
    async with db.session(tenant_id) as outer, outer.begin():
        async with db.transaction(tenant_id, outer) as joined:
            assert joined is outer
            after_commit(joined, lambda: joined_outcomes.append("committed"))
        assert joined_outcomes == []  # joined: nothing commits until the caller's transaction does
    assert joined_outcomes == ["committed"]
