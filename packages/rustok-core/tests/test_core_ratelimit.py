"""Token-bucket rate limiters: one contract for memory and Redis, then specifics.

The memory limiter runs on a fake clock. The Redis one uses the server's clock, so
its refill tests let real time pass (tens of milliseconds, with fast refill rates).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from uuid import uuid4

import pytest
import redis.asyncio

from rustok_core.cache import redis_client
from rustok_core.errors import ErrorCode, RateLimited
from rustok_core.ratelimit import (
    MemoryRateLimiter,
    RateDecision,
    RateLimiter,
    RedisRateLimiter,
    per_minute,
)
from rustok_testing.services import require_service


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Subject:
    limiter: RateLimiter
    advance: Callable[[float], Awaitable[None]]
    # Real time passes between two calls to Redis; the fake clock stands still.
    tolerance: float


async def _drop_prefix(client: redis.asyncio.Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    if request.param == "memory":
        clock = FakeClock()
        yield Subject(MemoryRateLimiter(clock=clock), clock.advance, tolerance=1e-9)
        return
    client = redis_client(require_service("Redis", "REDIS_URL", 6379))
    prefix = f"test:{uuid4().hex}"
    try:
        yield Subject(RedisRateLimiter(client, prefix), asyncio.sleep, tolerance=0.05)
    finally:
        await _drop_prefix(client, prefix)
        await client.aclose()


@pytest.fixture
def redis_url() -> str:
    return require_service("Redis", "REDIS_URL", 6379)


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


# -- the contract -------------------------------------------------------------------


async def test_a_burst_is_allowed_then_refused(subject: Subject) -> None:
    limiter = subject.limiter
    assert isinstance(limiter, RateLimiter)
    decisions = [await limiter.hit("k", capacity=5, refill_per_second=1) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True] * 5
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0]
    assert all(d.retry_after == 0 for d in decisions)
    refused = await limiter.hit("k", capacity=5, refill_per_second=1)
    assert not refused.allowed
    assert refused.remaining == 0
    # One token takes 1 s at 1 token/s; a little of it may already have refilled.
    assert 1.0 - subject.tolerance <= refused.retry_after <= 1.0


async def test_tokens_refill_over_time(subject: Subject) -> None:
    limiter = subject.limiter
    capacity, rate = 2, 20.0  # one token every 50 ms
    for _ in range(capacity):
        assert (await limiter.hit("k", capacity=capacity, refill_per_second=rate)).allowed
    refused = await limiter.hit("k", capacity=capacity, refill_per_second=rate)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.05, abs=subject.tolerance)
    await subject.advance(refused.retry_after + 0.005)
    again = await limiter.hit("k", capacity=capacity, refill_per_second=rate)
    assert again.allowed and again.remaining == 0
    assert not (await limiter.hit("k", capacity=capacity, refill_per_second=rate)).allowed


async def test_a_bucket_never_holds_more_than_its_capacity(subject: Subject) -> None:
    limiter = subject.limiter
    assert (await limiter.hit("k", capacity=3, refill_per_second=10)).remaining == 2
    await subject.advance(0.4)  # 2 + 4 tokens without the cap
    decisions = [await limiter.hit("k", capacity=3, refill_per_second=10) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]


async def test_refused_hits_take_nothing(subject: Subject) -> None:
    limiter = subject.limiter
    assert (await limiter.hit("k", capacity=1, refill_per_second=20)).allowed
    for _ in range(3):
        assert not (await limiter.hit("k", capacity=1, refill_per_second=20)).allowed
    await subject.advance(0.06)
    assert (await limiter.hit("k", capacity=1, refill_per_second=20)).allowed


async def test_keys_are_independent(subject: Subject) -> None:
    limiter = subject.limiter
    assert (await limiter.hit("user:a", capacity=1, refill_per_second=0.01)).allowed
    assert not (await limiter.hit("user:a", capacity=1, refill_per_second=0.01)).allowed
    b = await limiter.hit("user:b", capacity=1, refill_per_second=0.01)
    assert b.allowed and b.remaining == 0


async def test_cost_takes_several_tokens(subject: Subject) -> None:
    limiter = subject.limiter
    first = await limiter.hit("k", capacity=10, refill_per_second=0.5, cost=4)
    second = await limiter.hit("k", capacity=10, refill_per_second=0.5, cost=4)
    assert (first.allowed, first.remaining) == (True, 6)
    assert (second.allowed, second.remaining) == (True, 2)
    refused = await limiter.hit("k", capacity=10, refill_per_second=0.5, cost=4)
    assert not refused.allowed and refused.remaining == 2
    assert refused.retry_after == pytest.approx((4 - 2) / 0.5, abs=subject.tolerance)
    # A cheaper hit still fits.
    assert (await limiter.hit("k", capacity=10, refill_per_second=0.5, cost=2)).allowed


async def test_impossible_limits_are_rejected(subject: Subject) -> None:
    limiter = subject.limiter
    with pytest.raises(ValueError):
        await limiter.hit("k", capacity=2, refill_per_second=1, cost=3)
    with pytest.raises(ValueError):
        await limiter.hit("k", capacity=0, refill_per_second=1)
    with pytest.raises(ValueError):
        await limiter.hit("k", capacity=1, refill_per_second=0)


# -- decisions and helpers ----------------------------------------------------------


def test_per_minute() -> None:
    assert per_minute(120, 10) == (10, 2.0)
    capacity, rate = per_minute(30, 5)
    assert capacity == 5 and rate == pytest.approx(0.5)


def test_a_refused_decision_raises_rate_limited() -> None:
    RateDecision(True, 3, 0.0).raise_if_refused()
    with pytest.raises(RateLimited) as caught:
        RateDecision(False, 0, 1.5).raise_if_refused()
    assert caught.value.code is ErrorCode.RATE_LIMITED
    assert caught.value.http_status == 429
    assert caught.value.details == {"retryAfter": 1.5}


# -- memory -------------------------------------------------------------------------


async def test_memory_prunes_the_least_recently_used_buckets() -> None:
    limiter = MemoryRateLimiter(clock=FakeClock(), max_keys=2)
    limits = {"capacity": 3, "refill_per_second": 0.001}
    await limiter.hit("a", **limits)
    await limiter.hit("b", **limits)
    await limiter.hit("a", **limits)  # a is now more recent than b
    await limiter.hit("c", **limits)  # b goes
    assert len(limiter) == 2
    assert (await limiter.hit("a", **limits)).remaining == 0  # a kept its state
    assert (await limiter.hit("b", **limits)).remaining == 2  # b starts full again


# -- redis --------------------------------------------------------------------------


async def test_redis_bucket_expires_when_it_would_be_full(client: redis.asyncio.Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(client, prefix)
    await limiter.hit("k", capacity=10, refill_per_second=2, cost=3)
    key = limiter.key("k")
    assert key == f"{prefix}:ratelimit:k"
    assert await client.hgetall(key)  # tokens and timestamp
    assert 0 < await client.pttl(key) <= 1500  # 3 tokens at 2/s refill in 1.5 s

    # An idle bucket vanishes (and reads as full).
    await limiter.hit("fast", capacity=2, refill_per_second=50)
    assert 0 < await client.pttl(limiter.key("fast")) <= 20
    deadline = time.monotonic() + 5
    while await client.exists(limiter.key("fast")):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.005)
    assert (await limiter.hit("fast", capacity=2, refill_per_second=50)).remaining == 1


async def test_redis_buckets_are_shared_between_processes(
    redis_url: str, client: redis.asyncio.Redis, prefix: str
) -> None:
    other_client = redis_client(redis_url)
    try:
        one, two = RedisRateLimiter(client, prefix), RedisRateLimiter(other_client, prefix)
        limits = {"capacity": 4, "refill_per_second": 0.001}
        assert (await one.hit("ip:1.2.3.4", **limits)).allowed
        assert (await two.hit("ip:1.2.3.4", **limits, cost=2)).remaining == 1
        assert (await one.hit("ip:1.2.3.4", **limits)).remaining == 0
        assert not (await two.hit("ip:1.2.3.4", **limits)).allowed
    finally:
        await other_client.aclose()


async def test_redis_hits_are_atomic(client: redis.asyncio.Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(client, prefix)
    decisions = await asyncio.gather(*(limiter.hit("k", capacity=20, refill_per_second=0.001) for _ in range(60)))
    assert sum(d.allowed for d in decisions) == 20
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(20))
