"""The event runtime of one process: registry, publisher, dispatcher, relay, pruning."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from rustok_core.context import AppContext
from rustok_core.errors import BootError
from rustok_core.events import EventEnvelope, EventHandler, EventRegistry
from rustok_core.events.core_events import CORE_EVENTS
from rustok_core.health import HealthCheck, HealthStatus
from rustok_outbox.dispatch import DeliveryResult, Dispatcher
from rustok_outbox.dlq import DeadLetters, store_dead_letter
from rustok_outbox.memory import MemoryBus
from rustok_outbox.metrics import EventMetrics
from rustok_outbox.publisher import Publisher
from rustok_outbox.relay import LocalTarget, OutboxRelay, RelayTarget, outbox_status
from rustok_outbox.retention import run_pruning

log = logging.getLogger("rustok.events")
STATE_KEY = "events"


def build_registry(ctx: AppContext) -> EventRegistry:
    registry = EventRegistry(("core", event) for event in CORE_EVENTS)
    for module, events in ctx.registry.call("rustok_event_types"):
        for event_class in events:
            registry.register(event_class, owner=module.slug)
    return registry


class EventsRuntime:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings.rustok.events
        self.transport = self.settings.transport
        if self.transport == "stream":
            if "stream" not in ctx.registry:
                raise BootError(
                    "events transport 'stream' needs the stream module: list rustok-stream in modules.toml "
                    "and run `uv run xtask rebuild`"
                )
            if not self.settings.nats_url:
                raise BootError("events transport 'stream' needs rustok.events.nats_url (or NATS_URL)")
        self.registry = build_registry(ctx)
        self.metrics = EventMetrics()
        ctx.state.setdefault("metrics_registries", []).append(self.metrics.registry)
        ctx.state.setdefault("metrics_refreshers", []).append(self.refresh_metrics)
        self.memory = MemoryBus(self.settings, self.metrics) if self.transport == "memory" else None
        self.publisher = Publisher(self.registry, self.metrics, memory=self.memory)
        self.dead_letters = DeadLetters(ctx)
        self.handlers: list[EventHandler] = []
        self.dispatcher: Dispatcher | None = None
        self.relay: OutboxRelay | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle --------------------------------------------------------------------------

    def collect_handlers(self) -> Dispatcher:
        if self.dispatcher is None:
            handlers: list[EventHandler] = []
            for module, provided in self.ctx.registry.call("rustok_event_handlers", ctx=self.ctx):
                for handler in provided:
                    if not isinstance(handler, EventHandler):
                        raise BootError(f"module '{module.slug}': {handler!r} is not an EventHandler")
                    handlers.append(handler)
            self.handlers = handlers
            self.dispatcher = Dispatcher(self.ctx, self.registry, handlers, self.metrics)
        return self.dispatcher

    async def start(self) -> None:
        dispatcher = self.collect_handlers()
        if not self.settings.relay:
            return
        if self.memory is not None:
            self.memory.start(dispatcher, self.dead_letter)
        # With the memory transport the outbox receives only DLQ replays (and events left
        # by an earlier transport); the relay delivers those to the local handlers.
        target: RelayTarget = (
            self.ctx.services.get(RelayTarget) if self.transport == "stream" else LocalTarget(dispatcher)
        )
        self.relay = OutboxRelay(self.ctx, target, self.metrics)
        self._tasks.append(asyncio.create_task(self.relay.run(), name="rustok-outbox-relay"))
        self._tasks.append(asyncio.create_task(run_pruning(self.ctx), name="rustok-outbox-pruning"))

    async def stop(self) -> None:
        if self.memory is not None:
            await self.memory.stop()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- dead letters from the memory transport ---------------------------------------------

    async def dead_letter(self, envelope: EventEnvelope, result: DeliveryResult) -> None:
        async with self.ctx.db.system_session() as session, session.begin():
            await store_dead_letter(
                session,
                envelope,
                attempts=envelope.attempts,
                error=result.summary(),
                handlers=list(result.failures),
            )
        self.metrics.dead.inc()

    # -- observability --------------------------------------------------------------------------

    async def refresh_metrics(self) -> None:
        status = await outbox_status(self.ctx)
        self.metrics.backlog.set(status["backlog"])
        self.metrics.oldest_pending.set(status["oldest_pending_seconds"])
        self.metrics.dlq_size.set(status["dlq"])
        if self.memory is not None:
            self.metrics.memory_queue.set(self.memory.size)

    async def stats(self) -> dict[str, Any]:
        status = await outbox_status(self.ctx)
        status["transport"] = self.transport
        status["handlers"] = sorted(handler.name for handler in self.handlers)
        if self.memory is not None:
            status["memory_queue"] = self.memory.size
            status["memory_state"] = self.memory.state
        if self.relay is not None:
            status["relay"] = {"name": self.relay.name, **vars(self.relay.stats)}
        return status

    def health(self) -> HealthCheck:
        if self.memory is not None:
            state = self.memory.state
            status = HealthStatus.DEGRADED if state != "normal" else HealthStatus.OK
            return HealthCheck("events", status, f"memory transport {state} ({self.memory.size} queued)")
        if self.relay is not None and not self.relay.target_available:
            return HealthCheck(
                "events", HealthStatus.DEGRADED, f"{self.relay.target.name} unavailable; events wait in the outbox"
            )
        return HealthCheck("events", HealthStatus.OK, f"transport {self.transport}")


def runtime_of(ctx: AppContext) -> EventsRuntime:
    runtime: EventsRuntime = ctx.state[STATE_KEY]
    return runtime
