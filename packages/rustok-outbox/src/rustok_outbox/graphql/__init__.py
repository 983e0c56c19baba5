"""Admin GraphQL of the events module (tenant-scoped DLQ operations)."""

from __future__ import annotations

import uuid
from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

from rustok_core.context import RequestContext
from rustok_core.graphql import GraphQLContribution
from rustok_core.pagination import page_size
from rustok_outbox.relay import outbox_status
from rustok_outbox.runtime import runtime_of

query = QueryType()
mutation = MutationType()


@query.field("deadEvents")
async def resolve_dead_events(
    _: Any, info: GraphQLResolveInfo, first: int = 50, after: uuid.UUID | None = None
) -> list[Any]:
    ctx: RequestContext = info.context
    tenant = ctx.require_tenant()
    return list(await runtime_of(ctx.app).dead_letters.page(tenant_id=tenant.id, limit=page_size(first), after=after))


@query.field("eventStats")
async def resolve_event_stats(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    ctx: RequestContext = info.context
    status = await outbox_status(ctx.app, ctx.require_tenant().id)
    return {
        "transport": runtime_of(ctx.app).transport,
        "backlog": status["backlog"],
        "oldest_pending_seconds": status["oldest_pending_seconds"],
        "dead_lettered": status["dlq"],
        "dispatched": status["dispatched"],
    }


@mutation.field("replayDeadEvent")
async def resolve_replay(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    ctx: RequestContext = info.context
    await runtime_of(ctx.app).dead_letters.replay(id, tenant_id=ctx.require_tenant().id)
    return True


@mutation.field("replayDeadEvents")
async def resolve_replay_all(_: Any, info: GraphQLResolveInfo) -> int:
    ctx: RequestContext = info.context
    return await runtime_of(ctx.app).dead_letters.replay_all(tenant_id=ctx.require_tenant().id)


@mutation.field("discardDeadEvent")
async def resolve_discard(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    ctx: RequestContext = info.context
    await runtime_of(ctx.app).dead_letters.discard(id, tenant_id=ctx.require_tenant().id)
    return True


def contribution() -> GraphQLContribution:
    return GraphQLContribution.from_package("rustok_outbox", query, mutation)
