"""The cache backends: one contract for memory and Redis, then what is specific to each.

Redis is real (``REDIS_URL``); every test uses its own key prefix and deletes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from uuid import uuid4

import pytest
import redis.asyncio

from rustok_core.cache import CacheBackend, MemoryCache, RedisCache, redis_client
from rustok_testing.services import require_service


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def redis_url() -> str:
    return require_service("Redis", "REDIS_URL", 6379)


async def _drop_prefix(client: redis.asyncio.Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis_client(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(client: redis.asyncio.Redis) -> AsyncIterator[str]:
    prefix = f"test:{uuid4().hex}"
    yield prefix
    await _drop_prefix(client, prefix)


@dataclass
class Store:
    backend: CacheBackend
    # Lets time pass: a fake clock for memory, real time for Redis (its TTLs are server-side).
    advance: Callable[[float], Awaitable[None]]


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        clock = FakeClock()
        yield Store(MemoryCache(clock=clock), clock.advance)
        return
    client = redis_client(require_service("Redis", "REDIS_URL", 6379))
    prefix = f"test:{uuid4().hex}"
    try:
        yield Store(RedisCache(client, prefix), asyncio.sleep)
    finally:
        await _drop_prefix(client, prefix)
        await client.aclose()


# -- the contract -------------------------------------------------------------------


async def test_set_get_and_overwrite(store: Store) -> None:
    cache = store.backend
    assert isinstance(cache, CacheBackend)
    assert await cache.get("missing") is None
    await cache.set("k", b"\x00binary\xff", 60)
    assert await cache.get("k") == b"\x00binary\xff"
    await cache.set("k", b"second", 60)
    assert await cache.get("k") == b"second"
    await cache.set("empty", b"", 60)
    assert await cache.get("empty") == b""


async def test_ttl_is_per_entry(store: Store) -> None:
    cache = store.backend
    await cache.set("short", b"s", 0.2)
    await cache.set("long", b"l", 300)
    assert await cache.get("short") == b"s"
    await store.advance(0.3)
    assert await cache.get("short") is None
    assert await cache.get("long") == b"l"


async def test_overwrite_replaces_the_ttl(store: Store) -> None:
    cache = store.backend
    await cache.set("k", b"v1", 0.2)
    await cache.set("k", b"v2", 300)
    await store.advance(0.3)
    assert await cache.get("k") == b"v2"


async def test_delete_several_keys(store: Store) -> None:
    cache = store.backend
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode(), 60)
    await cache.delete("a", "b", "never-set")
    assert await cache.get("a") is None
    assert await cache.get("b") is None
    assert await cache.get("c") == b"c"
    await cache.delete()  # nothing to do, no error
    assert await cache.get("c") == b"c"


async def test_counters(store: Store) -> None:
    cache = store.backend
    assert await cache.get_counter("n") == 0
    assert await cache.incr("n") == 1
    assert await cache.incr("n", 5) == 6
    assert await cache.incr("n", -2) == 4
    assert await cache.get_counter("n") == 4
    assert await cache.get_counter("other") == 0
    await cache.delete("n")
    assert await cache.get_counter("n") == 0


async def test_counter_ttl_is_set_only_on_creation(store: Store) -> None:
    cache = store.backend
    assert await cache.incr("n", ttl=0.2) == 1
    # Later increments neither extend nor remove the expiry set at creation.
    assert await cache.incr("n", ttl=300) == 2
    assert await cache.incr("n") == 3
    await cache.incr("forever")
    await store.advance(0.3)
    assert await cache.get_counter("n") == 0
    assert await cache.incr("n") == 1  # starts over
    assert await cache.get_counter("forever") == 1


async def test_ttl_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.backend.set("k", b"v", 0)
    with pytest.raises(ValueError):
        await store.backend.incr("n", ttl=-1)


# -- memory -------------------------------------------------------------------------


async def test_memory_evicts_the_least_recently_used() -> None:
    cache = MemoryCache(max_entries=3, clock=FakeClock())
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode(), 60)
    assert await cache.get("a") == b"a"  # a is now more recent than b
    await cache.set("d", b"d", 60)
    assert len(cache) == 3
    assert await cache.get("b") is None
    assert [await cache.get(key) for key in ("a", "c", "d")] == [b"a", b"c", b"d"]
    # Counters live in the same store and count towards the limit.
    await cache.incr("n")
    assert await cache.get("a") is None
    assert await cache.get_counter("n") == 1


async def test_memory_never_returns_expired_entries() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    await cache.set("k", b"v", 1)
    await clock.advance(0.999)
    assert cache.get_nowait("k") == b"v"
    await clock.advance(0.001)
    assert cache.get_nowait("k") is None
    assert len(cache) == 0  # dropped when met
    await cache.incr("n", ttl=1)
    await clock.advance(1)
    assert await cache.get_counter("n") == 0


async def test_memory_clear_and_close() -> None:
    cache = MemoryCache()
    await cache.set("k", b"v", 60)
    await cache.incr("n")
    assert await cache.get("n") == b"1"  # a counter reads as its decimal text, like in Redis
    await cache.close()
    assert len(cache) == 0


# -- redis --------------------------------------------------------------------------


async def test_redis_prefixes_keys_and_sets_px(client: redis.asyncio.Redis, prefix: str) -> None:
    cache = RedisCache(client, prefix)
    await cache.set("k", b"v", 30)
    assert cache.key("k") == f"{prefix}:k"
    assert await client.get(f"{prefix}:k") == b"v"
    assert await client.get("k") is None
    assert 29_000 < await client.pttl(f"{prefix}:k") <= 30_000
    await cache.set("short", b"v", 0.25)
    assert 0 < await client.pttl(f"{prefix}:short") <= 250


async def test_redis_incr_sets_pexpire_only_at_creation(client: redis.asyncio.Redis, prefix: str) -> None:
    cache = RedisCache(client, prefix)
    await cache.incr("n", ttl=10)
    assert 9_000 < await client.pttl(f"{prefix}:n") <= 10_000
    await cache.incr("n", ttl=100)
    assert await client.pttl(f"{prefix}:n") <= 10_000
    await cache.incr("forever", 3)
    assert await client.pttl(f"{prefix}:forever") == -1  # no expiry
    assert await client.get(f"{prefix}:forever") == b"3"


async def test_redis_incr_is_atomic_under_concurrency(client: redis.asyncio.Redis, prefix: str) -> None:
    cache = RedisCache(client, prefix)
    results = await asyncio.gather(*(cache.incr("n", ttl=60) for _ in range(50)))
    assert sorted(results) == list(range(1, 51))
    assert 0 < await client.pttl(f"{prefix}:n") <= 60_000


async def test_redis_is_shared_between_clients(redis_url: str, client: redis.asyncio.Redis, prefix: str) -> None:
    other_client = redis_client(redis_url)
    try:
        one, two = RedisCache(client, prefix), RedisCache(other_client, prefix)
        await one.set("k", b"from one", 60)
        assert await two.get("k") == b"from one"
        await one.incr("n")
        await two.incr("n")
        assert await one.get_counter("n") == 2
        await two.delete("k")
        assert await one.get("k") is None
        # Another prefix is another namespace.
        elsewhere = RedisCache(client, f"{prefix}:elsewhere")
        assert await elsewhere.get("n") is None
    finally:
        await other_client.aclose()


async def test_redis_close_leaves_the_client_open(client: redis.asyncio.Redis, prefix: str) -> None:
    cache = RedisCache(client, prefix)
    await cache.close()
    assert await client.ping()
    await cache.set("k", b"v", 60)
    assert await cache.get("k") == b"v"


async def test_redis_client_returns_bytes(client: redis.asyncio.Redis, prefix: str) -> None:
    await client.set(f"{prefix}:raw", "text")
    assert await client.get(f"{prefix}:raw") == b"text"
