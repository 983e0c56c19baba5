"""EventBacklog: per event type, the stored events a handler has not applied yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from rustok_core.events.core_events import ModuleDisabled, ModuleEnabled
from rustok_core.interfaces import EventBacklog
from rustok_server.boot import Platform
from rustok_testing.events import publish


async def test_pending_counts_events_without_the_handlers_receipt_per_tenant(
    rustok_platform: Platform, make_tenant: Any
) -> None:
    one, two = await make_tenant(modules=[]), await make_tenant(modules=[])
    first, _ = await publish(rustok_platform, one, ModuleEnabled(module="x"), ModuleEnabled(module="y"))
    await publish(rustok_platform, one, ModuleDisabled(module="x"))
    await publish(rustok_platform, two, ModuleEnabled(module="x"))
    backlog = rustok_platform.ctx.services.get(EventBacklog)
    types = ["module.enabled", "module.disabled"]

    pending = {p.event_type: p for p in await backlog.pending("someone", types, tenant_id=one.id)}
    assert {t: p.count for t, p in pending.items()} == {"module.enabled": 2, "module.disabled": 1}
    assert pending["module.enabled"].oldest_occurred_at == first.occurred_at

    async with rustok_platform.ctx.db.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO event_receipts (handler, event_id, tenant_id) VALUES ('someone', :e, :t)"),
            {"e": first.id, "t": one.id},
        )
    pending = {p.event_type: p.count for p in await backlog.pending("someone", types, tenant_id=one.id)}
    assert pending == {"module.enabled": 1, "module.disabled": 1}
    everywhere = {p.event_type: p.count for p in await backlog.pending("someone", ["module.enabled"])}
    assert everywhere["module.enabled"] >= 2  # tenant two's as well
    assert await backlog.pending("someone", []) == []
