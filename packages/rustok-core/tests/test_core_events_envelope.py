"""Event envelopes: JSON round trips and refusing malformed input; event payloads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from rustok_core.errors import ErrorCode, Validation
from rustok_core.events import EventEnvelope
from rustok_core.events.core_events import UserRegistered
from rustok_testing.samples import ThingHappened


def envelope(**overrides: object) -> EventEnvelope:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "event_type": "recorder.thing.happened",
        "schema_version": 2,
        "tenant_id": uuid.uuid4(),
        "occurred_at": datetime(2026, 11, 21, 10, 30, 15, 123456, tzinfo=UTC),
        "payload": {"n": 3, "nested": {"list": [1, "two", None]}, "text": "Grüße"},
        "actor_id": uuid.uuid4(),
        "correlation_id": uuid.uuid4(),
        "causation_id": uuid.uuid4(),
    }
    values.update(overrides)
    return EventEnvelope(**values)  # type: ignore[arg-type]


def test_json_round_trip_keeps_every_field() -> None:
    original = envelope()
    restored = EventEnvelope.from_json(original.to_json())
    assert restored == original
    assert restored.occurred_at.tzinfo is not None
    assert restored.payload["nested"] == {"list": [1, "two", None]}
    assert isinstance(restored.actor_id, uuid.UUID)


def test_json_round_trip_without_optional_ids_and_from_text() -> None:
    original = envelope(actor_id=None, correlation_id=None, causation_id=None)
    data = orjson.loads(original.to_json())
    assert data["actor_id"] is None
    restored = EventEnvelope.from_json(original.to_json().decode())
    assert restored == original
    assert restored.actor_id is None and restored.correlation_id is None and restored.causation_id is None


def test_attempts_are_transport_state_not_part_of_the_event() -> None:
    first = envelope()
    retried = first.with_attempts(3)
    assert retried.attempts == 3 and first.attempts == 0
    assert retried == first
    assert "attempts" not in orjson.loads(retried.to_json())
    assert EventEnvelope.from_json(retried.to_json()).attempts == 0


def test_times_keep_their_instant_and_naive_times_are_utc() -> None:
    local = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    assert EventEnvelope.from_json(envelope(occurred_at=local).to_json()).occurred_at == local
    data = orjson.loads(envelope().to_json())
    data["occurred_at"] = "2026-01-01T12:00:00"
    restored = EventEnvelope.from_json(orjson.dumps(data))
    assert restored.occurred_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _without(key: str) -> bytes:
    data = orjson.loads(envelope().to_json())
    del data[key]
    return orjson.dumps(data)


def _with(key: str, value: object) -> bytes:
    data = orjson.loads(envelope().to_json())
    data[key] = value
    return orjson.dumps(data)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{not json",
        b"[]",
        b'"a string"',
        b"null",
        _without("id"),
        _without("payload"),
        _without("occurred_at"),
        _without("tenant_id"),
        _with("id", "not-a-uuid"),
        _with("id", 12345),
        _with("tenant_id", ["x"]),
        _with("schema_version", "two"),
        _with("occurred_at", "yesterday"),
        _with("occurred_at", None),
        _with("payload", 5),
        _with("payload", "text"),
        _with("actor_id", "nobody"),
    ],
)
def test_malformed_envelopes_are_validation_errors(raw: bytes) -> None:
    with pytest.raises(Validation) as malformed:
        EventEnvelope.from_json(raw)
    assert malformed.value.code is ErrorCode.VALIDATION
    assert malformed.value.details["reason"] == "EVENT_MALFORMED"
    assert malformed.value.message.startswith("malformed event envelope")


def test_event_payloads_are_json_ready_and_events_are_immutable() -> None:
    user_id = uuid.uuid4()
    event = UserRegistered(user_id=user_id, email="a@example.com", verification_required=False)
    assert event.payload() == {"user_id": str(user_id), "email": "a@example.com", "verification_required": False}
    orjson.dumps(event.payload())
    with pytest.raises(ValueError, match="frozen"):
        event.email = "b@example.com"  # type: ignore[misc]
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        ThingHappened(n=1, extra=True)  # type: ignore[call-arg]
