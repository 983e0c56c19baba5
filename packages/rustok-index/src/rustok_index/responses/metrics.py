"""Prometheus metrics of the storefront responder (on ``/metrics`` with the index's own)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rustok_core.metrics import LoopCounter
from rustok_index.responses.cache import ResponseCache
from rustok_index.services.rendered import RenderedRows

FALLBACK_REASONS = ("selection", "variables", "arguments", "error", "value")
"""Why the fast path left an answer to graphql-core: no plan for the selection, variables
that do not coerce, arguments that do not coerce, a read that raised, or a value the
plan would complete differently from graphql-core (e.g. a null in a non-null field)."""


class ResponseMetrics:
    def __init__(self, registry: CollectorRegistry, cache: ResponseCache | None) -> None:
        # Counted per request on the event loop's thread: without a lock (rustok_core.metrics).
        lookups = LoopCounter(
            "rustok_storefront_cache_lookups",
            "Cacheable storefront queries: hit, miss, or bypass (no tenant, or the cache is off)",
            ["result"],
            registry=registry,
        )
        self.hit = lookups.labels("hit")
        self.miss = lookups.labels("miss")
        self.bypass = lookups.labels("bypass")
        answers = LoopCounter(
            "rustok_storefront_answers",
            "Storefront answers computed, by route: fast (no graphql-core execution) or executed",
            ["path"],
            registry=registry,
        )
        self.fast = answers.labels("fast")
        self.executed = answers.labels("executed")
        fallbacks = LoopCounter(
            "rustok_storefront_fast_path_fallbacks",
            "Answers the fast path left to graphql-core, by reason",
            ["reason"],
            registry=registry,
        )
        self.fallbacks = {reason: fallbacks.labels(reason) for reason in FALLBACK_REASONS}
        invalidations = Counter(
            "rustok_storefront_cache_invalidations",
            "Tenant invalidations applied: local (this process wrote), remote (another did), reconnect (all)",
            ["origin"],
            registry=registry,
        )
        self.invalidated_local = invalidations.labels("local")
        self.invalidated_remote = invalidations.labels("remote")
        self.invalidated_all = invalidations.labels("reconnect")
        self.publish_failures = Counter(
            "rustok_storefront_cache_publish_failures",
            "Invalidations that could not be sent to other processes",
            registry=registry,
        )
        if cache is not None:
            Gauge("rustok_storefront_cache_entries", "Answers held by this process", registry=registry).set_function(
                lambda: len(cache)
            )
            Gauge(
                "rustok_storefront_cache_bytes", "Approximate memory of the answers held", registry=registry
            ).set_function(lambda: cache.bytes)


class RenderedRowsCollector(Collector):
    """The rendered rows of the storefront's reads, read from their plain counters at scrape time
    (the reads count with ``+=``, not with a metric's lock per row)."""

    def __init__(self, rendered: RenderedRows) -> None:
        self.rendered = rendered

    def collect(self) -> Iterator[Metric]:
        rendered = self.rendered
        rows = CounterMetricFamily(
            "rustok_storefront_rendered_rows",
            "Index rows answered by fast-path reads: JSON made, or reused for an unchanged row version",
            labels=["result"],
        )
        rows.add_metric(["made"], rendered.made)
        rows.add_metric(["reused"], rendered.served - rendered.made)
        yield rows
        yield GaugeMetricFamily(
            "rustok_storefront_rendered_rows_entries", "Rendered rows held by this process", value=len(rendered)
        )
