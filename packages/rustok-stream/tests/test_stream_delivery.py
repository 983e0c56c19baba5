"""Delivery through JetStream: once per handler, retries, DLQ and replay, invalid events, dedup.

Every test has a stream and subject prefix of its own on the machine's NATS.
"""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from rustok_core.events import EventEnvelope, EventPublisher
from rustok_core.ids import generate_id
from rustok_outbox.downstream import dead_letter, publication_stamps
from rustok_outbox.relay import TargetUnavailable
from rustok_outbox.runtime import runtime_of
from rustok_stream.connection import StreamConnection
from rustok_stream.consumers import HandlerConsumer, durable_name
from rustok_stream.module import module as stream_module
from rustok_stream.module import stream_runtime
from rustok_stream.target import MSG_ID_HEADER, JetStreamTarget, message_id, parse_message_id
from rustok_testing.samples import RecorderModule, ThingHappened, core_plugins, ensure_recorder_table, recorder_plugins

HANDLERS = ("recorder.first", "recorder.second")


async def test_a_committed_event_reaches_every_handler_once_through_the_stream(
    streamtest: Any, make_tenant: Any
) -> None:
    platform = streamtest.boot()
    tenant = await make_tenant()
    async with streamtest.serve(platform):
        (envelope,) = await streamtest.publish(platform, tenant.id, ThingHappened(n=7))
        rows = await streamtest.wait_effects(platform, [envelope.id], 2)
        assert sorted(row.handler for row in rows) == sorted(HANDLERS)
        assert all(row.attempts == 0 for row in rows)

        # The stored message: the tenant's subject, the envelope, and a message id made
        # of the event id and the outbox row's stamp.
        subject = f"{streamtest.prefix}.{tenant.id}.recorder.thing.happened"
        assert await streamtest.subjects(tenant.id) == {subject: 1}
        stored = await streamtest.js.get_msg(streamtest.stream, subject=subject)
        assert EventEnvelope.from_json(stored.data) == envelope
        (created_at,) = await streamtest.rows(
            platform, "SELECT created_at FROM sys_events WHERE id = :id", id=envelope.id
        )
        assert stored.headers[MSG_ID_HEADER] == message_id(envelope.id, created_at[0])
        assert parse_message_id(stored.headers[MSG_ID_HEADER]) == (envelope.id, created_at[0])

        # The relay marked it dispatched; each handler has its durable consumer, all settled.
        dispatched = await streamtest.rows(
            platform, "SELECT dispatched_at FROM sys_events WHERE id = :id", id=envelope.id
        )
        assert dispatched[0].dispatched_at is not None
        assert await streamtest.eventually_idle()
        names = {c.name for c in await streamtest.js.consumers_info(streamtest.stream)}
        assert names == {durable_name(name) for name in HANDLERS} == {"rustok_recorder_first", "rustok_recorder_second"}

        # Nothing more arrives later (no duplicate delivery).
        await asyncio.sleep(0.3)
        assert len(await streamtest.effects(platform, [envelope.id])) == 2


async def test_a_a_rolled_back_publish_never_reaches_the_stream(streamtest: Any, make_tenant: Any) -> None:
    platform = streamtest.boot()
    tenant = await make_tenant()
    async with streamtest.serve(platform):
        (lost,) = await streamtest.publish(platform, tenant.id, ThingHappened(n=1), rollback=True)
        (kept,) = await streamtest.publish(platform, tenant.id, ThingHappened(n=2))
        await streamtest.wait_effects(platform, [kept.id], 2)
        assert await streamtest.eventually_idle()
        assert await streamtest.effects(platform, [lost.id]) == []
        assert await streamtest.rows(platform, "SELECT id FROM sys_events WHERE id = :id", id=lost.id) == []
        subject = f"{streamtest.prefix}.{tenant.id}.recorder.thing.happened"
        assert await streamtest.subjects(tenant.id) == {subject: 1}
        stored = await streamtest.js.get_msg(streamtest.stream, subject=subject)
        assert EventEnvelope.from_json(stored.data).id == kept.id


