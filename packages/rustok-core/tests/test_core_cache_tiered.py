"""TieredCache: per-process L1 in front of a shared Redis L2, kept coherent by the bus.

"Processes" are TieredCache objects with their own L1, Redis client and RedisBus,
sharing one key prefix, exactly as two server processes would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from uuid import uuid4

import pytest
import redis.asyncio

from rustok_core.cache import (
    DEFAULT_SHARED_L1_TTL,
    LocalBus,
    MemoryCache,
    RedisBus,
    RedisCache,
    TieredCache,
    redis_client,
)
from rustok_testing.services import require_service


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@dataclass
class Process:
    cache: TieredCache
    clock: FakeClock
    client: redis.asyncio.Redis
    bus: RedisBus


@pytest.fixture
def redis_url() -> str:
    return require_service("Redis", "REDIS_URL", 6379)


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid4().hex}"


@pytest.fixture
async def spawn(redis_url: str, prefix: str) -> AsyncIterator[Callable[..., Process]]:
    """Make "processes" sharing Redis under ``prefix``; call ``await p.cache.start()``."""
    made: list[Process] = []

    def make(**options: float) -> Process:
        client = redis.asyncio.Redis.from_url(redis_url, client_name=f"{prefix}:{len(made)}")
        clock = FakeClock()
        bus = RedisBus(client, prefix, backoff_initial=0.01)
        cache = TieredCache(MemoryCache(clock=clock), RedisCache(client, prefix), bus, **options)
        made.append(Process(cache, clock, client, bus))
        return made[-1]

    yield make
    for process in made:
        await process.bus.stop()
    if made:
        keys = [key async for key in made[0].client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await made[0].client.delete(*keys)
    for process in made:
        await process.client.aclose()


async def started(process: Process) -> Process:
    await process.cache.start()
    return process


# -- without L2 ---------------------------------------------------------------------


async def test_memory_only_cache_keeps_entries_for_their_ttl() -> None:
    clock = FakeClock()
    bus = LocalBus()
    cache = TieredCache(MemoryCache(clock=clock), None, bus)
    await cache.start()
    assert not cache.shared
    await cache.set("k", b"v", 300)
    assert await cache.get("k") == b"v"
    clock.advance(299)  # the L1 is the only store: no short cap
    assert cache.get_local("k") == b"v"
    clock.advance(2)
    assert await cache.get("k") is None

    await cache.set("k", b"v", 300)
    await cache.invalidate("k")
    assert await cache.get("k") is None

    assert await cache.incr("n") == 1
    assert await cache.incr("n", 2) == 3
    assert await cache.get_counter("n") == 3


async def test_l1_ttl_caps_entries_even_without_l2() -> None:
    clock = FakeClock()
    cache = TieredCache(MemoryCache(clock=clock), None, LocalBus(), l1_ttl=10)
    await cache.set("k", b"v", 300)
    clock.advance(10.01)
    assert await cache.get("k") is None


async def test_invalidations_on_a_local_bus_reach_other_caches_sharing_it() -> None:
    bus = LocalBus()
    l2 = MemoryCache()  # any CacheBackend can be the shared store
    one = TieredCache(MemoryCache(), l2, bus)
    two = TieredCache(MemoryCache(), l2, bus)
    for cache in (one, two):
        await cache.start()
    await one.set("k", b"v", 60)
    assert await two.get("k") == b"v"
    assert two.get_local("k") == b"v"
    await one.invalidate("k")
    assert two.get_local("k") is None  # LocalBus delivers before publish returns
    assert bus.errors == 0


# -- shared through Redis -----------------------------------------------------------


async def test_invalidation_reaches_the_other_process(spawn: Callable[..., Process], prefix: str) -> None:
    one, two = await started(spawn()), await started(spawn())
    assert one.cache.shared and two.cache.shared
    await one.cache.set("tenant:acme", b"v1", 300)
    assert await one.client.get(f"{prefix}:tenant:acme") == b"v1"  # in L2
    assert two.cache.get_local("tenant:acme") is None
    assert await two.cache.get("tenant:acme") == b"v1"  # from L2 ...
    assert two.cache.get_local("tenant:acme") == b"v1"  # ... now also in two's L1

    await one.cache.invalidate("tenant:acme", "tenant:other")
    assert one.cache.get_local("tenant:acme") is None  # own L1: at once
    assert await one.client.get(f"{prefix}:tenant:acme") is None  # L2: at once
    await eventually(lambda: two.cache.get_local("tenant:acme") is None)  # two's L1: via the bus
    assert await two.cache.get("tenant:acme") is None
    assert one.bus.errors == two.bus.errors == 0


async def test_an_l1_copy_of_a_shared_value_lives_briefly(spawn: Callable[..., Process]) -> None:
    """A missed invalidation heals within the L1 TTL (default 5 s)."""
    one, two = await started(spawn()), await started(spawn())
    await one.cache.set("k", b"old", 300)
    assert await two.cache.get("k") == b"old"
    assert one.cache.l2 is not None
    await one.cache.l2.set("k", b"new", 300)  # changed behind the bus's back
    two.clock.advance(DEFAULT_SHARED_L1_TTL - 0.01)
    assert await two.cache.get("k") == b"old"
    two.clock.advance(0.02)
    assert await two.cache.get("k") == b"new"
    # The writer's own L1 copy is capped the same way, despite the 300 s TTL.
    one.clock.advance(DEFAULT_SHARED_L1_TTL + 0.01)
    assert await one.cache.get("k") == b"new"


async def test_l1_ttl_option(spawn: Callable[..., Process]) -> None:
    one, two = await started(spawn(l1_ttl=1)), await started(spawn(l1_ttl=1))
    await one.cache.set("k", b"old", 300)
    assert await two.cache.get("k") == b"old"
    assert one.cache.l2 is not None
    await one.cache.l2.set("k", b"new", 300)
    two.clock.advance(0.99)
    assert await two.cache.get("k") == b"old"
    two.clock.advance(0.02)
    assert await two.cache.get("k") == b"new"


async def test_a_short_ttl_is_not_extended_by_the_l1(spawn: Callable[..., Process]) -> None:
    one = await started(spawn())
    await one.cache.set("k", b"v", 1)
    one.clock.advance(1.01)
    assert one.cache.get_local("k") is None


async def test_counters_are_cluster_wide(spawn: Callable[..., Process], prefix: str) -> None:
    one, two = spawn(), spawn()
    assert await one.cache.incr("hits") == 1
    assert await two.cache.incr("hits", 4) == 5
    assert await one.cache.get_counter("hits") == await two.cache.get_counter("hits") == 5
    assert one.cache.get_local("hits") is None  # not in the L1
    assert await one.client.get(f"{prefix}:hits") == b"5"


async def test_reconnect_drops_the_l1(spawn: Callable[..., Process], prefix: str, redis_url: str) -> None:
    """Invalidations sent while the bus was away are lost, so the L1 starts afresh."""
    two = await started(spawn())
    await two.cache.set("k", b"v", 300)
    assert two.cache.get_local("k") == b"v"
    admin = redis_client(redis_url)
    try:
        subscriptions = await admin.client_list(_type="pubsub")
        [connection_id] = [int(c["id"]) for c in subscriptions if c.get("name", "").startswith(prefix)]
        await admin.client_kill_filter(_id=connection_id)
    finally:
        await admin.aclose()
    await eventually(lambda: two.bus.reconnects >= 1)
    assert two.cache.get_local("k") is None
    assert await two.cache.get("k") == b"v"  # still in L2


async def test_malformed_messages_do_not_break_invalidation(spawn: Callable[..., Process]) -> None:
    one, two = await started(spawn()), await started(spawn())
    await one.bus.publish("cache-invalidate", "not json")
    await one.bus.publish("cache-invalidate", '{"not": "a list"}')
    await one.cache.set("k", b"v", 300)
    assert await two.cache.get("k") == b"v"
    await one.cache.invalidate("k")
    await eventually(lambda: two.cache.get_local("k") is None)
    assert two.bus.errors == 2


class GatedStore(MemoryCache):
    """A shared store whose reads wait for a gate: lets a test interleave events."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.reading = asyncio.Event()

    async def get(self, key: str) -> bytes | None:
        value = self.get_nowait(key)
        self.reading.set()
        await self.gate.wait()
        return value


async def test_a_read_racing_an_invalidation_does_not_fill_the_l1() -> None:
    bus = LocalBus()
    l2 = GatedStore()
    await l2.set("k", b"old", 300)
    one = TieredCache(MemoryCache(), l2, bus)
    two = TieredCache(MemoryCache(), l2, bus)
    for cache in (one, two):
        await cache.start()
    read = asyncio.create_task(two.get("k"))
    await l2.reading.wait()  # two has read "old" from L2 ...
    await one.invalidate("k")  # ... and the invalidation arrives before it fills its L1
    l2.gate.set()
    assert await read == b"old"  # that read was already under way
    assert two.get_local("k") is None  # but the stale value was not kept
