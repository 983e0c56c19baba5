"""Opt-in partitioning of commerce_orders by created_at: data, keys and indexes survive; rows land right.

This module gets a database of its own (module-scoped fixtures), so converting the
table here leaves every other test module's schema as the migrations made it.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from rustok_commerce.models import Order, OrderItem, OrderStatusChange, Payment
from rustok_commerce.services.partitioning import (
    DEFAULT_PARTITION,
    add_partitions,
    partition_orders,
    partitions,
    quarter_name,
    quarter_start,
)
from rustok_core.errors import Conflict
from rustok_core.ids import generate_id
from rustok_core.registry import ModuleRegistry
from rustok_server.boot import Platform
from rustok_server.cli import cli
from rustok_server.manifest import ManifestEntry, ManifestMismatch, check_manifest, expected_modules
from rustok_testing.plugin import TEST_JWT_SECRET

sys.path.insert(0, str(Path(__file__).parent))
from orders_fixtures import Store

NOW = datetime.now(UTC)


async def catalog(conn: Any, sql: str, **params: Any) -> list[Any]:
    return list((await conn.execute(text(sql), params)).all())


async def order_at(store: Store, created_at: datetime, *, display_id: int) -> uuid.UUID:
    """An order placed at ``created_at`` with an item, a history row and a payment (written directly)."""
    async with store.db.session(store.tenant.id) as s, s.begin():
        order = Order(
            id=generate_id(), created_at=created_at, display_id=display_id, currency_code="EUR", subtotal=500, total=500
        )
        s.add(order)
        await s.flush()
        s.add(OrderItem(order_id=order.id, order_created_at=created_at, title="Old thing", quantity=1, unit_price=500))
        s.add(OrderStatusChange(order_id=order.id, order_created_at=created_at, from_status=None, to_status="pending"))
        s.add(
            Payment(
                order_id=order.id,
                order_created_at=created_at,
                provider="manual",
                status="authorized",
                currency_code="EUR",
                amount=500,
            )
        )
        return order.id


async def partition_of(store: Store, order_id: uuid.UUID) -> str:
    async with store.db.engine.connect() as conn:
        rows = await catalog(conn, "SELECT tableoid::regclass::text FROM commerce_orders WHERE id = :id", id=order_id)
    assert len(rows) == 1
    return str(rows[0][0])


async def referencing_keys(store: Store) -> set[tuple[str, str]]:
    async with store.db.engine.connect() as conn:
        rows = await catalog(
            conn,
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = 'commerce_orders'::regclass AND conparentid = 0",
        )
    return {(str(r[0]), str(r[1])) for r in rows}


async def orders_table(store: Store) -> dict[str, Any]:
    """What must survive a conversion: the table's indexes, constraints and kind."""
    async with store.db.engine.connect() as conn:
        kind = (await catalog(conn, "SELECT relkind FROM pg_class WHERE oid = 'commerce_orders'::regclass"))[0][0]
        indexes = await catalog(
            conn,
            "SELECT indexrelid::regclass::text, regexp_replace(pg_get_indexdef(indexrelid), ' ON (ONLY )?', ' ON ') "
            "FROM pg_index WHERE indrelid = 'commerce_orders'::regclass",
        )
        constraints = await catalog(
            conn,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'commerce_orders'::regclass AND conparentid = 0",
        )
    return {"kind": kind, "indexes": set(indexes), "constraints": set(constraints)}


@pytest.fixture
async def store(rustok_platform: Platform, make_tenant: Any) -> Store:
    return await Store.open(rustok_platform, await make_tenant())


