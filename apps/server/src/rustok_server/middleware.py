"""The request pipeline in one pure-ASGI middleware.

For every HTTP request: assign a request id (kept from ``X-Request-ID`` when sane);
for API paths refuse bodies above the path's limit (413: declared lengths at once,
streamed bodies as they arrive; upload routes have a larger limit, see
:class:`~rustok_server.rest.mount.BodyLimits`), resolve the tenant, authenticate the
caller and apply the rate limit (each failure answered in the API's own format);
attach the :class:`RequestContext`; record metrics. Health and metrics endpoints skip
tenant, authentication and limits.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rustok_core.context import REQUEST_CONTEXT_KEY, AppContext, RequestContext
from rustok_core.errors import ErrorCode, RateLimited, RustokError, Validation
from rustok_core.ids import UlidTexts
from rustok_core.interfaces import TenantResolver
from rustok_core.net import TrustedProxies
from rustok_core.ratelimit import RateLimiter, per_minute
from rustok_server.auth.authenticate import Authenticator
from rustok_server.graphql.errors import rustok_error_extensions
from rustok_server.metrics import Metrics
from rustok_server.rest.mount import BodyLimits
from rustok_server.rest.problems import WWW_AUTHENTICATE, problem_response

REQUEST_ID_KEY = "rustok.request_id"


class BodyTooLarge(Validation):
    """A ``VALIDATION`` error answered with HTTP 413."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="BODY_TOO_LARGE")

    @property
    def http_status(self) -> int:
        return 413


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"the request body is larger than {limit} bytes")


REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}\Z")
API_PATHS = ("/graphql", "/api/v1/")


def route_label(path: str) -> str:
    """A low-cardinality label for metrics."""
    if path.startswith("/api/v1/"):
        parts = path.split("/", 4)
        return "/".join(parts[:4])
    for prefix in ("/graphql", "/health", "/metrics", "/swagger", "/api/openapi.json"):
        if path.startswith(prefix):
            return prefix
    return "other"


class RequestHeaders(Headers):
    """Request headers whose :meth:`get` is one dict lookup.

    The pipeline asks each request for several headers (request id, length, tenant,
    credentials, proxies), and :class:`Headers` scans and decodes the whole list for
    each one, raising ``KeyError`` for every absent header. The dict built on the first
    call keeps the first value of each name, which is what :meth:`Headers.__getitem__`
    answers.
    """

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope=scope)
        self._first: dict[bytes, bytes] | None = None

    def get(self, key: str, default: Any = None) -> Any:
        first = self._first
        if first is None:
            first = self._first = dict(reversed(self._list))
        value = first.get(key.lower().encode("latin-1"))
        return default if value is None else value.decode("latin-1")


class RequestConnection(HTTPConnection):
    """The connection the pipeline and the :class:`RequestContext` share, with :class:`RequestHeaders`."""

    @property
    def headers(self) -> Headers:
        if not hasattr(self, "_headers"):
            self._headers = RequestHeaders(self.scope)
        return self._headers


class RustokMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        ctx: AppContext,
        metrics: Metrics,
        resolver: TenantResolver,
        authenticator: Authenticator,
        limiter: RateLimiter,
        body_limits: BodyLimits | None = None,
    ) -> None:
        self.app = app
        self.ctx = ctx
        self.metrics = metrics
        self.resolver = resolver
        self.authenticator = authenticator
        self.limiter = limiter
        self.proxies = TrustedProxies(ctx.settings.rustok.tenant.trusted_proxies)
        limits = ctx.settings.rustok.rate_limit
        self.rate_limited = limits.enabled
        self.body_limits = body_limits or BodyLimits(ctx.settings.server.max_body_bytes)
        self.capacity, self.refill = per_minute(limits.requests_per_minute, limits.burst)
        self.request_ids = UlidTexts()
        # Metric children by label values: ``labels(...)`` costs about a microsecond per call.
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._durations: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        conn = RequestConnection(scope)
        headers = conn.headers
        given = headers.get("x-request-id", "")
        request_id = given if given and REQUEST_ID_RE.match(given) else self.request_ids.next()
        scope[REQUEST_ID_KEY] = request_id
        added = [(b"x-request-id", request_id.encode("latin-1"))]
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A new list, as MutableHeaders makes: the response's own list stays as it was.
                message["headers"] = [*message["headers"], *added]
            await send(message)

        path: str = scope["path"]
        method: str = scope["method"]
        label = route_label(path)
        if path.startswith(API_PATHS):
            limit = self.body_limits.for_request(method, path)
            declared = headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                await self._reject(_too_large(limit), conn, path)(scope, receive, send_with_id)
                self._count(method, label, 413)
                return
            receive = self._limited(receive, limit)
        try:
            client = scope.get("client")
            peer = client[0] if client is not None else None
            ctx = RequestContext(app=self.ctx, conn=conn, client_ip=self.proxies.client_ip(peer, headers))
            if path.startswith(API_PATHS):
                try:
                    ctx.tenant = await self.resolver.resolve(conn)
                    ctx.principal, ctx.tenant = await self.authenticator.authenticate(conn, ctx.tenant)
                    await self._limit(ctx, added)
                except RustokError as error:
                    await self._reject(error, conn, path)(scope, receive, send_with_id)
                    return
            scope[REQUEST_CONTEXT_KEY] = ctx
            await self.app(scope, receive, send_with_id)
            # The scope and the context refer to each other (ctx.conn.scope). Without the
            # context in the scope, both are freed at once rather than by the cycle
            # collector, whose passes cost every request. Kept when the request failed,
            # for whoever handles the error.
            scope.pop(REQUEST_CONTEXT_KEY, None)
        finally:
            self._count(method, label, status)
            duration = self._durations.get(label)
            if duration is None:
                duration = self._durations[label] = self.metrics.http_duration.labels(label)
            duration.observe(time.perf_counter() - started)

    def _count(self, method: str, label: str, status: int) -> None:
        key = (method, label, status)
        child = self._requests.get(key)
        if child is None:
            child = self._requests[key] = self.metrics.http_requests.labels(method, label, str(status))
        child.inc()

    async def _limit(self, ctx: RequestContext, headers: list[tuple[bytes, bytes]]) -> None:
        if not self.rate_limited:
            return
        identity = ctx.principal.identity if ctx.principal else f"ip:{ctx.client_ip or '-'}"
        tenant = ctx.tenant.id if ctx.tenant else "-"
        decision = await self.limiter.hit(
            f"requests:{tenant}:{identity}", capacity=self.capacity, refill_per_second=self.refill
        )
        headers.append((b"x-ratelimit-remaining", str(decision.remaining).encode()))
        if not decision.allowed:
            self.metrics.rate_limited.inc()
            raise RateLimited("too many requests; slow down", retry_after=decision.retry_after)

    @staticmethod
    def _limited(receive: Receive, limit: int) -> Receive:
        """Count streamed body bytes (chunked uploads declare no length)."""
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _too_large(limit)
            return message

        return counted

    @staticmethod
    def _reject(error: RustokError, conn: HTTPConnection, path: str) -> Response:
        if not path.startswith("/graphql"):
            response = problem_response(error, conn)
        else:
            payload = {"errors": [{"message": error.message, "extensions": rustok_error_extensions(error)}]}
            response = Response(orjson.dumps(payload), status_code=error.http_status, media_type="application/json")
            if error.code is ErrorCode.RATE_LIMITED and "retryAfter" in error.details:
                response.headers["Retry-After"] = str(math.ceil(error.details["retryAfter"]))
            if error.code is ErrorCode.UNAUTHENTICATED:
                response.headers["WWW-Authenticate"] = WWW_AUTHENTICATE
        return response
