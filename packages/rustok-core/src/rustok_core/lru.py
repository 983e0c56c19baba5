"""A bounded mapping that forgets its least recently used entry first.

The platform keeps several small in-process memories of this kind: prepared GraphQL
documents, cost verdicts and coerced variables per document, verified access tokens, a
listing's last page, the in-memory rate limiter's buckets. They share this one class instead of each writing the same
``OrderedDict`` moves. It is not thread-safe: each memory is used on the event loop's
thread. ``None`` is not a storable value (:meth:`LRU.get` answers ``None`` for a miss).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``capacity`` entries (``0``: keeps nothing); a hit makes its entry the most recent."""

    __slots__ = ("_items", "capacity")

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("capacity must not be negative")
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        items = self._items
        value = items.get(key)
        if value is not None:
            items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` as the most recent entry, forgetting the least recent one past ``capacity``."""
        if value is None:
            raise ValueError("None cannot be kept (it reads as a miss)")
        if not self.capacity:
            return
        items = self._items
        items[key] = value
        items.move_to_end(key)
        if len(items) > self.capacity:
            items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        """Forget ``key``'s entry; its value, or ``None`` if there was none."""
        return self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items
