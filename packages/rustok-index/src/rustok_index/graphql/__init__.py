"""GraphQL surface of the index: storefront reads (public) and admin status and rebuild.

Resolvers stay thin: they build the :class:`ReadScope` from the request's tenant,
parse arguments, and hand over to :class:`StorefrontQueries`, whose rows are already
shaped like the response. The storefront fields are ``@storefrontCached``: the
server hands queries made of them to the index's responder (response cache and fast
path, :mod:`rustok_index.responses`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ariadne import EnumType, MutationType, QueryType
from graphql import GraphQLResolveInfo
from orjson import Fragment

from rustok_core.context import RequestContext
from rustok_core.graphql import GraphQLContribution
from rustok_core.index import CONTENT, ENTITY_TYPES, PRODUCT
from rustok_index.responses.plan import Complete, Selection
from rustok_index.runtime import runtime_of
from rustok_index.services.storefront import CatalogFilter, ReadScope, StorefrontQueries

query = QueryType()
mutation = MutationType()
entity_type_enum = EnumType("IndexEntityType", {"PRODUCT": PRODUCT, "CONTENT": CONTENT})


def scope_of(ctx: RequestContext, locale: str | None) -> ReadScope:
    return queries(ctx).scope(ctx.require_tenant(), locale)


def queries(ctx: RequestContext) -> StorefrontQueries:
    return runtime_of(ctx.app).storefront


# -- storefront reads: (request context, arguments) -> the field's value ----------------------
# The resolvers below only unpack ``info``; the fast path (rustok_index.responses) calls
# these with the same coerced arguments, so both routes share every line that matters.
# The fast path also passes ``needs``, what its plan reads of the value (source keys,
# nested): the reads then fetch and build only that. ``None`` (graphql-core) builds all.

Needs = Mapping[str, Any]


def _edge_needs(needs: Needs | None) -> dict[str, Any]:
    """A listing's keyword arguments from its needs: ``fields`` (the node keys the selection reads,
    ``None``: all), ``cursors`` (whether edges show theirs) and ``render`` (the plan's completion of
    an edge: the read may make the edges' JSON with it)."""
    if needs is None:
        return {"fields": None, "cursors": True, "render": None}
    edges = needs.get("edges", {})
    return {"fields": edges.get("node", {}), "cursors": "cursor" in edges, "render": _render(edges)}


def _render(needs: Needs | None) -> Complete | None:
    """The plan's completion of the object ``needs`` describes, if it has one (a read may render with it)."""
    return needs.complete if isinstance(needs, Selection) else None


async def read_catalog_products(
    ctx: RequestContext,
    locale: str | None = None,
    filter: Mapping[str, Any] | None = None,
    sort: str = "NEWEST",
    first: int | None = None,
    after: str | None = None,
    needs: Needs | None = None,
) -> dict[str, Any]:
    given = filter or {}
    filters = CatalogFilter(
        category_handle=given.get("category_handle"),
        tags=tuple(given.get("tags") or ()),
        min_price=given.get("min_price"),
        max_price=given.get("max_price"),
        currency=given.get("currency"),
        in_stock=given.get("in_stock"),
        query=given.get("query"),
    )
    page = await queries(ctx).catalog_products(
        scope_of(ctx, locale), filters, sort=sort, first=first, after=after, **_edge_needs(needs)
    )
    return page.connection()


async def read_catalog_product(
    ctx: RequestContext, handle: str, locale: str | None = None, needs: Needs | None = None
) -> dict[str, Any] | Fragment | None:
    return await queries(ctx).catalog_product(scope_of(ctx, locale), handle, fields=needs, render=_render(needs))


async def read_content_feed(
    ctx: RequestContext,
    kind: str,
    locale: str | None = None,
    category_slug: str | None = None,
    tag: str | None = None,
    first: int | None = None,
    after: str | None = None,
    needs: Needs | None = None,
) -> dict[str, Any]:
    page = await queries(ctx).content_feed(
        scope_of(ctx, locale),
        kind,
        category_slug=category_slug,
        tag=tag,
        first=first,
        after=after,
        **_edge_needs(needs),
    )
    return page.connection()


async def read_content_item(
    ctx: RequestContext, kind: str, slug: str, locale: str | None = None, needs: Needs | None = None
) -> dict[str, Any] | Fragment | None:
    return await queries(ctx).content_item(scope_of(ctx, locale), kind, slug, fields=needs, render=_render(needs))


async def read_search(
    ctx: RequestContext,
    query: str,
    locale: str | None = None,
    types: list[str] | None = None,
    first: int | None = None,
    after: str | None = None,
    needs: Needs | None = None,  # search builds every key (its cost is the statement's)
) -> dict[str, Any]:
    page = await queries(ctx).search(
        scope_of(ctx, locale), query, types=types or ENTITY_TYPES, first=first, after=after
    )
    return page.connection()


@query.field("catalogProducts")
async def resolve_catalog_products(_: Any, info: GraphQLResolveInfo, **arguments: Any) -> dict[str, Any]:
    return await read_catalog_products(info.context, **arguments)


@query.field("catalogProduct")
async def resolve_catalog_product(
    _: Any, info: GraphQLResolveInfo, **arguments: Any
) -> dict[str, Any] | Fragment | None:
    return await read_catalog_product(info.context, **arguments)


@query.field("contentFeed")
async def resolve_content_feed(_: Any, info: GraphQLResolveInfo, **arguments: Any) -> dict[str, Any]:
    return await read_content_feed(info.context, **arguments)


@query.field("contentItem")
async def resolve_content_item(_: Any, info: GraphQLResolveInfo, **arguments: Any) -> dict[str, Any] | Fragment | None:
    return await read_content_item(info.context, **arguments)


@query.field("search")
async def resolve_search(_: Any, info: GraphQLResolveInfo, **arguments: Any) -> dict[str, Any]:
    return await read_search(info.context, **arguments)


StorefrontRead = Callable[..., Awaitable[Any]]

STOREFRONT_READS: dict[Callable[..., Any], StorefrontRead] = {
    resolve_catalog_products: read_catalog_products,
    resolve_catalog_product: read_catalog_product,
    resolve_content_feed: read_content_feed,
    resolve_content_item: read_content_item,
    resolve_search: read_search,
}
"""The fast path answers a root field whose resolver is a key here by calling its read."""


@query.field("indexStatus")
async def resolve_index_status(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    ctx: RequestContext = info.context
    tenant = ctx.require_tenant()
    return [
        {
            "type": entry.entity_type,
            "documents": entry.documents,
            "last_indexed_at": entry.last_indexed_at,
            "pending_events": entry.pending_events,
            "lag_seconds": entry.lag_seconds,
        }
        for entry in await runtime_of(ctx.app).status.status(tenant.id)
    ]


@mutation.field("rebuildIndex")
async def resolve_rebuild_index(_: Any, info: GraphQLResolveInfo, type: str | None = None) -> dict[str, Any]:
    ctx: RequestContext = info.context
    tenant = ctx.require_tenant()
    types = (type,) if type is not None else ENTITY_TYPES
    summary = await runtime_of(ctx.app).rebuilder.rebuild([tenant], types)
    return {
        "types": summary.entity_types,
        "entities": summary.entities,
        "written": summary.written,
        "removed": summary.removed,
        "seconds": summary.seconds,
    }


def contribution() -> GraphQLContribution:
    return GraphQLContribution.from_package("rustok_index", query, mutation, entity_type_enum)
