"""Replay the stream to one handler: for handlers added later, or to rebuild a read model.

An ephemeral consumer (no durable name, acks off, in memory, removed afterwards or
after a minute of inactivity) reads the stream from a sequence or a point in time
up to the last message at the start of the replay, in order, one fetcher. Every
event goes through the dispatcher for that handler only, so receipts still apply:
events the handler applied before are skipped, and the handler's live durable
consumer is not disturbed. Failures are reported, not retried or dead-lettered.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import nats.errors
from nats.js import JetStreamContext, api
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.context import AppContext
from rustok_core.errors import NotFound, Validation
from rustok_core.events import EventEnvelope, EventHandler
from rustok_outbox.dispatch import Dispatcher
from rustok_outbox.runtime import runtime_of
from rustok_stream.connection import StreamConnection

if TYPE_CHECKING:
    from nats.aio.msg import Msg

log = logging.getLogger("rustok.stream.replay")

BATCH = 256
FETCH_TIMEOUT = 2.0
INACTIVE_THRESHOLD = 60.0


@dataclass
class ReplayReport:
    handler: str
    scanned: int = 0
    """Messages read from the stream."""
    delivered: int = 0
    """Events the handler applied now (no receipt before)."""
    skipped: int = 0
    """Events the handler had applied already, or does not want."""
    failed: dict[str, str] = field(default_factory=dict)
    """Event id → error, for events the handler failed on or that are invalid."""
    first_seq: int | None = None
    last_seq: int | None = None


class _Counting:
    """Wraps a handler to learn which events it applied (same name, so the same receipts)."""

    def __init__(self, handler: EventHandler) -> None:
        self.name = handler.name
        self.inner = handler
        self.applied: set[uuid.UUID] = set()

    def handles(self, envelope: EventEnvelope) -> bool:
        return self.inner.handles(envelope)

    async def handle(self, envelope: EventEnvelope, session: AsyncSession) -> None:
        await self.inner.handle(envelope, session)
        self.applied.add(envelope.id)

    async def handle_batch(self, envelopes: Sequence[EventEnvelope], session: AsyncSession) -> None:
        batch = getattr(self.inner, "handle_batch", None)
        if batch is not None:
            await batch(envelopes, session)
        else:
            for envelope in envelopes:
                await self.inner.handle(envelope, session)
        self.applied.update(envelope.id for envelope in envelopes)


def find_handler(dispatcher: Dispatcher, name: str) -> EventHandler:
    handlers: Sequence[EventHandler] = dispatcher.handlers
    for handler in handlers:
        if handler.name == name:
            return handler
    known = ", ".join(sorted(h.name for h in handlers)) or "none"
    raise NotFound(f"no event handler named '{name}' (installed: {known})", handler=name)


async def replay(
    ctx: AppContext,
    handler_name: str,
    *,
    from_sequence: int | None = None,
    since: datetime | None = None,
    connection: StreamConnection | None = None,
) -> int:
    """Deliver the stream from ``from_sequence`` or ``since`` to one handler; return how many it applied."""
    report = await replay_report(ctx, handler_name, from_sequence=from_sequence, since=since, connection=connection)
    return report.delivered


async def replay_report(
    ctx: AppContext,
    handler_name: str,
    *,
    from_sequence: int | None = None,
    since: datetime | None = None,
    connection: StreamConnection | None = None,
) -> ReplayReport:
    """:func:`replay`, returning the full :class:`ReplayReport`."""
    if (from_sequence is None) == (since is None):
        raise Validation("replay needs exactly one starting point: from_sequence or since", field="from_sequence")
    if from_sequence is not None and from_sequence < 1:
        raise Validation("from_sequence starts at 1", field="from_sequence")
    dispatcher = runtime_of(ctx).collect_handlers()
    handler = _Counting(find_handler(dispatcher, handler_name))
    settings = ctx.settings.rustok.events
    own = connection is None
    conn = connection or StreamConnection(settings, name="rustok-replay")
    try:
        js = await conn.jetstream(wait=10.0)
        return await _replay(
            js, dispatcher, handler, settings.stream_name, settings.subject_prefix, from_sequence, since
        )
    finally:
        if own:
            await conn.close()


async def _replay(
    js: JetStreamContext,
    dispatcher: Dispatcher,
    handler: _Counting,
    stream: str,
    prefix: str,
    from_sequence: int | None,
    since: datetime | None,
) -> ReplayReport:
    report = ReplayReport(handler=handler.name)
    state = (await js.stream_info(stream)).state
    end = state.last_seq
    if state.messages == 0 or (from_sequence is not None and from_sequence > end):
        return report
    config = api.ConsumerConfig(
        name=f"rustok_replay_{uuid.uuid4().hex[:12]}",
        description=f"RusToK replay to {handler.name}",
        ack_policy=api.AckPolicy.NONE,
        filter_subject=f"{prefix}.>",
        inactive_threshold=INACTIVE_THRESHOLD,
        mem_storage=True,
    )
    if from_sequence is not None:
        config.deliver_policy = api.DeliverPolicy.BY_START_SEQUENCE
        config.opt_start_seq = from_sequence
    else:
        assert since is not None
        config.deliver_policy = api.DeliverPolicy.BY_START_TIME
        config.opt_start_time = since if since.tzinfo else since.replace(tzinfo=UTC)
    info = await js.add_consumer(stream, config)
    assert config.name is not None
    try:
        if not info.num_pending:
            return report
        sub = await js.pull_subscribe_bind(consumer=config.name, stream=stream)
        try:
            done = False
            while not done:
                try:
                    messages = await sub.fetch(BATCH, timeout=FETCH_TIMEOUT)
                except nats.errors.TimeoutError:
                    if not (await sub.consumer_info()).num_pending:
                        break
                    continue
                batch: list[Msg] = []
                for msg in messages:
                    seq = msg.metadata.sequence.stream
                    if seq > end:
                        done = True
                        break
                    batch.append(msg)
                    if seq == end or msg.metadata.num_pending == 0:
                        done = True
                        break
                await _deliver(dispatcher, handler, batch, report)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
    finally:
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, config.name)
    log.info(
        "replayed %d messages (seq %s..%s) to %s: %d applied, %d skipped, %d failed",
        report.scanned,
        report.first_seq,
        report.last_seq,
        handler.name,
        report.delivered,
        report.skipped,
        len(report.failed),
    )
    return report


async def _deliver(dispatcher: Dispatcher, handler: _Counting, batch: Sequence[Msg], report: ReplayReport) -> None:
    envelopes: dict[uuid.UUID, EventEnvelope] = {}
    for msg in batch:
        seq = msg.metadata.sequence.stream
        report.scanned += 1
        report.first_seq = seq if report.first_seq is None else report.first_seq
        report.last_seq = seq
        try:
            envelope = EventEnvelope.from_json(msg.data)
        except Validation as exc:
            report.failed[f"seq {seq}"] = exc.message
            continue
        if envelope.id in envelopes:
            report.skipped += 1  # the same event stored twice
            continue
        envelopes[envelope.id] = envelope
    if not envelopes:
        return
    handler.applied.clear()
    results = await dispatcher.deliver_many(list(envelopes.values()), only=[handler])
    for envelope, result in zip(envelopes.values(), results, strict=True):
        if not result.ok:
            report.failed[str(envelope.id)] = result.summary()
        elif envelope.id in handler.applied:
            report.delivered += 1
        else:
            report.skipped += 1
