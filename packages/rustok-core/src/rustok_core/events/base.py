"""``DomainEvent`` (a typed payload with a stable type and version) and ``EventEnvelope``."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict

from rustok_core.errors import Validation

EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,4}\Z")


class DomainEvent(BaseModel):
    """The payload of an event, with its stable ``event_type`` and ``schema_version``.

    Subclasses are pydantic models (fields = payload). When a payload changes shape,
    bump ``schema_version`` and implement :meth:`upcast` so stored version N-1
    payloads still load. :meth:`validate` adds invariants beyond field types.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type is None:
            return  # an abstract intermediate class
        if not EVENT_TYPE_RE.match(event_type):
            raise TypeError(f"{cls.__name__}.event_type {event_type!r} must look like 'module.entity.action'")
        if not isinstance(cls.schema_version, int) or cls.schema_version < 1:
            raise TypeError(f"{cls.__name__}.schema_version must be a positive integer")

    @classmethod
    def upcast(cls, from_version: int, payload: dict[str, Any]) -> dict[str, Any]:
        """Turn a ``from_version`` payload into one of ``from_version + 1``."""
        raise Validation(
            f"{cls.event_type} cannot load schema version {from_version} (current is {cls.schema_version})",
            reason="EVENT_VERSION_UNSUPPORTED",
        )

    def validate(self) -> None:  # type: ignore[override]  # pydantic's deprecated v1 classmethod
        """Invariants beyond field types; raise ``Validation``. Called on publish and ingest."""

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json")
        return data


@dataclass(frozen=True)
class EventEnvelope:
    """An event as stored and transported."""

    id: uuid.UUID
    event_type: str
    schema_version: int
    tenant_id: uuid.UUID
    occurred_at: datetime
    payload: dict[str, Any]
    actor_id: uuid.UUID | None = None
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    attempts: int = field(default=0, compare=False)
    """How many deliveries failed before this one (0 on the first)."""

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "id": str(self.id),
                "event_type": self.event_type,
                "schema_version": self.schema_version,
                "tenant_id": str(self.tenant_id),
                "occurred_at": self.occurred_at.isoformat(),
                "payload": self.payload,
                "actor_id": str(self.actor_id) if self.actor_id else None,
                "correlation_id": str(self.correlation_id) if self.correlation_id else None,
                "causation_id": str(self.causation_id) if self.causation_id else None,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> EventEnvelope:
        try:
            data = orjson.loads(raw)
            occurred = datetime.fromisoformat(data["occurred_at"])
            return cls(
                id=uuid.UUID(data["id"]),
                event_type=str(data["event_type"]),
                schema_version=int(data["schema_version"]),
                tenant_id=uuid.UUID(data["tenant_id"]),
                occurred_at=occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC),
                payload=dict(data["payload"]),
                actor_id=uuid.UUID(data["actor_id"]) if data.get("actor_id") else None,
                correlation_id=uuid.UUID(data["correlation_id"]) if data.get("correlation_id") else None,
                causation_id=uuid.UUID(data["causation_id"]) if data.get("causation_id") else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError, orjson.JSONDecodeError) as exc:
            raise Validation(f"malformed event envelope: {exc}", reason="EVENT_MALFORMED") from None

    def with_attempts(self, attempts: int) -> EventEnvelope:
        return replace(self, attempts=attempts)
