"""Each installed module's contract page names everything it declares, so the page cannot drift.

``docs/modules/<slug>.md`` must exist and mention every permission the module
declares and every event type it emits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rustok_core.registry import ModuleRegistry

DOCS = Path(__file__).resolve().parent.parent / "docs" / "modules"
REGISTRY = ModuleRegistry.from_entry_points()


@pytest.mark.parametrize("slug", REGISTRY.slugs)
def test_the_contract_page_names_every_permission_and_event(slug: str) -> None:
    page = DOCS / f"{slug}.md"
    assert page.is_file(), f"module '{slug}' has no contract page {page.relative_to(DOCS.parent.parent)}"
    text = page.read_text(encoding="utf-8")
    declared = [str(p) for p in REGISTRY.call_module(slug, "rustok_permissions") or ()]
    events = [e.event_type for e in REGISTRY.call_module(slug, "rustok_event_types") or ()]
    missing = [name for name in [*declared, *events] if name not in text]
    assert not missing, f"docs/modules/{slug}.md does not mention: {', '.join(missing)}"
