"""Scenario: a server killed right after acknowledging writes loses none of them from the index.

The real server (``rustok serve``) runs in a subprocess on the test database. An admin
creates, publishes and prices products over HTTP; the moment the last write answers 200
the server is killed with SIGKILL — no shutdown, no chance to deliver anything. A new
server is started on the same database, and the storefront (``catalogProducts``,
``catalogProduct``, ``search`` over HTTP) is polled until every acknowledged write is
visible, with a deadline: the writes committed their events with them (the outbox), and
the new server's relay delivers them to the index.

Round one kills a server whose relay is off (so nothing of those writes can have reached
the index before the crash: the test proves that); round two kills a server with its
relay on, possibly in the middle of a delivery (its claims expire after the short lease
configured here, and the next server's relay takes them).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from rustok_core.context import TenantContext
from rustok_server.boot import Platform
from rustok_testing.plugin import TEST_JWT_SECRET, SignedInUser
from rustok_testing.server import RunningServer, environment_without_rustok, running_server

pytestmark = pytest.mark.slow

RUSTOK = str(Path(sys.executable).parent / "rustok")
LEASE_SECONDS = 2
DEADLINE_SECONDS = 60.0

CREATE = """
mutation($input: CreateProductInput!) { createProduct(input: $input) { id handle variants { id } } }"""
PUBLISH = "mutation($id: UUID!) { publishProduct(id: $id) { status } }"
ARCHIVE = "mutation($id: UUID!) { archiveProduct(id: $id) { status } }"
SET_PRICES = """
mutation($v: UUID!, $p: [PriceTierInput!]!) {
  setVariantPrices(variantId: $v, currencyCode: "EUR", prices: $p) { id }
}"""
CATALOG = """
query { catalogProducts(first: 100, sort: TITLE) { edges { node { id title prices { currency min max } } } } }"""
BY_HANDLE = "query($h: String!) { catalogProduct(handle: $h) { id title prices { min } } }"
SEARCH = 'query { search(query: "crashproof", types: [PRODUCT], first: 100) { edges { node { id } } } }'


class Shop:
    """The admin's HTTP calls to whichever server is running."""

    def __init__(self, tenant: TenantContext, admin: SignedInUser) -> None:
        self.tenant = tenant
        self.admin = admin
        self.server: RunningServer | None = None

    def call(self, document: str, variables: dict[str, Any] | None = None, *, admin: bool = True) -> dict[str, Any]:
        assert self.server is not None
        headers = self.admin.headers if admin else {self.admin.tenant_header: self.tenant.slug}
        response = httpx.post(
            f"{self.server.base_url}/graphql",
            json={"query": document, "variables": variables or {}},
            headers=headers,
            timeout=30,
        )
        # The acknowledgement: a 200 without errors means the write committed.
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def product(self, title: str, cents: int) -> dict[str, Any]:
        created: dict[str, Any] = self.call(
            CREATE,
            {
                "input": {
                    "translations": [{"locale": "en", "title": title, "description": "crashproof goods"}],
                    "variants": [{"manageInventory": False, "prices": [{"currencyCode": "EUR", "amount": cents}]}],
                }
            },
        )["createProduct"]
        self.call(PUBLISH, {"id": created["id"]})
        return created

    def storefront(self) -> dict[str, Any]:
        """What the storefront shows: title → lowest EUR price, and the ids search finds."""
        listed = self.call(CATALOG, admin=False)["catalogProducts"]["edges"]
        found = self.call(SEARCH, admin=False)["search"]["edges"]
        return {
            "listed": {edge["node"]["title"]: edge["node"]["prices"][0]["min"] for edge in listed},
            "found": sorted(edge["node"]["id"] for edge in found),
        }


