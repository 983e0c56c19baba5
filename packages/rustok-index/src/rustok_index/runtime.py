"""The index of one process: owners, writer, rebuilder, status and metrics, built once at boot."""

from __future__ import annotations

from rustok_core.context import AppContext
from rustok_index.metrics import IndexMetrics
from rustok_index.services.owners import Owners
from rustok_index.services.rebuild import IndexRebuilder
from rustok_index.services.status import IndexStatusService
from rustok_index.services.writer import IndexWriter

STATE_KEY = "index"


class IndexRuntime:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.metrics = IndexMetrics()
        self.owners = Owners(ctx)
        self.writer = IndexWriter(ctx, self.owners, self.metrics)
        self.rebuilder = IndexRebuilder(ctx, self.owners, self.writer)
        self.status = IndexStatusService(ctx)
        ctx.state.setdefault("metrics_registries", []).append(self.metrics.registry)
        ctx.state.setdefault("metrics_refreshers", []).append(self.refresh_metrics)

    async def refresh_metrics(self) -> None:
        """Set the gauges from the database (every tenant), on each ``/metrics`` scrape."""
        for entry in await self.status.status(None):
            self.metrics.documents.labels(entry.entity_type).set(entry.documents)
            self.metrics.last_indexed.labels(entry.entity_type).set(
                entry.last_indexed_at.timestamp() if entry.last_indexed_at else 0
            )
            self.metrics.pending.labels(entry.entity_type).set(entry.pending_events)
            self.metrics.lag.labels(entry.entity_type).set(entry.lag_seconds)


def runtime_of(ctx: AppContext) -> IndexRuntime:
    """The runtime built at boot (``rustok_provide``), or one built now for a bare context."""
    runtime = ctx.state.get(STATE_KEY)
    if runtime is None:
        runtime = ctx.state[STATE_KEY] = IndexRuntime(ctx)
    assert isinstance(runtime, IndexRuntime)
    return runtime
