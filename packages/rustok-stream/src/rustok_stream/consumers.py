"""Durable pull consumers on the stream: one per event handler.

Each handler has its own durable consumer (``rustok_<handler name>``, with
characters other than letters, digits, ``_`` and ``-`` turned into ``_``) that sees
every subject under the prefix, so handlers progress, retry and fail independently.
A consumer task fetches batches and, for every message:

* parses the envelope (``attempts`` = deliveries so far - 1) and hands it to the
  dispatcher for this handler only — the dispatcher validates it against the
  registry and writes the receipt in the handler's transaction (a redelivered event
  is skipped);
* **ok** → ``ack``;
* **invalid** (unknown type, bad payload) → dead-lettered at once, ``term``;
* **handler failed** → ``nak`` with the relay's backoff, or after ``max_attempts``
  deliveries dead-lettered naming the handler (merged with other handlers' failures
  of the same event) and ``term``. A delivery whose publication was superseded by a
  DLQ replay is terminated without dead-lettering: the replay delivers it again.

The consumer's ``max_deliver`` is ``max_attempts + 1``: the final attempt is settled
by us (dead-lettered); the one spare delivery covers a process that died during the
final attempt, so the event is not silently dropped by the server.

Broker outages: the task waits for the connection, binds again and goes on; it
never ends on an error. Cancel it to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from rustok_core.context import AppContext
from rustok_core.errors import BootError, Validation
from rustok_core.events import EventEnvelope, EventHandler
from rustok_core.settings import EventSettings
from rustok_outbox.backoff import retry_delay
from rustok_outbox.dispatch import DeliveryResult, Dispatcher
from rustok_outbox.downstream import dead_letter
from rustok_outbox.metrics import EventMetrics
from rustok_stream.connection import BACKOFF_MAX, BACKOFF_START, StreamConnection
from rustok_stream.target import MSG_ID_HEADER, parse_message_id

log = logging.getLogger("rustok.stream.consumers")

DURABLE_PREFIX = "rustok_"
ACK_WAIT = 30.0
FETCH_BATCH = 64
FETCH_TIMEOUT = 5.0
TOP_UP_TIMEOUT = 0.05
MAX_ACK_PENDING = 1000
_INVALID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def durable_name(handler_name: str) -> str:
    """The durable consumer of a handler: ``recorder.first`` → ``rustok_recorder_first``."""
    return DURABLE_PREFIX + _INVALID_CHARS.sub("_", handler_name)


def consumer_config(settings: EventSettings, handler_name: str) -> api.ConsumerConfig:
    durable = durable_name(handler_name)
    return api.ConsumerConfig(
        name=durable,
        durable_name=durable,
        description=f"RusToK event handler {handler_name}",
        # A handler added later starts with what is published from now on; earlier
        # events reach it through `rustok events stream replay`.
        deliver_policy=api.DeliverPolicy.NEW,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=ACK_WAIT,
        max_deliver=settings.max_attempts + 1,
        max_ack_pending=MAX_ACK_PENDING,
        filter_subject=f"{settings.subject_prefix}.>",
    )


async def ensure_consumer(js: JetStreamContext, settings: EventSettings, handler_name: str) -> api.ConsumerInfo:
    """Create the handler's durable consumer, or update what may change (ack wait, deliveries, filter)."""
    wanted = consumer_config(settings, handler_name)
    assert wanted.durable_name is not None
    try:
        info: api.ConsumerInfo = await js.consumer_info(settings.stream_name, wanted.durable_name)
    except NotFoundError:
        created: api.ConsumerInfo = await js.add_consumer(settings.stream_name, wanted)
        return created
    current = info.config
    if (
        current.max_deliver == wanted.max_deliver
        and float(current.ack_wait or 0) == float(wanted.ack_wait or 0)
        and current.filter_subject == wanted.filter_subject
    ):
        return info
    current.max_deliver = wanted.max_deliver
    current.ack_wait = wanted.ack_wait
    current.filter_subject = wanted.filter_subject
    current.filter_subjects = None
    updated: api.ConsumerInfo = await js.add_consumer(settings.stream_name, current)
    return updated


@dataclass
class ConsumerStats:
    acked: int = 0
    retried: int = 0
    dead: int = 0
    malformed: int = 0


