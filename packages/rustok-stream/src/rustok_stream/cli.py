"""``rustok events stream ...``: the stream's state, and replay to one handler."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from rustok_core.cli import run_in_platform
from rustok_core.context import AppContext
from rustok_stream.connection import StreamConnection


def add_commands(cli: click.Group) -> None:
    """Add ``stream`` under the ``events`` group (created by the events module, which runs first)."""
    events = cli.commands.get("events")
    if isinstance(events, click.Group):
        events.add_command(stream)


def _require_stream(ctx: AppContext) -> None:
    transport = ctx.settings.rustok.events.transport
    if transport != "stream":
        raise click.ClickException(f"the events transport is '{transport}'; the stream is used with 'stream' only")


@click.group()
def stream() -> None:
    """The NATS JetStream stream of the events (transport 'stream')."""


@stream.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(as_json: bool) -> None:
    """Messages, first and last sequence, and every consumer's progress."""

    async def work(ctx: AppContext) -> dict[str, Any]:
        _require_stream(ctx)
        settings = ctx.settings.rustok.events
        connection = StreamConnection(settings, name="rustok-cli")
        try:
            js = await connection.jetstream(wait=10.0)
            stream_info = await js.stream_info(settings.stream_name)
            consumers = await js.consumers_info(settings.stream_name)
        finally:
            await connection.close()
        state = stream_info.state
        return {
            "stream": settings.stream_name,
            "server": connection.url,
            "subjects": stream_info.config.subjects,
            "messages": state.messages,
            "bytes": state.bytes,
            "first_seq": state.first_seq,
            "last_seq": state.last_seq,
            "consumers": [
                {
                    "name": consumer.name,
                    "pending": consumer.num_pending,
                    "ack_pending": consumer.num_ack_pending,
                    "redelivered": consumer.num_redelivered,
                    "ack_floor": consumer.ack_floor.stream_seq if consumer.ack_floor else None,
                    "delivered": consumer.delivered.stream_seq if consumer.delivered else None,
                }
                for consumer in sorted(consumers, key=lambda c: c.name)
            ],
        }

    result = run_in_platform(work)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"stream     {result['stream']} on {result['server']} ({', '.join(result['subjects'] or [])})")
    click.echo(f"messages   {result['messages']} ({result['bytes']} bytes)")
    click.echo(f"sequence   {result['first_seq']}..{result['last_seq']}")
    if not result["consumers"]:
        click.echo("consumers  none")
        return
    rows: list[tuple[str, ...]] = [("consumer", "pending", "ack pending", "redelivered", "ack floor", "delivered")]
    for c in result["consumers"]:
        rows.append(
            tuple(
                str(v)
                for v in (c["name"], c["pending"], c["ack_pending"], c["redelivered"], c["ack_floor"], c["delivered"])
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _parse_since(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO 8601 time", param_hint="--since") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@stream.command("replay")
@click.argument("handler")
@click.option("--from-seq", "from_seq", type=click.IntRange(min=1), help="First stream sequence to replay.")
@click.option("--since", help="Replay what was stored since this ISO 8601 time (UTC unless it says otherwise).")
def replay_command(handler: str, from_seq: int | None, since: str | None) -> None:
    """Deliver stored events to HANDLER again; events it applied already are skipped (receipts)."""
    if (from_seq is None) == (since is None):
        raise click.UsageError("give exactly one of --from-seq N or --since ISO-TIME")
    start = _parse_since(since) if since is not None else None

    async def work(ctx: AppContext) -> Any:
        from rustok_stream.replay import replay_report

        _require_stream(ctx)
        return await replay_report(ctx, handler, from_sequence=from_seq, since=start)

    report = run_in_platform(work, start=False)
    span = f"seq {report.first_seq}..{report.last_seq}" if report.scanned else "nothing stored there"
    click.echo(
        f"replayed {report.scanned} message(s) ({span}) to {report.handler}: "
        f"{report.delivered} applied, {report.skipped} skipped, {len(report.failed)} failed"
    )
    for key, error in sorted(report.failed.items()):
        click.echo(f"  failed {key}: {error}", err=True)
    if report.failed:
        raise SystemExit(1)