@pytest.fixture
def installed_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the CLI boot with every installed module (the generated manifest may list fewer)."""
    registry = ModuleRegistry.from_entry_points()
    try:
        check_manifest(registry, expected_modules())
    except ManifestMismatch:
        installed = tuple(
            ManifestEntry(m.slug, m.distribution or m.slug, m.info.is_core, tuple(m.info.dependencies))
            for m in registry
        )
        monkeypatch.setattr("rustok_server.boot.expected_modules", lambda: installed)


async def run_cli(database_url: str, config_dir: Path, *args: str) -> Result:
    (config_dir / "test.yaml").write_text("{}\n")
    env = {
        "DATABASE_URL": database_url,
        "RUSTOK_ENV": "test",
        "RUSTOK_CONFIG_DIR": str(config_dir),
        "RUSTOK__AUTH__JWT_SECRET": TEST_JWT_SECRET,
        "RUSTOK__RUSTOK__EVENTS__RELAY": "false",
    }
    # The CLI runs its own event loop (asyncio.run): give it a thread.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env, catch_exceptions=True)


async def test_converting_keeps_every_order_readable_and_every_key_enforced(
    store: Store, rustok_database_url: str, tmp_path: Path, installed_manifest: None
) -> None:
    before_quarter = quarter_start(NOW - timedelta(days=400))
    old = await order_at(store, NOW - timedelta(days=400), display_id=1)
    recent = await order_at(store, NOW - timedelta(days=1), display_id=2)
    variant, item = await store.variant("Partitioned", price=1000, stock={"main": 5})
    placed = await store.checkout(await store.cart([(variant, 1)]))
    shape = await orders_table(store)
    keys = await referencing_keys(store)
    assert shape["kind"] == "r" and len(keys) == 6

    result = await run_cli(rustok_database_url, tmp_path, "commerce", "partition-orders")

    assert result.exit_code == 0, result.output
    assert "converted commerce_orders" in result.output and "3 row(s) copied" in result.output
    after = await orders_table(store)
    assert after["kind"] == "p"
    assert after["constraints"] == shape["constraints"]
    assert after["indexes"] == shape["indexes"]
    assert await referencing_keys(store) == keys
    found = await partitions(store.ctx)
    assert found[0].name == quarter_name(before_quarter) and found[-1].name == DEFAULT_PARTITION
    assert quarter_name(quarter_start(NOW)) in [p.name for p in found]

    # Every order is still there, with its rows, in the partition of its quarter.
    assert await partition_of(store, old) == quarter_name(before_quarter)
    assert await partition_of(store, recent) == quarter_name(quarter_start(NOW - timedelta(days=1)))
    for order_id in (old, recent, placed.id):
        assert (await store.orders.get(store.tenant.id, order_id)).id == order_id
    items = await store.orders.items_of(store.tenant.id, [old, recent, placed.id])
    assert [len(items[o]) for o in (old, recent, placed.id)] == [1, 1, 1]
    assert len((await store.orders.payments_of(store.tenant.id, [placed.id]))[placed.id]) == 1

    # Foreign keys still hold: no item without its order, deleting an order cascades.
    async with store.db.session(store.tenant.id) as s:
        with pytest.raises(IntegrityError) as missing:
            async with s.begin():
                s.add(OrderItem(order_id=generate_id(), order_created_at=NOW, title="Orphan", quantity=1))
        diag = missing.value.orig.diag  # type: ignore[union-attr]
        assert missing.value.orig.sqlstate == "23503"  # type: ignore[union-attr]
        assert diag.constraint_name.startswith("fk_commerce_order_items_order_id")
    async with store.db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM commerce_orders WHERE id = :id"), {"id": recent})
    assert (await store.orders.items_of(store.tenant.id, [recent]))[recent] == []

    # The state machine and new checkouts work on the partitioned table.
    moved = await store.orders.transition(store.tenant, placed.id, "cancelled", expected_version=1, actor_id=None)
    assert moved.status == "cancelled" and await store.stock(item) == (5, 0)
    fresh = await store.checkout(await store.cart([(variant, 2)]))
    assert await partition_of(store, fresh.id) == quarter_name(quarter_start(fresh.created_at))
    assert await store.stock(item) == (5, 2)

    # Running it again changes nothing and says so.
    again = await run_cli(rustok_database_url, tmp_path, "commerce", "partition-orders")
    assert again.exit_code == 0, again.output
    assert "already partitioned; nothing changed" in again.output
    assert await partitions(store.ctx) == found
    assert (await partition_orders(store.ctx)).action == "already_partitioned"

    listed = await run_cli(rustok_database_url, tmp_path, "commerce", "order-partitions")
    assert listed.exit_code == 0 and DEFAULT_PARTITION in listed.output


async def test_adding_partitions_moves_rows_out_of_the_default_partition(
    store: Store, rustok_database_url: str, tmp_path: Path, installed_manifest: None
) -> None:
    # The table was converted by the test above (same database) or is converted here.
    await partition_orders(store.ctx)
    far = quarter_start(NOW + timedelta(days=800)) + timedelta(days=10)
    stranded = await order_at(store, far, display_id=9001)
    assert await partition_of(store, stranded) == DEFAULT_PARTITION

    result = await run_cli(
        rustok_database_url, tmp_path, "commerce", "add-order-partitions", "--until", f"{far:%Y-%m-%d}"
    )

    assert result.exit_code == 0, result.output
    assert "1 row(s) moved out of the default partition" in result.output
    assert await partition_of(store, stranded) == quarter_name(quarter_start(far))
    names = [p.name for p in await partitions(store.ctx)]
    assert quarter_name(quarter_start(far)) in names and names[-1] == DEFAULT_PARTITION
    # The order's rows followed it; its keys are enforced again.
    assert len((await store.orders.items_of(store.tenant.id, [stranded]))[stranded]) == 1
    assert len(await referencing_keys(store)) == 6
    async with store.db.session(store.tenant.id) as s:
        with pytest.raises(IntegrityError):
            async with s.begin():
                s.add(OrderStatusChange(order_id=generate_id(), order_created_at=far, to_status="pending"))

    # Everything asked for exists now: nothing to do.
    again = await add_partitions(store.ctx, until=far.date())
    assert again.action == "up_to_date"
    # Without stranded rows, new quarters are simply created.
    later = await add_partitions(store.ctx, until=(far + timedelta(days=100)).date())
    assert later.action == "added" and later.rows == 0 and len(later.created) == 1


async def test_adding_partitions_to_an_unpartitioned_table_is_refused(
    boot_platform: Any, rustok_pg_url: str, rustok_template: str
) -> None:
    from rustok_testing import postgres

    name = postgres.create_database(rustok_pg_url, template=rustok_template)
    platform = None
    try:
        platform = boot_platform(database_url=postgres.with_database(rustok_pg_url, name))
        with pytest.raises(Conflict) as refused:
            await add_partitions(platform.ctx, months_ahead=3)
        assert refused.value.details["reason"] == "NOT_PARTITIONED"
    finally:
        if platform is not None:
            await platform.ctx.db.dispose()
        postgres.drop_database(rustok_pg_url, name)