class HandlerConsumer:
    """The consumer task of one handler."""

    def __init__(
        self,
        ctx: AppContext,
        connection: StreamConnection,
        dispatcher: Dispatcher,
        handler: EventHandler,
        metrics: EventMetrics | None = None,
    ) -> None:
        self.ctx = ctx
        self.connection = connection
        self.dispatcher = dispatcher
        self.handler = handler
        self.metrics = metrics
        self.settings = connection.settings
        self.durable = durable_name(handler.name)
        self.stats = ConsumerStats()
        self.bound = False

    async def ensure(self, js: JetStreamContext) -> None:
        await ensure_consumer(js, self.settings, self.handler.name)

    async def run(self) -> None:
        delay = BACKOFF_START
        while True:
            self.bound = False
            try:
                js = await self.connection.jetstream(wait=None)
                await self.ensure(js)
                sub = await js.pull_subscribe_bind(durable=self.durable, stream=self.settings.stream_name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s cannot bind (%s); retrying in %.1fs", self.durable, _describe(exc), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            self.bound = True
            try:
                await self._consume(sub)
                delay = BACKOFF_START
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s lost its subscription (%s); binding again", self.durable, _describe(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
            finally:
                self.bound = False
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _consume(self, sub: JetStreamContext.PullSubscription) -> None:
        generation = self.connection.generation
        while self.connection.connected and self.connection.generation == generation:
            try:
                messages = await self._next_batch(sub)
            except nats.errors.TimeoutError:
                continue
            await self.process(messages)

    async def _next_batch(self, sub: JetStreamContext.PullSubscription) -> list[Msg]:
        """Wait for one message, then take what is already pending behind it.

        A pull for a whole batch is held by the server until the batch fills or the
        request expires, so under a trickle of events the first one would wait for the
        last. Pulling one message returns as soon as there is work; its metadata says
        how many more are pending, and a pull for exactly that many fills at once.
        """
        messages = list(await sub.fetch(1, timeout=FETCH_TIMEOUT))
        pending = messages[-1].metadata.num_pending if messages else 0
        if pending:
            with contextlib.suppress(nats.errors.TimeoutError):
                messages += await sub.fetch(min(pending, FETCH_BATCH - 1), timeout=TOP_UP_TIMEOUT)
        return messages

    # -- one batch -------------------------------------------------------------------------

    async def process(self, messages: Sequence[Msg]) -> None:
        parsed: list[tuple[Msg, EventEnvelope]] = []
        for msg in messages:
            try:
                envelope = EventEnvelope.from_json(msg.data)
            except Validation as exc:
                # Without an id and a tenant it cannot even be dead-lettered.
                log.error(
                    "consumer %s: dropping a malformed message (stream seq %s, subject %s): %s",
                    self.durable,
                    msg.metadata.sequence.stream,
                    msg.subject,
                    exc.message,
                )
                self.stats.malformed += 1
                await msg.term()
                continue
            parsed.append((msg, envelope.with_attempts(msg.metadata.num_delivered - 1)))
        if not parsed:
            return
        unique: dict[uuid.UUID, EventEnvelope] = {}
        for _, envelope in parsed:
            unique.setdefault(envelope.id, envelope)  # a duplicate in one batch is applied once
        async with self._kept_alive([msg for msg, _ in parsed]):
            results = await self.dispatcher.deliver_many(list(unique.values()), only=[self.handler])
        by_id = dict(zip(unique, results, strict=True))
        for msg, envelope in parsed:
            await self._settle(msg, envelope, by_id[envelope.id])

    @contextlib.asynccontextmanager
    async def _kept_alive(self, messages: Sequence[Msg]) -> AsyncIterator[None]:
        """Tell the server we are still at it, so a slow batch is not redelivered meanwhile."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(ACK_WAIT / 3)
                for msg in messages:
                    with contextlib.suppress(Exception):
                        await msg.in_progress()

        task = asyncio.create_task(beat(), name=f"rustok-stream-keepalive:{self.durable}")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _settle(self, msg: Msg, envelope: EventEnvelope, result: DeliveryResult) -> None:
        delivered = msg.metadata.num_delivered
        if result.ok:
            await msg.ack()
            self.stats.acked += 1
            return
        if result.invalid is not None:
            await self._dead(msg, envelope, attempts=delivered, error=result.invalid, handlers=())
            return
        if delivered >= self.settings.max_attempts:
            await self._dead(msg, envelope, attempts=delivered, error=result.summary(), handlers=[self.handler.name])
            return
        await msg.nak(delay=retry_delay(delivered, self.settings))
        self.stats.retried += 1

    async def _dead(
        self, msg: Msg, envelope: EventEnvelope, *, attempts: int, error: str, handlers: Sequence[str]
    ) -> None:
        event_id, stamp = parse_message_id((msg.headers or {}).get(MSG_ID_HEADER))
        if event_id != envelope.id:
            stamp = None
        try:
            stored = await dead_letter(
                self.ctx, envelope, attempts=attempts, error=error, handlers=handlers, published=stamp
            )
        except Exception:
            log.exception("consumer %s could not dead-letter event %s; it comes back later", self.durable, envelope.id)
            await msg.nak(delay=retry_delay(attempts, self.settings))
            return
        await msg.term()
        if not stored:
            log.info("event %s was replayed since this delivery; %s gets the replay instead", envelope.id, self.durable)
            return
        self.stats.dead += 1
        if self.metrics is not None:
            self.metrics.dead.inc()
        log.error(
            "event %s (%s) dead-lettered by %s after %d deliveries: %s",
            envelope.id,
            envelope.event_type,
            self.durable,
            attempts,
            error,
        )


class StreamConsumers:
    """Every handler's consumer task in this process."""

    def __init__(
        self,
        ctx: AppContext,
        connection: StreamConnection,
        dispatcher: Dispatcher,
        handlers: Sequence[EventHandler],
        metrics: EventMetrics | None = None,
    ) -> None:
        seen: dict[str, str] = {}
        for handler in handlers:
            durable = durable_name(handler.name)
            if durable in seen:
                raise BootError(
                    f"event handlers '{seen[durable]}' and '{handler.name}' would share the stream consumer "
                    f"'{durable}'; rename one"
                )
            seen[durable] = handler.name
        self.connection = connection
        self.consumers = [HandlerConsumer(ctx, connection, dispatcher, handler, metrics) for handler in handlers]
        self._tasks: list[asyncio.Task[None]] = []

    async def ensure_all(self, js: JetStreamContext) -> None:
        """Ready hook: every durable exists before the connection publishes anything."""
        for consumer in self.consumers:
            await consumer.ensure(js)

    def start(self) -> None:
        for consumer in self.consumers:
            self._tasks.append(asyncio.create_task(consumer.run(), name=f"rustok-stream-consumer:{consumer.durable}"))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> int:
        return sum(1 for task in self._tasks if not task.done())


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
