"""Per-request metrics counted without a lock.

A ``prometheus_client`` counter takes a lock on every increment (~0.6 µs measured on this
kind of machine; a histogram observation ~1.3 µs): a cold storefront request, which
counts about six things, spent several microseconds of its ~200 on locks. The metrics
a request counts are written on the event loop's thread only (middleware, endpoint,
responder), so a plain ``+=`` on a child is exact there. The families below keep such
counts and hand them to the registry as a collector at scrape time, in the exposition
format ``prometheus_client`` writes for its own counters and histograms (``_total``,
``_bucket``/``_sum``/``_count``).

Use them only for values changed on the loop's thread; anything counted from worker
threads keeps ``prometheus_client``'s locked metrics. A scrape may run on another thread:
adding a child (the first count of new label values) and the scrape's copy of the children
share a lock, because copying a dict can let another thread run midway (an allocation can
start a garbage collection, and a finalizer can switch threads); counting with a kept
child takes none.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class Count:
    """One child of a :class:`LoopCounter`: a number that only grows."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: float = 0

    def inc(self, amount: float = 1) -> None:
        if amount < 0:
            raise ValueError("counters only increase")
        self.value += amount


class Observations:
    """One child of a :class:`LoopHistogram`: counts per bucket and the sum of what was observed."""

    __slots__ = ("_bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self.counts = [0] * len(bounds)
        """Observations per bucket (not cumulative); the last bucket is ``+Inf``."""
        self.sum = 0.0

    def observe(self, amount: float) -> None:
        self.sum += amount
        self.counts[bisect_left(self._bounds, amount)] += 1  # the first bound >= amount: ``le`` semantics


C = TypeVar("C")


class _Family(Collector, Generic[C]):
    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry | None):
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], C] = {}
        self._adding = threading.RLock()
        if registry is not None:
            registry.register(self)

    def labels(self, *values: str) -> C:
        """The child of these label values (made on first use); keep it to count with no lookup."""
        child = self._children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
            with self._adding:
                child = self._children.setdefault(values, self._child())
        return child

    def _kept(self) -> list[tuple[tuple[str, ...], C]]:
        """The children as they are now (for a scrape, whatever thread it runs on)."""
        with self._adding:
            return list(self._children.items())

    def _child(self) -> C:
        raise NotImplementedError


class LoopCounter(_Family[Count]):
    """A counter family (``prometheus_client.Counter``'s exposition) whose children count without a lock."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        super().__init__(name, documentation, labelnames, registry)

    def _child(self) -> Count:
        return Count()

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in self._kept():
            family.add_metric(list(values), child.value)
        yield family

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)


class LoopHistogram(_Family[Observations]):
    """A histogram family (``prometheus_client.Histogram``'s exposition) whose children observe without a lock."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        buckets: Sequence[float],
        registry: CollectorRegistry | None = None,
    ) -> None:
        bounds = sorted(float(b) for b in buckets)
        if not bounds or len(set(bounds)) != len(bounds):
            raise ValueError("buckets must be distinct numbers")
        if bounds[-1] != math.inf:
            bounds.append(math.inf)
        self.bounds = tuple(bounds)
        super().__init__(name, documentation, labelnames, registry)

    def _child(self) -> Observations:
        return Observations(self.bounds)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in self._kept():
            cumulative, buckets = 0, []
            for bound, count in zip(self.bounds, list(child.counts), strict=True):
                cumulative += count
                buckets.append((floatToGoString(bound), cumulative))  # type: ignore[no-untyped-call]
            family.add_metric(list(values), buckets, child.sum)
        yield family

    def describe(self) -> Iterator[Metric]:
        yield HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
