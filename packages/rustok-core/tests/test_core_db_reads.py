"""The read pool (``Database.reads``): autocommit connections whose values come back the same
whatever the server's settings — JSON decoded, timestamps in UTC. Real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from psycopg.conninfo import make_conninfo

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
        make_conninfo(driver_conninfo(rustok_database_url), options="-c TimeZone=Asia/Tokyo"), max_size=2
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
