"""``rustok commerce ...``: operations on the commerce tables (orders partitioning).

``rustok commerce partition-orders`` converts ``commerce_orders`` into quarterly range
partitions (once; later runs report that it is done); ``rustok commerce
add-order-partitions --ahead 12`` keeps partitions ahead of time (run it from cron).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import click

from rustok_commerce.services.partitioning import (
    PartitionReport,
    add_partitions,
    partition_orders,
    partitions,
)
from rustok_core.cli import run_in_platform
from rustok_core.context import AppContext
from rustok_core.errors import RustokError


def add_commands(cli: click.Group) -> None:
    cli.add_command(commerce)


@click.group()
def commerce() -> None:
    """Commerce operations (orders partitioning)."""


def _report(work: Callable[[AppContext], Awaitable[PartitionReport]]) -> None:
    try:
        report = run_in_platform(work)
    except RustokError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(report.summary())


@commerce.command("partition-orders")
@click.option(
    "--quarters-ahead",
    type=click.IntRange(0, 40),
    default=1,
    show_default=True,
    help="Quarters after the current one to create partitions for.",
)
def partition_orders_command(quarters_ahead: int) -> None:
    """Convert commerce_orders into range partitions by created_at (quarterly, plus a default)."""

    async def work(ctx: AppContext) -> PartitionReport:
        return await partition_orders(ctx, quarters_ahead=quarters_ahead)

    _report(work)


@commerce.command("add-order-partitions")
@click.option(
    "--ahead",
    type=click.IntRange(0, 120),
    help="Months from today to cover (rounded up to whole quarters). Default 12 unless --until is given.",
)
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Cover every quarter up to this date.")
def add_order_partitions_command(ahead: int | None, until: datetime | None) -> None:
    """Create the missing quarterly partitions ahead of time, moving rows out of the default partition."""
    if ahead is not None and until is not None:
        raise click.UsageError("give --ahead or --until, not both")

    async def work(ctx: AppContext) -> PartitionReport:
        if until is not None:
            return await add_partitions(ctx, until=until.date())
        return await add_partitions(ctx, months_ahead=12 if ahead is None else ahead)

    _report(work)


@commerce.command("order-partitions")
def order_partitions_command() -> None:
    """List the partitions of commerce_orders with their ranges."""

    async def work(ctx: AppContext) -> list[str]:
        return [
            f"{p.name}  DEFAULT" if p.is_default else f"{p.name}  {p.lower:%Y-%m-%d} .. {p.upper:%Y-%m-%d}"
            for p in await partitions(ctx)
        ]

    lines = run_in_platform(work)
    click.echo("\n".join(lines) if lines else "commerce_orders is not partitioned")
