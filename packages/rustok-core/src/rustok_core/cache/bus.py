"""Invalidation messages between processes.

:class:`LocalBus` delivers within the process (single-process deployments, tests);
:class:`RedisBus` delivers to every process through Redis pub/sub, including the
publishing one. Pub/sub is at-most-once: messages published while a subscriber is
disconnected are lost, which is why :class:`RedisBus` tells ``on_reconnect`` listeners
when it has been away (the tiered cache then drops its local copies).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

import redis.asyncio
from redis.asyncio.client import PubSub

log = logging.getLogger(__name__)

Callback = Callable[[str], Awaitable[None] | None]

_SUBSCRIBE_TIMEOUT = 10.0


@runtime_checkable
class InvalidationBus(Protocol):
    """Publish/subscribe of text messages on named channels."""

    async def publish(self, channel: str, message: str) -> None:
        """Send ``message`` to every subscriber of ``channel``."""
        ...

    def subscribe(self, channel: str, callback: Callback) -> None:
        """Call ``callback(message)`` (awaited when it returns an awaitable) for each message."""
        ...

    async def start(self) -> None:
        """Begin delivering messages; idempotent."""
        ...

    async def stop(self) -> None:
        """Stop delivering messages; idempotent."""
        ...


class _Subscribers:
    """Callbacks per channel; a failing callback is logged and counted, never raised."""

    def __init__(self) -> None:
        self.by_channel: dict[str, list[Callback]] = {}
        self.errors = 0

    def add(self, channel: str, callback: Callback) -> None:
        self.by_channel.setdefault(channel, []).append(callback)

    async def dispatch(self, channel: str, message: str) -> None:
        for callback in tuple(self.by_channel.get(channel, ())):
            try:
                result = callback(message)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self.errors += 1
                log.exception("invalidation subscriber %r failed on channel %r", callback, channel)


class LocalBus:
    """An in-process bus: :meth:`publish` calls the channel's subscribers directly.

    A subscriber that raises is logged and counted in :attr:`errors`; the publisher
    and the other subscribers are not affected.
    """

    def __init__(self) -> None:
        self._subscribers = _Subscribers()

    @property
    def errors(self) -> int:
        """How many subscriber calls raised."""
        return self._subscribers.errors

    async def publish(self, channel: str, message: str) -> None:
        """Deliver ``message`` to the subscribers of ``channel`` before returning."""
        await self._subscribers.dispatch(channel, message)

    def subscribe(self, channel: str, callback: Callback) -> None:
        """Call ``callback`` for every message published on ``channel``."""
        self._subscribers.add(channel, callback)

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Nothing to stop."""


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


class RedisBus:
    """A bus on Redis pub/sub; channel ``name`` is the Redis channel ``{prefix}:{name}``.

    :meth:`start` subscribes to the pattern ``{prefix}:*`` (so channels subscribed
    later need no round trip and miss nothing) and runs one reader task that hands
    each message to the local subscribers of its channel, in order. Messages published
    by this process come back through Redis, once each.

    The reader survives everything but :meth:`stop`: a subscriber that raises is logged
    and counted in :attr:`errors`; a dropped connection is logged and re-established
    with exponential backoff (``backoff_initial`` up to ``backoff_max`` seconds).
    Each time the subscription comes back after a drop, :attr:`reconnects` goes up and
    the ``on_reconnect`` callbacks run, since messages may have been lost meanwhile.
    :meth:`publish` raises Redis errors (e.g. ``ConnectionError``) to its caller.

    The client belongs to the caller; the bus takes one connection from its pool for
    the subscription and gives it back on :meth:`stop`.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        prefix: str = "rustok",
        *,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
    ) -> None:
        self._client = client
        self._prefix = f"{prefix}:"
        self._pattern = _glob_escape(self._prefix) + "*"
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._subscribers = _Subscribers()
        self._reconnect_callbacks: list[Callable[[], Awaitable[None] | None]] = []
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0

    @property
    def errors(self) -> int:
        """How many subscriber calls raised."""
        return self._subscribers.errors

    @property
    def running(self) -> bool:
        """Whether the reader task is alive."""
        return self._task is not None and not self._task.done()

    async def publish(self, channel: str, message: str) -> None:
        """``PUBLISH`` ``message`` on ``{prefix}:{channel}``; Redis errors propagate."""
        await self._client.publish(self._prefix + channel, message)

    def subscribe(self, channel: str, callback: Callback) -> None:
        """Call ``callback`` for every message on ``channel``; effective at once."""
        self._subscribers.add(channel, callback)

    def on_reconnect(self, callback: Callable[[], Awaitable[None] | None]) -> None:
        """Call ``callback()`` whenever the subscription is restored after a drop."""
        self._reconnect_callbacks.append(callback)

    async def start(self) -> None:
        """Subscribe (waiting until Redis confirms) and start the reader; idempotent.

        Raises the Redis error when Redis cannot be reached at start.
        """
        if self._task is not None:
            return
        self._pubsub = await self._subscribe()
        self._task = asyncio.create_task(self._read(), name=f"rustok-redis-bus:{self._prefix}")

    async def stop(self) -> None:
        """Cancel the reader and release the subscription connection; idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])  # never raises what the task raised
            if not task.cancelled() and task.exception() is not None:
                log.error("the invalidation bus reader had died", exc_info=task.exception())
        await self._close_pubsub()

    async def _subscribe(self) -> PubSub:
        pubsub = self._client.pubsub()
        try:
            async with asyncio.timeout(_SUBSCRIBE_TIMEOUT):
                await pubsub.psubscribe(self._pattern)
                # Wait for the confirmation: once it is read, Redis delivers every
                # message published from then on.
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None and message["type"] == "psubscribe":
                        return pubsub
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            except Exception:  # the connection may already be broken
                log.debug("closing the pub/sub connection failed", exc_info=True)

    async def _read(self) -> None:
        delay = self._backoff_initial
        while True:
            try:
                if self._pubsub is None:
                    self._pubsub = await self._subscribe()
                    log.info("invalidation bus resubscribed to %s", self._pattern)
                    await self._reconnected()
                message = await self._pubsub.get_message(timeout=None)
                delay = self._backoff_initial
                if message is not None:
                    await self._handle(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "invalidation bus lost its Redis subscription (%s: %s); retrying in %.3g s",
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await self._close_pubsub()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff_max)

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "psubscribe":
            # redis-py reconnected by itself and replayed the subscription.
            log.info("invalidation bus reconnected to Redis")
            await self._reconnected()
            return
        if kind != "pmessage":
            return
        channel = _text(message["channel"])
        if channel.startswith(self._prefix):
            await self._subscribers.dispatch(channel[len(self._prefix) :], _text(message["data"]))

    async def _reconnected(self) -> None:
        self.reconnects += 1
        for callback in tuple(self._reconnect_callbacks):
            try:
                result = callback()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self._subscribers.errors += 1
                log.exception("invalidation bus reconnect callback %r failed", callback)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
