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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from rustok_core.context import AppContext
from rustok_core.events import EventEnvelope
from rustok_core.ids import generate_id, id_to_ulid
from rustok_outbox.backoff import retry_delay
from rustok_outbox.dispatch import DeliveryResult, Dispatcher
from rustok_outbox.metrics import EventMetrics
from rustok_outbox.publisher import NOTIFY_CHANNEL

log = logging.getLogger("rustok.events.relay")

CLAIM = text(
    """
    WITH due AS (
        SELECT id FROM sys_events
        WHERE dispatched_at IS NULL
          AND next_attempt_at <= now()
          AND (claim_expires_at IS NULL OR claim_expires_at < now())
        ORDER BY next_attempt_at, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE sys_events AS e
    SET claimed_by = :relay, claim_expires_at = now() + make_interval(secs => :lease)
    FROM due WHERE e.id = due.id
    RETURNING e.id, e.tenant_id, e.event_type, e.schema_version, e.payload, e.actor_id,
              e.correlation_id, e.causation_id, e.occurred_at, e.attempts
    """
)
MARK_DISPATCHED = text(
    """
    UPDATE sys_events SET dispatched_at = now(), claimed_by = NULL, claim_expires_at = NULL, last_error = NULL
    WHERE id = ANY(:ids) AND claimed_by = :relay
    """
)
RESCHEDULE = text(
    """
    UPDATE sys_events
    SET attempts = attempts + 1, last_error = :error, claimed_by = NULL, claim_expires_at = NULL,
        next_attempt_at = now() + make_interval(secs => :delay)
    WHERE id = :id AND claimed_by = :relay
    """
)
RELEASE = text(
    """
    UPDATE sys_events SET claimed_by = NULL, claim_expires_at = NULL,
        next_attempt_at = now() + make_interval(secs => :delay)
    WHERE id = ANY(:ids) AND claimed_by = :relay
    """
)
MOVE_TO_DLQ = text(
    """
    WITH dead AS (
        DELETE FROM sys_events WHERE id = :id AND claimed_by = :relay
        RETURNING id, tenant_id, event_type, schema_version, payload, actor_id, correlation_id,
                  causation_id, occurred_at
    )
    INSERT INTO sys_events_dlq (id, tenant_id, event_type, schema_version, payload, actor_id, correlation_id,
                                causation_id, occurred_at, attempts, last_error, failed_handlers, failed_at)
    SELECT id, tenant_id, event_type, schema_version, payload, actor_id, correlation_id, causation_id,
           occurred_at, :attempts, :error, :handlers, now()
    FROM dead
    """
)
NEXT_DUE = text(
    """
    SELECT EXTRACT(EPOCH FROM (min(GREATEST(next_attempt_at, COALESCE(claim_expires_at, next_attempt_at))) - now()))
    FROM sys_events WHERE dispatched_at IS NULL
    """
)


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


def listen_conninfo(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


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

    # -- one round -----------------------------------------------------------------------

    async def claim_batch(self) -> list[EventEnvelope]:
        async with self.ctx.db.engine.begin() as conn:  # a plain connection: this path is hot
            rows = (
                await conn.execute(
                    CLAIM, {"limit": self.settings.batch_size, "relay": self.name, "lease": self.settings.lease_seconds}
                )
            ).all()
        envelopes = [
            EventEnvelope(
                id=row.id,
                event_type=row.event_type,
                schema_version=row.schema_version,
                tenant_id=row.tenant_id,
                occurred_at=row.occurred_at,
                payload=row.payload,
                actor_id=row.actor_id,
                correlation_id=row.correlation_id,
                causation_id=row.causation_id,
                attempts=row.attempts,
            )
            for row in rows
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
        async with self.ctx.db.engine.begin() as conn:  # a plain connection: this path is hot
            if done:
                await conn.execute(MARK_DISPATCHED, {"ids": done, "relay": self.name})
            for envelope, result in zip(batch, results, strict=True):
                if result.ok:
                    continue
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
                    await conn.execute(
                        RESCHEDULE, {"id": envelope.id, "relay": self.name, "error": error, "delay": delay}
                    )
                    self.stats.retried += 1
        self.stats.dispatched += len(done)
        self.metrics.relayed.inc(len(done))

    async def _release(self, batch: Sequence[EventEnvelope], *, delay: float) -> None:
        async with self.ctx.db.engine.begin() as conn:  # a plain connection: this path is hot
            await conn.execute(RELEASE, {"ids": [e.id for e in batch], "relay": self.name, "delay": delay})
        self.stats.released += len(batch)

    async def seconds_until_due(self) -> float | None:
        async with self.ctx.db.engine.connect() as conn:
            value = (await conn.execute(NEXT_DUE)).scalar()
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
                    processed = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("relay %s failed a round; retrying", self.name)
                    processed = 0
                    await asyncio.sleep(1.0)
                if processed >= self.settings.batch_size:
                    continue  # more may be waiting
                await self._idle()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

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
        conninfo = listen_conninfo(self.ctx.db.url)
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
