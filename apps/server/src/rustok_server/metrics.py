"""Prometheus metrics of one server process, served at ``/metrics``.

Each app owns its :class:`prometheus_client.CollectorRegistry`, so several apps in one
process (tests) do not collide. Modules add their own collectors to
``ctx.state["metrics_registry"]``. What every request counts (requests, durations,
GraphQL operations and document lookups) is counted without a lock
(:mod:`rustok_core.metrics`): it is only changed on the event loop's thread.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from rustok_core.metrics import LoopCounter, LoopHistogram


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = LoopCounter(
            "rustok_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = LoopHistogram(
            "rustok_http_request_duration_seconds",
            "HTTP request duration",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )
        self.graphql_operations = LoopCounter(
            "rustok_graphql_operations",
            "GraphQL operations by type and outcome",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.graphql_document_cache = LoopCounter(
            "rustok_graphql_document_cache",
            "Lookups in the parsed+validated GraphQL document cache",
            ["result"],
            registry=self.registry,
        )
        self.modules_installed = Gauge(
            "rustok_modules_installed",
            "Installed modules by kind",
            ["kind"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "rustok_rate_limited_requests",
            "Requests refused by the rate limiter",
            registry=self.registry,
        )
        self.cache_lookups = Gauge(
            "rustok_cache_lookups",
            "Cached lookups by cache and result (cluster-wide when Redis is shared)",
            ["cache", "result"],
            registry=self.registry,
        )
        self.info = Gauge(
            "rustok_build_info",
            "Server version and environment",
            ["version", "environment"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
