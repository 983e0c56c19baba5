"""The index's ``GraphQLResponder``: cached answers first, then the fast path, then graphql-core.

Key of an answer: (tenant id, the tenant's generation, its default locale, its enabled
modules, digest of the normalized document, operation name, the variables the
operation declares as canonical JSON). The locale an argument asks for is part of the
document or the variables; the default locale decides the rest (and the fallback of
rows missing in the asked one); the enabled modules decide which documents show.
Nothing in it names the caller: the server only sends operations whose fields are
public reads of the index (``@storefrontCached``).

Only answers without errors are cached or shared between concurrent requests: an
error answer may name its request (the request id of an ``INTERNAL`` error), so a
request that waited for another's failed computation computes its own.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from rustok_core.cache import SingleFlight
from rustok_core.context import TenantContext
from rustok_core.graphql import CacheableRequest, GraphQLAnswer
from rustok_index.responses.cache import Key, ResponseCache
from rustok_index.responses.fast_path import FastPath
from rustok_index.responses.metrics import ResponseMetrics


class StorefrontResponder:
    def __init__(self, cache: ResponseCache | None, fast_path: FastPath | None, metrics: ResponseMetrics) -> None:
        self.cache = cache
        self.fast_path = fast_path
        self.metrics = metrics
        self._flight = SingleFlight()

    async def respond(self, request: CacheableRequest) -> GraphQLAnswer:
        """The cached answer, else one computed once for every concurrent request with its key."""
        tenant = request.context.tenant
        if self.cache is None or tenant is None:
            self.metrics.bypass.inc()
            return await self.compute(request)
        generation = self.cache.generation(tenant.id)
        key = self.key(request, tenant, generation)
        body = self.cache.get(key)
        if body is not None:
            self.metrics.hit.inc()
            return GraphQLAnswer(body)
        self.metrics.miss.inc()
        mine = object()
        answer, computed_for = await self._flight.run(
            key, lambda: self._fill(request, key, tenant.id, generation, mine)
        )
        if answer.ok or computed_for is mine:
            return answer
        return await self.compute(request)

    def key(self, request: CacheableRequest, tenant: TenantContext, generation: int) -> Key:
        return (
            tenant.id,
            generation,
            tenant.default_locale,
            tenant.enabled_modules,
            request.document_key,
            request.operation_name,
            self._variables(request),
        )

    async def compute(self, request: CacheableRequest) -> GraphQLAnswer:
        """The server's checks, then the fast path, else graphql-core's execution."""
        refused = request.check()
        if refused is not None:
            return refused
        if self.fast_path is not None:
            body = await self.fast_path.answer(request)
            if body is not None:
                self.metrics.fast.inc()
                return GraphQLAnswer(body)
        self.metrics.executed.inc()
        return await request.execute()

    async def _fill(
        self, request: CacheableRequest, key: Key, tenant_id: uuid.UUID, generation: int, computed_for: object
    ) -> tuple[GraphQLAnswer, object]:
        assert self.cache is not None
        answer = await self.compute(request)
        if answer.ok:
            self.cache.put(key, tenant_id, generation, answer.body)
        return answer, computed_for

    @staticmethod
    def _variables(request: CacheableRequest) -> bytes:
        """The variables the operation declares, as JSON with sorted keys (others change nothing)."""
        given = request.variables
        if not given:
            return b""
        memo_key = f"declared-variables:{request.operation_name}"
        declared: frozenset[str] | None = request.memo.get(memo_key)
        if declared is None:
            declared = frozenset(d.variable.name.value for d in request.operation.variable_definitions or ())
            request.memo[memo_key] = declared
        used: Any = given if given.keys() <= declared else {k: v for k, v in given.items() if k in declared}
        return orjson.dumps(used, option=orjson.OPT_SORT_KEYS) if used else b""
