"""The GraphQL HTTP endpoint: ``POST /graphql`` executes, ``GET /graphql`` explores.

Parsed and validated documents are cached by query text (errors included), so a
repeated query skips parsing and the standard validation rules. The cost limit
depends on variables (``first: $n``), so it runs per request unless the document
declares no variables, in which case its verdict is cached too.

A query operation that :class:`~rustok_server.graphql.cacheable.CachePolicy` allows
(only ``@storefrontCached`` root fields) goes to the installed
:class:`~rustok_core.interfaces.GraphQLResponder` instead — the index module's
response cache and fast path — which runs the cost check and the execution below
only when it has to compute an answer.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from ariadne.explorer import ExplorerGraphiQL
from ariadne.validation.introspection_disabled import IntrospectionDisabledRule
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    print_ast,
    specified_rules,
    validate,
)
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from rustok_core.context import RequestContext, request_context
from rustok_core.errors import ErrorCode
from rustok_core.graphql import CacheableRequest, GraphQLAnswer
from rustok_core.interfaces import GraphQLResponder
from rustok_core.lru import LRU
from rustok_core.settings import GraphQLSettings
from rustok_server.graphql.cacheable import CachePolicy
from rustok_server.graphql.errors import GRAPHQL_PARSE_FAILED, format_error
from rustok_server.graphql.validation import cost_errors, depth_limit_rule
from rustok_server.metrics import Metrics

COST_VERDICTS_PER_DOCUMENT = 64
"""Cost verdicts kept per document with variables (most recently used variables)."""
COST_VERDICT_MAX_KEY_BYTES = 2048
"""Variables longer than this as JSON are checked every time, not kept."""


async def read_body(receive: Receive) -> bytes:
    """The whole request body, as ``Request.body()`` reads it, without its async generator.

    Only for a request whose body nothing else reads (the stream is consumed here).
    """
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()


class JSONBytes(Response):
    """Serialized JSON, sent as ``Response(body, status_code, media_type="application/json")``
    sends it, without that class's generic header handling (every answer of the
    endpoint, cached ones included, is one of these)."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        if status_code < 200 or status_code in (204, 304):  # no body allowed, so no length
            self.raw_headers = [(b"content-type", b"application/json")]
        else:
            length = str(len(body)).encode("latin-1")
            self.raw_headers = [(b"content-length", length), (b"content-type", b"application/json")]


@dataclass
class PreparedDocument:
    document: DocumentNode | None
    errors: list[GraphQLError]
    has_variables: bool
    operations: dict[str | None, OperationType]
    cost_errors: list[GraphQLError] | None = None
    """Cached cost verdict for documents without variables (``None``: not checked yet)."""
    cost_by_variables: LRU[bytes, list[GraphQLError]] = field(default_factory=lambda: LRU(COST_VERDICTS_PER_DOCUMENT))
    """Recent cost verdicts of a document with variables, by the variables' JSON."""
    cacheable: dict[str | None, OperationDefinitionNode | None] = field(default_factory=dict)
    """Per operation name: the operation when the responder may answer it, else ``None``."""
    memo: dict[str, Any] = field(default_factory=dict)
    """The responder's storage for this document (``CacheableRequest.memo``)."""
    digest: str | None = None
    """Digest of the printed document, made when first needed."""

    def document_key(self) -> str:
        if self.digest is None:
            assert self.document is not None
            self.digest = hashlib.blake2b(print_ast(self.document).encode(), digest_size=16).hexdigest()
        return self.digest


