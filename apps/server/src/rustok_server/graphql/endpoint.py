"""The GraphQL HTTP endpoint: ``POST /graphql`` executes, ``GET /graphql`` explores.

Parsed and validated documents are cached by query text (errors included), so a
repeated query skips parsing and the standard validation rules. The cost limit
depends on variables (``first: $n``), so it runs per request unless the document
declares no variables, in which case its verdict is cached too.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from ariadne.explorer import ExplorerGraphiQL
from ariadne.validation.introspection_disabled import IntrospectionDisabledRule
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from rustok_core.context import request_context
from rustok_core.errors import ErrorCode
from rustok_core.settings import GraphQLSettings
from rustok_server.graphql.errors import GRAPHQL_PARSE_FAILED, format_error
from rustok_server.graphql.validation import cost_limit_rule, depth_limit_rule
from rustok_server.metrics import Metrics


@dataclass
class PreparedDocument:
    document: DocumentNode | None
    errors: list[GraphQLError]
    has_variables: bool
    operations: dict[str | None, OperationType]
    cost_errors: list[GraphQLError] | None = None
    """Cached cost verdict for documents without variables (``None``: not checked yet)."""


class DocumentCache:
    """A bounded LRU of prepared documents keyed by query text."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, PreparedDocument] = OrderedDict()

    def get(self, query: str) -> PreparedDocument | None:
        item = self._items.get(query)
        if item is not None:
            self._items.move_to_end(query)
        return item

    def put(self, query: str, prepared: PreparedDocument) -> None:
        if self.capacity <= 0:
            return
        self._items[query] = prepared
        self._items.move_to_end(query)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class GraphQLEndpoint:
    def __init__(
        self,
        schema: GraphQLSchema,
        settings: GraphQLSettings,
        metrics: Metrics,
        *,
        debug: bool = False,
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.metrics = metrics
        self.debug = debug
        self.cache = DocumentCache(settings.document_cache_size)
        rules: list[type[ASTValidationRule]] = [*specified_rules, depth_limit_rule(settings.max_depth)]
        if not settings.introspection:
            rules.append(IntrospectionDisabledRule)
        self.rules: Sequence[type[ASTValidationRule]] = tuple(rules)
        self.explorer_html = ExplorerGraphiQL(title="RusToK GraphQL").html(None) if settings.explorer else None

    # -- document preparation ---------------------------------------------------------------

    def prepare(self, query: str) -> PreparedDocument:
        cached = self.cache.get(query)
        if cached is not None:
            self.metrics.graphql_document_cache.labels("hit").inc()
            return cached
        self.metrics.graphql_document_cache.labels("miss").inc()
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
        assert prepared.document is not None
        if not prepared.has_variables and prepared.cost_errors is not None:
            return prepared.cost_errors
        rule = cost_limit_rule(self.settings.max_cost, variables)
        errors = list(validate(self.schema, prepared.document, [rule]))
        if not prepared.has_variables:
            prepared.cost_errors = errors
        return errors

    # -- HTTP ----------------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            if self.explorer_html is None:
                return self._request_error("the GraphQL explorer is disabled; POST queries to /graphql", 405)
            return HTMLResponse(self.explorer_html)

        try:
            body = orjson.loads(await request.body())
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
        cost_errors = self.cost_errors(prepared, variables)
        if cost_errors:
            return self._errors(cost_errors, 400, "too_costly")
        operation = prepared.operations.get(operation_name)
        if operation is None and operation_name is None and len(prepared.operations) == 1:
            operation = next(iter(prepared.operations.values()))
        if operation is OperationType.SUBSCRIPTION:
            return self._request_error("subscriptions are not served over HTTP POST")

        ctx = request_context(request)
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
        kind = operation.value if operation is not None else "unknown"
        self.metrics.graphql_operations.labels(kind, "error" if result.errors else "ok").inc()
        return Response(orjson.dumps(payload), media_type="application/json")

    def _errors(self, errors: Sequence[GraphQLError], status: int, outcome: str) -> Response:
        self.metrics.graphql_operations.labels("unknown", outcome).inc()
        payload = {"errors": [format_error(e, debug=self.debug) for e in errors]}
        return Response(orjson.dumps(payload), status_code=status, media_type="application/json")

    def _request_error(self, message: str, status: int = 400) -> Response:
        payload = {
            "errors": [{"message": message, "extensions": {"code": str(ErrorCode.VALIDATION), "reason": "BAD_REQUEST"}}]
        }
        return Response(orjson.dumps(payload), status_code=status, media_type="application/json")
