"""Invalidation buses: in-process, and Redis pub/sub between processes.

Every Redis test uses its own channel prefix, so concurrent runs never see each
other's messages. Connection drops are real: ``CLIENT KILL`` of the bus's own
subscription connection, and a TCP proxy in front of Redis that goes away and comes
back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from rustok_core.cache import InvalidationBus, LocalBus, RedisBus
from rustok_testing.services import require_service


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@pytest.fixture
def redis_url() -> str:
    return require_service("Redis", "REDIS_URL", 6379)


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid4().hex}"


@pytest.fixture
async def clients(redis_url: str, prefix: str) -> AsyncIterator[Callable[..., redis.asyncio.Redis]]:
    """A factory of clients (named after the test prefix), all closed at the end."""
    made: list[redis.asyncio.Redis] = []

    def make(url: str = redis_url, **kwargs: object) -> redis.asyncio.Redis:
        client = redis.asyncio.Redis.from_url(url, client_name=f"{prefix}:{len(made)}", **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def buses() -> AsyncIterator[list[RedisBus]]:
    """Buses to stop at the end, even when a test fails half-way."""
    started: list[RedisBus] = []
    yield started
    for bus in started:
        await bus.stop()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: str) -> None:
        self.messages.append(message)

    async def until(self, *expected: str) -> None:
        """Wait until the inbox holds exactly ``expected``, in order."""
        await eventually(lambda: len(self.messages) >= len(expected))
        assert self.messages == list(expected)


# -- LocalBus -----------------------------------------------------------------------


async def test_local_bus_delivers_to_the_channel_subscribers() -> None:
    bus = LocalBus()
    assert isinstance(bus, InvalidationBus)
    sync_inbox, other = Inbox(), Inbox()
    received_async: list[str] = []

    async def async_callback(message: str) -> None:
        await asyncio.sleep(0)
        received_async.append(message)

    bus.subscribe("ch", sync_inbox)
    bus.subscribe("ch", async_callback)
    bus.subscribe("other", other)
    await bus.start()
    await bus.publish("ch", "one")
    await bus.publish("ch", "two")
    assert sync_inbox.messages == ["one", "two"]
    assert received_async == ["one", "two"]  # awaited before publish returned
    assert other.messages == []
    await bus.publish("nobody-listens", "x")
    await bus.stop()


async def test_local_bus_isolates_failing_subscribers(caplog: pytest.LogCaptureFixture) -> None:
    bus = LocalBus()
    inbox = Inbox()

    def failing(message: str) -> None:
        raise RuntimeError(f"cannot handle {message}")

    bus.subscribe("ch", failing)
    bus.subscribe("ch", inbox)
    await bus.publish("ch", "one")
    await bus.publish("ch", "two")
    assert inbox.messages == ["one", "two"]
    assert bus.errors == 2
    assert "cannot handle one" in caplog.text


# -- RedisBus -----------------------------------------------------------------------


async def test_redis_bus_reaches_every_process_once(
    clients: Callable[..., redis.asyncio.Redis], buses: list[RedisBus], prefix: str
) -> None:
    one, two = RedisBus(clients(), prefix), RedisBus(clients(), prefix)
    assert isinstance(one, InvalidationBus)
    inbox_one, inbox_two, unrelated = Inbox(), Inbox(), Inbox()
    one.subscribe("ch", inbox_one)
    two.subscribe("ch", inbox_two)
    two.subscribe("other", unrelated)
    for bus in (one, two):
        buses.append(bus)
        await bus.start()
    await one.publish("ch", "from one")
    await two.publish("ch", "from two")
    # The publisher hears its own message, through Redis, exactly once; order is kept.
    await inbox_one.until("from one", "from two")
    await inbox_two.until("from one", "from two")
    await two.publish("other", "elsewhere")
    await unrelated.until("elsewhere")
    assert inbox_one.messages == inbox_two.messages == ["from one", "from two"]


async def test_redis_bus_uses_prefixed_channels(
    clients: Callable[..., redis.asyncio.Redis], buses: list[RedisBus], prefix: str
) -> None:
    bus, stranger = RedisBus(clients(), prefix), RedisBus(clients(), f"{prefix}-other")
    inbox, stranger_inbox = Inbox(), Inbox()
    bus.subscribe("ch", inbox)
    stranger.subscribe("ch", stranger_inbox)
    for each in (bus, stranger):
        buses.append(each)
        await each.start()
    raw = clients()
    # Plain PUBLISH on "{prefix}:ch" is what the bus delivers as channel "ch".
    assert await raw.publish(f"{prefix}:ch", "raw") >= 1
    await stranger.publish("ch", "for the stranger")
    await inbox.until("raw")
    await stranger_inbox.until("for the stranger")


async def test_redis_bus_subscribing_after_start_misses_nothing(
    clients: Callable[..., redis.asyncio.Redis], buses: list[RedisBus], prefix: str
) -> None:
    bus = RedisBus(clients(), prefix)
    buses.append(bus)
    await bus.start()
    inbox = Inbox()
    bus.subscribe("late", inbox)  # no round trip needed: published right after, delivered
    await RedisBus(clients(), prefix).publish("late", "hello")
    await inbox.until("hello")


async def test_redis_bus_survives_failing_callbacks(
    clients: Callable[..., redis.asyncio.Redis],
    buses: list[RedisBus],
    prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = RedisBus(clients(), prefix)
    inbox = Inbox()

    async def picky(message: str) -> None:
        if message.startswith("bad"):
            raise ValueError(f"rejecting {message}")

    bus.subscribe("ch", picky)
    bus.subscribe("ch", inbox)
    buses.append(bus)
    await bus.start()
    for message in ("bad-1", "good", "bad-2", "last"):
        await bus.publish("ch", message)
    await inbox.until("bad-1", "good", "bad-2", "last")
    assert bus.errors == 2
    assert bus.running
    assert "rejecting bad-1" in caplog.text


async def test_redis_bus_stop_is_clean(
    clients: Callable[..., redis.asyncio.Redis], prefix: str, redis_url: str
) -> None:
    client, admin = clients(), clients()
    bus = RedisBus(client, prefix)
    inbox = Inbox()
    bus.subscribe("ch", inbox)
    await bus.start()
    await bus.start()  # idempotent: still one reader
    readers = [task for task in asyncio.all_tasks() if task.get_name().startswith("rustok-redis-bus")]
    assert len([task for task in readers if prefix in task.get_name()]) == 1
    assert await subscription_ids(admin, prefix)

    await bus.stop()
    assert not bus.running
    assert not [task for task in asyncio.all_tasks() if prefix in task.get_name()]
    assert all(task.done() for task in readers if prefix in task.get_name())
    assert await subscription_ids(admin, prefix) == []  # the pub/sub connection is gone
    await bus.stop()  # idempotent

    # A stopped bus can start again.
    await bus.start()
    await bus.publish("ch", "again")
    await inbox.until("again")
    await bus.stop()


async def subscription_ids(admin: redis.asyncio.Redis, prefix: str) -> list[int]:
    """Ids of the pub/sub connections opened by this test's clients."""
    clients = await admin.client_list(_type="pubsub")
    return [int(info["id"]) for info in clients if info.get("name", "").startswith(prefix)]


