"""Invalidation of cached storefront answers when a tenant's index changes.

The index writer calls :meth:`StorefrontInvalidation.after_commit` for every statement
that changed rows. Once the transaction commits, this process bumps the tenant's
generation at once (so its next request reads the new rows) and publishes
``"<instance> <tenant id>"`` on the ``storefront-invalidate`` channel of the platform's
invalidation bus; every other process drops the tenant's answers when the message
arrives (Redis pub/sub with ``REDIS_URL``; without Redis the bus is in-process and
there are no other processes to tell). A process ignores its own messages.

Pub/sub is at-most-once: when the Redis subscription comes back after a drop, messages
may have been lost, so the whole cache is cleared. A failed publish is logged and
counted (``rustok_storefront_cache_publish_failures_total``); other processes then keep
the tenant's answers until they age out (``graphql.response_cache_ttl``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.cache import InvalidationBus, RedisBus
from rustok_core.db import after_commit
from rustok_index.responses.cache import ResponseCache
from rustok_index.responses.metrics import ResponseMetrics

log = logging.getLogger(__name__)

CHANNEL = "storefront-invalidate"
_PENDING_KEY = "rustok.index.storefront_invalidations"


class StorefrontInvalidation:
    def __init__(self, cache: ResponseCache, bus: InvalidationBus | None, metrics: ResponseMetrics) -> None:
        self.cache = cache
        self.bus = bus
        self.metrics = metrics
        self.instance = secrets.token_hex(8)
        self._publishing: set[asyncio.Task[None]] = set()
        if bus is not None:
            bus.subscribe(CHANNEL, self._received)
            if isinstance(bus, RedisBus):
                bus.on_reconnect(self._reconnected)

    def after_commit(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        """Invalidate the tenant's answers everywhere once ``session``'s transaction commits.

        Several writes of one transaction invalidate once; a rollback invalidates nothing.
        """
        pending: set[uuid.UUID] = session.sync_session.info.setdefault(_PENDING_KEY, set())
        if tenant_id in pending:
            return
        pending.add(tenant_id)

        def settled() -> None:
            pending.discard(tenant_id)

        def committed() -> None:
            settled()
            self.changed(tenant_id)

        after_commit(session, committed, on_rollback=settled)

    def changed(self, tenant_id: uuid.UUID) -> None:
        """The tenant's index changed: drop its answers here now and tell the other processes."""
        self.cache.invalidate(tenant_id)
        self.metrics.invalidated_local.inc()
        if self.bus is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # committed outside an event loop: nothing can publish from here
            self.metrics.publish_failures.inc()
            log.error("could not send the storefront invalidation of tenant %s: no running event loop", tenant_id)
            return
        task = loop.create_task(self._publish(f"{self.instance} {tenant_id}"))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def flush(self) -> None:
        """Wait until every invalidation this process started has been sent (tests, shutdown)."""
        while self._publishing:
            await asyncio.wait(tuple(self._publishing))

    async def _publish(self, message: str) -> None:
        assert self.bus is not None
        try:
            await self.bus.publish(CHANNEL, message)
        except Exception:
            self.metrics.publish_failures.inc()
            log.exception(
                "could not send a storefront invalidation (%s); other processes keep that tenant's cached "
                "answers until they age out",
                message,
            )

    def _received(self, message: str) -> None:
        instance, _, tenant = message.partition(" ")
        if instance == self.instance:
            return  # applied when the transaction committed
        try:
            tenant_id = uuid.UUID(tenant)
        except ValueError:
            raise ValueError(f"malformed storefront invalidation: {message[:200]!r}") from None
        self.cache.invalidate(tenant_id)
        self.metrics.invalidated_remote.inc()

    def _reconnected(self) -> None:
        self.cache.clear()
        self.metrics.invalidated_all.inc()
