"""The outbox relay: claim, deliver, settle — safely with several relays at once.

1. **Claim** up to ``batch_size`` due events with ``FOR UPDATE SKIP LOCKED`` and
   stamp them with this relay's id and a lease. Another relay skips locked rows and
   ignores rows whose lease has not expired, so a claimed batch is delivered by one
   relay only; a crashed relay's lease runs out and its events are claimed again.
2. **Deliver** to the target: this process's handlers (``outbox``) or NATS
   JetStream (``stream``).
3. **Settle**, only where the claim is still ours: delivered events get
   ``dispatched_at``; failed ones get ``attempts + 1`` and a backed-off
   ``next_attempt_at``; after ``max_attempts`` (or at once for an undeliverable
   event) they move to ``sys_events_dlq`` with the last error. A target that is
   unavailable (broker down) releases the claims without counting an attempt.

Between batches the relay waits on ``LISTEN rustok_events`` (every commit that
published wakes it), or at most until the next scheduled retry or ``poll_interval``.
Events published while it delivers wake it again at once, and its next claim takes
them all (up to ``batch_size``): under load, batches grow instead of rounds queueing.

A running relay holds two connections of its own beside the engine's pool: the
LISTEN one, and an autocommit one for its claims, settlements and due times (each a
single statement; named ``rustok-relay <relay id>`` in ``pg_stat_activity``), whose
commits do not wait for the WAL flush (``synchronous_commit = off``: losing a claim or
a settlement in a database crash means a redelivery, never a lost event). A lost
connection is replaced; only delivery to the handlers uses the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson
import psycopg
from psycopg.types.json import set_json_loads
from sqlalchemy import text

from rustok_core.context import AppContext
from rustok_core.db import driver_conninfo
from rustok_core.events import EventEnvelope
from rustok_core.ids import generate_id, id_to_ulid
from rustok_outbox.backoff import retry_delay
from rustok_outbox.dispatch import DeliveryResult, Dispatcher
from rustok_outbox.metrics import EventMetrics
from rustok_outbox.publisher import NOTIFY_CHANNEL

log = logging.getLogger("rustok.events.relay")

# The relay's own statements run on a psycopg connection in autocommit mode (see
# ``OutboxRelay._bookkeeping``): each is one statement, atomic by itself.
CLAIM = """
    WITH due AS (
        SELECT id FROM sys_events
        WHERE dispatched_at IS NULL
          AND next_attempt_at <= now()
          AND (claim_expires_at IS NULL OR claim_expires_at < now())
        ORDER BY next_attempt_at, id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    UPDATE sys_events AS e
    SET claimed_by = %(relay)s, claim_expires_at = now() + make_interval(secs => %(lease)s)
    FROM due WHERE e.id = due.id
    RETURNING e.id, e.tenant_id, e.event_type, e.schema_version, e.payload, e.actor_id,
              e.correlation_id, e.causation_id, e.occurred_at, e.attempts
"""
MARK_DISPATCHED = """
    UPDATE sys_events SET dispatched_at = now(), claimed_by = NULL, claim_expires_at = NULL, last_error = NULL
    WHERE id = ANY(%(ids)s) AND claimed_by = %(relay)s
"""
RESCHEDULE = """
    UPDATE sys_events
    SET attempts = attempts + 1, last_error = %(error)s, claimed_by = NULL, claim_expires_at = NULL,
        next_attempt_at = now() + make_interval(secs => %(delay)s)
    WHERE id = %(id)s AND claimed_by = %(relay)s
"""
RELEASE = """
    UPDATE sys_events SET claimed_by = NULL, claim_expires_at = NULL,
        next_attempt_at = now() + make_interval(secs => %(delay)s)
    WHERE id = ANY(%(ids)s) AND claimed_by = %(relay)s
"""
MOVE_TO_DLQ = """
    WITH dead AS (
        DELETE FROM sys_events WHERE id = %(id)s AND claimed_by = %(relay)s
        RETURNING id, tenant_id, event_type, schema_version, payload, actor_id, correlation_id,
                  causation_id, occurred_at
    )
    INSERT INTO sys_events_dlq (id, tenant_id, event_type, schema_version, payload, actor_id, correlation_id,
                                causation_id, occurred_at, attempts, last_error, failed_handlers, failed_at)
    SELECT id, tenant_id, event_type, schema_version, payload, actor_id, correlation_id, causation_id,
           occurred_at, %(attempts)s, %(error)s, %(handlers)s, now()
    FROM dead
"""
NEXT_DUE = """
    SELECT EXTRACT(EPOCH FROM (min(GREATEST(next_attempt_at, COALESCE(claim_expires_at, next_attempt_at))) - now()))
    FROM sys_events WHERE dispatched_at IS NULL
"""


class TargetUnavailable(Exception):
    """The delivery target cannot be reached now (e.g. the broker is down)."""


@runtime_checkable
class RelayTarget(Protocol):
    """Where the relay delivers claimed events."""

    name: str

    async def deliver(self, envelopes: Sequence[EventEnvelope]) -> list[DeliveryResult]:
        """One result per envelope, in order; raise :class:`TargetUnavailable` to retry later."""
        ...


class LocalTarget:
    """``outbox`` transport: deliver to this process's handlers."""

    name = "local"

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def deliver(self, envelopes: Sequence[EventEnvelope]) -> list[DeliveryResult]:
        return await self.dispatcher.deliver_many(envelopes)


@dataclass
class RelayStats:
    batches: int = 0
    dispatched: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0


def relay_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{id_to_ulid(generate_id())[-6:]}"


class OutboxRelay:
    def __init__(self, ctx: AppContext, target: RelayTarget, metrics: EventMetrics, *, name: str | None = None) -> None:
        self.ctx = ctx
        self.target = target
        self.metrics = metrics
        self.settings = ctx.settings.rustok.events
        self.name = name or relay_id()
        self.stats = RelayStats()
        self._wake = asyncio.Event()
        self.target_available = True
        self._own: psycopg.AsyncConnection[Any] | None = None
        """The running relay's bookkeeping connection (``run`` opens it)."""

    @property
    def connection_name(self) -> str:
        """The ``application_name`` of the running relay's own connection (``pg_stat_activity``)."""
        return f"rustok-relay {self.name}"

    # -- one round -----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _bookkeeping(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """An autocommit connection for the relay's statements on ``sys_events``.

        A running relay (:meth:`run`) keeps its own beside the LISTEN connection: a round
        at a steady write rate is one event, and borrowing a pooled connection through
        SQLAlchemy for its claim, its settlement and the next due time cost several
        times the statements themselves. A relay driven by :meth:`run_once` alone
        borrows one from the engine's pool.
        """
        if self._own is not None:
            yield self._own
            return
        async with self.ctx.db.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            driver = (await autocommit.get_raw_connection()).driver_connection
            if not isinstance(driver, psycopg.AsyncConnection):
                raise TypeError(f"the engine's driver connection is a {type(driver).__name__}, not psycopg's")
            yield driver

    async def _open_own(self) -> None:
        await self._close_own()
        own = await psycopg.AsyncConnection.connect(
            driver_conninfo(self.ctx.db.url), autocommit=True, application_name=self.connection_name
        )
        set_json_loads(orjson.loads, own)  # as the engine reads JSON
        # A claim or settlement lost in a database crash only means a redelivery, which
        # receipts make harmless: none of them waits for its WAL flush.
        await own.execute("SET synchronous_commit = off")
        self._own = own

    async def _close_own(self) -> None:
        own, self._own = self._own, None
        if own is not None:
            with contextlib.suppress(Exception):
                await own.close()

    async def claim_batch(self) -> list[EventEnvelope]:
        async with self._bookkeeping() as conn:
            cursor = await conn.execute(
                CLAIM, {"limit": self.settings.batch_size, "relay": self.name, "lease": self.settings.lease_seconds}
            )
            rows = await cursor.fetchall()
        envelopes = [
            EventEnvelope(
                id=event_id,
                event_type=event_type,
                schema_version=schema_version,
                tenant_id=tenant_id,
                occurred_at=occurred_at,
                payload=payload,
                actor_id=actor_id,
                correlation_id=correlation_id,
                causation_id=causation_id,
                attempts=attempts,
            )
            for (
                event_id,
                tenant_id,
                event_type,
                schema_version,
                payload,
                actor_id,
                correlation_id,
                causation_id,
                occurred_at,
                attempts,
            ) in rows
        ]
        envelopes.sort(key=lambda e: e.id)
        return envelopes

    async def run_once(self) -> int:
        """Claim and settle one batch; return how many events it held."""
        self._wake.clear()
        batch = await self.claim_batch()
        if not batch:
            return 0
        self.stats.batches += 1
        try:
            results = await self.target.deliver(batch)
            self.target_available = True
        except TargetUnavailable as exc:
            self.target_available = False
            log.warning(
                "relay target %s unavailable (%s); %d events stay in the outbox", self.target.name, exc, len(batch)
            )
            await self._release(batch, delay=min(self.settings.poll_interval, 2.0))
            return len(batch)
        await self._settle(batch, results)
        return len(batch)

    async def _settle(self, batch: Sequence[EventEnvelope], results: Sequence[DeliveryResult]) -> None:
        done = [envelope.id for envelope, result in zip(batch, results, strict=True) if result.ok]
        failed = [(envelope, result) for envelope, result in zip(batch, results, strict=True) if not result.ok]
        async with self._bookkeeping() as conn:
            if not failed:
                # The usual round: one statement, atomic by itself.
                if done:
                    await conn.execute(MARK_DISPATCHED, {"ids": done, "relay": self.name})
            else:
                async with conn.transaction():
                    if done:
                        await conn.execute(MARK_DISPATCHED, {"ids": done, "relay": self.name})
                    for envelope, result in failed:
                        await self._settle_failure(conn, envelope, result)
        self.stats.dispatched += len(done)
        self.metrics.relayed.inc(len(done))

    async def _settle_failure(
        self, conn: psycopg.AsyncConnection[Any], envelope: EventEnvelope, result: DeliveryResult
    ) -> None:
        attempts = envelope.attempts + 1
        error = result.summary()[:4000]
        if result.invalid is not None or attempts >= self.settings.max_attempts:
            await conn.execute(
                MOVE_TO_DLQ,
                {
                    "id": envelope.id,
                    "relay": self.name,
                    "attempts": attempts,
                    "error": error,
                    "handlers": sorted(result.failures),
                },
            )
            self.stats.dead += 1
            self.metrics.dead.inc()
            log.error(
                "event %s (%s) moved to the DLQ after %d attempt(s): %s",
                envelope.id,
                envelope.event_type,
                attempts,
                error,
            )
        else:
            delay = retry_delay(attempts, self.settings)
            await conn.execute(RESCHEDULE, {"id": envelope.id, "relay": self.name, "error": error, "delay": delay})
            self.stats.retried += 1

    async def _release(self, batch: Sequence[EventEnvelope], *, delay: float) -> None:
        async with self._bookkeeping() as conn:
            await conn.execute(RELEASE, {"ids": [e.id for e in batch], "relay": self.name, "delay": delay})
        self.stats.released += len(batch)

    async def seconds_until_due(self) -> float | None:
        async with self._bookkeeping() as conn:
            row = await (await conn.execute(NEXT_DUE)).fetchone()
        value = row[0] if row is not None else None
        return None if value is None else max(float(value), 0.0)

    # -- the loop ----------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Relay forever (cancel to stop). Reconnects the LISTEN connection when it drops."""
        listener = asyncio.create_task(self._listen(), name=f"rustok-relay-listen:{self.name}")
        try:
            while True:
                try:
                    if self._own is None or self._own.broken or self._own.closed:
                        await self._open_own()
                    processed = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("relay %s failed a round; retrying", self.name)
                    processed = 0
                    # Its connection may be the cause: the next round opens a new one (and
                    # until then the pool answers when the next event is due).
                    await self._close_own()
                    await asyncio.sleep(1.0)
                if processed >= self.settings.batch_size:
                    continue  # more may be waiting
                await self._idle()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await self._close_own()

    async def _idle(self) -> None:
        if self._wake.is_set():
            # Something was published while we delivered: go again at once.
            self._wake.clear()
            return
        wait = self.settings.poll_interval
        with contextlib.suppress(Exception):
            due = await self.seconds_until_due()
            if due is not None:
                wait = min(wait, due + 0.005)
        if wait <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=wait)
        self._wake.clear()

    async def _listen(self) -> None:
        delay = 0.1
        conninfo = driver_conninfo(self.ctx.db.url)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    delay = 0.1
                    self.wake()  # catch up on anything published while not listening
                    async for _ in conn.notifies():
                        self.wake()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("relay %s lost its LISTEN connection (%s); reconnecting in %.1fs", self.name, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


async def outbox_status(ctx: AppContext, tenant_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Backlog, age of the oldest pending event, DLQ size and dispatched count.

    Platform-wide, or for one tenant.
    """
    scope = "" if tenant_id is None else " AND tenant_id = :tenant"
    async with ctx.db.system_session() as session:
        row = (
            await session.execute(
                text(
                    f"""
                    SELECT
                      (SELECT count(*) FROM sys_events WHERE dispatched_at IS NULL{scope}) AS backlog,
                      (SELECT EXTRACT(EPOCH FROM now() - min(occurred_at)) FROM sys_events
                        WHERE dispatched_at IS NULL{scope}) AS oldest,
                      (SELECT count(*) FROM sys_events_dlq WHERE TRUE{scope}) AS dead,
                      (SELECT count(*) FROM sys_events WHERE dispatched_at IS NOT NULL{scope}) AS dispatched
                    """
                ),
                {"tenant": tenant_id} if tenant_id is not None else {},
            )
        ).one()
    return {
        "backlog": int(row.backlog),
        "oldest_pending_seconds": float(row.oldest or 0.0),
        "dlq": int(row.dead),
        "dispatched": int(row.dispatched),
    }
