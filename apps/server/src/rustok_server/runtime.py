"""Process-wide infrastructure built from settings: cache, invalidation bus, rate limiter.

Without ``REDIS_URL`` everything lives in this process. With it, cached entries and
counters are shared (Redis as the second cache level), invalidations reach every
process over Redis pub/sub, and rate limits count for the whole cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from rustok_core.cache import InvalidationBus, LocalBus, MemoryCache, RedisBus, RedisCache, TieredCache, redis_client
from rustok_core.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from rustok_core.settings import Settings


@dataclass
class Runtime:
    cache: TieredCache
    bus: InvalidationBus
    limiter: RateLimiter
    redis: Redis | None = None

    async def start(self) -> None:
        await self.cache.start()

    async def stop(self) -> None:
        await self.bus.stop()
        if self.redis is not None:
            await self.redis.aclose()


def build_runtime(settings: Settings) -> Runtime:
    config = settings.cache
    l1 = MemoryCache(max_entries=config.l1_max_entries)
    if config.redis_url:
        client = redis_client(config.redis_url)
        bus: InvalidationBus = RedisBus(client, prefix=config.key_prefix)
        cache = TieredCache(l1, RedisCache(client, prefix=config.key_prefix), bus, l1_ttl=config.l1_ttl)
        return Runtime(cache, bus, RedisRateLimiter(client, prefix=config.key_prefix), client)
    bus = LocalBus()
    return Runtime(TieredCache(l1, None, bus), bus, MemoryRateLimiter())
