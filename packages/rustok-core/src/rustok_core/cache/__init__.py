"""Caching: per-process and shared stores, invalidation between processes, cached lookups.

The usual assembly, per process::

    client = redis_client(url)
    bus = RedisBus(client)
    cache = TieredCache(MemoryCache(), RedisCache(client), bus)
    await cache.start()
    tenants = ReadThrough(cache, "tenant", ttl=300, negative_ttl=30, encode=..., decode=...)

Without Redis: ``TieredCache(MemoryCache(), None, LocalBus())``.
"""

from rustok_core.cache.backends import CacheBackend, MemoryCache, RedisCache, redis_client
from rustok_core.cache.bus import InvalidationBus, LocalBus, RedisBus
from rustok_core.cache.lookup import ReadThrough
from rustok_core.cache.singleflight import SingleFlight
from rustok_core.cache.tiered import DEFAULT_SHARED_L1_TTL, TieredCache

__all__ = [
    "DEFAULT_SHARED_L1_TTL",
    "CacheBackend",
    "InvalidationBus",
    "LocalBus",
    "MemoryCache",
    "ReadThrough",
    "RedisBus",
    "RedisCache",
    "SingleFlight",
    "TieredCache",
    "redis_client",
]
