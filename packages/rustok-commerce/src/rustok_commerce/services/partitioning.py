"""Opt-in range partitioning of ``commerce_orders`` by ``created_at`` (one partition per quarter).

The migrations create ``commerce_orders`` as a plain table keyed ``(id, created_at)``;
every table that belongs to an order refers to both columns. A shop that grows can
turn it into a partitioned table with :func:`partition_orders` (``rustok commerce
partition-orders``), then keep partitions ahead of time with :func:`add_partitions`
(``rustok commerce add-order-partitions --ahead 12``, e.g. from cron).

Converting happens in one transaction holding ``ACCESS EXCLUSIVE`` locks on the orders
table and the six tables that refer to it (``lock_timeout`` bounds the wait), so either
everything is converted or nothing changed:

1. the definitions of the table's constraints and indexes and of the foreign keys
   pointing at it are read from the catalog;
2. those foreign keys are dropped, the old table renamed aside (its indexes dropped,
   freeing their names);
3. a new ``commerce_orders ... PARTITION BY RANGE (created_at)`` is created like the
   old one, with the same primary key, checks, foreign keys and indexes (same names);
4. quarterly partitions cover every existing row, the current quarter and the
   ``quarters_ahead`` next ones, plus ``commerce_orders_default`` for anything else;
5. the rows are copied, the foreign keys re-created (and so re-validated), the old
   table dropped.

Running it on a partitioned table changes nothing and says so.

:func:`add_partitions` creates the missing quarters up to a date. PostgreSQL refuses to
create a partition whose range has rows in the default partition, and rows cannot be
deleted from a partition while foreign keys cascade from it, so when the default holds
such rows the foreign keys are dropped, the default detached, the new partitions
created, the rows moved (inserted through the parent, deleted from the detached
default), the default re-attached and the foreign keys re-created — again in one
transaction.

Requires PostgreSQL 12 or later (foreign keys referencing a partitioned table).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rustok_core.context import AppContext
from rustok_core.errors import Conflict, Validation

TABLE = "commerce_orders"
DEFAULT_PARTITION = f"{TABLE}_default"
OLD_TABLE = f"{TABLE}_unpartitioned"
LOCK_TIMEOUT = "10s"
_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


@dataclass(frozen=True)
class Partition:
    name: str
    lower: datetime | None
    """Inclusive; ``None`` for the default partition."""
    upper: datetime | None
    """Exclusive; ``None`` for the default partition."""

    @property
    def is_default(self) -> bool:
        return self.lower is None


@dataclass(frozen=True)
class PartitionReport:
    """What an operation did."""

    action: str
    """``converted``, ``already_partitioned``, ``added`` or ``up_to_date``."""
    created: list[str] = field(default_factory=list)
    """Partitions created, in order."""
    rows: int = 0
    """Rows copied into the partitioned table (convert) or moved out of the default (add)."""

    def summary(self) -> str:
        if self.action == "already_partitioned":
            return f"{TABLE} is already partitioned; nothing changed"
        if self.action == "up_to_date":
            return "every partition asked for exists; nothing changed"
        verb = "converted" if self.action == "converted" else "added partitions to"
        created = ", ".join(self.created) or "none"
        moved = "copied" if self.action == "converted" else "moved out of the default partition"
        return f"{verb} {TABLE}: created {created}; {self.rows} row(s) {moved}"


# -- quarters ----------------------------------------------------------------------------------


def quarter_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, 3 * ((moment.month - 1) // 3) + 1, 1, tzinfo=UTC)


def next_quarter(start: datetime) -> datetime:
    month = start.month + 3
    return datetime(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


def quarter_name(start: datetime) -> str:
    return f"{TABLE}_{start.year}_q{(start.month - 1) // 3 + 1}"


def quarters(first: datetime, until: datetime) -> list[datetime]:
    """Starts of the quarters from the one holding ``first`` to the one holding ``until``."""
    found = []
    current = quarter_start(first)
    while current <= until:
        found.append(current)
        current = next_quarter(current)
    return found


# -- the catalog -------------------------------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(moment: datetime) -> str:
    return "'" + moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00") + "'"


async def _relkind(conn: AsyncConnection) -> str | None:
    kind = await conn.scalar(text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": TABLE})
    return str(kind) if kind is not None else None


async def _referencing_keys(conn: AsyncConnection) -> list[tuple[str, str, str]]:
    """``(table, constraint, definition)`` of every foreign key pointing at the orders table."""
    rows = await conn.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = to_regclass(:t) AND conparentid = 0 ORDER BY conrelid::regclass::text"
        ),
        {"t": TABLE},
    )
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows.all()]


async def _drop_keys(conn: AsyncConnection, keys: Sequence[tuple[str, str, str]]) -> None:
    for table, name, _ in keys:
        await conn.execute(text(f"ALTER TABLE {_ident(table)} DROP CONSTRAINT {_ident(name)}"))


async def _add_keys(conn: AsyncConnection, keys: Sequence[tuple[str, str, str]]) -> None:
    for table, name, definition in keys:
        await conn.execute(text(f"ALTER TABLE {_ident(table)} ADD CONSTRAINT {_ident(name)} {definition}"))


async def _lock(conn: AsyncConnection, tables: Sequence[str]) -> None:
    await conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    await conn.execute(text(f"LOCK TABLE {', '.join(_ident(t) for t in tables)} IN ACCESS EXCLUSIVE MODE"))


async def _columns(conn: AsyncConnection, table: str) -> list[str]:
    rows = await conn.execute(
        text(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum"
        ),
        {"t": table},
    )
    return [str(r[0]) for r in rows.all()]


async def partitions(ctx: AppContext) -> list[Partition]:
    """The partitions of ``commerce_orders`` by lower bound (the default last); empty when unpartitioned."""
    async with ctx.db.engine.connect() as conn:
        return await _partitions(conn)


async def _partitions(conn: AsyncConnection) -> list[Partition]:
    rows = await conn.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": TABLE},
    )
    found: list[Partition] = []
    for name, bound in rows.all():
        if bound == "DEFAULT":
            found.append(Partition(str(name), None, None))
            continue
        match = _BOUND.search(str(bound))
        if match is None:
            raise Conflict(
                f"partition {name} of {TABLE} has a bound this tool does not manage ({bound})",
                reason="UNMANAGED_PARTITION",
            )
        found.append(
            Partition(str(name), datetime.fromisoformat(match.group(1)), datetime.fromisoformat(match.group(2)))
        )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda p: (p.is_default, p.lower or far))


# -- convert -----------------------------------------------------------------------------------


async def partition_orders(ctx: AppContext, *, quarters_ahead: int = 1, now: datetime | None = None) -> PartitionReport:
    """Turn ``commerce_orders`` into quarterly range partitions (see the module docs); idempotent."""
    if quarters_ahead < 0 or quarters_ahead > 40:
        raise Validation("quarters_ahead must be between 0 and 40", field="quartersAhead")
    now = now or datetime.now(UTC)
    async with ctx.db.engine.begin() as conn:
        keys = await _referencing_keys(conn)
        await _lock(conn, [TABLE, *sorted({table for table, _, _ in keys})])
        if await _relkind(conn) == "p":
            return PartitionReport("already_partitioned")
        keys = await _referencing_keys(conn)  # as of the lock
        own = (
            await conn.execute(
                text(
                    "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = to_regclass(:t) ORDER BY contype <> 'p', conname"
                ),
                {"t": TABLE},
            )
        ).all()
        indexes = (
            await conn.execute(
                text(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "WHERE i.indrelid = to_regclass(:t) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                    "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) ORDER BY 1"
                ),
                {"t": TABLE},
            )
        ).all()
        for name, kind, definition in own:
            if kind in ("p", "u") and "created_at" not in definition:
                raise Conflict(
                    f"constraint {name} does not include created_at; a partitioned table cannot keep it",
                    reason="UNPARTITIONABLE",
                )
        bounds = (await conn.execute(text(f"SELECT min(created_at), max(created_at) FROM {TABLE}"))).one()
        first = bounds[0] or now
        last = max(bounds[1] or now, now)
        ranges = quarters(first, last)
        for _ in range(quarters_ahead):
            ranges.append(next_quarter(ranges[-1]))

        await _drop_keys(conn, keys)
        for name, _ in indexes:
            await conn.execute(text(f"DROP INDEX {_ident(str(name))}"))
        for name, kind, _ in own:
            if kind in ("p", "u", "x"):
                await conn.execute(text(f"ALTER TABLE {TABLE} DROP CONSTRAINT {_ident(str(name))}"))
        await conn.execute(text(f"ALTER TABLE {TABLE} RENAME TO {OLD_TABLE}"))
        await conn.execute(
            text(
                f"CREATE TABLE {TABLE} (LIKE {OLD_TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED "
                "INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE (created_at)"
            )
        )
        for name, kind, definition in own:
            if kind != "c":  # checks came with LIKE ... INCLUDING CONSTRAINTS, as they were
                await conn.execute(text(f"ALTER TABLE {TABLE} ADD CONSTRAINT {_ident(str(name))} {definition}"))
        for _, definition in indexes:
            await conn.execute(text(str(definition)))
        created = []
        for start in ranges:
            await _create_partition(conn, start)
            created.append(quarter_name(start))
        await conn.execute(text(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT"))
        created.append(DEFAULT_PARTITION)
        columns = ", ".join(_ident(c) for c in await _columns(conn, OLD_TABLE))
        copied = await conn.execute(text(f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {OLD_TABLE}"))
        await _add_keys(conn, keys)
        await conn.execute(text(f"DROP TABLE {OLD_TABLE}"))
        return PartitionReport("converted", created, copied.rowcount)


async def _create_partition(conn: AsyncConnection, start: datetime) -> None:
    await conn.execute(
        text(
            f"CREATE TABLE {quarter_name(start)} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(next_quarter(start))})"
        )
    )


# -- add partitions ----------------------------------------------------------------------------


def _months_later(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    return datetime(moment.year + index // 12, index % 12 + 1, 1, tzinfo=UTC)


async def add_partitions(
    ctx: AppContext,
    *,
    months_ahead: int | None = None,
    until: date | datetime | None = None,
    now: datetime | None = None,
) -> PartitionReport:
    """Create the quarterly partitions from the current quarter to ``until`` (or ``months_ahead`` from now).

    Quarters that overlap an existing partition are skipped. Rows of the default
    partition that fall into a new quarter are moved into it (see the module docs).
    """
    if (months_ahead is None) == (until is None):
        raise Validation("give either months_ahead or until", field="monthsAhead")
    now = now or datetime.now(UTC)
    if months_ahead is not None:
        if not 0 <= months_ahead <= 120:
            raise Validation("months_ahead must be between 0 and 120", field="monthsAhead")
        target = _months_later(now, months_ahead)
    else:
        assert until is not None
        target = until if isinstance(until, datetime) else datetime(until.year, until.month, until.day, tzinfo=UTC)
        if target.tzinfo is None:
            target = target.replace(tzinfo=UTC)
    async with ctx.db.engine.begin() as conn:
        await _lock(conn, [TABLE])
        if await _relkind(conn) != "p":
            raise Conflict(
                f"{TABLE} is not partitioned; run `rustok commerce partition-orders` first", reason="NOT_PARTITIONED"
            )
        existing = await _partitions(conn)
        ranged = [p for p in existing if not p.is_default]
        default = next((p for p in existing if p.is_default), None)
        wanted = [
            start
            for start in quarters(now, target)
            if not any(
                p.lower is not None and p.upper is not None and p.lower < next_quarter(start) and start < p.upper
                for p in ranged
            )
        ]
        if not wanted:
            return PartitionReport("up_to_date")
        conditions = " OR ".join(
            f"(created_at >= {_literal(s)} AND created_at < {_literal(next_quarter(s))})" for s in wanted
        )
        stranded = 0
        if default is not None:
            stranded = int(
                await conn.scalar(text(f"SELECT count(*) FROM {_ident(default.name)} WHERE {conditions}")) or 0
            )
        if not stranded:
            for start in wanted:
                await _create_partition(conn, start)
            return PartitionReport("added", [quarter_name(s) for s in wanted], 0)

        assert default is not None
        keys = await _referencing_keys(conn)
        await _lock(conn, sorted({table for table, _, _ in keys}))
        await _drop_keys(conn, keys)
        await conn.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {_ident(default.name)}"))
        for start in wanted:
            await _create_partition(conn, start)
        columns = ", ".join(_ident(c) for c in await _columns(conn, TABLE))
        moved = await conn.execute(
            text(f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {_ident(default.name)} WHERE {conditions}")
        )
        await conn.execute(text(f"DELETE FROM {_ident(default.name)} WHERE {conditions}"))
        await conn.execute(text(f"ALTER TABLE {TABLE} ATTACH PARTITION {_ident(default.name)} DEFAULT"))
        await _add_keys(conn, keys)
        return PartitionReport("added", [quarter_name(s) for s in wanted], moved.rowcount)


__all__ = [
    "DEFAULT_PARTITION",
    "Partition",
    "PartitionReport",
    "add_partitions",
    "partition_orders",
    "partitions",
    "quarter_name",
    "quarter_start",
]
