"""ReadThrough: cached lookups with negative caching, stampede control and statistics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from uuid import uuid4

import orjson
import pytest
import redis.asyncio

from rustok_core.cache import (
    CacheBackend,
    LocalBus,
    MemoryCache,
    ReadThrough,
    RedisBus,
    RedisCache,
    TieredCache,
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


class Loader:
    """Counts its calls; returns ``value`` (or raises ``error``) after ``gate`` opens."""

    def __init__(self, value: object = None, error: Exception | None = None) -> None:
        self.value = value
        self.error = error
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self) -> object:
        self.calls += 1
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.value


def json_lookup(cache: TieredCache, name: str = "thing", **ttls: float) -> ReadThrough[object]:
    return ReadThrough(
        cache,
        name,
        ttl=ttls.get("ttl", 60),
        negative_ttl=ttls.get("negative_ttl", 10),
        encode=orjson.dumps,
        decode=orjson.loads,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def local(clock: FakeClock) -> TieredCache:
    cache = TieredCache(MemoryCache(clock=clock), None, LocalBus())
    await cache.start()
    return cache


# -- one process --------------------------------------------------------------------


async def test_a_cold_key_is_loaded_once_for_concurrent_callers(local: TieredCache) -> None:
    lookup = json_lookup(local)
    loader = Loader({"id": 1, "name": "acme"})
    loader.gate.clear()
    callers = [asyncio.create_task(lookup.get("acme", loader)) for _ in range(100)]
    await asyncio.sleep(0)
    loader.gate.set()
    results = await asyncio.gather(*callers)
    assert loader.calls == 1
    assert all(result == {"id": 1, "name": "acme"} for result in results)
    # Cached: later lookups do not load.
    assert await lookup.get("acme", loader) == {"id": 1, "name": "acme"}
    assert loader.calls == 1
    assert await lookup.stats() == {"hit": 1, "miss": 100, "negative": 0}


async def test_values_expire_after_ttl(local: TieredCache, clock: FakeClock) -> None:
    lookup = json_lookup(local, ttl=60)
    loader = Loader("v")
    await lookup.get("k", loader)
    clock.advance(59.9)
    await lookup.get("k", loader)
    assert loader.calls == 1
    clock.advance(0.2)
    await lookup.get("k", loader)
    assert loader.calls == 2


async def test_not_found_is_cached_for_the_negative_ttl(local: TieredCache, clock: FakeClock) -> None:
    lookup = json_lookup(local, ttl=60, negative_ttl=5)
    loader = Loader(None)
    assert await lookup.get("ghost", loader) is None
    assert await lookup.get("ghost", loader) is None
    clock.advance(4.9)
    assert await lookup.get("ghost", loader) is None
    assert loader.calls == 1
    clock.advance(0.2)
    assert await lookup.get("ghost", loader) is None
    assert loader.calls == 2
    assert await lookup.stats() == {"hit": 0, "miss": 2, "negative": 2}

    # Once it exists (and is invalidated), the lookup finds it.
    await lookup.invalidate("ghost")
    assert await lookup.get("ghost", Loader("now here")) == "now here"


async def test_loader_errors_are_not_cached(local: TieredCache) -> None:
    lookup = json_lookup(local)
    failing = Loader(error=ConnectionRefusedError("database down"))
    failing.gate.clear()
    callers = [asyncio.create_task(lookup.get("k", failing)) for _ in range(20)]
    await asyncio.sleep(0)
    failing.gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert failing.calls == 1
    assert all(isinstance(result, ConnectionRefusedError) for result in results)
    assert local.get_local("thing:k") is None  # neither a value nor "not found"
    working = Loader("v")
    assert await lookup.get("k", working) == "v"
    assert working.calls == 1


async def test_any_encoded_value_is_told_apart_from_not_found(local: TieredCache) -> None:
    """Values whose encoding is empty or looks like the marker still read back as values."""
    lookup: ReadThrough[bytes] = ReadThrough(
        local, "raw", ttl=60, negative_ttl=60, encode=lambda value: value, decode=bytes
    )
    for key, value in [("empty", b""), ("zero", b"\x00"), ("one", b"\x01"), ("text", b"abc")]:
        assert await lookup.get(key, Loader(value)) == value
        assert await lookup.get(key, Loader(error=AssertionError("must not load"))) == value
    assert await lookup.get("none", Loader(None)) is None
    assert await lookup.get("none", Loader(b"late")) is None  # cached as not found
    assert await lookup.stats() == {"hit": 4, "miss": 5, "negative": 1}


async def test_keys_are_namespaced_by_name(local: TieredCache) -> None:
    tenants, users = json_lookup(local, "tenant"), json_lookup(local, "user")
    assert await tenants.get("1", Loader("tenant one")) == "tenant one"
    assert await users.get("1", Loader("user one")) == "user one"
    assert local.get_local("tenant:1") is not None
    assert local.get_local("user:1") is not None
    await tenants.invalidate("1")
    assert local.get_local("tenant:1") is None
    assert local.get_local("user:1") is not None
    assert await tenants.stats() == {"hit": 0, "miss": 1, "negative": 0}


class CountingStore:
    """Wraps a real store and counts the calls that reach it."""

    def __init__(self, inner: CacheBackend) -> None:
        self.inner = inner
        self.calls = 0

    async def get(self, key: str) -> bytes | None:
        self.calls += 1
        return await self.inner.get(key)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        self.calls += 1
        await self.inner.set(key, value, ttl)

    async def delete(self, *keys: str) -> None:
        self.calls += 1
        await self.inner.delete(*keys)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        self.calls += 1
        return await self.inner.incr(key, amount, ttl)

    async def get_counter(self, key: str) -> int:
        self.calls += 1
        return await self.inner.get_counter(key)

    async def close(self) -> None:
        await self.inner.close()


async def test_a_warm_l1_hit_does_not_reach_the_shared_store() -> None:
    l2 = CountingStore(MemoryCache())
    cache = TieredCache(MemoryCache(), l2, LocalBus())
    lookup = json_lookup(cache)
    await lookup.get("k", Loader("v"))
    before = l2.calls
    for _ in range(50):
        assert await lookup.get("k", Loader(error=AssertionError("must not load"))) == "v"
    assert l2.calls == before
    # The hits were counted locally and reach the shared counters on the next flush.
    assert await lookup.stats() == {"hit": 50, "miss": 1, "negative": 0}


# -- several processes through Redis ------------------------------------------------


@dataclass
class Process:
    cache: TieredCache
    client: redis.asyncio.Redis
    bus: RedisBus


@pytest.fixture
async def spawn(prefix: str) -> AsyncIterator[Callable[[], Process]]:
    url = require_service("Redis", "REDIS_URL", 6379)
    made: list[Process] = []

    def make() -> Process:
        client = redis.asyncio.Redis.from_url(url)
        bus = RedisBus(client, prefix)
        made.append(Process(TieredCache(MemoryCache(), RedisCache(client, prefix), bus), client, bus))
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


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid4().hex}"


async def test_statistics_are_cluster_wide(spawn: Callable[[], Process], prefix: str) -> None:
    one, two = spawn(), spawn()
    lookup_one, lookup_two = json_lookup(one.cache, "tenant"), json_lookup(two.cache, "tenant")
    loader = Loader({"slug": "acme"})
    assert await lookup_one.get("acme", loader) == {"slug": "acme"}  # miss, loads
    assert await lookup_two.get("acme", loader) == {"slug": "acme"}  # L2 hit
    assert await lookup_two.get("acme", loader) == {"slug": "acme"}  # L1 hit
    assert await lookup_one.get("acme", loader) == {"slug": "acme"}  # L1 hit
    assert await lookup_one.get("ghost", Loader(None)) is None  # miss
    assert await lookup_two.get("ghost", Loader(None)) is None  # negative, from L2
    assert loader.calls == 1
    await lookup_two.flush_stats()
    expected = {"hit": 3, "miss": 2, "negative": 1}
    assert await lookup_one.stats() == expected
    assert await lookup_two.stats() == expected
    assert await one.client.get(f"{prefix}:stats:tenant:hit") == b"3"


async def test_invalidate_reaches_other_processes(spawn: Callable[[], Process]) -> None:
    one, two = spawn(), spawn()
    for process in (one, two):
        await process.cache.start()
    lookup_one, lookup_two = json_lookup(one.cache, "tenant"), json_lookup(two.cache, "tenant")
    assert await lookup_one.get("acme", Loader("v1")) == "v1"
    assert await lookup_two.get("acme", Loader("unused")) == "v1"
    assert two.cache.get_local("tenant:acme") is not None

    await lookup_one.invalidate("acme")
    await eventually(lambda: two.cache.get_local("tenant:acme") is None)
    reload = Loader("v2")
    assert await lookup_two.get("acme", reload) == "v2"
    assert reload.calls == 1
    assert await lookup_one.get("acme", Loader("unused")) == "v2"  # stored in L2 by two


async def test_a_load_overtaken_by_an_invalidation_is_not_cached() -> None:
    """The loader read the old state; the invalidation for the new one arrived meanwhile."""
    bus, l2 = LocalBus(), MemoryCache()
    one, two = TieredCache(MemoryCache(), l2, bus), TieredCache(MemoryCache(), l2, bus)
    for cache in (one, two):
        await cache.start()
    reader, writer = json_lookup(one, "tenant"), json_lookup(two, "tenant")
    stale = Loader("old name")
    stale.gate.clear()
    loading = asyncio.create_task(reader.get("acme", stale))
    await eventually(lambda: stale.calls == 1)
    await writer.invalidate("acme")  # the rename commits and invalidates
    stale.gate.set()
    assert await loading == "old name"  # what the waiting callers asked for
    assert one.get_local("tenant:acme") is None
    assert await l2.get("tenant:acme") is None
    fresh = Loader("new name")
    assert await reader.get("acme", fresh) == "new name"
    assert fresh.calls == 1


# -- reusing decoded values ---------------------------------------------------------


class CountingDecoder:
    """``orjson.loads`` that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, raw: bytes) -> object:
        self.calls += 1
        return orjson.loads(raw)


