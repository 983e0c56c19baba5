"""The index of one process: owners, writer, rebuilder, status, metrics and the storefront
responder (response cache, invalidation, fast path), built once at boot."""

from __future__ import annotations

from rustok_core.context import AppContext
from rustok_index.metrics import IndexMetrics
from rustok_index.responses.cache import ResponseCache
from rustok_index.responses.fast_path import FastPath
from rustok_index.responses.invalidation import StorefrontInvalidation
from rustok_index.responses.metrics import RenderedRowsCollector, ResponseMetrics
from rustok_index.responses.responder import StorefrontResponder
from rustok_index.services.owners import Owners
from rustok_index.services.rebuild import IndexRebuilder
from rustok_index.services.status import IndexStatusService
from rustok_index.services.storefront import StorefrontQueries
from rustok_index.services.writer import IndexWriter

STATE_KEY = "index"


class IndexRuntime:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.metrics = IndexMetrics()
        settings = ctx.settings.graphql
        self.response_cache = (
            ResponseCache(
                max_bytes=settings.response_cache_max_bytes,
                max_entries=settings.response_cache_max_entries,
                ttl=settings.response_cache_ttl,
            )
            if settings.response_cache
            else None
        )
        self.response_metrics = ResponseMetrics(self.metrics.registry, self.response_cache)
        self.invalidation = (
            StorefrontInvalidation(self.response_cache, ctx.bus, self.response_metrics)
            if self.response_cache is not None
            else None
        )
        self.owners = Owners(ctx)
        self.writer = IndexWriter(
            ctx,
            self.owners,
            self.metrics,
            on_change=self.invalidation.after_commit if self.invalidation is not None else None,
        )
        self.rebuilder = IndexRebuilder(ctx, self.owners, self.writer)
        self.status = IndexStatusService(ctx)
        self.storefront = StorefrontQueries(ctx)
        if self.storefront.rendered is not None:
            self.metrics.registry.register(RenderedRowsCollector(self.storefront.rendered))
        self.responder = self._responder(settings.fast_path)
        ctx.state.setdefault("metrics_registries", []).append(self.metrics.registry)
        ctx.state.setdefault("metrics_refreshers", []).append(self.refresh_metrics)

    def _responder(self, fast_path: bool) -> StorefrontResponder | None:
        if self.response_cache is None and not fast_path:
            return None  # nothing to add to graphql-core's execution
        from rustok_index.graphql import STOREFRONT_READS

        fast = FastPath(STOREFRONT_READS, self.response_metrics) if fast_path else None
        return StorefrontResponder(self.response_cache, fast, self.response_metrics)

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
