"""Prometheus metrics of the storefront responder (on ``/metrics`` with the index's own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from rustok_index.responses.cache import ResponseCache

FALLBACK_REASONS = ("selection", "variables", "arguments", "error", "value")
"""Why the fast path left an answer to graphql-core: no plan for the selection, variables
that do not coerce, arguments that do not coerce, a read that raised, or a value the
plan would complete differently from graphql-core (e.g. a null in a non-null field)."""


class ResponseMetrics:
    def __init__(self, registry: CollectorRegistry, cache: ResponseCache | None) -> None:
        lookups = Counter(
            "rustok_storefront_cache_lookups",
            "Cacheable storefront queries: hit, miss, or bypass (no tenant, or the cache is off)",
            ["result"],
            registry=registry,
        )
        self.hit = lookups.labels("hit")
        self.miss = lookups.labels("miss")
        self.bypass = lookups.labels("bypass")
        answers = Counter(
            "rustok_storefront_answers",
            "Storefront answers computed, by route: fast (no graphql-core execution) or executed",
            ["path"],
            registry=registry,
        )
        self.fast = answers.labels("fast")
        self.executed = answers.labels("executed")
        fallbacks = Counter(
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
