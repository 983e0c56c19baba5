"""The event registry: naming rules, ownership, publish checks, loading with upcasts, JSON Schemas."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from rustok_core.errors import BootError, ErrorCode, Validation
from rustok_core.events import DomainEvent, EventEnvelope, EventRegistry, UnknownEventType
from rustok_core.events.core_events import CORE_EVENTS, TenantCreated
from rustok_testing.samples import ThingHappened


class OrderPlaced(DomainEvent):
    """An order was placed."""

    event_type = "shop.order.placed"
    order_id: uuid.UUID
    total: int

    def validate(self) -> None:  # type: ignore[override]
        if self.total < 0:
            raise Validation("total must not be negative", field="payload.total")


def registry() -> EventRegistry:
    return EventRegistry([*(("core", e) for e in CORE_EVENTS), ("shop", OrderPlaced), ("recorder", ThingHappened)])


# --- naming --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_type",
    ["thing", "Shop.Order.Placed", "shop..placed", "shop.order.", ".shop.order", "shop order.placed", "1shop.order"],
)
def test_event_types_must_look_like_module_entity_action(event_type: str) -> None:
    with pytest.raises(TypeError, match=r"must look like 'module\.entity\.action'"):
        type("Bad", (DomainEvent,), {"event_type": event_type, "__module__": __name__})


@pytest.mark.parametrize("event_type", ["shop.order.placed", "tenant.created", "shop.order_line.price_changed"])
def test_well_formed_event_types_are_accepted(event_type: str) -> None:
    declared = type("Good", (DomainEvent,), {"event_type": event_type, "__module__": __name__})
    assert declared.event_type == event_type
    assert declared.schema_version == 1


@pytest.mark.parametrize("version", [0, -1, "2"])
def test_schema_versions_are_positive_integers(version: Any) -> None:
    with pytest.raises(TypeError, match="schema_version must be a positive integer"):
        type(
            "Bad", (DomainEvent,), {"event_type": "shop.thing.done", "schema_version": version, "__module__": __name__}
        )


def test_intermediate_classes_without_a_type_are_allowed_but_cannot_be_registered() -> None:
    class Base(DomainEvent):
        note: str = ""

    with pytest.raises(BootError, match="'shop' declares Base without an event_type"):
        EventRegistry([("shop", Base)])
    with pytest.raises(BootError, match="not a DomainEvent class"):
        EventRegistry([("shop", dict)])  # type: ignore[list-item]


# --- ownership ----------------------------------------------------------------------------------


def test_one_type_declared_by_two_modules_is_a_boot_error_naming_both() -> None:
    class Impostor(DomainEvent):
        event_type = "shop.order.placed"
        order_id: uuid.UUID

    with pytest.raises(BootError) as refused:
        EventRegistry([("shop", OrderPlaced), ("billing", Impostor)])
    assert "'shop.order.placed'" in str(refused.value)
    assert "'shop'" in str(refused.value)
    assert "'billing'" in str(refused.value)


def test_the_same_class_declared_by_a_second_module_is_refused_too() -> None:
    with pytest.raises(BootError, match="declared by both 'core' and 'shop'"):
        EventRegistry([("core", TenantCreated), ("shop", TenantCreated)])


def test_declaring_a_class_twice_from_its_own_module_is_harmless() -> None:
    reg = EventRegistry([("shop", OrderPlaced), ("shop", OrderPlaced)])
    assert len(reg) == 1
    assert reg.owner("shop.order.placed") == "shop"


def test_registry_lists_types_sorted_and_answers_membership() -> None:
    reg = registry()
    types = [e.event_type for e in reg]
    assert types == sorted(types)
    assert "recorder.thing.happened" in reg
    assert "nope.thing.happened" not in reg
    assert reg.owner("tenant.created") == "core"
    assert reg.owner("nope.thing.happened") is None
    assert len(reg) == len(CORE_EVENTS) + 2


# --- publishing checks ----------------------------------------------------------------------


def test_check_event_accepts_the_declared_class_and_runs_its_invariants() -> None:
    reg = registry()
    reg.check_event(OrderPlaced(order_id=uuid.uuid4(), total=5))
    with pytest.raises(Validation) as invalid:
        reg.check_event(OrderPlaced(order_id=uuid.uuid4(), total=-5))
    assert invalid.value.field_errors[0].path == ("payload", "total")


def test_check_event_refuses_an_unregistered_type() -> None:
    class Unlisted(DomainEvent):
        event_type = "ghost.thing.happened"

    with pytest.raises(UnknownEventType) as refused:
        registry().check_event(Unlisted())
    assert refused.value.code is ErrorCode.VALIDATION
    assert refused.value.details == {"reason": "EVENT_UNKNOWN_TYPE", "eventType": "ghost.thing.happened"}


def test_check_event_refuses_a_class_posing_as_another_type() -> None:
    class FakeTenantCreated(DomainEvent):
        event_type = "tenant.created"
        slug: str

    class SneakyThing(ThingHappened):  # inherits event_type and version
        pass

    reg = registry()
    with pytest.raises(Validation) as posing:
        reg.check_event(FakeTenantCreated(slug="x"))
    assert posing.value.details["reason"] == "EVENT_CLASS_MISMATCH"
    assert "TenantCreated" in posing.value.message
    with pytest.raises(Validation) as subclass:
        reg.check_event(SneakyThing(n=1))
    assert subclass.value.details["reason"] == "EVENT_CLASS_MISMATCH"


# --- loading and ingesting ------------------------------------------------------------------


def test_load_validates_the_payload_with_field_paths() -> None:
    reg = registry()
    with pytest.raises(Validation) as invalid:
        reg.load("shop.order.placed", {"order_id": "not-a-uuid"})
    error = invalid.value
    assert error.code is ErrorCode.VALIDATION
    assert error.details["reason"] == "EVENT_INVALID"
    paths = {fe.path for fe in error.field_errors}
    assert paths == {("payload", "order_id"), ("payload", "total")}
    assert "payload.total" in error.message


def test_load_refuses_unknown_fields_and_runs_the_invariants() -> None:
    reg = registry()
    with pytest.raises(Validation) as extra:
        reg.load("recorder.thing.happened", {"n": 1, "surprise": True})
    assert {fe.path for fe in extra.value.field_errors} == {("payload", "surprise")}
    with pytest.raises(Validation) as negative:
        reg.load("recorder.thing.happened", {"n": -1})
    assert negative.value.field_errors[0].path == ("payload", "n")


def test_load_refuses_unknown_types() -> None:
    with pytest.raises(Validation) as unknown:
        registry().load("ghost.thing.happened", {})
    assert unknown.value.details["reason"] == "EVENT_UNKNOWN_TYPE"


@pytest.mark.parametrize("version", [0, 3, 99])
def test_load_refuses_versions_it_does_not_know(version: int) -> None:
    with pytest.raises(Validation) as unsupported:
        registry().load("recorder.thing.happened", {"n": 1}, version)
    assert unsupported.value.details["reason"] == "EVENT_VERSION_UNSUPPORTED"
    assert f"no schema version {version}" in unsupported.value.message


def test_load_upcasts_version_1_payloads() -> None:
    event = registry().load("recorder.thing.happened", {"count": 7, "sleep": 0.5}, 1)
    assert isinstance(event, ThingHappened)
    assert event.n == 7
    assert event.payload() == {"n": 7, "fail_times": 0, "fail_handler": None, "sleep": 0.5}
    # The current version loads as is, and "count" is not a field of it.
    assert registry().load("recorder.thing.happened", {"n": 7}, 2) == ThingHappened(n=7)
    with pytest.raises(Validation):
        registry().load("recorder.thing.happened", {"count": 7}, 2)


def test_an_upcast_that_chokes_on_a_bad_old_payload_is_a_validation_error() -> None:
    # A stored v1 payload without "count": the upcast fails; that is an invalid event,
    # not an unexpected exception (which would stall a relay's whole batch).
    with pytest.raises(Validation) as invalid:
        registry().load("recorder.thing.happened", {"n": 3}, 1)
    assert invalid.value.details["reason"] == "EVENT_INVALID"


def test_events_without_an_upcast_cannot_load_older_versions() -> None:
    class Twice(DomainEvent):
        event_type = "shop.thing.twice"
        schema_version = 2

    reg = EventRegistry([("shop", Twice)])
    with pytest.raises(Validation) as refused:
        reg.load("shop.thing.twice", {}, 1)
    assert refused.value.details["reason"] == "EVENT_VERSION_UNSUPPORTED"


def _envelope(event_type: str, payload: dict[str, Any], version: int) -> EventEnvelope:
    from datetime import UTC, datetime

    return EventEnvelope(
        id=uuid.uuid4(),
        event_type=event_type,
        schema_version=version,
        tenant_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        payload=payload,
    )


def test_ingest_validates_and_upcasts_envelopes() -> None:
    reg = registry()
    assert reg.ingest(_envelope("recorder.thing.happened", {"count": 2}, 1)) == ThingHappened(n=2)
    with pytest.raises(Validation) as invalid:
        reg.ingest(_envelope("recorder.thing.happened", {"n": "many"}, 2))
    assert invalid.value.field_errors[0].path == ("payload", "n")
    with pytest.raises(UnknownEventType):
        reg.ingest(_envelope("ghost.thing.happened", {}, 1))
    with pytest.raises(Validation, match="no schema version 5"):
        reg.ingest(_envelope("recorder.thing.happened", {"n": 1}, 5))


# --- JSON Schemas ------------------------------------------------------------------------------


def test_json_schemas_describe_every_type_with_version_and_module() -> None:
    schemas = registry().json_schemas()
    assert set(schemas) == {e.event_type for e in CORE_EVENTS} | {"shop.order.placed", "recorder.thing.happened"}
    thing = schemas["recorder.thing.happened"]
    assert thing["title"] == "recorder.thing.happened"
    assert thing["x-rustok-schema-version"] == 2
    assert thing["x-rustok-module"] == "recorder"
    assert thing["required"] == ["n"]
    assert thing["properties"]["n"]["type"] == "integer"
    assert thing["additionalProperties"] is False
    assert thing["description"].startswith("Sample event; version 2 renamed")
    order = schemas["shop.order.placed"]
    assert order["x-rustok-module"] == "shop"
    assert order["x-rustok-schema-version"] == 1
    assert order["properties"]["order_id"]["format"] == "uuid"
    assert schemas["tenant.created"]["x-rustok-module"] == "core"
    assert schemas["tenant.created"]["description"] == "A tenant was created."
