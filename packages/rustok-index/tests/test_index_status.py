"""indexStatus and /metrics: documents, last write, events the index has not applied, lag."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from rustok_core.events.core_events import ModuleEnabled
from rustok_core.index import ContentDocument
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient, error_codes
from rustok_testing.events import deliver_events, publish

from .conftest import product, write

STATUS = "{ indexStatus { type documents lastIndexedAt pendingEvents lagSeconds } }"


async def test_status_counts_documents_and_the_events_still_to_apply(
    client: RustokClient, platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    admin = await make_user(tenant, role="admin", platform=platform)
    # The new tenant's module.enabled events rebuild its (empty) index: apply them first.
    await deliver_events(platform)
    await write(platform, tenant, [product(locale="en"), product(locale="en")])
    node = uuid.uuid4()
    await write(
        platform,
        tenant,
        [ContentDocument(node, "en", "article", "Hello", "hello", "published", body_text="World")],
    )

    before = {s["type"]: s for s in (await client.graphql_data(STATUS, headers=admin.headers))["indexStatus"]}
    assert before["PRODUCT"]["documents"] == 2 and before["CONTENT"]["documents"] == 1
    assert before["PRODUCT"]["lastIndexedAt"] is not None
    assert before["PRODUCT"]["pendingEvents"] == 0 and before["CONTENT"]["lagSeconds"] == 0

    # A module toggle may change documents of every type: pending until the index applies it.
    await publish(platform, tenant, ModuleEnabled(module="index"))
    waiting = {s["type"]: s for s in (await client.graphql_data(STATUS, headers=admin.headers))["indexStatus"]}
    assert waiting["PRODUCT"]["pendingEvents"] == 1 and waiting["CONTENT"]["pendingEvents"] == 1
    assert waiting["CONTENT"]["lagSeconds"] > 0

    assert await deliver_events(platform) == 1
    after = {s["type"]: s for s in (await client.graphql_data(STATUS, headers=admin.headers))["indexStatus"]}
    assert after["PRODUCT"]["pendingEvents"] == 0 and after["PRODUCT"]["lagSeconds"] == 0


async def test_status_needs_the_index_read_permission(
    client: RustokClient, platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    customer = await make_user(tenant, role="customer", platform=platform)
    assert error_codes(await client.graphql(STATUS, headers=customer.headers)) == ["FORBIDDEN"]
    assert error_codes(await client.graphql(STATUS, tenant=tenant)) == ["UNAUTHENTICATED"]
    rebuild = await client.graphql("mutation { rebuildIndex { written } }", headers=customer.headers)
    assert error_codes(rebuild) == ["FORBIDDEN"]


def gauge(text: str, name: str, entity_type: str) -> float:
    match = re.search(rf'^{name}{{type="{entity_type}"}} (\S+)$', text, re.MULTILINE)
    assert match, f"{name} for {entity_type} missing from /metrics"
    return float(match.group(1))


@pytest.mark.usefixtures("app")
async def test_metrics_expose_the_index_gauges_and_counters(
    client: RustokClient, platform: Platform, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    await deliver_events(platform)
    await write(platform, tenant, [product(), product()])
    await publish(platform, tenant, ModuleEnabled(module="index"))
    body = (await client.get("/metrics")).text
    assert gauge(body, "rustok_index_documents", "product") >= 2
    assert gauge(body, "rustok_index_last_indexed_timestamp_seconds", "product") > 0
    assert gauge(body, "rustok_index_pending_events", "content") >= 1
    assert gauge(body, "rustok_index_lag_seconds", "content") > 0
    assert gauge(body, "rustok_index_documents_written_total", "product") >= 2
    await deliver_events(platform)
    body = (await client.get("/metrics")).text
    assert gauge(body, "rustok_index_pending_events", "content") == 0
