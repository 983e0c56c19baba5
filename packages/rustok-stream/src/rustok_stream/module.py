"""The stream module object: NATS JetStream as the target of the events relay."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import click

from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext
from rustok_core.health import HealthCheck, HealthStatus
from rustok_stream.connection import StreamConnection
from rustok_stream.consumers import StreamConsumers
from rustok_stream.target import JetStreamTarget

STATE_KEY = "stream"


@dataclass
class StreamRuntime:
    """This process's connection, relay target and (when it relays) consumers."""

    connection: StreamConnection
    target: JetStreamTarget
    consumers: StreamConsumers | None = None


def stream_runtime(ctx: AppContext) -> StreamRuntime | None:
    """The runtime, or ``None`` when the events transport is not ``stream``."""
    runtime: StreamRuntime | None = ctx.state.get(STATE_KEY)
    return runtime


class StreamModule:
    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug="stream",
            name="Event stream",
            description="NATS JetStream as the target of the events relay; durable consumers per handler group.",
            version=version("rustok-stream"),
            kind=ModuleKind.CORE,
            dependencies=("events",),
        )

    @hookimpl
    def rustok_provide(self, ctx: AppContext) -> Mapping[type[Any], object] | None:
        from rustok_outbox.relay import RelayTarget

        settings = ctx.settings.rustok.events
        if settings.transport != "stream":
            return None  # another transport: no connection, no tasks, nothing provided
        name = f"rustok:{socket.gethostname()[:30]}:{os.getpid()}"
        # Connected at startup, after the consumers registered their durables.
        connection = StreamConnection(settings, name=name, autostart=False)
        target = JetStreamTarget(ctx, connection)
        ctx.state[STATE_KEY] = StreamRuntime(connection=connection, target=target)
        return {RelayTarget: target}

    @hookimpl
    async def rustok_startup(self, ctx: AppContext) -> None:
        from rustok_outbox.runtime import runtime_of

        runtime = stream_runtime(ctx)
        if runtime is None or not ctx.settings.rustok.events.relay:
            return
        events = runtime_of(ctx)
        dispatcher = events.collect_handlers()
        consumers = StreamConsumers(ctx, runtime.connection, dispatcher, dispatcher.handlers, events.metrics)
        runtime.consumers = consumers
        runtime.connection.add_ready_hook(consumers.ensure_all)
        runtime.connection.start()
        consumers.start()

    @hookimpl
    async def rustok_shutdown(self, ctx: AppContext) -> None:
        runtime = stream_runtime(ctx)
        if runtime is None:
            return
        consumers, runtime.consumers = runtime.consumers, None
        if consumers is not None:
            await consumers.stop()
            runtime.connection.remove_ready_hook(consumers.ensure_all)
        await runtime.connection.close()

    @hookimpl
    def rustok_health(self, ctx: AppContext) -> HealthCheck | None:
        runtime = stream_runtime(ctx)
        if runtime is None:
            return None
        connection = runtime.connection
        if not connection.started:
            return HealthCheck("stream", HealthStatus.OK, "not connected in this process (it does not relay)")
        if not connection.connected:
            return HealthCheck("stream", HealthStatus.DEGRADED, f"{connection.describe()}; events wait in the outbox")
        consumers = runtime.consumers
        if consumers is not None:
            unbound = [c.durable for c in consumers.consumers if not c.bound]
            if unbound:
                return HealthCheck(
                    "stream",
                    HealthStatus.DEGRADED,
                    f"{connection.describe()}; consumers not bound yet: {', '.join(unbound)}",
                )
            return HealthCheck(
                "stream", HealthStatus.OK, f"{connection.describe()}; {len(consumers.consumers)} consumers"
            )
        return HealthCheck("stream", HealthStatus.OK, connection.describe())

    @hookimpl
    def rustok_cli(self, cli: click.Group) -> None:
        from rustok_stream.cli import add_commands

        add_commands(cli)


module = StreamModule()
