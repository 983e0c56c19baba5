"""Prometheus metrics of the event system (registered on the app's registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class EventMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.published = Counter("rustok_events_published", "Events published (committed)", ["event_type"], registry=r)
        self.delivered = Counter("rustok_events_delivered", "Events applied by a handler", ["handler"], registry=r)
        self.failed = Counter("rustok_events_failed", "Failed handler deliveries", ["handler"], registry=r)
        self.dead = Counter("rustok_events_dead_lettered", "Events moved to the DLQ", registry=r)
        self.relayed = Counter("rustok_events_relayed", "Events marked dispatched by a relay", registry=r)
        self.lag = Histogram(
            "rustok_events_lag_seconds",
            "From publish (occurred_at) to a handler's commit",
            ["handler"],
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.backlog = Gauge("rustok_events_outbox_backlog", "Events not yet dispatched", registry=r)
        self.oldest_pending = Gauge(
            "rustok_events_oldest_pending_seconds", "Age of the oldest undispatched event", registry=r
        )
        self.dlq_size = Gauge("rustok_events_dlq_size", "Events waiting in the DLQ", registry=r)
        self.memory_queue = Gauge(
            "rustok_events_memory_queue", "Events queued in process (memory transport)", registry=r
        )
        self.backpressure = Gauge(
            "rustok_events_backpressure_state", "Memory transport: 0 normal, 1 warning, 2 critical", registry=r
        )
