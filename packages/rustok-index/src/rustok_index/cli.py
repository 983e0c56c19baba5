"""``rustok index ...``: rebuild the read model, show its status."""

from __future__ import annotations

import sys
from typing import Any

import click

from rustok_core.cli import run_in_platform
from rustok_core.context import AppContext, TenantContext
from rustok_core.index import ENTITY_TYPES
from rustok_core.interfaces import TenantDirectory
from rustok_index.runtime import runtime_of
from rustok_index.services.rebuild import DEFAULT_BATCH, RebuildSummary


def add_commands(cli: click.Group) -> None:
    cli.add_command(index)


@click.group()
def index() -> None:
    """The read model: rebuild and status."""


async def _tenants(ctx: AppContext, key: str | None) -> list[TenantContext]:
    directory = ctx.services.get(TenantDirectory)
    if key is not None:
        return [await directory.get(key)]
    return list(await directory.list_all())


@index.command("rebuild")
@click.option("--tenant", "tenant_key", help="Only this tenant (slug or id); default: every tenant.")
@click.option("--type", "entity_type", type=click.Choice(ENTITY_TYPES), help="Only this entity type.")
@click.option("--batch-size", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(1, 10_000))
def rebuild(tenant_key: str | None, entity_type: str | None, batch_size: int) -> None:
    """Rebuild documents from the owning modules' data, in batches, with progress."""
    types = (entity_type,) if entity_type else ENTITY_TYPES

    async def work(ctx: AppContext) -> RebuildSummary:
        runtime = runtime_of(ctx)
        tenants = await _tenants(ctx, tenant_key)
        total = 0
        for tenant in tenants:
            for each in types:
                total += await runtime.rebuilder.count(tenant.id, each)
        with click.progressbar(length=total, label="rebuilding", file=sys.stderr) as bar:
            summary = await runtime.rebuilder.rebuild(tenants, types, batch_size=batch_size, progress=bar.update)
        if runtime.invalidation is not None:
            await runtime.invalidation.flush()  # servers drop the rebuilt tenants' cached answers
            if ctx.settings.cache.redis_url is None:
                click.echo(
                    "note: without cache.redis_url (REDIS_URL) running servers do not hear of this rebuild; "
                    "they serve cached storefront answers until graphql.response_cache_ttl passes or they restart",
                    err=True,
                )
        return summary

    click.echo(run_in_platform(work).line())


@index.command("status")
@click.option("--tenant", "tenant_key", help="Only this tenant (slug or id); default: the whole platform.")
def status(tenant_key: str | None) -> None:
    """Documents, last write, pending events and lag per entity type."""

    async def work(ctx: AppContext) -> list[Any]:
        tenant_id = (await ctx.services.get(TenantDirectory).get(tenant_key)).id if tenant_key else None
        return list(await runtime_of(ctx).status.status(tenant_id))

    for entry in run_in_platform(work):
        indexed = entry.last_indexed_at.isoformat() if entry.last_indexed_at else "-"
        click.echo(
            f"{entry.entity_type:<8} documents={entry.documents} last_indexed_at={indexed} "
            f"pending_events={entry.pending_events} lag_seconds={entry.lag_seconds:.1f}"
        )
