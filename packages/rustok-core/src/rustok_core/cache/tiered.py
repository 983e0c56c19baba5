"""A per-process memory cache (L1) in front of an optional shared store (L2).

With an L2 (Redis), every process keeps its own L1 and learns about invalidations
through the bus. Pub/sub can lose a message (a dropped connection), so an L1 copy of
a shared value lives at most ``l1_ttl`` seconds (default 5): a missed invalidation
heals by itself that quickly. Without an L2, the L1 is the cache and keeps entries
for their full TTL.
"""

from __future__ import annotations

import json
import logging

from rustok_core.cache.backends import CacheBackend, MemoryCache
from rustok_core.cache.bus import InvalidationBus, RedisBus

log = logging.getLogger(__name__)

DEFAULT_SHARED_L1_TTL = 5.0
"""How long an L1 copy of a shared (L2) value lives when ``l1_ttl`` is not given."""


class TieredCache:
    """L1 :class:`MemoryCache`, optional L2 :class:`CacheBackend`, invalidation via a bus.

    Call :meth:`start` once so invalidations published by other processes reach this
    process's L1.
    """

    def __init__(
        self,
        l1: MemoryCache,
        l2: CacheBackend | None,
        bus: InvalidationBus,
        *,
        channel: str = "cache-invalidate",
        l1_ttl: float | None = None,
    ) -> None:
        if l1_ttl is not None and not l1_ttl > 0:
            raise ValueError(f"l1_ttl must be positive, got {l1_ttl!r}")
        self._l1 = l1
        self._l2 = l2
        self._bus = bus
        self._channel = channel
        # The longest an L1 entry may live: a copy of a shared value must expire soon;
        # with no L2 the L1 is the only store and honours the caller's TTL.
        self._l1_cap = l1_ttl if l1_ttl is not None else (DEFAULT_SHARED_L1_TTL if l2 is not None else None)
        self._l1_fill_ttl = l1_ttl if l1_ttl is not None else DEFAULT_SHARED_L1_TTL
        # Bumped by every invalidation this process sees; an L2 read that raced with
        # one does not fill the L1 (it may have read the value being invalidated).
        self._epoch = 0
        self._started = False

    @property
    def shared(self) -> bool:
        """Whether entries and counters are shared between processes (an L2 exists)."""
        return self._l2 is not None

    @property
    def l1(self) -> MemoryCache:
        return self._l1

    @property
    def l2(self) -> CacheBackend | None:
        return self._l2

    async def start(self) -> None:
        """Apply invalidations published by other processes to this L1; idempotent.

        Also starts the bus (idempotent too); stopping the bus is left to its owner.
        """
        if self._started:
            return
        self._started = True
        self._bus.subscribe(self._channel, self._on_invalidate)
        if self._l2 is not None and isinstance(self._bus, RedisBus):
            # Invalidations sent while the bus was disconnected are lost: start afresh.
            self._bus.on_reconnect(self.clear_local)
        await self._bus.start()

    @property
    def epoch(self) -> int:
        """Changes whenever this process applies an invalidation (its own or another's).

        A reader that computed a value while the epoch changed may hold stale data and
        should not cache it.
        """
        return self._epoch

    def get_local(self, key: str) -> bytes | None:
        """The L1 value of ``key``, without awaiting anything."""
        return self._l1.get_nowait(key)

    async def get(self, key: str) -> bytes | None:
        """L1, then L2 (filling L1 for a short while), else ``None``."""
        value = self._l1.get_nowait(key)
        if value is not None or self._l2 is None:
            return value
        epoch = self._epoch
        value = await self._l2.get(key)
        if value is not None and epoch == self._epoch:
            await self._l1.set(key, value, self._l1_fill_ttl)
        return value

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store in L2 for ``ttl`` and in L1 for ``ttl`` capped at the L1 TTL.

        Other processes' L1 copies are not touched: use :meth:`invalidate` on change.
        """
        if self._l2 is not None:
            await self._l2.set(key, value, ttl)
        await self._l1.set(key, value, ttl if self._l1_cap is None else min(ttl, self._l1_cap))

    async def invalidate(self, *keys: str) -> None:
        """Delete ``keys`` from L1 and L2, then tell every process to drop its L1 copies.

        Redis errors (from L2 or the bus) propagate.
        """
        if not keys:
            return
        self._epoch += 1
        await self._l1.delete(*keys)
        if self._l2 is not None:
            await self._l2.delete(*keys)
        await self._bus.publish(self._channel, json.dumps(keys))

    def clear_local(self) -> None:
        """Drop every L1 entry (e.g. after the bus may have missed invalidations)."""
        self._epoch += 1
        self._l1.clear()

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Increment a counter: in L2 when present (cluster-wide), else in L1."""
        store: CacheBackend = self._l2 if self._l2 is not None else self._l1
        return await store.incr(key, amount, ttl)

    async def get_counter(self, key: str) -> int:
        """A counter's value: from L2 when present, else from L1."""
        store: CacheBackend = self._l2 if self._l2 is not None else self._l1
        return await store.get_counter(key)

    async def _on_invalidate(self, message: str) -> None:
        keys = json.loads(message)
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise ValueError(f"malformed invalidation message: {message[:200]!r}")
        self._epoch += 1
        await self._l1.delete(*keys)
