"""Prometheus metrics of the index (served on ``/metrics`` with the server's own).

Counters move as documents are written; the gauges are refreshed from the database
(:func:`rustok_index.services.status.index_status`, all tenants) on every scrape.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class IndexMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.written = Counter("rustok_index_documents_written", "Index rows inserted or updated", ["type"], registry=r)
        self.removed = Counter("rustok_index_documents_removed", "Index rows deleted", ["type"], registry=r)
        self.documents = Gauge("rustok_index_documents", "Index rows (one per entity and locale)", ["type"], registry=r)
        self.last_indexed = Gauge(
            "rustok_index_last_indexed_timestamp_seconds",
            "When a row of the type was last written",
            ["type"],
            registry=r,
        )
        self.pending = Gauge(
            "rustok_index_pending_events", "Stored events the index handler has not applied yet", ["type"], registry=r
        )
        self.lag = Gauge(
            "rustok_index_lag_seconds", "Age of the oldest event the index has not applied yet", ["type"], registry=r
        )
