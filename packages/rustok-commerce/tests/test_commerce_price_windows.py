"""Price list windows that open or close are announced, once, as ``commerce.price_list.changed``.

Nothing is written when the clock passes a list's ``starts_at`` or ``ends_at``, yet the
prices that apply change; the announcement is what makes the index (and anything else
keeping resolved prices) read them again. Sweeps are run with an explicit moment, so the
tests never wait for the clock — except the last one, which checks that the watcher
wakes up at a bound by itself.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from rustok_commerce.services.catalog import ProductService
from rustok_commerce.services.catalog_inputs import NewProduct, PriceInput, ProductText, VariantInput
from rustok_commerce.services.price_windows import PriceWindowWatcher, announce_passed_windows, next_bound
from rustok_commerce.services.prices import PriceService, TierInput
from rustok_core.context import TenantContext
from rustok_server.boot import Platform
from rustok_testing.events import eventually
from rustok_testing.plugin import BootPlatform


@pytest.fixture(scope="module")
def quiet(boot_platform: BootPlatform) -> Platform:
    return boot_platform(**{"rustok.events.relay": False})


@pytest.fixture
async def tenant(quiet: Platform, make_tenant: Any) -> TenantContext:
    found: TenantContext = await make_tenant(platform=quiet)
    return found


async def announcements(platform: Platform, tenant: TenantContext) -> list[dict[str, Any]]:
    async with platform.ctx.db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT payload FROM sys_events WHERE tenant_id = :t AND event_type = 'commerce.price_list.changed' "
                "AND payload->>'action' = 'window' ORDER BY id"
            ),
            {"t": tenant.id},
        )
        return [row.payload for row in rows.all()]


async def priced_in_list(platform: Platform, tenant: TenantContext, price_list_id: uuid.UUID) -> uuid.UUID:
    product = await ProductService(platform.ctx).create(
        tenant,
        NewProduct(
            translations=[ProductText("en", "Windowed")],
            status="active",
            variants=[VariantInput(sku=f"W-{uuid.uuid4().hex[:8]}", prices=[PriceInput("EUR", 1000)])],
        ),
        actor_id=None,
    )
    variant = (await ProductService(platform.ctx).variants_of(tenant.id, [product.id]))[product.id][0]
    await PriceService(platform.ctx).set_prices(
        tenant, variant.id, "EUR", [TierInput(700)], price_list_id=price_list_id, actor_id=None
    )
    return product.id


async def test_each_bound_is_announced_once_when_the_clock_passes_it(quiet: Platform, tenant: TenantContext) -> None:
    now = datetime.now(UTC)
    starts, ends = now + timedelta(hours=1), now + timedelta(hours=2)
    sale = await PriceService(quiet.ctx).create_list(
        tenant, name="Evening sale", type="sale", starts_at=starts, ends_at=ends, actor_id=None
    )
    product_id = await priced_in_list(quiet, tenant, sale.id)
    assert await next_bound(quiet.ctx, now=now) is not None

    await announce_passed_windows(quiet.ctx, now=starts - timedelta(seconds=1))
    assert await announcements(quiet, tenant) == []

    await announce_passed_windows(quiet.ctx, now=starts)
    opened = {"price_list_id": str(sale.id), "action": "window", "product_ids": [str(product_id)]}
    assert await announcements(quiet, tenant) == [opened]
    # Swept again (another process, a restart): already announced.
    await announce_passed_windows(quiet.ctx, now=starts + timedelta(minutes=5))
    assert len(await announcements(quiet, tenant)) == 1

    # A server that was down over the end announces it when it comes back.
    await announce_passed_windows(quiet.ctx, now=ends + timedelta(days=1))
    assert await announcements(quiet, tenant) == [opened, opened]


async def test_two_sweeps_at_once_announce_a_bound_once(quiet: Platform, tenant: TenantContext) -> None:
    starts = datetime.now(UTC) + timedelta(hours=3)
    sale = await PriceService(quiet.ctx).create_list(tenant, name="Raced", type="sale", starts_at=starts, actor_id=None)
    await priced_in_list(quiet, tenant, sale.id)
    await asyncio.gather(*(announce_passed_windows(quiet.ctx, now=starts + timedelta(seconds=1)) for _ in range(4)))
    assert [a["price_list_id"] for a in await announcements(quiet, tenant)] == [str(sale.id)]


async def test_inactive_lists_and_bounds_a_write_covered_are_not_announced(
    quiet: Platform, tenant: TenantContext
) -> None:
    prices = PriceService(quiet.ctx)
    starts = datetime.now(UTC) + timedelta(hours=4)
    off = await prices.create_list(tenant, name="Off", type="sale", starts_at=starts, is_active=False, actor_id=None)
    on = await prices.create_list(tenant, name="On", type="sale", starts_at=starts, actor_id=None)
    await announce_passed_windows(quiet.ctx, now=starts + timedelta(seconds=1))
    assert [a["price_list_id"] for a in await announcements(quiet, tenant)] == [str(on.id)]

    # Its history rewritten: made two hours ago (switched off) with a start an hour ago. Switched
    # on now, its own event covers the start that passed; the sweep adds nothing.
    async with quiet.ctx.db.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE commerce_price_lists SET window_checked_at = now() - interval '2 hours', "
                "starts_at = now() - interval '1 hour' WHERE id = :id"
            ),
            {"id": off.id},
        )
    updated = await prices.update_list(tenant, off.id, expected_version=off.version, is_active=True, actor_id=None)
    assert updated.is_active
    await announce_passed_windows(quiet.ctx)
    assert len(await announcements(quiet, tenant)) == 1


async def test_the_watcher_wakes_up_at_the_next_bound(quiet: Platform, tenant: TenantContext) -> None:
    starts = datetime.now(UTC) + timedelta(milliseconds=400)
    sale = await PriceService(quiet.ctx).create_list(
        tenant, name="Flash sale", type="sale", starts_at=starts, actor_id=None
    )
    watcher = PriceWindowWatcher(quiet.ctx, longest_sleep=30)
    watcher.start()
    try:
        # Waits for the clock to pass the bound (well under the watcher's longest sleep).
        found = await eventually(lambda: announcements(quiet, tenant), within=10)
    finally:
        await watcher.stop()
    assert [a["price_list_id"] for a in found] == [str(sale.id)]
    assert watcher.announced >= 1 and watcher.failures == 0
    assert datetime.now(UTC) >= starts
