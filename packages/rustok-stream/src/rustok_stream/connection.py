"""A lazily connecting, self-healing connection to NATS JetStream.

One background task (the *supervisor*) owns the connection:

1. connect (retrying with backoff from 0.2 s up to 5 s while the broker is down);
2. make sure the stream exists with the configured subjects and duplicate window,
   then run the *ready hooks* (the stream consumers create their durables there,
   before anything is published through this connection);
3. mark the connection ready and wait until it is lost (the broker went away, a ping
   went unanswered, or :meth:`StreamConnection.reset` was called), then start over.

nats-py's own reconnect is off: every reconnect goes through the same steps, so a
stream or consumer deleted behind our back is recreated. Nothing here raises because
the broker is down — :meth:`StreamConnection.jetstream` raises
:class:`StreamUnavailable` after its timeout, and callers decide what that means
(the relay keeps events in the outbox, consumers wait and bind again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError

from rustok_core.settings import EventSettings

log = logging.getLogger("rustok.stream")

BACKOFF_START = 0.2
BACKOFF_MAX = 5.0
API_TIMEOUT = 5.0

ReadyHook = Callable[[JetStreamContext], Awaitable[None]]


class StreamUnavailable(Exception):
    """JetStream cannot be reached now; try again later."""


def describe_url(url: str | None) -> str:
    """``host:port`` of a NATS URL (never its credentials)."""
    if not url:
        return "(no nats_url)"
    first = url.split(",")[0].strip()
    parts = urlsplit(first if "://" in first else f"nats://{first}")
    return f"{parts.hostname or '?'}:{parts.port or 4222}"


def stream_config(settings: EventSettings) -> api.StreamConfig:
    """The one stream the platform uses: every subject under the prefix, on disk."""
    return api.StreamConfig(
        name=settings.stream_name,
        description="RusToK domain events (published by the events relay)",
        subjects=[f"{settings.subject_prefix}.>"],
        storage=api.StorageType.FILE,
        retention=api.RetentionPolicy.LIMITS,
        duplicate_window=settings.duplicate_window,
    )


async def ensure_stream(js: JetStreamContext, settings: EventSettings) -> api.StreamInfo:
    """Create the stream, or bring its subjects and duplicate window in line.

    Other settings of an existing stream (limits an operator set) are kept.
    """
    wanted = stream_config(settings)
    try:
        info = await js.stream_info(settings.stream_name)
    except NotFoundError:
        try:
            return await js.add_stream(wanted)
        except BadRequestError as exc:
            try:
                info = await js.stream_info(settings.stream_name)  # created concurrently?
            except NotFoundError:
                raise exc from None  # refused (e.g. its subjects overlap another stream's)
    current = info.config
    same_subjects = set(current.subjects or ()) == set(wanted.subjects or ())
    if same_subjects and float(current.duplicate_window or 0) == float(wanted.duplicate_window):
        return info
    current.subjects = wanted.subjects
    current.duplicate_window = wanted.duplicate_window
    log.info(
        "updating stream %s: subjects %s, duplicate window %ss", wanted.name, wanted.subjects, wanted.duplicate_window
    )
    return await js.update_stream(current)


class StreamConnection:
    """The process's JetStream connection; see the module docstring."""

    def __init__(self, settings: EventSettings, *, name: str = "rustok", autostart: bool = True) -> None:
        self.settings = settings
        self.name = name
        self.autostart = autostart
        self.url = describe_url(settings.nats_url)
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._lost: asyncio.Event | None = None
        self._hooks: list[ReadyHook] = []
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.last_error: str | None = None
        self.down_since: float | None = None
        self.generation = 0
        """Counts successful connections; consumers bind again when it changes."""

    # -- state -------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._task is not None

    @property
    def connected(self) -> bool:
        return self._ready.is_set() and self._nc is not None and self._nc.is_connected

    def describe(self) -> str:
        if self.connected:
            return f"connected to NATS at {self.url}, stream {self.settings.stream_name}"
        if not self.started:
            return f"not connected to NATS at {self.url} (not started)"
        if self.last_error is None:
            return f"connecting to NATS at {self.url}"
        since = ""
        if self.down_since is not None:
            since = f" for {time.monotonic() - self.down_since:.0f}s"
        return f"NATS at {self.url} unreachable{since}: {self.last_error}"

    # -- lifecycle -----------------------------------------------------------------------

    def add_ready_hook(self, hook: ReadyHook) -> None:
        """Run ``hook(js)`` after every (re)connect, before the connection counts as ready."""
        self._hooks.append(hook)

    def remove_ready_hook(self, hook: ReadyHook) -> None:
        if hook in self._hooks:
            self._hooks.remove(hook)

    def start(self) -> None:
        """Start the supervisor (idempotent; needs a running event loop)."""
        if self._task is None and not self._closed:
            self.down_since = time.monotonic()
            self._task = asyncio.create_task(self._supervise(), name=f"rustok-stream-connection:{self.name}")

    async def jetstream(self, wait: float | None = 5.0) -> JetStreamContext:
        """The JetStream context, waiting up to ``wait`` seconds (``None``: forever) for a connection."""
        if self._closed:
            raise StreamUnavailable("the stream connection is closed")
        if not self.started:
            if not self.autostart:
                raise StreamUnavailable("the stream connection is not started")
            self.start()
        if not self._ready.is_set():
            try:
                await asyncio.wait_for(self._ready.wait(), timeout=wait)
            except TimeoutError:
                raise StreamUnavailable(self.describe()) from None
        js = self._js
        if js is None or not self.connected:
            raise StreamUnavailable(self.describe())
        return js

    def reset(self, reason: str) -> None:
        """Drop the connection (e.g. the stream vanished); the supervisor connects and ensures again."""
        if self._ready.is_set() and self._lost is not None:
            log.warning("resetting the NATS connection: %s", reason)
            self.last_error = reason
            self._lost.set()

    async def close(self) -> None:
        """Disconnect and stop the supervisor. :meth:`start` may connect again later."""
        self._closed = True
        try:
            self._ready.clear()
            task, self._task = self._task, None
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._drop()
        finally:
            self._closed = False
            self.down_since = None

    # -- the supervisor ------------------------------------------------------------------

    async def _supervise(self) -> None:
        while not self._closed:
            try:
                await self._connections()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Never end silently: whatever broke, start over (slowly).
                log.exception("the NATS connection supervisor failed; starting over")
                self._ready.clear()
                await self._drop()
                await asyncio.sleep(BACKOFF_MAX)

    async def _connections(self) -> None:
        delay = BACKOFF_START
        while not self._closed:
            lost = self._lost = asyncio.Event()

            async def on_lost(*_: Any, lost: asyncio.Event = lost) -> None:
                lost.set()

            try:
                nc = await nats.connect(
                    self.settings.nats_url or "",
                    name=self.name,
                    allow_reconnect=False,
                    connect_timeout=2,
                    ping_interval=10,
                    max_outstanding_pings=2,
                    error_cb=self._on_error,
                    disconnected_cb=on_lost,
                    closed_cb=on_lost,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            self._nc = nc
            try:
                js = nc.jetstream(timeout=API_TIMEOUT)
                await ensure_stream(js, self.settings)
                for hook in self._hooks:
                    await hook(js)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(exc)
                await self._drop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            if nc.is_closed:
                self._failed(ConnectionError("connection closed while starting"))
                await self._drop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            self._js = js
            self.generation += 1
            self.last_error = None
            self.down_since = None
            self._ready.set()
            delay = BACKOFF_START
            log.info("connected to NATS at %s (stream %s)", self.url, self.settings.stream_name)
            await lost.wait()
            self._ready.clear()
            self.down_since = time.monotonic()
            self.last_error = self.last_error or "connection lost"
            log.warning("lost the NATS connection to %s (%s); reconnecting", self.url, self.last_error or "closed")
            await self._drop()

    def _failed(self, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if message != self.last_error:
            log.warning("NATS at %s: %s (retrying)", self.url, message)
        self.last_error = message

    async def _drop(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(Exception):
                await nc.close()

    async def _on_error(self, exc: Exception) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        log.debug("NATS client error: %s", self.last_error)