@pytest.mark.parametrize("client_retries", ["redis-py retries", "no retries"])
async def test_redis_bus_comes_back_after_its_connection_is_killed(
    clients: Callable[..., redis.asyncio.Redis],
    buses: list[RedisBus],
    prefix: str,
    client_retries: str,
) -> None:
    # With redis-py's own retries the client reconnects and resubscribes by itself; with
    # none, the bus's reader does it. Either way messages flow again and the bus says so.
    options = {} if client_retries == "redis-py retries" else {"retry": Retry(NoBackoff(), 0)}
    bus = RedisBus(clients(**options), prefix, backoff_initial=0.01)
    admin, publisher = clients(), clients()
    inbox = Inbox()
    reconnected: list[int] = []
    bus.subscribe("ch", inbox)
    bus.on_reconnect(lambda: reconnected.append(bus.reconnects))
    buses.append(bus)
    await bus.start()
    await publisher.publish(f"{prefix}:ch", "before")
    await inbox.until("before")

    [connection_id] = await subscription_ids(admin, prefix)
    assert await admin.client_kill_filter(_id=connection_id) == 1

    # Messages published while the subscription is down are lost (pub/sub is
    # at-most-once); probe until one gets through, then check the flow is normal.
    probes = 0
    while "probe" not in inbox.messages[-1:]:
        probes += 1
        assert probes < 500, "the bus never came back"
        await bus.publish("ch", "probe")
        await asyncio.sleep(0.02)
    inbox.messages.clear()
    await bus.publish("ch", "after")
    await inbox.until("after")
    assert bus.running
    assert bus.reconnects >= 1
    assert reconnected and reconnected[0] == 1
    assert await subscription_ids(admin, prefix) != [connection_id]


