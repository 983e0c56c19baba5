"""The ``memory`` transport: in-process fan-out after commit, with backpressure.

Staged events enter the queue only when their transaction commits. The queue's
``capacity`` is a publishing limit, never a dropping limit: at 70 % the state is
``warning`` (logged), at 90 % ``critical`` and ``publish`` is refused with
``RATE_LIMITED`` (reason ``EVENT_BACKPRESSURE``); everything already accepted is
delivered. Failed deliveries are retried with backoff, then dead-lettered to
``sys_events_dlq`` like outbox events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.db import after_commit
from rustok_core.errors import RateLimited
from rustok_core.events import EventEnvelope
from rustok_core.settings import EventSettings
from rustok_outbox.backoff import retry_delay
from rustok_outbox.dispatch import DeliveryResult, Dispatcher
from rustok_outbox.metrics import EventMetrics

log = logging.getLogger("rustok.events.memory")

WARNING = 0.7
CRITICAL = 0.9
STATES = ("normal", "warning", "critical")

DeadLetter = Callable[[EventEnvelope, DeliveryResult], Awaitable[None]]


class MemoryBus:
    def __init__(self, settings: EventSettings, metrics: EventMetrics) -> None:
        self.settings = settings
        self.capacity = settings.memory_capacity
        self.metrics = metrics
        self.queue: asyncio.Queue[EventEnvelope] = asyncio.Queue()
        self._staged = 0
        self._retrying = 0
        self._in_flight = 0
        self._task: asyncio.Task[None] | None = None
        self._last_state = "normal"

    # -- publishing side ----------------------------------------------------------------

    @property
    def size(self) -> int:
        """Events accepted and not yet delivered (staged, queued or waiting to retry)."""
        return self._staged + self.queue.qsize() + self._retrying + self._in_flight

    @property
    def state(self) -> str:
        used = self.size / self.capacity
        return "critical" if used >= CRITICAL else "warning" if used >= WARNING else "normal"

    def stage(self, session: AsyncSession, envelope: EventEnvelope) -> None:
        state = self._observe_state()
        if state == "critical":
            refused = RateLimited(
                f"the in-process event bus is at {self.size}/{self.capacity} events (critical); "
                "publishing is refused until it drains",
                retry_after=1.0,
            )
            refused.details["reason"] = "EVENT_BACKPRESSURE"  # as documented above; RateLimited takes no reason
            raise refused
        self._staged += 1

        def enqueue() -> None:
            self._staged -= 1
            self.queue.put_nowait(envelope)

        # A rolled-back transaction never enqueues; it only releases its reservation.
        after_commit(session, enqueue, on_rollback=self._release)

    def _release(self) -> None:
        self._staged -= 1

    def _observe_state(self) -> str:
        state = self.state
        self.metrics.backpressure.set(STATES.index(state))
        self.metrics.memory_queue.set(self.size)
        if state != self._last_state:
            level = logging.WARNING if state != "normal" else logging.INFO
            log.log(level, "memory event bus is %s (%d/%d)", state, self.size, self.capacity)
            self._last_state = state
        return state

    # -- delivering side -----------------------------------------------------------------------

    def start(self, dispatcher: Dispatcher, dead_letter: DeadLetter) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(dispatcher, dead_letter), name="rustok-memory-events")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def drain(self, within: float = 5.0) -> None:
        """Wait until every accepted event is delivered (tests, shutdown)."""
        async with asyncio.timeout(within):
            while self.size:  # noqa: ASYNC110 - size changes in several places; polling is simplest
                await asyncio.sleep(0.01)

    async def _run(self, dispatcher: Dispatcher, dead_letter: DeadLetter) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < self.settings.batch_size and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            self._in_flight = len(batch)
            try:
                results = await dispatcher.deliver_many(batch)
            except Exception as exc:
                log.exception("memory transport could not deliver a batch of %d", len(batch))
                results = [DeliveryResult(failures={"dispatcher": f"{type(exc).__name__}: {exc}"}) for _ in batch]
            try:
                for envelope, result in zip(batch, results, strict=True):
                    if result.ok:
                        continue
                    attempts = envelope.attempts + 1
                    if result.invalid is not None or attempts >= self.settings.max_attempts:
                        await dead_letter(envelope.with_attempts(attempts), result)
                    else:
                        self._schedule_retry(envelope.with_attempts(attempts))
            finally:
                self._in_flight = 0
                self._observe_state()

    def _schedule_retry(self, envelope: EventEnvelope) -> None:
        self._retrying += 1

        def requeue() -> None:
            self._retrying -= 1
            self.queue.put_nowait(envelope)

        asyncio.get_running_loop().call_later(retry_delay(envelope.attempts, self.settings), requeue)
