"""Fixtures for the pages tests: a tenant in two locales, an editor, GraphQL helpers, the outbox."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from rustok_outbox.runtime import runtime_of
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient

PAGE_FIELDS = "id status version locale title path segment parentId depth position availableLocales"
CREATE_PAGE = f"mutation($input: CreatePageInput!) {{ createPage(input: $input) {{ {PAGE_FIELDS} }} }}"
UPDATE_PAGE = (
    "mutation($id: UUID!, $version: Int!, $input: UpdatePageInput!) "
    f"{{ updatePage(id: $id, version: $version, input: $input) {{ {PAGE_FIELDS} }} }}"
)
PAGE_BY_PATH = f"query($slug: String!, $locale: String) {{ page(slug: $slug, locale: $locale) {{ {PAGE_FIELDS} }} }}"
UPSERT_MENU = (
    "mutation($input: MenuInput!, $version: Int) { upsertMenu(input: $input, version: $version) { id slug version } }"
)
MENU_ITEM = "id kind label url path pageId nodeId nodeKind openInNewTab position"
MENU = (
    "query($slug: String!, $locale: String) { menu(slug: $slug, locale: $locale) { id slug version items { "
    f"{MENU_ITEM} children {{ {MENU_ITEM} children {{ {MENU_ITEM} }} }} }} }} }}"
)


@dataclass
class Site:
    """One tenant (locales en and de) with an editor, reached through the real app."""

    client: RustokClient
    platform: Platform
    tenant: Any
    editor: Any

    CREATE_PAGE = CREATE_PAGE
    UPDATE_PAGE = UPDATE_PAGE
    PAGE_BY_PATH = PAGE_BY_PATH
    UPSERT_MENU = UPSERT_MENU
    MENU = MENU

    async def gql(self, document: str, variables: dict[str, Any] | None = None, *, public: bool = False) -> Any:
        if public:
            return await self.client.graphql(document, variables, tenant=self.tenant)
        return await self.client.graphql(document, variables, headers=self.editor.headers)

    async def data(self, document: str, variables: dict[str, Any] | None = None, *, public: bool = False) -> Any:
        body = await self.gql(document, variables, public=public)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def create_page(
        self,
        *translations: dict[str, Any],
        parent: dict[str, Any] | None = None,
        status: str = "PUBLISHED",
        **more: Any,
    ) -> dict[str, Any]:
        given = {"translations": list(translations), "status": status, **more}
        if parent is not None:
            given["parentId"] = parent["id"]
        page: dict[str, Any] = (await self.data(CREATE_PAGE, {"input": given}))["createPage"]
        return page

    async def update_page(self, page: dict[str, Any], changes: dict[str, Any]) -> Any:
        current = await self.page_by_id(page["id"])
        return await self.gql(UPDATE_PAGE, {"id": page["id"], "version": current["version"], "input": changes})

    async def page_by_id(self, page_id: str, locale: str | None = None) -> Any:
        document = f"query($id: UUID!, $l: String) {{ pageById(id: $id, locale: $l) {{ {PAGE_FIELDS} }} }}"
        return (await self.data(document, {"id": page_id, "l": locale}))["pageById"]

    async def path(self, page: dict[str, Any], locale: str) -> str:
        found = await self.page_by_id(page["id"], locale)
        return str(found["path"])

    async def menu(self, slug: str, locale: str | None = None, *, public: bool = False) -> Any:
        return (await self.data(MENU, {"slug": slug, "locale": locale}, public=public))["menu"]

    # -- the outbox -------------------------------------------------------------------------

    async def event_ids(self) -> set[uuid.UUID]:
        return {row.id for row in await self._rows()}

    async def events_since(self, seen: set[uuid.UUID]) -> list[Any]:
        """Events stored after ``seen`` was taken, in order; each payload must load in the registry."""
        registry = runtime_of(self.platform.ctx).registry
        rows = [row for row in await self._rows() if row.id not in seen]
        for row in rows:
            registry.load(row.event_type, row.payload, row.schema_version)
        return rows

    @staticmethod
    def kinds(events: list[Any]) -> Counter[str]:
        return Counter(event.event_type for event in events)

    async def _rows(self) -> list[Any]:
        async with self.platform.ctx.db.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT id, event_type, schema_version, payload, causation_id FROM sys_events "
                    "WHERE tenant_id = :t ORDER BY id"
                ),
                {"t": self.tenant.id},
            )
            return list(result.all())


@pytest.fixture
async def site(rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any) -> Site:
    tenant = await make_tenant(locales=["en", "de"])
    editor = await make_user(tenant, role="editor")
    return Site(rustok_client, rustok_platform, tenant, editor)
