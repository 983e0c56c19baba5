"""Storefront answers: the response cache and the fast path in front of graphql-core.

The server hands every query made only of ``@storefrontCached`` fields to the
:class:`~rustok_index.responses.responder.StorefrontResponder` (the index provides it
as the core interface ``GraphQLResponder``):

1. the answer is looked up in this process's :class:`~rustok_index.responses.cache.ResponseCache`
   under (tenant, its generation, default locale, enabled modules, document digest,
   operation name, canonical variables) — a hit is the stored JSON bytes, no SQL;
2. on a miss (single-flight per key) the server's cost check runs, then the
   :class:`~rustok_index.responses.fast_path.FastPath` answers selections it has a
   plan for with one SQL statement per root field and no resolver calls, and anything
   else is executed by graphql-core as usual;
3. error-free answers are stored, unless the tenant's index changed meanwhile.

Every index write bumps the tenant's generation when its transaction commits, here
and — through the invalidation bus (Redis pub/sub when configured) — in every other
process (:mod:`rustok_index.responses.invalidation`).
"""
