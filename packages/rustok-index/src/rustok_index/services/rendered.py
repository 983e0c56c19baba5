"""Rendered rows: the response JSON of an index row, kept per row version.

A storefront listing reads its page from the index on every request (nothing of the
response cache is involved), but the JSON it makes of a row depends only on the row
and on the query's selection. This cache keeps that JSON, keyed by what it was made
from: the selection's completion, the row's id and the row's version — PostgreSQL's
``xmin``, the transaction that wrote the row version, which changes with every write
of the row whatever wrote it. A changed row is never answered from here (its key is
new); entries of old versions are simply not asked for again and age out. Nothing is
invalidated, across processes or otherwise, and the read still sees every row the
database returns, in the database's order.

``xmin`` is a 32-bit transaction counter: a row rewritten exactly 2³² transactions
after a version whose JSON is still kept would meet that version's key. Entries live at
most :data:`MAX_AGE_SECONDS` (the whole cache is dropped then), far less than the
time PostgreSQL takes to use that many transaction ids.

Two generations instead of an exact LRU: a hit costs one or two dict lookups and no
reordering; when the young generation is full (or old), it becomes the old one and the
previous old one is dropped, so entries used within the last generation survive.

The store also keeps each rendering listing's last page (:meth:`RenderedRows.last_page`:
its row versions, sent back as known, and the JSON made of those rows), under the same
age rule: a known version is never older than the store.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from rustok_core.lru import LRU

MAX_AGE_SECONDS = 600.0
"""No entry is kept longer (see the module's docstring)."""
LAST_PAGES = 4096
"""Listings whose last page is kept, least recently used first."""


@dataclass(frozen=True, slots=True)
class LastPage:
    versions: str
    """The versions of the page's rows, as a text array literal (the listing's ``:known``)."""
    edges: dict[str, Any]
    """The JSON made of each of those rows, by version."""


class RenderedRows:
    """JSON fragments by (selection, row key); at most ``2 * generation_size`` entries."""

    __slots__ = ("_born", "_clock", "_old", "_pages", "_young", "generation_size", "made", "served")

    def __init__(self, generation_size: int, *, clock: Any = time.monotonic) -> None:
        if generation_size < 1:
            raise ValueError("generation_size must be at least 1")
        self.generation_size = generation_size
        self._clock = clock
        self._young: dict[Hashable, Any] = {}
        self._old: dict[Hashable, Any] = {}
        self._pages: LRU[Hashable, LastPage] = LRU(LAST_PAGES)
        self._born = clock()
        self.served = 0
        """Rows answered by reads that render (counted by the reads)."""
        self.made = 0
        """Of those, rows whose JSON was made rather than found."""

    def refresh(self) -> None:
        """Drop every entry once the cache is :data:`MAX_AGE_SECONDS` old (call once per read)."""
        now = self._clock()
        if now - self._born > MAX_AGE_SECONDS:
            self._young, self._old = {}, {}
            self._pages.clear()
            self._born = now

    def get(self, key: Hashable) -> Any:
        """The JSON kept under ``key``, or ``None`` (a hit in the old generation moves it to the young one)."""
        found = self._young.get(key)
        if found is None:
            found = self._old.get(key)
            if found is not None:
                self.put(key, found)
        return found

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` (a JSON fragment just made or found in the old generation)."""
        young = self._young
        if len(young) >= self.generation_size:
            self._old = young
            young = self._young = {}
        young[key] = value

    def last_page(self, key: Hashable) -> LastPage | None:
        """The last page kept for a listing (selection, statement, values), or ``None``."""
        return self._pages.get(key)

    def keep_page(self, key: Hashable, page: LastPage) -> None:
        self._pages.put(key, page)

    def __len__(self) -> int:
        return len(self._young) + len(self._old)