class TcpProxy:
    """A TCP relay to Redis that can be switched off (dropping every connection) and on."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._transports: list[asyncio.WriteTransport] = []
        self._pipes: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for transport in self._transports:
            transport.abort()
        self._transports.clear()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._transports += [client_writer.transport, upstream_writer.transport]
        pipes = {
            asyncio.create_task(self._pipe(client_reader, upstream_writer)),
            asyncio.create_task(self._pipe(upstream_reader, client_writer)),
        }
        self._pipes |= pipes
        await asyncio.gather(*pipes)
        self._pipes -= pipes

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.transport.abort()


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(redis_url)
    relay = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await relay.start()
    yield relay
    if relay._server is not None and relay._server.is_serving():
        await relay.stop()


def through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
    return parts._replace(netloc=netloc).geturl()


async def test_redis_bus_rides_out_an_outage(
    clients: Callable[..., redis.asyncio.Redis],
    buses: list[RedisBus],
    prefix: str,
    redis_url: str,
    proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="rustok_core.cache.bus")
    proxied = through(redis_url, proxy.port)
    bus = RedisBus(clients(proxied), prefix, backoff_initial=0.02, backoff_max=0.1)
    publisher_via_proxy = clients(proxied, retry=Retry(NoBackoff(), 0))
    direct = clients()
    inbox = Inbox()
    bus.subscribe("ch", inbox)
    buses.append(bus)
    await bus.start()
    await bus.publish("ch", "before")
    await inbox.until("before")

    await proxy.stop()

    def lost_warnings() -> int:
        return sum("lost its Redis subscription" in record.getMessage() for record in caplog.records)

    # The reader notices, warns, and keeps retrying (several warnings, still running).
    await eventually(lambda: lost_warnings() >= 3)
    assert bus.running
    # Publishing is the caller's business: the connection error reaches it.
    with pytest.raises(RedisConnectionError):
        await publisher_via_proxy.publish(f"{prefix}:ch", "lost")

    await proxy.start()  # same port
    probes = 0
    while "probe" not in inbox.messages[-1:]:
        probes += 1
        assert probes < 500, "the bus never came back"
        await direct.publish(f"{prefix}:ch", "probe")
        await asyncio.sleep(0.02)
    inbox.messages.clear()
    await direct.publish(f"{prefix}:ch", "after")
    await inbox.until("after")
    assert bus.reconnects >= 1
    assert bus.errors == 0
    assert bus.running


async def test_redis_bus_start_fails_loudly_without_redis(clients: Callable[..., redis.asyncio.Redis]) -> None:
    bus = RedisBus(clients("redis://127.0.0.1:1/0", retry=Retry(NoBackoff(), 0)))
    with pytest.raises(RedisConnectionError):
        await bus.start()
    assert not bus.running
    await bus.stop()
