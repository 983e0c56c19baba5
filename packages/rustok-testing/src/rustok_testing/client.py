"""An HTTP client for a RusToK app, with GraphQL helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
from starlette.types import ASGIApp

from rustok_core.context import TenantContext
from rustok_core.permissions import Permission


class RustokClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` over ASGI, plus :meth:`graphql` with a tenant header."""

    def __init__(self, app: ASGIApp, *, tenant_header: str = "X-Tenant-ID", raise_app_exceptions: bool = True) -> None:
        super().__init__(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions),
            base_url="http://testserver",
        )
        self.tenant_header = tenant_header

    def tenant_headers(self, tenant: TenantContext | str | None) -> dict[str, str]:
        if tenant is None:
            return {}
        key = tenant.slug if isinstance(tenant, TenantContext) else tenant
        return {self.tenant_header: key}

    async def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        tenant: TenantContext | str | None = None,
        headers: dict[str, str] | None = None,
        expect_status: int | None = 200,
    ) -> dict[str, Any]:
        """POST a GraphQL document; return the decoded response body."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        response = await self.post("/graphql", json=payload, headers={**self.tenant_headers(tenant), **(headers or {})})
        if expect_status is not None:
            assert response.status_code == expect_status, f"{response.status_code}: {response.text}"
        body: dict[str, Any] = response.json()
        return body

    async def graphql_data(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """Like :meth:`graphql`, but fail on any error and return ``data``."""
        body = await self.graphql(query, variables, **kwargs)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data


def error_codes(body: dict[str, Any]) -> list[str]:
    """The ``extensions.code`` of every error in a GraphQL response."""
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


def builtin_grants(catalog: Iterable[Permission], role: str, *, upper: bool = True) -> dict[str, str]:
    """What the installed modules grant the built-in ``role`` by default.

    Scopes as the GraphQL API spells them (``ALL``/``OWN``), or as stored with
    ``upper=False``. Tests compare against this rather than a fixed list, so that
    installing another module that grants e.g. the manager something keeps them true.
    """
    found: dict[str, str] = {}
    for permission in catalog:
        scope = dict(permission.grants).get(role)
        if scope is not None:
            found[permission.name] = scope.upper() if upper else scope
    return found
