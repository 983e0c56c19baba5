"""Token-bucket rate limiting, per process (memory) or cluster-wide (Redis).

A bucket holds up to ``capacity`` tokens and starts full; it refills continuously at
``refill_per_second``. A hit takes ``cost`` tokens when the bucket has them and is
refused otherwise, with the time until it would succeed. Buckets are created on first
use and need no configuration: the limits travel with each hit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import redis.asyncio

from rustok_core.errors import RateLimited
from rustok_core.lru import LRU


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one hit.

    ``remaining`` is the whole number of tokens left after it; ``retry_after`` the
    seconds until the refused hit would succeed (0 when allowed).
    """

    allowed: bool
    remaining: int
    retry_after: float

    def raise_if_refused(self) -> None:
        """Raise :class:`~rustok_core.errors.RateLimited` (``RATE_LIMITED``, HTTP 429) if refused."""
        if not self.allowed:
            raise RateLimited(retry_after=self.retry_after)


@runtime_checkable
class RateLimiter(Protocol):
    """Token buckets addressed by key."""

    async def hit(self, key: str, *, capacity: int, refill_per_second: float, cost: int = 1) -> RateDecision:
        """Take ``cost`` tokens from the bucket ``key`` if it has them."""
        ...


def per_minute(requests_per_minute: int, burst: int) -> tuple[int, float]:
    """``(capacity, refill_per_second)`` for "``requests_per_minute``, bursts up to ``burst``"."""
    return burst, requests_per_minute / 60


# Refill arithmetic is floating point: 0.999999999 tokens count as 1.
_EPSILON = 1e-9


def _check(capacity: int, refill_per_second: float, cost: int) -> None:
    if capacity < 1:
        raise ValueError(f"capacity must be at least 1, got {capacity}")
    if not refill_per_second > 0:
        raise ValueError(f"refill_per_second must be positive, got {refill_per_second}")
    if not 0 <= cost <= capacity:
        # A hit costing more than the bucket holds could never succeed.
        raise ValueError(f"cost must be between 0 and capacity ({capacity}), got {cost}")


class MemoryRateLimiter:
    """Buckets in process memory; beyond ``max_keys`` the least recently used go.

    A dropped bucket comes back full, as if it had been idle long enough to refill.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self._clock = clock
        # key -> (tokens, when they were counted)
        self._buckets: LRU[str, tuple[float, float]] = LRU(max_keys)

    def __len__(self) -> int:
        return len(self._buckets)

    async def hit(self, key: str, *, capacity: int, refill_per_second: float, cost: int = 1) -> RateDecision:
        """Take ``cost`` tokens from the bucket ``key`` if it has them."""
        _check(capacity, refill_per_second, cost)
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            tokens = float(capacity)
        else:
            tokens, then = bucket
            tokens = min(float(capacity), tokens + max(0.0, now - then) * refill_per_second)
        if tokens + _EPSILON >= cost:
            tokens = max(0.0, tokens - cost)
            decision = RateDecision(True, math.floor(tokens + _EPSILON), 0.0)
        else:
            decision = RateDecision(False, math.floor(tokens + _EPSILON), (cost - tokens) / refill_per_second)
        self._buckets.put(key, (tokens, now))
        return decision


# KEYS[1] bucket; ARGV capacity, refill per second, cost. The clock is the server's
# (TIME), so every process agrees. The hash expires when it would be full again: an
# idle bucket is the same as no bucket.
_HIT_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
    tokens = capacity
else
    tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate / 1000000)
end
local allowed = 0
local retry_after = 0
if tokens + 1e-9 >= cost then
    tokens = math.max(0, tokens - cost)
    allowed = 1
else
    retry_after = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((capacity - tokens) / rate * 1000)))
return {allowed, string.format('%.17g', tokens), string.format('%.17g', retry_after)}
"""


class RedisRateLimiter:
    """Buckets in Redis (hash ``{prefix}:ratelimit:{key}``), shared by every process.

    Each hit is one atomic script run. The client belongs to the caller.
    """

    def __init__(self, client: redis.asyncio.Redis, prefix: str = "rustok") -> None:
        self._client = client
        self._prefix = f"{prefix}:ratelimit:"
        self._script = client.register_script(_HIT_SCRIPT)

    def key(self, key: str) -> str:
        """The Redis key of the bucket ``key``."""
        return self._prefix + key

    async def hit(self, key: str, *, capacity: int, refill_per_second: float, cost: int = 1) -> RateDecision:
        """Take ``cost`` tokens from the bucket ``key`` if it has them."""
        _check(capacity, refill_per_second, cost)
        allowed, tokens, retry_after = await self._script(
            keys=[self._prefix + key], args=[capacity, repr(float(refill_per_second)), cost]
        )
        return RateDecision(bool(allowed), math.floor(float(tokens) + _EPSILON), float(retry_after))
