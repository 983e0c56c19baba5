"""The event registry: every event type the installed modules declare.

It validates events on publish and on ingest, upcasts stored payloads of older
schema versions step by step, and exports each type's JSON Schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import ValidationError

from rustok_core.errors import BootError, FieldError, Validation
from rustok_core.events.base import DomainEvent, EventEnvelope


class UnknownEventType(Validation):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"unknown event type '{event_type}'", reason="EVENT_UNKNOWN_TYPE", eventType=event_type)


class EventRegistry:
    def __init__(self, declared: Iterable[tuple[str, type[DomainEvent]]] = ()) -> None:
        self._types: dict[str, type[DomainEvent]] = {}
        self._owners: dict[str, str] = {}
        for owner, event_class in declared:
            self.register(event_class, owner=owner)

    def register(self, event_class: type[DomainEvent], *, owner: str) -> None:
        if not (isinstance(event_class, type) and issubclass(event_class, DomainEvent)):
            raise BootError(f"'{owner}' declares {event_class!r}, which is not a DomainEvent class")
        event_type = getattr(event_class, "event_type", None)
        if event_type is None:
            raise BootError(f"'{owner}' declares {event_class.__name__} without an event_type")
        existing = self._types.get(event_type)
        if existing is not None and (existing is not event_class or self._owners[event_type] != owner):
            raise BootError(f"event type '{event_type}' is declared by both '{self._owners[event_type]}' and '{owner}'")
        self._types[event_type] = event_class
        self._owners[event_type] = owner

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._types

    def __iter__(self) -> Iterator[type[DomainEvent]]:
        return iter(self._types[name] for name in sorted(self._types))

    def __len__(self) -> int:
        return len(self._types)

    def owner(self, event_type: str) -> str | None:
        return self._owners.get(event_type)

    def get(self, event_type: str) -> type[DomainEvent]:
        try:
            return self._types[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def check_event(self, event: DomainEvent) -> None:
        """Validate an event about to be published."""
        declared = self.get(event.event_type)
        if type(event) is not declared:
            raise Validation(
                f"'{event.event_type}' must be published as {declared.__name__}, not {type(event).__name__}",
                reason="EVENT_CLASS_MISMATCH",
            )
        event.validate()

    def load(self, event_type: str, payload: dict[str, Any], schema_version: int | None = None) -> DomainEvent:
        """Validate (and upcast) a payload into its event class."""
        event_class = self.get(event_type)
        version = event_class.schema_version if schema_version is None else schema_version
        if version > event_class.schema_version or version < 1:
            raise Validation(
                f"'{event_type}' has no schema version {version} (current is {event_class.schema_version})",
                reason="EVENT_VERSION_UNSUPPORTED",
            )
        data = dict(payload)
        while version < event_class.schema_version:
            try:
                data = event_class.upcast(version, data)
            except Validation:
                raise
            except Exception as exc:
                # A stored payload the upcast cannot read is an invalid event, not a crash.
                raise Validation(
                    f"cannot upcast '{event_type}' from schema version {version}: {type(exc).__name__}: {exc}",
                    reason="EVENT_INVALID",
                ) from None
            version += 1
        try:
            event = event_class.model_validate(data)
        except ValidationError as exc:
            errors = [FieldError(("payload", *(str(p) for p in e["loc"])), e["msg"]) for e in exc.errors()]
            summary = "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
            raise Validation(
                f"invalid '{event_type}' payload: {summary}", errors=errors, reason="EVENT_INVALID"
            ) from None
        event.validate()
        return event

    def ingest(self, envelope: EventEnvelope) -> DomainEvent:
        """Validate a stored or received envelope (upcasting older versions)."""
        return self.load(envelope.event_type, envelope.payload, envelope.schema_version)

    def json_schemas(self) -> dict[str, dict[str, Any]]:
        """``{event_type: schema}``; each schema names its version and declaring module."""
        schemas: dict[str, dict[str, Any]] = {}
        for event_class in self:
            schema = event_class.model_json_schema()
            schema["title"] = event_class.event_type
            schema["x-rustok-schema-version"] = event_class.schema_version
            schema["x-rustok-module"] = self._owners[event_class.event_type]
            if event_class.__doc__:
                schema["description"] = " ".join(event_class.__doc__.split())
            schemas[event_class.event_type] = schema
        return schemas
