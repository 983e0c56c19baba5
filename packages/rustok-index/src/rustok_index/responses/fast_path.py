"""The fast path: answer a storefront query without graphql-core's field-by-field execution.

For an operation with a plan (:mod:`rustok_index.responses.plan`), variables are
coerced with graphql-core's ``get_variable_values`` and each root field's arguments
with ``get_argument_values`` — the functions its executor uses — then each root field's
storefront read runs (one SQL statement; several root fields run concurrently, like
graphql-core runs them), and the rows, already shaped like the response, are completed
by the plan's functions straight into the JSON payload. No resolver is called per
field, no path or info object is built.

Whenever anything is unusual — no plan, variables or arguments that do not coerce, a
read that raises (``VALIDATION``, ``MODULE_DISABLED``, a database error…), a value the
plan would not complete like graphql-core — :meth:`FastPath.answer` returns ``None``
and the caller executes the operation normally, which yields graphql-core's exact
answer and errors. Each such case is counted by reason
(``rustok_storefront_fast_path_fallbacks_total``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from graphql import get_argument_values, get_variable_values

from rustok_core.graphql import CacheableRequest
from rustok_core.lru import LRU
from rustok_index.responses.metrics import ResponseMetrics
from rustok_index.responses.plan import Fallback, NotPlannable, OperationPlan, Read, compile_operation

log = logging.getLogger(__name__)

_NO_PLAN = object()
REMEMBERED_VARIABLE_SETS = 64
"""Coerced arguments kept per document and operation (most recently used variable sets)."""
MAX_REMEMBERED_VARIABLES_BYTES = 2048
"""Variables longer than this as JSON are coerced every time, not kept."""

_Reads = tuple[tuple[Read, dict[str, Any]], ...]


class FastPath:
    def __init__(self, reads: Mapping[Callable[..., Any], Read], metrics: ResponseMetrics) -> None:
        self.reads = reads
        self.metrics = metrics

    def plan(self, request: CacheableRequest) -> OperationPlan | None:
        """The operation's plan, compiled on first use and kept with the document."""
        memo_key = f"fast-path-plan:{request.operation_name}"
        plan = request.memo.get(memo_key)
        if plan is None:
            try:
                plan = compile_operation(request.schema, request.document, request.operation, self.reads)
            except NotPlannable as exc:
                log.debug("no fast-path plan for operation %r: %s", request.operation_name, exc)
                plan = _NO_PLAN
            request.memo[memo_key] = plan
        return plan if isinstance(plan, OperationPlan) else None

    def _prepared_reads(self, request: CacheableRequest, plan: OperationPlan) -> _Reads | str:
        """Each root field's read with its coerced arguments, or the fallback reason.

        Coercion is a function of the plan and the variables: kept per document for the
        most recent variable sets (a repeated request skips graphql-core's coercion).
        """
        given = request.variables
        try:
            key = orjson.dumps(given, option=orjson.OPT_SORT_KEYS) if given else b""
        except TypeError:  # not JSON-like (not from a request body): coerce, do not keep
            key = None
        memo: LRU[bytes, _Reads | str] = request.memo.setdefault(
            f"fast-path-reads:{request.operation_name}", LRU(REMEMBERED_VARIABLE_SETS)
        )
        if key is not None:
            found = memo.get(key)
            if found is not None:
                return found
        prepared = self._coerce(request, plan)
        if key is not None and len(key) <= MAX_REMEMBERED_VARIABLES_BYTES:
            memo.put(key, prepared)
        return prepared

    @staticmethod
    def _coerce(request: CacheableRequest, plan: OperationPlan) -> _Reads | str:
        variables = get_variable_values(request.schema, plan.variable_definitions, dict(request.variables or {}))
        if isinstance(variables, list):
            return "variables"
        reads: list[tuple[Read, dict[str, Any]]] = []
        try:
            for root in plan.roots:
                if root.read is not None:
                    assert root.field is not None
                    arguments = get_argument_values(root.field, root.node, variables) if root.takes_arguments else {}
                    arguments["needs"] = root.needs  # the read builds only what the selection shows
                    reads.append((root.read, arguments))
        except Exception as exc:
            log.debug("fast path: arguments do not coerce (%s); executing normally", exc)
            return "arguments"
        return tuple(reads)

    async def answer(self, request: CacheableRequest) -> bytes | None:
        """The JSON response graphql-core would produce, or ``None`` to execute normally."""
        plan = self.plan(request)
        if plan is None:
            self.metrics.fallbacks["selection"].inc()
            return None
        prepared = self._prepared_reads(request, plan)
        if isinstance(prepared, str):
            self.metrics.fallbacks[prepared].inc()
            return None
        reads = prepared  # each call below gets its own keyword dict; reads never change the values

        ctx = request.context
        values: list[Any]
        if len(reads) == 1:
            read, arguments = reads[0]
            try:
                values = [await read(ctx, **arguments)]
            except Exception as exc:
                values = [exc]
        else:
            values = list(
                await asyncio.gather(*(read(ctx, **arguments) for read, arguments in reads), return_exceptions=True)
            )
        failed = next((value for value in values if isinstance(value, BaseException)), None)
        if failed is not None:
            if not isinstance(failed, Exception):
                raise failed  # cancellation and the like are not the fast path's to swallow
            self.metrics.fallbacks["error"].inc()
            log.debug("fast path: a read raised %r; executing normally", failed)
            return None

        results = iter(values)
        try:
            data = {root.key: root.complete(next(results) if root.read is not None else None) for root in plan.roots}
        except Fallback as exc:
            self.metrics.fallbacks["value"].inc()
            log.debug("fast path: %s; executing normally", exc)
            return None
        return orjson.dumps({"data": data})
