"""Cached lookups (tenants, principals, permissions) with negative caching and stampede control.

Entries are stored as one tag byte followed by the encoded value: ``b"\\x01" + encode(v)``
for a value, ``b"\\x00"`` alone for "the loader found nothing". An entry with any other
tag (written by an incompatible version) is treated as a miss and overwritten.

Statistics are the cluster-wide counters ``stats:{name}:hit|miss|negative`` of the
cache. A lookup served from the process's L1 must stay cheap, so it only bumps a local
count; local counts are added to the shared counters by the next lookup that goes to
the shared store anyway (at least every few seconds for an active key, as L1 copies
of shared values expire), by :meth:`ReadThrough.stats` and by
:meth:`ReadThrough.flush_stats`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from rustok_core.cache.singleflight import SingleFlight
from rustok_core.cache.tiered import TieredCache

log = logging.getLogger(__name__)

T = TypeVar("T")

_VALUE = 1
_NEGATIVE = 0
_NEGATIVE_ENTRY = bytes((_NEGATIVE,))
_VALUE_TAG = bytes((_VALUE,))

_STATS = ("hit", "miss", "negative")

DECODED_MEMO_SIZE = 1024
"""Decoded values kept per :class:`ReadThrough` made with ``reuse_decoded``."""


class ReadThrough(Generic[T]):
    """Look values up in a :class:`TieredCache`, loading and storing them on a miss.

    ``name`` namespaces the keys (``{name}:{key}``) and the statistics. Values are
    kept ``ttl`` seconds; "not found" (the loader returned ``None``) ``negative_ttl``.
    Concurrent misses for one key in this process share one loader call. A load during
    which this process applies an invalidation is returned but not cached.

    With ``reuse_decoded``, an L1 hit on an entry decoded before returns the same value
    object instead of decoding again: only for immutable values (callers share them).
    """

    def __init__(
        self,
        cache: TieredCache,
        name: str,
        *,
        ttl: float,
        negative_ttl: float,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
        reuse_decoded: bool = False,
    ) -> None:
        if not (ttl > 0 and negative_ttl > 0):
            raise ValueError("ttl and negative_ttl must be positive")
        self._cache = cache
        self._name = name
        self._prefix = f"{name}:"
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._encode = encode
        self._decode = decode
        self._flight = SingleFlight()
        self._stat_keys = {stat: f"stats:{name}:{stat}" for stat in _STATS}
        # Counts not yet added to the cache's counters.
        self._pending = dict.fromkeys(_STATS, 0)
        # Per key: the L1 entry last decoded and its value (only with ``reuse_decoded``).
        self._decoded: dict[str, tuple[bytes, T]] | None = {} if reuse_decoded else None

    @property
    def name(self) -> str:
        return self._name

    async def get(self, key: str, loader: Callable[[], Awaitable[T | None]]) -> T | None:
        """The value for ``key``: cached, or from ``loader()`` (then cached).

        A cached "not found" returns ``None`` without calling ``loader``. When
        ``loader`` raises, nothing is cached and every caller waiting on that load gets
        the exception. Concurrent callers share the first caller's ``loader``.
        """
        full = self._prefix + key
        raw = self._cache.get_local(full)
        if raw:
            # The hot path: an L1 hit awaits nothing and only counts locally.
            tag = raw[0]
            if tag == _VALUE:
                self._pending["hit"] += 1
                return self._decode_local(full, raw)
            if tag == _NEGATIVE:
                self._pending["negative"] += 1
                return None
        raw = await self._cache.get(full)
        if raw and raw[0] == _VALUE:
            self._pending["hit"] += 1
            value = self._decode(raw[1:])
        elif raw and raw[0] == _NEGATIVE:
            self._pending["negative"] += 1
            value = None
        else:
            self._pending["miss"] += 1
            value = await self._flight.run(full, lambda: self._load(full, loader))
        # This lookup went to the shared store anyway: add the local counts now.
        await self._flush(raise_errors=False)
        return value

    def _decode_local(self, full: str, raw: bytes) -> T:
        """Decode an L1 entry, or reuse its value when the L1 still holds that very entry.

        The L1 hands back the object it stored, so an identical object (``is``) means the
        entry was not replaced since it was decoded; a new value, a refill or an
        invalidation followed by a load all store another object. The memo holds the
        entry it decoded, so that object's identity cannot pass to another one.
        """
        memo = self._decoded
        if memo is None:
            return self._decode(raw[1:])
        known = memo.get(full)
        if known is not None and known[0] is raw:
            return known[1]
        value = self._decode(raw[1:])
        if known is None and len(memo) >= DECODED_MEMO_SIZE:
            del memo[next(iter(memo))]  # the oldest memo goes: a bound, not an LRU
        memo[full] = (raw, value)
        return value

    async def _load(self, full: str, loader: Callable[[], Awaitable[T | None]]) -> T | None:
        # A load that finished just before this flight started has filled the L1.
        raw = self._cache.get_local(full)
        if raw:
            if raw[0] == _VALUE:
                return self._decode(raw[1:])
            if raw[0] == _NEGATIVE:
                return None
        epoch = self._cache.epoch
        value = await loader()
        if self._cache.epoch != epoch:
            # Invalidated while loading: the loader may have read the old state. Serve
            # it to the callers waiting now, but do not keep it.
            return value
        if value is None:
            await self._cache.set(full, _NEGATIVE_ENTRY, self._negative_ttl)
        else:
            await self._cache.set(full, _VALUE_TAG + self._encode(value), self._ttl)
        return value

    async def invalidate(self, *keys: str) -> None:
        """Forget ``keys`` in every process (values and "not found" alike)."""
        full = [self._prefix + key for key in keys]
        if self._decoded is not None:
            for key in full:  # not needed for correctness (see _decode_local), frees memory
                self._decoded.pop(key, None)
        await self._cache.invalidate(*full)

    async def flush_stats(self) -> None:
        """Add this process's pending counts to the cache's counters."""
        await self._flush(raise_errors=True)

    async def stats(self) -> dict[str, int]:
        """``{"hit": n, "miss": n, "negative": n}``, cluster-wide when the cache is shared.

        Includes this process's latest counts; other processes' counts of L1 hits
        arrive when they next reach the shared store or flush.
        """
        await self.flush_stats()
        values = await asyncio.gather(*(self._cache.get_counter(self._stat_keys[stat]) for stat in _STATS))
        return dict(zip(_STATS, values, strict=True))

    async def _flush(self, *, raise_errors: bool) -> None:
        pending = [(stat, count) for stat, count in self._pending.items() if count]
        if not pending:
            return
        for stat, _ in pending:
            self._pending[stat] = 0
        results = await asyncio.gather(
            *(self._cache.incr(self._stat_keys[stat], count) for stat, count in pending),
            return_exceptions=True,
        )
        error: BaseException | None = None
        for (stat, count), result in zip(pending, results, strict=True):
            if isinstance(result, BaseException):
                self._pending[stat] += count  # keep it for the next flush
                error = result
        if error is not None:
            if raise_errors or not isinstance(error, Exception):
                raise error
            log.warning("could not record cache statistics for %r: %s", self._name, error)
