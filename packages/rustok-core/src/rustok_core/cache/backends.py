"""Key/value stores with per-entry TTL and counters: in process memory, or Redis.

:class:`MemoryCache` is the L1 of every process (and the only store when no Redis is
configured); :class:`RedisCache` is the shared L2. Both satisfy :class:`CacheBackend`.
Values are bytes: callers encode. TTLs are seconds and must be positive.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import redis.asyncio


@runtime_checkable
class CacheBackend(Protocol):
    """A key/value store with per-entry TTL and integer counters."""

    async def get(self, key: str) -> bytes | None:
        """The value of ``key``, ``None`` when missing or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (replacing any value)."""
        ...

    async def delete(self, *keys: str) -> None:
        """Remove ``keys``; missing keys are ignored."""
        ...

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount`` to the counter ``key`` and return the new value.

        A missing counter starts at 0; ``ttl`` applies only when this call creates it.
        """
        ...

    async def get_counter(self, key: str) -> int:
        """The value of the counter ``key``, 0 when missing."""
        ...

    async def close(self) -> None:
        """Release what the backend owns."""
        ...


def _check_ttl(ttl: float) -> None:
    if not ttl > 0:
        raise ValueError(f"cache TTL must be positive, got {ttl!r}")


class MemoryCache:
    """An LRU dict with per-entry expiry; the counters live in the same store.

    Beyond ``max_entries`` the least recently used entry is dropped. Expired entries
    are never returned (they are removed when met). ``clock`` is injectable so tests
    can move time without sleeping. Not shared between processes.
    """

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._clock = clock
        # key -> (expires_at or None, value); ints are counters.
        self._data: OrderedDict[str, tuple[float | None, bytes | int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def get_nowait(self, key: str) -> bytes | None:
        """:meth:`get` without the coroutine, for hot paths that must not await."""
        entry = self._data.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at is not None and expires_at <= self._clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        if isinstance(value, int):
            return str(value).encode()
        return value

    async def get(self, key: str) -> bytes | None:
        """The value of ``key``, ``None`` when missing or expired."""
        return self.get_nowait(key)

    def _put(self, key: str, expires_at: float | None, value: bytes | int) -> None:
        self._data[key] = (expires_at, value)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds."""
        _check_ttl(ttl)
        self._put(key, self._clock() + ttl, value)

    async def delete(self, *keys: str) -> None:
        """Remove ``keys``; missing keys are ignored."""
        for key in keys:
            self._data.pop(key, None)

    def clear(self) -> None:
        """Drop every entry."""
        self._data.clear()

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount`` to the counter ``key``; ``ttl`` applies only on creation."""
        now = self._clock()
        entry = self._data.get(key)
        if entry is None or (entry[0] is not None and entry[0] <= now):
            if ttl is not None:
                _check_ttl(ttl)
            expires_at, current = (None if ttl is None else now + ttl), 0
        else:
            expires_at, stored = entry
            current = stored if isinstance(stored, int) else _parse_counter(key, stored)
        value = current + amount
        self._put(key, expires_at, value)
        return value

    async def get_counter(self, key: str) -> int:
        """The value of the counter ``key``, 0 when missing or expired."""
        raw = self.get_nowait(key)
        return 0 if raw is None else _parse_counter(key, raw)

    async def close(self) -> None:
        """Drop every entry."""
        self.clear()


def _parse_counter(key: str, raw: bytes) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"cache entry {key!r} is not a counter") from None


# INCRBY, and PEXPIRE only when the INCRBY created the key: one atomic step, so a
# crash between the two can never leave an immortal counter behind.
_INCR_SCRIPT = """
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and ARGV[2] ~= '' then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""


def _ms(ttl: float) -> int:
    _check_ttl(ttl)
    return max(1, round(ttl * 1000))


class RedisCache:
    """A :class:`CacheBackend` on Redis; every key is stored as ``{prefix}:{key}``.

    The client belongs to the caller: :meth:`close` leaves it open.
    """

    def __init__(self, client: redis.asyncio.Redis, prefix: str = "rustok") -> None:
        self._client = client
        self._prefix = f"{prefix}:"
        self._incr = client.register_script(_INCR_SCRIPT)

    @property
    def client(self) -> redis.asyncio.Redis:
        return self._client

    def key(self, key: str) -> str:
        """The Redis key that stores ``key``."""
        return self._prefix + key

    async def get(self, key: str) -> bytes | None:
        """The value of ``key``, ``None`` when missing or expired."""
        return _as_bytes(await self._client.get(self._prefix + key))

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``SET ... PX``)."""
        await self._client.set(self._prefix + key, value, px=_ms(ttl))

    async def delete(self, *keys: str) -> None:
        """Remove ``keys`` in one ``DEL``."""
        if keys:
            await self._client.delete(*(self._prefix + key for key in keys))

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """``INCRBY``; the TTL is set (``PEXPIRE``) only when this call created the key."""
        args: list[int | str] = [amount, "" if ttl is None else _ms(ttl)]
        return int(await self._incr(keys=[self._prefix + key], args=args))

    async def get_counter(self, key: str) -> int:
        """The value of the counter ``key``, 0 when missing."""
        raw = _as_bytes(await self._client.get(self._prefix + key))
        return 0 if raw is None else _parse_counter(key, raw)

    async def close(self) -> None:
        """Nothing to release: the client's owner closes it."""


def _as_bytes(raw: Any) -> bytes | None:
    # A client built with decode_responses=True hands back str.
    if raw is None or isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode()
    return bytes(raw)


def redis_client(url: str) -> redis.asyncio.Redis:
    """A client for ``url`` that returns bytes (``decode_responses=False``).

    The caller owns it and closes it with ``await client.aclose()``.
    """
    return redis.asyncio.Redis.from_url(url, decode_responses=False)
