"""Fixtures for the stream module's tests.

Most tests use the machine's NATS (``NATS_URL``) with a stream name and subject
prefix of their own, deleted afterwards; the outage tests start private
``nats-server`` processes on free ports. Helpers live on the :class:`StreamTest`
object the ``streamtest`` fixture returns (test modules cannot import each other).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import text

from rustok_core.events import DomainEvent, EventEnvelope, EventPublisher
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_stream.module import module as stream_module
from rustok_testing.client import RustokClient
from rustok_testing.samples import ensure_recorder_table, recorder_plugins
from rustok_testing.services import require_service

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], *, within: float = 15.0, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; fail with the last value after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s; last value: {value!r}")
        await asyncio.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateNats:
    """A nats-server of this test's own (JetStream on, a store directory that survives restarts)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.store = Path(tempfile.mkdtemp(prefix="rustok-nats-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        executable = Path(sys.executable).parent / "nats-server"
        self.process = subprocess.Popen(
            [str(executable), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nats-server did not start on port {self.port}") from None
                time.sleep(0.02)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.store, ignore_errors=True)


@pytest.fixture
def private_nats() -> Iterator[PrivateNats]:
    server = PrivateNats()
    yield server
    server.cleanup()


@pytest.fixture
def nats_url() -> str:
    return require_service("NATS", "NATS_URL", 4222)


@dataclass
class StreamTest:
    url: str
    stream: str
    prefix: str
    boot_platform: Callable[..., Platform]
    js: JetStreamContext

    @staticmethod
    async def eventually(check: Callable[[], Awaitable[T]], *, within: float = 15.0, interval: float = 0.05) -> T:
        return await eventually(check, within=within, interval=interval)

    # -- platforms ---------------------------------------------------------------------------

    def settings(self, url: str | None = None, **extra: Any) -> dict[str, Any]:
        return {
            "rustok.events.transport": "stream",
            "rustok.events.nats_url": url or self.url,
            "rustok.events.stream_name": self.stream,
            "rustok.events.subject_prefix": self.prefix,
            "rustok.events.backoff_base": 0.05,
            "rustok.events.backoff_max": 0.2,
            "rustok.events.max_attempts": 3,
            **extra,
        }

    def boot(self, plugins: Sequence[object] | None = None, *, url: str | None = None, **extra: Any) -> Platform:
        chosen = list(plugins) if plugins is not None else [*recorder_plugins(), stream_module]
        return self.boot_platform(plugins=chosen, **self.settings(url, **extra))

    @contextlib.asynccontextmanager
    async def serve(self, platform: Platform) -> AsyncIterator[RustokClient]:
        """Run the app's lifespan (relay and consumers) and give an HTTP client for it."""
        await ensure_recorder_table(platform.ctx.db)
        app = create_app(platform)
        async with app.router.lifespan_context(app), RustokClient(app) as client:
            yield client

    # -- events ------------------------------------------------------------------------------

    async def publish(
        self, platform: Platform, tenant_id: uuid.UUID, *events: DomainEvent, rollback: bool = False
    ) -> list[EventEnvelope]:
        publisher = platform.ctx.services.get(EventPublisher)
        envelopes: list[EventEnvelope] = []
        async with platform.ctx.db.session(tenant_id) as session:
            transaction = await session.begin()
            for event in events:
                envelopes.append(await publisher.publish(session, event, tenant_id=tenant_id))
            if rollback:
                await transaction.rollback()
            else:
                await transaction.commit()
        return envelopes

    async def effects(self, platform: Platform, ids: Sequence[uuid.UUID]) -> list[Any]:
        async with platform.ctx.db.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT handler, event_id, attempts, recorded_at FROM recorder_effects "
                    "WHERE event_id = ANY(:ids) ORDER BY id"
                ),
                {"ids": list(ids)},
            )
            return list(result.all())

    async def wait_effects(
        self, platform: Platform, ids: Sequence[uuid.UUID], count: int, *, within: float = 15.0
    ) -> list[Any]:
        async def enough() -> list[Any] | None:
            rows = await self.effects(platform, ids)
            assert len(rows) <= count, f"more effects than expected: {rows}"
            return rows if len(rows) == count else None

        return await eventually(enough, within=within)

    async def rows(self, platform: Platform, sql: str, **params: Any) -> list[Any]:
        async with platform.ctx.db.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def rows_exec(self, platform: Platform, sql: str, **params: Any) -> None:
        async with platform.ctx.db.engine.begin() as conn:
            await conn.execute(text(sql), params)

    async def ready(self, platform: Platform, within: float = 15.0) -> bool:
        """The platform's connection is up and every handler's consumer is bound."""
        from rustok_stream.module import stream_runtime

        async def check() -> bool:
            runtime = stream_runtime(platform.ctx)
            assert runtime is not None and runtime.consumers is not None
            return runtime.connection.connected and all(c.bound for c in runtime.consumers.consumers)

        return await eventually(check, within=within)

    async def dead_letter(self, platform: Platform, event_id: uuid.UUID) -> Any:
        rows = await self.rows(platform, "SELECT * FROM sys_events_dlq WHERE id = :id", id=event_id)
        return rows[0] if rows else None

    # -- the stream ----------------------------------------------------------------------------

    async def subjects(self, tenant_id: uuid.UUID, event_type: str = "recorder.thing.happened") -> dict[str, int]:
        """Stored messages per subject of one tenant and event type."""
        info = await self.js.stream_info(self.stream, subjects_filter=f"{self.prefix}.{tenant_id}.{event_type}")
        return dict(info.state.subjects or {})

    async def consumers_idle(self) -> bool:
        """Every consumer has settled everything stored (nothing pending or unacknowledged)."""
        consumers = await self.js.consumers_info(self.stream)
        return bool(consumers) and all(not c.num_pending and not c.num_ack_pending for c in consumers)

    async def eventually_idle(self, within: float = 15.0) -> bool:
        return await eventually(self.consumers_idle, within=within)

    async def messages_of(self, event_id: uuid.UUID) -> list[Any]:
        """Every stored message of an event, in order (a scan: fine for test-sized streams)."""
        found = []
        state = (await self.js.stream_info(self.stream)).state
        for seq in range(state.first_seq, state.last_seq + 1):
            try:
                msg = await self.js.get_msg(self.stream, seq)
            except NotFoundError:
                continue
            if msg.data and EventEnvelope.from_json(msg.data).id == event_id:
                found.append(msg)
        return found


@pytest.fixture
async def offline_streamtest(boot_platform: Any) -> StreamTest:
    """The helpers without the shared NATS (for tests on private servers: pass ``url=``)."""
    suffix = secrets.token_hex(4)
    return StreamTest(
        url="",
        stream=f"RUSTOK_TEST_{suffix.upper()}",
        prefix=f"rtest{suffix}",
        boot_platform=boot_platform,
        js=None,  # type: ignore[arg-type]
    )


@pytest.fixture
async def streamtest(nats_url: str, boot_platform: Any) -> AsyncIterator[StreamTest]:
    """The helpers on the shared NATS, with a stream and prefix of this test's own (deleted after)."""
    suffix = secrets.token_hex(4)
    nc = await nats.connect(nats_url)
    helper = StreamTest(
        url=nats_url,
        stream=f"RUSTOK_TEST_{suffix.upper()}",
        prefix=f"rtest{suffix}",
        boot_platform=boot_platform,
        js=nc.jetstream(),
    )
    try:
        yield helper
    finally:
        with contextlib.suppress(NotFoundError):
            await helper.js.delete_stream(helper.stream)
        await nc.close()