class GraphQLEndpoint:
    def __init__(
        self,
        schema: GraphQLSchema,
        settings: GraphQLSettings,
        metrics: Metrics,
        *,
        debug: bool = False,
        responder: GraphQLResponder | None = None,
        policy: CachePolicy | None = None,
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.metrics = metrics
        self.debug = debug
        self.responder = responder if policy is not None else None
        self.policy = policy
        self.cache: LRU[str, PreparedDocument] = LRU(settings.document_cache_size)
        # Metric children bound once: a label lookup costs about as much as a cache hit.
        self._document_hits = metrics.graphql_document_cache.labels("hit")
        self._document_misses = metrics.graphql_document_cache.labels("miss")
        self._operations: dict[tuple[str, str], Any] = {}
        rules: list[type[ASTValidationRule]] = [*specified_rules, depth_limit_rule(settings.max_depth)]
        if not settings.introspection:
            rules.append(IntrospectionDisabledRule)
        self.rules: Sequence[type[ASTValidationRule]] = tuple(rules)
        self.explorer_html = ExplorerGraphiQL(title="RusToK GraphQL").html(None) if settings.explorer else None

    # -- document preparation ---------------------------------------------------------------

    def prepare(self, query: str) -> PreparedDocument:
        cached = self.cache.get(query)
        if cached is not None:
            self._document_hits.inc()
            return cached
        self._document_misses.inc()
        try:
            document = parse(query)
        except GraphQLError as exc:
            exc.extensions = {**(exc.extensions or {}), "reason": GRAPHQL_PARSE_FAILED}
            prepared = PreparedDocument(None, [exc], False, {})
        else:
            errors = validate(self.schema, document, self.rules)
            operations = {
                (d.name.value if d.name else None): d.operation
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
            }
            has_variables = any(
                d.variable_definitions for d in document.definitions if isinstance(d, OperationDefinitionNode)
            )
            prepared = PreparedDocument(document, list(errors), has_variables, operations)
        self.cache.put(query, prepared)
        return prepared

    def cost_errors(self, prepared: PreparedDocument, variables: dict[str, Any] | None) -> list[GraphQLError]:
        """The cost limit's verdict: a function of the document and the variables, so kept per both."""
        assert prepared.document is not None
        if not prepared.has_variables:
            if prepared.cost_errors is None:
                prepared.cost_errors = cost_errors(self.schema, prepared.document, self.settings.max_cost, None)
            return prepared.cost_errors
        try:
            key = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # not JSON-like (not from a request body): check, do not keep
            key = b""
        if not key or len(key) > COST_VERDICT_MAX_KEY_BYTES:
            return cost_errors(self.schema, prepared.document, self.settings.max_cost, variables)
        verdicts = prepared.cost_by_variables
        errors = verdicts.get(key)
        if errors is None:
            errors = cost_errors(self.schema, prepared.document, self.settings.max_cost, variables)
            verdicts.put(key, errors)
        return errors

    def cacheable_operation(
        self, prepared: PreparedDocument, operation_name: str | None
    ) -> OperationDefinitionNode | None:
        """The operation the responder may answer (decided once per document and name)."""
        if operation_name in prepared.cacheable:
            return prepared.cacheable[operation_name]
        assert prepared.document is not None
        chosen = None
        operations = [d for d in prepared.document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            chosen = operations[0] if len(operations) == 1 else None
        else:
            chosen = next((d for d in operations if d.name is not None and d.name.value == operation_name), None)
            if chosen is None:
                return None  # execution reports the unknown name; nothing to remember for it
        if chosen is not None and self.policy is not None:
            fragments = {
                d.name.value: d for d in prepared.document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            if not self.policy.allows(chosen, fragments):
                chosen = None
        prepared.cacheable[operation_name] = chosen
        return chosen

    # -- HTTP ----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The endpoint as an ASGI app (``Route("/graphql", endpoint)``).

        Spares Starlette's per-endpoint wrapper: errors raised here still reach the app's
        exception handlers, through its ``ExceptionMiddleware``.
        """
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            if self.explorer_html is None:
                return self._request_error("the GraphQL explorer is disabled; POST queries to /graphql", 405)
            return HTMLResponse(self.explorer_html)

        try:
            body = orjson.loads(await read_body(request.receive))
        except orjson.JSONDecodeError:
            return self._request_error('request body must be JSON: {"query": "...", "variables": {...}}')
        if not isinstance(body, dict):
            return self._request_error("request body must be a JSON object with a 'query' string")
        query = body.get("query")
        variables = body.get("variables")
        operation_name = body.get("operationName")
        if not isinstance(query, str) or not query.strip():
            return self._request_error("'query' must be a non-empty string")
        if variables is not None and not isinstance(variables, dict):
            return self._request_error("'variables' must be a JSON object")
        if operation_name is not None and not isinstance(operation_name, str):
            return self._request_error("'operationName' must be a string")

        prepared = self.prepare(query)
        if prepared.errors:
            return self._errors(prepared.errors, 400, "invalid")
        ctx = request_context(request)
        cacheable = self.cacheable_operation(prepared, operation_name) if self.responder is not None else None
        if cacheable is not None and self.responder is not None:
            assert prepared.document is not None
            answer = await self.responder.respond(
                CacheableRequest(
                    context=ctx,
                    schema=self.schema,
                    document=prepared.document,
                    document_key=prepared.document_key(),
                    operation=cacheable,
                    operation_name=operation_name,
                    variables=variables,
                    memo=prepared.memo,
                    check=lambda: self._check(prepared, variables),
                    execute=lambda: self._execute(prepared, ctx, variables, operation_name),
                )
            )
            if answer.status == 200:  # the cost check counts its own refusals
                self._count("query", "ok" if answer.ok else "error")
            return JSONBytes(answer.body, answer.status)

        refused = self._check(prepared, variables)
        if refused is not None:
            return JSONBytes(refused.body, refused.status)
        operation = prepared.operations.get(operation_name)
        if operation is None and operation_name is None and len(prepared.operations) == 1:
            operation = next(iter(prepared.operations.values()))
        if operation is OperationType.SUBSCRIPTION:
            return self._request_error("subscriptions are not served over HTTP POST")
        answer = await self._execute(prepared, ctx, variables, operation_name)
        kind = operation.value if operation is not None else "unknown"
        self._count(kind, "ok" if answer.ok else "error")
        return JSONBytes(answer.body, answer.status)

    def _check(self, prepared: PreparedDocument, variables: dict[str, Any] | None) -> GraphQLAnswer | None:
        """The per-request checks after validation: the cost limit."""
        errors = self.cost_errors(prepared, variables)
        if not errors:
            return None
        response = self._errors(errors, 400, "too_costly")
        return GraphQLAnswer(bytes(response.body), status=response.status_code, ok=False)

    async def _execute(
        self,
        prepared: PreparedDocument,
        ctx: RequestContext,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> GraphQLAnswer:
        assert prepared.document is not None
        result = execute(
            self.schema,
            prepared.document,
            context_value=ctx,
            variable_values=variables,
            operation_name=operation_name,
        )
        if inspect.isawaitable(result):
            result = await result
        payload: dict[str, Any] = {}
        if result.errors:
            payload["errors"] = [
                format_error(e, debug=self.debug, request_id=ctx.conn.scope.get("rustok.request_id"))
                for e in result.errors
            ]
        payload["data"] = result.data
        return GraphQLAnswer(orjson.dumps(payload), ok=not result.errors)

    def _count(self, kind: str, outcome: str) -> None:
        child = self._operations.get((kind, outcome))
        if child is None:
            child = self._operations[(kind, outcome)] = self.metrics.graphql_operations.labels(kind, outcome)
        child.inc()

    def _errors(self, errors: Sequence[GraphQLError], status: int, outcome: str) -> Response:
        self._count("unknown", outcome)
        payload = {"errors": [format_error(e, debug=self.debug) for e in errors]}
        return JSONBytes(orjson.dumps(payload), status)

    def _request_error(self, message: str, status: int = 400) -> Response:
        payload = {
            "errors": [{"message": message, "extensions": {"code": str(ErrorCode.VALIDATION), "reason": "BAD_REQUEST"}}]
        }
        return JSONBytes(orjson.dumps(payload), status)
