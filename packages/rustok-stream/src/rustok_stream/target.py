"""The events relay's target for transport ``stream``: publish to JetStream.

Each envelope goes to ``<prefix>.<tenant id>.<event type>`` as
``EventEnvelope.to_json()``, and the target waits for the stream's PubAck. Only then
does the relay mark the event dispatched; if the broker cannot be reached the whole
batch raises :class:`~rustok_outbox.relay.TargetUnavailable` and stays in the outbox.

**Message ids.** ``Nats-Msg-Id`` is ``<event id>:<publication stamp>``, the stamp
being the microsecond ``created_at`` of the event's outbox row. A relay that
publishes a batch again (lost PubAck, expired lease, broker outage) sends the same
id, so JetStream's duplicate window stores the event once. A replay from the DLQ
inserts the outbox row again with a new ``created_at``: a new id, so the replayed
publication is stored even inside the window (with the bare event id it would be
silently dropped as a duplicate). Consumers read the stamp back to tell a stale
delivery from a replayed one (see ``consumers.py``). Receipts make any duplicate
that still gets through harmless.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import nats.errors
from nats.js.errors import APIError, NoStreamResponseError

from rustok_core.context import AppContext
from rustok_core.events import EventEnvelope
from rustok_core.settings import EventSettings
from rustok_outbox.dispatch import DeliveryResult
from rustok_outbox.downstream import publication_stamps
from rustok_outbox.relay import TargetUnavailable
from rustok_stream.connection import StreamConnection, StreamUnavailable

MSG_ID_HEADER = "Nats-Msg-Id"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MESSAGE_TOO_LARGE = 10054  # JetStream: "message size exceeds maximum allowed"


def subject_for(settings: EventSettings, envelope: EventEnvelope) -> str:
    return f"{settings.subject_prefix}.{envelope.tenant_id}.{envelope.event_type}"


def message_id(event_id: uuid.UUID, stamp: datetime | None) -> str:
    """``<event id>:<stamp in µs since the epoch>`` (the bare id without a stamp)."""
    if stamp is None:
        return str(event_id)
    return f"{event_id}:{(stamp - EPOCH) // MICROSECOND}"


def parse_message_id(value: str | None) -> tuple[uuid.UUID | None, datetime | None]:
    """The event id and publication stamp of a ``Nats-Msg-Id`` (``None`` for what is missing)."""
    if not value:
        return None, None
    head, _, tail = value.partition(":")
    try:
        event_id = uuid.UUID(head)
    except ValueError:
        return None, None
    if not tail.isdigit():
        return event_id, None
    return event_id, EPOCH + int(tail) * MICROSECOND


class JetStreamTarget:
    """Implements :class:`rustok_outbox.relay.RelayTarget` on NATS JetStream."""

    name = "jetstream"

    def __init__(
        self,
        ctx: AppContext,
        connection: StreamConnection,
        *,
        connect_wait: float = 1.0,
        ack_timeout: float = 5.0,
    ) -> None:
        self.ctx = ctx
        self.connection = connection
        self.settings = connection.settings
        self.connect_wait = connect_wait
        self.ack_timeout = ack_timeout

    async def deliver(self, envelopes: Sequence[EventEnvelope]) -> list[DeliveryResult]:
        if not envelopes:
            return []
        try:
            js = await self.connection.jetstream(wait=self.connect_wait)
        except StreamUnavailable as exc:
            raise TargetUnavailable(str(exc)) from None
        stamps = await publication_stamps(self.ctx, [envelope.id for envelope in envelopes])
        results = [DeliveryResult() for _ in envelopes]
        pending: list[tuple[int, asyncio.Future[Any]]] = []
        try:
            # Pipelined: every message is sent in order, then the PubAcks are awaited.
            for index, envelope in enumerate(envelopes):
                headers = {MSG_ID_HEADER: message_id(envelope.id, stamps.get(envelope.id))}
                try:
                    future = await js.publish_async(
                        subject_for(self.settings, envelope),
                        envelope.to_json(),
                        headers=headers,
                        wait_stall=self.ack_timeout,
                    )
                except nats.errors.MaxPayloadError as exc:
                    results[index] = DeliveryResult(invalid=f"event too large for NATS: {exc}")
                    continue
                pending.append((index, future))
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(future for _, future in pending), return_exceptions=True), timeout=self.ack_timeout
            )
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            for _, future in pending:
                future.cancel()
            raise TargetUnavailable(f"publishing to NATS failed: {_describe(exc)}") from None
        unavailable: BaseException | None = None
        for (index, _), outcome in zip(pending, outcomes, strict=True):
            if not isinstance(outcome, BaseException):
                continue
            if isinstance(outcome, APIError) and outcome.err_code == MESSAGE_TOO_LARGE:
                results[index] = DeliveryResult(invalid=f"event too large for the stream: {outcome}")
            else:
                unavailable = outcome
        if unavailable is not None:
            # Published ones are stored; the relay sends the batch again with the same
            # message ids and the duplicate window keeps them single.
            if isinstance(unavailable, NoStreamResponseError):
                self.connection.reset(f"stream {self.settings.stream_name} is not answering (deleted?)")
            raise TargetUnavailable(f"publishing to NATS failed: {_describe(unavailable)}")
        return results


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