@pytest.fixture
def start_server(rustok_database_url: str, tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "development.yaml").write_text(
        "log_level: warning\nrustok:\n  rate_limit:\n    requests_per_minute: 100000000\n    burst: 100000000\n"
    )
    servers = contextlib.ExitStack()
    started = 0

    def start(*, relay: bool) -> RunningServer:
        nonlocal started
        env = environment_without_rustok(
            RUSTOK_CONFIG_DIR=str(tmp_path / "config"),
            DATABASE_URL=rustok_database_url,
            RUSTOK_JWT_SECRET=TEST_JWT_SECRET,
            RUSTOK__RUSTOK__EVENTS__RELAY="true" if relay else "false",
            RUSTOK__RUSTOK__EVENTS__LEASE_SECONDS=str(LEASE_SECONDS),
            RUSTOK__RUSTOK__EVENTS__POLL_INTERVAL="0.5",
        )
        started += 1
        log = tmp_path / f"server-{started}.log"
        server = servers.enter_context(running_server([RUSTOK, "serve"], cwd=tmp_path, env=env, log=log))
        server.wait_for("/health/ready")
        return server

    with servers:
        yield start


def kill(server: RunningServer) -> None:
    """SIGKILL the server's process group: no shutdown hook, no last delivery."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    assert server.process.returncode == -signal.SIGKILL


def until(check: Callable[[], bool], describe: Callable[[], Any]) -> None:
    """Poll ``check`` until it holds; fail with ``describe()`` after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"the index did not catch up within {DEADLINE_SECONDS}s: {describe()}")
        time.sleep(0.05)


async def test_writes_acknowledged_before_a_sigkill_reach_the_index_after_restart(
    rustok_platform: Platform, make_tenant: Any, make_user: Any, start_server: Callable[..., RunningServer]
) -> None:
    tenant = await make_tenant(locales=["en"])
    admin = await make_user(tenant, role="admin")
    shop = Shop(tenant, admin)

    # Round one: acknowledged writes, then SIGKILL; the relay of this server was off.
    shop.server = start_server(relay=False)
    first = {f"Crashproof {n}": shop.product(f"Crashproof {n}", 1000 + n) for n in range(5)}
    kill(shop.server)
    async with rustok_platform.ctx.db.engine.connect() as conn:
        pending = await conn.scalar(
            text("SELECT count(*) FROM sys_events WHERE tenant_id = :t AND dispatched_at IS NULL"), {"t": tenant.id}
        )
        indexed = await conn.scalar(text("SELECT count(*) FROM index_products WHERE tenant_id = :t"), {"t": tenant.id})
    # Each product's created, variant, price and published events wait in the outbox; none reached the index.
    assert pending is not None and pending >= 4 * len(first) and indexed == 0

    shop.server = start_server(relay=True)
    expected = {
        "listed": {title: 1000 + n for n, title in enumerate(first)},
        "found": sorted(p["id"] for p in first.values()),
    }
    until(lambda: shop.storefront() == expected, shop.storefront)
    for product in first.values():
        page = shop.call(BY_HANDLE, {"h": product["handle"]}, admin=False)["catalogProduct"]
        assert page is not None and page["id"] == product["id"]

    # Round two: this server's relay is on and may be delivering when it dies.
    shop.call(SET_PRICES, {"v": first["Crashproof 0"]["variants"][0]["id"], "p": [{"amount": 777}]})
    shop.call(ARCHIVE, {"id": first["Crashproof 1"]["id"]})
    late = shop.product("Crashproof late", 4242)
    kill(shop.server)

    shop.server = start_server(relay=True)
    listed = {title: price for title, price in expected["listed"].items() if title != "Crashproof 1"}
    expected = {
        "listed": {**listed, "Crashproof 0": 777, "Crashproof late": 4242},
        "found": sorted([p["id"] for t, p in first.items() if t != "Crashproof 1"] + [late["id"]]),
    }
    until(lambda: shop.storefront() == expected, shop.storefront)
    assert shop.call(BY_HANDLE, {"h": first["Crashproof 1"]["handle"]}, admin=False)["catalogProduct"] is None
    late_page = shop.call(BY_HANDLE, {"h": late["handle"]}, admin=False)["catalogProduct"]
    assert late_page is not None and late_page["prices"] == [{"min": 4242}]
