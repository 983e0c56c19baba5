"""Event schemas exported to docs/events/ from the registry of installed event types."""

from __future__ import annotations

import json
from pathlib import Path

from rustok_core.events import DomainEvent, EventRegistry
from rustok_xtask.events import EVENTS_DIR, render_event_docs, stale_event_docs


class ParcelShipped(DomainEvent):
    """A parcel left the warehouse. Carriers are notified."""

    event_type = "shipping.parcel.shipped"
    schema_version = 3
    parcel_id: str
    carrier: str


def test_each_event_gets_a_schema_file_and_a_row_in_the_index(tmp_path: Path) -> None:
    files = render_event_docs(tmp_path, EventRegistry([("shipping", ParcelShipped)]))
    schema = json.loads(files[tmp_path / EVENTS_DIR / "shipping.parcel.shipped.json"])
    assert schema["title"] == "shipping.parcel.shipped"
    assert schema["x-rustok-schema-version"] == 3
    assert schema["x-rustok-module"] == "shipping"
    assert schema["required"] == ["parcel_id", "carrier"]
    assert schema["additionalProperties"] is False
    index = files[tmp_path / EVENTS_DIR / "README.md"]
    assert (
        "| [`shipping.parcel.shipped`](shipping.parcel.shipped.json) | 3 | shipping | A parcel left the warehouse |"
        in index
    )


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    registry = EventRegistry([("shipping", ParcelShipped)])
    assert render_event_docs(tmp_path, registry) == render_event_docs(tmp_path, registry)


def test_schemas_of_events_that_no_longer_exist_are_stale(tmp_path: Path) -> None:
    directory = tmp_path / EVENTS_DIR
    directory.mkdir(parents=True)
    (directory / "gone.thing.happened.json").write_text("{}")
    planned = render_event_docs(tmp_path, EventRegistry([("shipping", ParcelShipped)]))
    assert stale_event_docs(tmp_path, planned) == [directory / "gone.thing.happened.json"]


def test_the_repository_exports_the_core_events() -> None:
    root = Path(__file__).resolve().parents[2]
    for event_type in ("tenant.created", "module.enabled", "user.registered"):
        schema = json.loads((root / EVENTS_DIR / f"{event_type}.json").read_text())
        assert schema["x-rustok-module"] == "core"