def reusing_lookup(cache: TieredCache, decode: CountingDecoder, name: str = "tenant") -> ReadThrough[object]:
    return ReadThrough(cache, name, ttl=60, negative_ttl=10, encode=orjson.dumps, decode=decode, reuse_decoded=True)


async def test_warm_hits_share_one_decoded_value_only_when_asked(local: TieredCache) -> None:
    decode = CountingDecoder()
    reusing = reusing_lookup(local, decode)
    first = await reusing.get("acme", Loader({"name": "Acme"}))
    hits = [await reusing.get("acme", Loader(error=AssertionError("must not load"))) for _ in range(5)]
    assert all(hit is hits[0] for hit in hits)
    assert hits[0] == first == {"name": "Acme"}
    assert decode.calls == 1  # the loaded value is returned as loaded; the first hit decodes

    plain = json_lookup(local, "plain")
    await plain.get("acme", Loader({"name": "Acme"}))
    one, two = await plain.get("acme", Loader()), await plain.get("acme", Loader())
    assert one == two and one is not two


async def test_a_reused_value_never_outlives_its_entry(local: TieredCache, clock: FakeClock) -> None:
    decode = CountingDecoder()
    lookup = reusing_lookup(local, decode)
    await lookup.get("acme", Loader({"name": "v1"}))
    assert await lookup.get("acme", Loader()) == {"name": "v1"}

    # Invalidated here, then loaded again.
    await lookup.invalidate("acme")
    await lookup.get("acme", Loader({"name": "v2"}))
    assert await lookup.get("acme", Loader()) == {"name": "v2"}

    # Replaced in the cache without this lookup hearing of it (another writer, a refill).
    await local.set("tenant:acme", b"\x01" + orjson.dumps({"name": "v3"}), 60)
    assert await lookup.get("acme", Loader()) == {"name": "v3"}

    # Dropped from the L1 behind its back (another process's invalidation), then "not found".
    await local.l1.delete("tenant:acme")
    assert await lookup.get("acme", Loader(None)) is None
    assert await lookup.get("acme", Loader()) is None

    # Expired, then loaded again with the very same content: still decoded afresh.
    clock.advance(11)
    await lookup.get("acme", Loader({"name": "v3"}))
    calls = decode.calls
    assert await lookup.get("acme", Loader()) == {"name": "v3"}
    assert decode.calls == calls + 1


