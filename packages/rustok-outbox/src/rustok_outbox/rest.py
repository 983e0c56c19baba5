"""REST for integrations and operators, mounted under ``/api/v1/events/`` (tenant-scoped)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from rustok_core.context import request_context
from rustok_core.pagination import MAX_PAGE_SIZE
from rustok_core.rest import RestRoute
from rustok_outbox.dlq import DeadLetter
from rustok_outbox.runtime import runtime_of


class DeadEventResponse(BaseModel):
    id: uuid.UUID
    event_type: str = Field(serialization_alias="eventType")
    schema_version: int = Field(serialization_alias="schemaVersion")
    payload: dict[str, Any]
    occurred_at: datetime = Field(serialization_alias="occurredAt")
    failed_at: datetime = Field(serialization_alias="failedAt")
    attempts: int
    last_error: str | None = Field(serialization_alias="lastError")
    failed_handlers: list[str] = Field(serialization_alias="failedHandlers")

    @classmethod
    def of(cls, dead: DeadLetter) -> DeadEventResponse:
        return cls(**vars(dead))


class DeadEventQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    after: uuid.UUID | None = None


class ReplayResponse(BaseModel):
    replayed: int


async def list_dead(request: Request, query: DeadEventQuery) -> list[DeadEventResponse]:
    """Dead-lettered events of the tenant, oldest first."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    found = await runtime_of(ctx.app).dead_letters.page(tenant_id=tenant.id, limit=query.limit, after=query.after)
    return [DeadEventResponse.of(dead) for dead in found]


async def get_dead(request: Request, event_id: uuid.UUID) -> DeadEventResponse:
    ctx = request_context(request)
    dead = await runtime_of(ctx.app).dead_letters.get(event_id, tenant_id=ctx.require_tenant().id)
    return DeadEventResponse.of(dead)


async def replay_dead(request: Request, event_id: uuid.UUID) -> ReplayResponse:
    ctx = request_context(request)
    await runtime_of(ctx.app).dead_letters.replay(event_id, tenant_id=ctx.require_tenant().id)
    return ReplayResponse(replayed=1)


async def replay_all(request: Request) -> ReplayResponse:
    ctx = request_context(request)
    count = await runtime_of(ctx.app).dead_letters.replay_all(tenant_id=ctx.require_tenant().id)
    return ReplayResponse(replayed=count)


async def discard_dead(request: Request, event_id: uuid.UUID) -> None:
    ctx = request_context(request)
    await runtime_of(ctx.app).dead_letters.discard(event_id, tenant_id=ctx.require_tenant().id)


def routes() -> list[RestRoute]:
    read, manage = "events:read", "events:manage"
    return [
        RestRoute(
            "/dlq",
            list_dead,
            summary="List dead-lettered events",
            query=DeadEventQuery,
            response=list[DeadEventResponse],
            permission=read,
            tags=["events"],
        ),
        RestRoute(
            "/dlq/replay",
            replay_all,
            methods=["POST"],
            summary="Replay every dead-lettered event",
            response=ReplayResponse,
            permission=manage,
            tags=["events"],
        ),
        RestRoute(
            "/dlq/{event_id:uuid}",
            get_dead,
            summary="A dead-lettered event",
            response=DeadEventResponse,
            permission=read,
            tags=["events"],
        ),
        RestRoute(
            "/dlq/{event_id:uuid}/replay",
            replay_dead,
            methods=["POST"],
            summary="Replay a dead-lettered event",
            response=ReplayResponse,
            permission=manage,
            tags=["events"],
        ),
        RestRoute(
            "/dlq/{event_id:uuid}",
            discard_dead,
            methods=["DELETE"],
            summary="Discard a dead-lettered event",
            permission=manage,
            tags=["events"],
            name="discard_dead",
        ),
    ]
