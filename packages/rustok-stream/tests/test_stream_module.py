"""The module's contract: inert unless the transport is 'stream', its names, health and CLI."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import nats
import pytest
from click.testing import CliRunner
from nats.js.errors import NotFoundError
from sqlalchemy import text

from rustok_core.events import EventEnvelope, EventPublisher
from rustok_core.settings import EventSettings
from rustok_outbox.relay import RelayTarget
from rustok_server.app import create_app
from rustok_server.cli import cli
from rustok_stream.connection import describe_url, ensure_stream, stream_config
from rustok_stream.consumers import durable_name, ensure_consumer
from rustok_stream.module import module as stream_module
from rustok_stream.module import stream_runtime
from rustok_stream.target import message_id, parse_message_id, subject_for
from rustok_testing.client import RustokClient
from rustok_testing.samples import ThingHappened, ensure_recorder_table, recorder_plugins

TENANT = uuid.UUID("01a1fe46-b68a-9f77-a0f3-46b27947f9bc")


def _envelope(event_id: uuid.UUID) -> EventEnvelope:
    return EventEnvelope(
        id=event_id,
        event_type="recorder.thing.happened",
        schema_version=2,
        tenant_id=TENANT,
        occurred_at=datetime.now(UTC),
        payload={"n": 1},
    )


def test_names_subjects_and_message_ids() -> None:
    assert durable_name("recorder.first") == "rustok_recorder_first"
    assert durable_name("search index/v2 *") == "rustok_search_index_v2__"
    event_id = uuid.uuid4()
    stamp = datetime(2026, 11, 21, 12, 0, 0, 123456, tzinfo=UTC)
    assert message_id(event_id, stamp) == f"{event_id}:{int(stamp.timestamp()) * 1_000_000 + 123456}"
    assert parse_message_id(message_id(event_id, stamp)) == (event_id, stamp)
    assert parse_message_id(str(event_id)) == (event_id, None)
    assert parse_message_id("not-an-id:123") == (None, None)
    assert parse_message_id(None) == (None, None)
    assert describe_url("nats://user:secret@broker.internal:4333") == "broker.internal:4333"
    assert describe_url("nats://a:1,nats://b:2") == "a:1"
    envelope_subject = subject_for(EventSettings(subject_prefix="acme"), _envelope(event_id))
    assert envelope_subject == f"acme.{TENANT}.recorder.thing.happened"
    settings = EventSettings(subject_prefix="acme", stream_name="EVENTS", duplicate_window=30)
    config = stream_config(settings)
    assert (config.name, config.subjects, config.duplicate_window) == ("EVENTS", ["acme.>"], 30)
    assert str(config.storage) in ("file", "StorageType.FILE")


async def test_another_transport_leaves_the_module_inert(boot_platform: Any, make_tenant: Any) -> None:
    platform = boot_platform(plugins=[*recorder_plugins(), stream_module], **{"rustok.events.transport": "outbox"})
    assert stream_runtime(platform.ctx) is None
    assert platform.ctx.services.find(RelayTarget) is None
    await ensure_recorder_table(platform.ctx.db)
    tenant = await make_tenant()
    app = create_app(platform)
    before = {task.get_name() for task in asyncio.all_tasks()}
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        started = {task.get_name() for task in asyncio.all_tasks()} - before
        assert not any(name.startswith("rustok-stream") for name in started), started
        body = (await client.get("/health/modules")).json()
        (stream,) = [m for m in body["modules"] if m["slug"] == "stream"]
        assert stream["checks"] == [] and stream["status"] == "ok"
        # Events still flow, through the outbox transport.
        publisher = platform.ctx.services.get(EventPublisher)
        async with platform.ctx.db.session(tenant.id) as session, session.begin():
            envelope = await publisher.publish(session, ThingHappened(n=1), tenant_id=tenant.id)
        for _ in range(200):
            async with platform.ctx.db.engine.connect() as conn:
                query = text("SELECT count(*) FROM recorder_effects WHERE event_id = :id")
                count = (await conn.execute(query, {"id": envelope.id})).scalar()
            if count == 2:
                break
            await asyncio.sleep(0.05)
        assert count == 2


async def test_health_is_ok_when_this_process_does_not_relay(offline_streamtest: Any) -> None:
    platform = offline_streamtest.boot(url="nats://127.0.0.1:4222", **{"rustok.events.relay": False})
    runtime = stream_runtime(platform.ctx)
    assert runtime is not None and platform.ctx.services.get(RelayTarget) is runtime.target
    check = stream_module.rustok_health(platform.ctx)
    assert check is not None and check.name == "stream" and str(check.status) == "ok" and not check.critical
    assert "does not relay" in check.detail


def test_the_cli_hook_adds_a_stream_group_under_events() -> None:
    from rustok_outbox.module import module as events_module

    root = click.Group("rustok")
    events_module.rustok_cli(root)
    stream_module.rustok_cli(root)
    events = root.commands["events"]
    assert isinstance(events, click.Group)
    stream = events.commands["stream"]
    assert isinstance(stream, click.Group)
    assert set(stream.commands) == {"info", "replay"}


# -- the command line, end to end ---------------------------------------------------------


@pytest.fixture
def cli_env(
    nats_url: str, rustok_database_url: str, tmp_path: Path, installed_manifest: None
) -> Iterator[dict[str, str]]:
    suffix = secrets.token_hex(4)
    stream, prefix = f"RUSTOK_CLI_{suffix.upper()}", f"rcli{suffix}"
    (tmp_path / "test.yaml").write_text("{}\n")
    env = {
        "DATABASE_URL": rustok_database_url,
        "RUSTOK_ENV": "test",
        "RUSTOK_CONFIG_DIR": str(tmp_path),
        "RUSTOK_EVENT_TRANSPORT": "stream",
        "NATS_URL": nats_url,
        "RUSTOK__RUSTOK__EVENTS__STREAM_NAME": stream,
        "RUSTOK__RUSTOK__EVENTS__SUBJECT_PREFIX": prefix,
    }
    settings = EventSettings(transport="stream", nats_url=nats_url, stream_name=stream, subject_prefix=prefix)

    async def prepare() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        await ensure_stream(js, settings)
        await ensure_consumer(js, settings, "recorder.first")
        for _ in range(3):
            await js.publish(f"{prefix}.{uuid.uuid4()}.recorder.thing.happened", b"{}")
        await nc.close()

    async def drop() -> None:
        nc = await nats.connect(nats_url)
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(stream)
        await nc.close()

    asyncio.run(prepare())
    try:
        yield env
    finally:
        asyncio.run(drop())


def test_cli_info_shows_the_stream_and_its_consumers(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["events", "stream", "info"], env=cli_env, catch_exceptions=True)
    assert result.exit_code == 0, (result.output, result.exception)
    assert cli_env["RUSTOK__RUSTOK__EVENTS__STREAM_NAME"] in result.output
    assert "messages   3" in result.output
    assert "sequence   1..3" in result.output
    line = next(line for line in result.output.splitlines() if line.startswith("rustok_recorder_first"))
    assert line.split()[1] == "3"  # pending

    as_json = CliRunner().invoke(cli, ["events", "stream", "info", "--json"], env=cli_env)
    assert as_json.exit_code == 0, as_json.output
    assert '"last_seq": 3' in as_json.output


def test_cli_replay_checks_its_arguments_and_the_handler(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    neither = runner.invoke(cli, ["events", "stream", "replay", "recorder.first"], env=cli_env)
    assert neither.exit_code == 2 and "exactly one of --from-seq" in neither.output
    both = runner.invoke(
        cli, ["events", "stream", "replay", "x", "--from-seq", "1", "--since", "2026-01-01T00:00:00"], env=cli_env
    )
    assert both.exit_code == 2
    bad_time = runner.invoke(cli, ["events", "stream", "replay", "x", "--since", "yesterday"], env=cli_env)
    assert bad_time.exit_code == 2 and "ISO 8601" in bad_time.output
    unknown = runner.invoke(cli, ["events", "stream", "replay", "nobody.here", "--from-seq", "1"], env=cli_env)
    assert unknown.exit_code != 0
    assert "no event handler named 'nobody.here'" in str(unknown.exception)
