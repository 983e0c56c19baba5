"""GraphQL surface of the index: storefront reads (public) and admin status and rebuild.

Resolvers stay thin: they build the :class:`ReadScope` from the request's tenant,
parse arguments, and hand over to :class:`StorefrontQueries`, whose rows are already
shaped like the response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ariadne import EnumType, MutationType, QueryType
from graphql import GraphQLResolveInfo

from rustok_core.context import RequestContext
from rustok_core.graphql import GraphQLContribution
from rustok_core.index import CONTENT, ENTITY_TYPES, PRODUCT
from rustok_index.runtime import runtime_of
from rustok_index.services.storefront import CatalogFilter, ReadScope, StorefrontQueries, check_locale

query = QueryType()
mutation = MutationType()
entity_type_enum = EnumType("IndexEntityType", {"PRODUCT": PRODUCT, "CONTENT": CONTENT})


def scope_of(info: GraphQLResolveInfo, locale: str | None) -> ReadScope:
    ctx: RequestContext = info.context
    tenant = ctx.require_tenant()
    return ReadScope(
        tenant_id=tenant.id,
        locale=check_locale(locale) if locale is not None else tenant.default_locale,
        fallback=tenant.default_locale,
        modules=tuple(sorted(tenant.enabled_modules)),
    )


def queries(info: GraphQLResolveInfo) -> StorefrontQueries:
    ctx: RequestContext = info.context
    return StorefrontQueries(ctx.app)


@query.field("catalogProducts")
async def resolve_catalog_products(
    _: Any,
    info: GraphQLResolveInfo,
    locale: str | None = None,
    filter: Mapping[str, Any] | None = None,
    sort: str = "NEWEST",
    first: int | None = None,
    after: str | None = None,
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
    page = await queries(info).catalog_products(scope_of(info, locale), filters, sort=sort, first=first, after=after)
    return page.connection()


@query.field("catalogProduct")
async def resolve_catalog_product(
    _: Any, info: GraphQLResolveInfo, handle: str, locale: str | None = None
) -> dict[str, Any] | None:
    return await queries(info).catalog_product(scope_of(info, locale), handle)


@query.field("contentFeed")
async def resolve_content_feed(
    _: Any,
    info: GraphQLResolveInfo,
    kind: str,
    locale: str | None = None,
    category_slug: str | None = None,
    tag: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    page = await queries(info).content_feed(
        scope_of(info, locale), kind, category_slug=category_slug, tag=tag, first=first, after=after
    )
    return page.connection()


@query.field("contentItem")
async def resolve_content_item(
    _: Any, info: GraphQLResolveInfo, kind: str, slug: str, locale: str | None = None
) -> dict[str, Any] | None:
    return await queries(info).content_item(scope_of(info, locale), kind, slug)


@query.field("search")
async def resolve_search(
    _: Any,
    info: GraphQLResolveInfo,
    query: str,
    locale: str | None = None,
    types: list[str] | None = None,
    first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    page = await queries(info).search(
        scope_of(info, locale), query, types=types or ENTITY_TYPES, first=first, after=after
    )
    return page.connection()


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
