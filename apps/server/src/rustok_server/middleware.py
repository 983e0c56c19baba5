"""The request pipeline in one pure-ASGI middleware.

For every HTTP request: assign a request id (kept from ``X-Request-ID`` when sane),
resolve the tenant for API paths (errors answered in the API's own format), attach
the :class:`RequestContext`, and record metrics.
"""

from __future__ import annotations

import re
import time

import orjson
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rustok_core.context import REQUEST_CONTEXT_KEY, AppContext, RequestContext
from rustok_core.errors import RustokError
from rustok_core.ids import generate_id, id_to_ulid
from rustok_core.interfaces import TenantResolver
from rustok_server.graphql.errors import rustok_error_extensions
from rustok_server.metrics import Metrics
from rustok_server.rest.problems import problem_response

REQUEST_ID_KEY = "rustok.request_id"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
TENANT_PATHS = ("/graphql", "/api/v1/")


def route_label(path: str) -> str:
    """A low-cardinality label for metrics."""
    if path.startswith("/api/v1/"):
        parts = path.split("/", 4)
        return "/".join(parts[:4])
    for prefix in ("/graphql", "/health", "/metrics", "/swagger", "/api/openapi.json"):
        if path.startswith(prefix):
            return prefix
    return "other"


class RustokMiddleware:
    def __init__(self, app: ASGIApp, *, ctx: AppContext, metrics: Metrics, resolver: TenantResolver) -> None:
        self.app = app
        self.ctx = ctx
        self.metrics = metrics
        self.resolver = resolver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        conn = HTTPConnection(scope)
        given = conn.headers.get("x-request-id", "")
        request_id = given if REQUEST_ID_RE.match(given) else id_to_ulid(generate_id())
        scope[REQUEST_ID_KEY] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        path: str = scope["path"]
        try:
            tenant = None
            if path.startswith(TENANT_PATHS):
                try:
                    tenant = await self.resolver.resolve(conn)
                except RustokError as error:
                    await self._reject(error, conn, path)(scope, receive, send_with_id)
                    return
            scope[REQUEST_CONTEXT_KEY] = RequestContext(app=self.ctx, conn=conn, tenant=tenant)
            await self.app(scope, receive, send_with_id)
        finally:
            label = route_label(path)
            self.metrics.http_requests.labels(scope["method"], label, str(status)).inc()
            self.metrics.http_duration.labels(label).observe(time.perf_counter() - started)

    @staticmethod
    def _reject(error: RustokError, conn: HTTPConnection, path: str) -> Response:
        if path.startswith("/graphql"):
            payload = {"errors": [{"message": error.message, "extensions": rustok_error_extensions(error)}]}
            return Response(orjson.dumps(payload), status_code=error.http_status, media_type="application/json")
        return problem_response(error, conn)