async def test_a_events_waiting_in_the_outbox_at_startup_are_delivered(
    streamtest: Any, make_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The durables (deliver policy "new") are created when the connection becomes
    # ready, before the relay can publish: a backlog relayed in the first round is not
    # missed even when the consumer tasks get going late.
    run = HandlerConsumer.run

    async def late_run(self: HandlerConsumer) -> None:
        await asyncio.sleep(0.5)
        await run(self)

    monkeypatch.setattr(HandlerConsumer, "run", late_run)
    platform = streamtest.boot()
    tenant = await make_tenant()
    await ensure_recorder_table(platform.ctx.db)
    backlog = await streamtest.publish(platform, tenant.id, *(ThingHappened(n=i) for i in range(5)))
    async with streamtest.serve(platform):
        ids = [envelope.id for envelope in backlog]
        rows = await streamtest.wait_effects(platform, ids, 10)
        assert sorted((row.event_id, row.handler) for row in rows) == sorted(
            (event_id, handler) for event_id in ids for handler in HANDLERS
        )


async def test_b_a_failing_handler_is_redelivered_with_backoff_and_applies_once(
    streamtest: Any, make_tenant: Any
) -> None:
    platform = streamtest.boot()
    tenant = await make_tenant()
    async with streamtest.serve(platform):
        event = ThingHappened(n=3, fail_times=2, fail_handler="recorder.second")
        (envelope,) = await streamtest.publish(platform, tenant.id, event)
        rows = await streamtest.wait_effects(platform, [envelope.id], 2)
        by_handler = {row.handler: row for row in rows}
        # Only committed effects remain: the first handler's first delivery and the
        # second handler's third (attempts counts JetStream's earlier deliveries).
        assert by_handler["recorder.first"].attempts == 0
        assert by_handler["recorder.second"].attempts == 2
        # Two naks with the backoff (≈0.05 s, then ≈0.1 s, ±20 %) came before it.
        waited = by_handler["recorder.second"].recorded_at - by_handler["recorder.first"].recorded_at
        assert waited.total_seconds() >= 0.1
        assert await streamtest.eventually_idle()
        assert len(await streamtest.effects(platform, [envelope.id])) == 2
        assert await streamtest.dead_letter(platform, envelope.id) is None
        consumers = {c.name: c for c in await streamtest.js.consumers_info(streamtest.stream)}
        first, second = consumers["rustok_recorder_first"], consumers["rustok_recorder_second"]
        # A consumer's own sequence counts redeliveries too: the first never redelivered.
        assert first.delivered.consumer_seq == first.delivered.stream_seq
        assert second.delivered.consumer_seq >= second.delivered.stream_seq + 2


async def test_b_exhausted_retries_dead_letter_the_handler_and_a_replay_delivers_it(
    streamtest: Any, make_tenant: Any
) -> None:
    recorder = RecorderModule()
    platform = streamtest.boot([*core_plugins(), recorder, stream_module])
    tenant = await make_tenant()
    async with streamtest.serve(platform):
        event = ThingHappened(n=4, fail_times=3, fail_handler="recorder.second")
        (envelope,) = await streamtest.publish(platform, tenant.id, event)

        async def dead() -> Any:
            return await streamtest.dead_letter(platform, envelope.id)

        letter = await streamtest.eventually(dead)
        assert letter.failed_handlers == ["recorder.second"]
        assert letter.attempts == 3
        assert "recorder.second: RuntimeError: recorder.second fails on purpose (attempt 3)" in letter.last_error
        assert letter.payload == envelope.payload
        # Moved, not copied: the outbox row is gone (a replay inserts it again).
        assert await streamtest.rows(platform, "SELECT id FROM sys_events WHERE id = :id", id=envelope.id) == []
        assert await streamtest.eventually_idle()
        rows = await streamtest.effects(platform, [envelope.id])
        assert [(row.handler, row.attempts) for row in rows] == [("recorder.first", 0)]

        # The bug is fixed; replaying the dead letter delivers it again, inside the
        # duplicate window, under a new message id.
        recorder.handlers["recorder.second"].healed = True
        await runtime_of(platform.ctx).dead_letters.replay(envelope.id)
        rows = await streamtest.wait_effects(platform, [envelope.id], 2)
        assert sorted((row.handler, row.attempts) for row in rows) == [("recorder.first", 0), ("recorder.second", 0)]
        assert await streamtest.eventually_idle()
        assert len(await streamtest.effects(platform, [envelope.id])) == 2  # first did not apply it twice
        assert await streamtest.dead_letter(platform, envelope.id) is None

        stored = await streamtest.messages_of(envelope.id)
        assert len(stored) == 2
        original, replayed = (parse_message_id(msg.headers[MSG_ID_HEADER]) for msg in stored)
        assert original[0] == replayed[0] == envelope.id
        assert original[1] is not None and replayed[1] is not None and replayed[1] > original[1]


async def test_b_two_failing_handlers_share_one_dead_letter(streamtest: Any, make_tenant: Any) -> None:
    platform = streamtest.boot()
    tenant = await make_tenant()
    async with streamtest.serve(platform):
        (envelope,) = await streamtest.publish(platform, tenant.id, ThingHappened(n=5, fail_times=9))

        async def both() -> Any:
            letter = await streamtest.dead_letter(platform, envelope.id)
            return letter if letter is not None and len(letter.failed_handlers) == 2 else None

        letter = await streamtest.eventually(both)
        assert letter.failed_handlers == sorted(HANDLERS)
        assert letter.attempts == 3
        assert "fails on purpose (attempt 3)" in letter.last_error
        assert await streamtest.eventually_idle()
        assert await streamtest.effects(platform, [envelope.id]) == []


async def test_b_dead_lettering_moves_the_outbox_row_unless_a_replay_superseded_it(
    boot_platform: Any, make_tenant: Any
) -> None:
    # The DLQ helper the consumers use (rustok_outbox.downstream), without a broker.
    platform = boot_platform(plugins=recorder_plugins(), **{"rustok.events.relay": False})
    tenant = await make_tenant()
    publisher = platform.ctx.services.get(EventPublisher)
    async with platform.ctx.db.session(tenant.id) as session, session.begin():
        envelope = await publisher.publish(session, ThingHappened(n=1), tenant_id=tenant.id)
    stamp = (await publication_stamps(platform.ctx, [envelope.id]))[envelope.id]
    select_row = text("SELECT id FROM sys_events WHERE id = :id")
    select_dead = text("SELECT attempts, last_error, failed_handlers FROM sys_events_dlq WHERE id = :id")

    async def state() -> tuple[bool, Any]:
        async with platform.ctx.db.engine.connect() as conn:
            in_outbox = (await conn.execute(select_row, {"id": envelope.id})).first() is not None
            return in_outbox, (await conn.execute(select_dead, {"id": envelope.id})).first()

    try:
        # A delivery of an older publication (the event was replayed since): not dead-lettered.
        older = stamp - timedelta(seconds=1)
        assert not await dead_letter(platform.ctx, envelope, attempts=3, error="old", handlers=["h.a"], published=older)
        assert await state() == (True, None)

        # The current publication: moved from the outbox to the DLQ.
        assert await dead_letter(platform.ctx, envelope, attempts=3, error="a broke", handlers=["h.a"], published=stamp)
        in_outbox, dead = await state()
        assert not in_outbox and tuple(dead) == (3, "a broke", ["h.a"])

        # Another handler's consumer gives up too: merged, latest error, highest attempts.
        assert await dead_letter(platform.ctx, envelope, attempts=2, error="b broke", handlers=["h.b"], published=stamp)
        assert await dead_letter(platform.ctx, envelope, attempts=4, error="a again", handlers=["h.a"])
        _, dead = await state()
        assert tuple(dead) == (4, "a again", ["h.a", "h.b"])

        # And a replay from the DLQ works (the outbox row is gone, so it can come back).
        await runtime_of(platform.ctx).dead_letters.replay(envelope.id)
        in_outbox, dead = await state()
        assert in_outbox and dead is None
        assert (await publication_stamps(platform.ctx, [envelope.id]))[envelope.id] > stamp
    finally:
        async with platform.ctx.db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM sys_events WHERE id = :id"), {"id": envelope.id})
            await conn.execute(text("DELETE FROM sys_events_dlq WHERE id = :id"), {"id": envelope.id})


async def test_c_invalid_or_malformed_messages_are_dead_lettered_at_once_and_never_handled(
    streamtest: Any, make_tenant: Any
) -> None:
    platform = streamtest.boot()
    tenant = await make_tenant()
    async with streamtest.serve(platform):
        await streamtest.ready(platform)
        now = (await streamtest.rows(platform, "SELECT now() AS now"))[0].now
        bad_payload = EventEnvelope(
            id=generate_id(),
            event_type=ThingHappened.event_type,
            schema_version=ThingHappened.schema_version,
            tenant_id=tenant.id,
            occurred_at=now,
            payload={"n": -1},
        )
        unknown_type = EventEnvelope(
            id=generate_id(),
            event_type="nobody.thing.happened",
            schema_version=1,
            tenant_id=tenant.id,
            occurred_at=now,
            payload={"anything": True},
        )
        base = f"{streamtest.prefix}.{tenant.id}"
        await streamtest.js.publish(f"{base}.{bad_payload.event_type}", bad_payload.to_json())
        await streamtest.js.publish(f"{base}.garbage", b"{not an envelope")
        await streamtest.js.publish(f"{base}.{unknown_type.event_type}", unknown_type.to_json())
        # A valid event behind them still gets through: nothing is stuck.
        (valid,) = await streamtest.publish(platform, tenant.id, ThingHappened(n=6))
        await streamtest.wait_effects(platform, [valid.id], 2)

        for envelope, reason in ((bad_payload, "n must not be negative"), (unknown_type, "unknown event type")):

            async def dead(envelope: EventEnvelope = envelope) -> Any:
                return await streamtest.dead_letter(platform, envelope.id)

            letter = await streamtest.eventually(dead)
            assert letter.attempts == 1
            assert letter.last_error.startswith("undeliverable event:")
            assert reason in letter.last_error
            assert letter.failed_handlers == []
        assert await streamtest.eventually_idle()
        assert await streamtest.effects(platform, [bad_payload.id, unknown_type.id]) == []
        for consumer in await streamtest.js.consumers_info(streamtest.stream):
            # Every message was delivered to every consumer exactly once (no retries).
            assert consumer.delivered.consumer_seq == consumer.delivered.stream_seq, consumer
        runtime = stream_runtime(platform.ctx)
        assert runtime is not None and runtime.consumers is not None
        assert all(c.stats.malformed == 1 and c.stats.retried == 0 for c in runtime.consumers.consumers)


async def test_g_publishing_the_same_delivery_twice_stores_one_message(streamtest: Any, make_tenant: Any) -> None:
    platform = streamtest.boot(**{"rustok.events.relay": False})  # no relay: the test delivers
    tenant = await make_tenant()
    (envelope,) = await streamtest.publish(platform, tenant.id, ThingHappened(n=8))
    connection = StreamConnection(platform.settings.rustok.events)
    target = JetStreamTarget(platform.ctx, connection)
    subject = f"{streamtest.prefix}.{tenant.id}.recorder.thing.happened"
    try:
        for _ in range(2):
            results = await target.deliver([envelope])
            assert len(results) == 1 and results[0].ok
        assert await streamtest.subjects(tenant.id) == {subject: 1}

        # A relay retry of a claimed batch re-sends the same id: still one message.
        assert (await target.deliver([envelope, envelope]))[1].ok
        assert await streamtest.subjects(tenant.id) == {subject: 1}

        # A new publication of the event (what a DLQ replay makes) is a new message.
        later = "UPDATE sys_events SET created_at = created_at + interval '1 second' WHERE id = :id"
        await streamtest.rows_exec(platform, later, id=envelope.id)
        assert (await target.deliver([envelope]))[0].ok
        assert await streamtest.subjects(tenant.id) == {subject: 2}
        ids = [msg.headers[MSG_ID_HEADER] for msg in await streamtest.messages_of(envelope.id)]
        assert len(set(ids)) == 2
    finally:
        await connection.close()
        await streamtest.rows_exec(platform, "DELETE FROM sys_events WHERE id = :id", id=envelope.id)


async def test_g_an_unreachable_broker_makes_the_target_unavailable(offline_streamtest: Any, make_tenant: Any) -> None:
    streamtest = offline_streamtest
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_url = f"nats://127.0.0.1:{sock.getsockname()[1]}"
    platform = streamtest.boot(url=dead_url, **{"rustok.events.relay": False})
    tenant = await make_tenant()
    (envelope,) = await streamtest.publish(platform, tenant.id, ThingHappened(n=9))
    connection = StreamConnection(platform.settings.rustok.events)
    target = JetStreamTarget(platform.ctx, connection, connect_wait=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(TargetUnavailable, match="unreachable"):
            await target.deliver([envelope])
        assert time.monotonic() - started < 2.0
        assert not connection.connected
    finally:
        await connection.close()
        await streamtest.rows_exec(platform, "DELETE FROM sys_events WHERE id = :id", id=envelope.id)
