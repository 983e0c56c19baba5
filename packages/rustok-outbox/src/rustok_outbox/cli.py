"""``rustok events ...``: statistics, the relay as a worker process, and DLQ operations."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import click

from rustok_core.cli import run_in_platform
from rustok_core.context import AppContext
from rustok_core.interfaces import TenantDirectory
from rustok_outbox.retention import prune
from rustok_outbox.runtime import runtime_of


def add_commands(cli: click.Group) -> None:
    cli.add_command(events)


async def _tenant_id(ctx: AppContext, key: str | None) -> uuid.UUID | None:
    if key is None:
        return None
    return (await ctx.services.get(TenantDirectory).get(key)).id


@click.group()
def events() -> None:
    """The event system: statistics, relay worker, dead-letter queue."""


@events.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(as_json: bool) -> None:
    """Backlog, age of the oldest pending event, DLQ size, transport and handlers."""

    async def work(ctx: AppContext) -> dict[str, Any]:
        runtime = runtime_of(ctx)
        runtime.collect_handlers()
        return await runtime.stats()

    result = run_in_platform(work)
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
        return
    for key, value in result.items():
        click.echo(f"{key:<24} {value}")


@events.command("relay")
def relay() -> None:
    """Run the relay (and pruning) in this process until interrupted."""

    async def work(ctx: AppContext) -> None:
        runtime = runtime_of(ctx)
        click.echo(f"relaying ({runtime.transport}) as {runtime.relay.name if runtime.relay else '-'}", err=True)
        await asyncio.Event().wait()

    try:
        run_in_platform(work, start=True)
    except KeyboardInterrupt:
        click.echo("relay stopped", err=True)


@events.command("prune")
def prune_command() -> None:
    """Delete dispatched events past retention now."""
    events_deleted, receipts = run_in_platform(prune)
    click.echo(f"pruned {events_deleted} events and {receipts} receipts")


@events.group()
def dlq() -> None:
    """The dead-letter queue."""


@dlq.command("list")
@click.option("--tenant", help="Only this tenant (slug or id).")
@click.option("--limit", default=50, show_default=True)
def dlq_list(tenant: str | None, limit: int) -> None:
    async def work(ctx: AppContext) -> list[Any]:
        return list(await runtime_of(ctx).dead_letters.page(tenant_id=await _tenant_id(ctx, tenant), limit=limit))

    rows = run_in_platform(work)
    if not rows:
        click.echo("the DLQ is empty")
    for dead in rows:
        handlers = ",".join(dead.failed_handlers) or "-"
        click.echo(f"{dead.id}  {dead.event_type:<32} attempts={dead.attempts} handlers={handlers}  {dead.last_error}")


@dlq.command("show")
@click.argument("event_id", type=click.UUID)
def dlq_show(event_id: uuid.UUID) -> None:
    async def work(ctx: AppContext) -> Any:
        return await runtime_of(ctx).dead_letters.get(event_id)

    dead = run_in_platform(work)
    click.echo(json.dumps(vars(dead), indent=2, default=str))


@dlq.command("replay")
@click.argument("event_id", type=click.UUID, required=False)
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead-lettered event.")
@click.option("--tenant", help="With --all: only this tenant.")
def dlq_replay(event_id: uuid.UUID | None, replay_all: bool, tenant: str | None) -> None:
    if (event_id is None) == (not replay_all):
        raise click.UsageError("give an EVENT_ID or --all")

    async def work(ctx: AppContext) -> int:
        letters = runtime_of(ctx).dead_letters
        if replay_all:
            return await letters.replay_all(tenant_id=await _tenant_id(ctx, tenant))
        assert event_id is not None
        await letters.replay(event_id)
        return 1

    click.echo(f"replayed {run_in_platform(work)} event(s)")


@dlq.command("discard")
@click.argument("event_id", type=click.UUID)
def dlq_discard(event_id: uuid.UUID) -> None:
    async def work(ctx: AppContext) -> None:
        await runtime_of(ctx).dead_letters.discard(event_id)

    run_in_platform(work)
    click.echo(f"discarded {event_id}")