async def test_an_invalidation_from_another_process_is_seen_by_a_reusing_lookup() -> None:
    bus, l2 = LocalBus(), MemoryCache()
    one, two = TieredCache(MemoryCache(), l2, bus), TieredCache(MemoryCache(), l2, bus)
    for cache in (one, two):
        await cache.start()
    reader, writer = reusing_lookup(one, CountingDecoder()), json_lookup(two, "tenant")
    await reader.get("acme", Loader({"name": "old"}))
    assert await reader.get("acme", Loader()) == {"name": "old"}  # decoded and kept
    await writer.invalidate("acme")
    assert await reader.get("acme", Loader({"name": "new"})) == {"name": "new"}
    assert await reader.get("acme", Loader()) == {"name": "new"}


async def test_reused_values_are_bounded(local: TieredCache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rustok_core.cache.lookup.DECODED_MEMO_SIZE", 2)
    decode = CountingDecoder()
    lookup = reusing_lookup(local, decode)
    for key in ("a", "b", "c"):
        await lookup.get(key, Loader(key))
        await lookup.get(key, Loader())  # decoded and kept; "c" pushes "a" out
    calls = decode.calls
    assert await lookup.get("c", Loader()) == "c"
    assert decode.calls == calls
    assert await lookup.get("a", Loader()) == "a"
    assert decode.calls == calls + 1
