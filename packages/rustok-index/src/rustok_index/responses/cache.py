"""Serialized storefront answers of one process, bounded by bytes and entries.

Correctness comes from generations, not from time: every tenant has a generation that
changes whenever its index changes, keys include it, and an answer computed while the
generation moved on is not stored (it may hold what the change replaced). Invalidating a
tenant also drops its entries at once, so memory goes to answers that can still be
served. The age limit (``ttl``) is memory hygiene for entries nobody asks for again.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

Key = tuple[Hashable, ...]

ENTRY_OVERHEAD = 256
"""Bytes counted per entry beside the body and the key's text (dict slots, tuples, objects)."""


@dataclass(slots=True)
class _Entry:
    body: bytes
    tenant_id: uuid.UUID
    size: int
    expires_at: float


class ResponseCache:
    """An LRU of answers keyed by tuples, with per-tenant generations and invalidation.

    Not thread-safe; used from the event loop only. Answers larger than an eighth of
    ``max_bytes`` are not kept (one answer must not flush the rest).
    """

    def __init__(
        self,
        *,
        max_bytes: int,
        max_entries: int,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_bytes < 1 or max_entries < 1 or not ttl > 0:
            raise ValueError("max_bytes, max_entries and ttl must be positive")
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.max_entry_bytes = max_bytes // 8
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._by_tenant: dict[uuid.UUID, set[Key]] = {}
        # A tenant's generation is its entry here, else the base; every change takes a
        # fresh number from the counter, so a generation never comes back.
        self._generations: dict[uuid.UUID, int] = {}
        self._base = 0
        self._counter = 0
        self.bytes = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def generation(self, tenant_id: uuid.UUID) -> int:
        """The tenant's current generation (part of its keys)."""
        return self._generations.get(tenant_id, self._base)

    def get(self, key: Key) -> bytes | None:
        """The stored answer, ``None`` when missing or too old."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry.body

    def put(self, key: Key, tenant_id: uuid.UUID, generation: int, body: bytes) -> bool:
        """Store ``body`` unless the tenant's generation moved past ``generation`` or it is too large.

        ``generation`` is the one read before the answer was computed. Returns whether
        the answer was stored.
        """
        if generation != self.generation(tenant_id):
            return False
        size = len(body) + ENTRY_OVERHEAD + sum(len(part) for part in key if isinstance(part, str | bytes))
        if size > self.max_entry_bytes:
            return False
        self._drop(key)
        self._entries[key] = _Entry(body, tenant_id, size, self._clock() + self.ttl)
        self._by_tenant.setdefault(tenant_id, set()).add(key)
        self.bytes += size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.evictions += 1
        return True

    def invalidate(self, tenant_id: uuid.UUID) -> int:
        """The tenant's index changed: new generation, entries dropped. Returns how many."""
        self._counter += 1
        self._generations[tenant_id] = self._counter
        keys = self._by_tenant.pop(tenant_id, set())
        for key in keys:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self.bytes -= entry.size
        return len(keys)

    def clear(self) -> None:
        """Forget everything and move every tenant to a new generation (missed invalidations)."""
        self._counter += 1
        self._base = self._counter
        self._generations.clear()
        self._entries.clear()
        self._by_tenant.clear()
        self.bytes = 0

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self.bytes -= entry.size
        keys = self._by_tenant.get(entry.tenant_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_tenant[entry.tenant_id]
