"""Sample modules that exercise the platform's composition machinery in tests.

``alpha`` is an optional module with GraphQL fields, REST routes, a health check and
lifecycle hooks; ``beta`` depends on ``alpha`` and extends one of alpha's types. Tests
register them directly (``ModuleRegistry.from_plugins(sample_plugins())``) together
with the real tenant module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from ariadne import ObjectType, QueryType
from pydantic import BaseModel
from sqlalchemy import select, text
from starlette.requests import Request

from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext
from rustok_core.errors import Validation
from rustok_core.events import DomainEvent, EventEnvelope
from rustok_core.graphql import GraphQLContribution
from rustok_core.health import HealthCheck, HealthStatus
from rustok_core.permissions import Permission
from rustok_core.rest import RestRoute
from rustok_outbox.module import module as events_module
from rustok_rbac.module import module as rbac_module
from rustok_tenant.models import TenantModule
from rustok_tenant.module import module as tenant_module

ALPHA_SDL = """
type AlphaNode {
  name: String!
  child: AlphaNode
  items(first: Int = 10): [AlphaNode!]! @cost(complexity: 1, multipliers: ["first"])
}

extend type Query {
  alphaEcho(text: String!): String! @public
  alphaTree: AlphaNode @public
  alphaFail: String @public
  alphaSecret: String @requires(permission: "alpha:read")
}

extend type Mutation {
  alphaPing: Boolean! @requires(permission: "alpha:write")
}
"""

BETA_SDL = """
extend type Query {
  betaHello: String! @public
}

extend type AlphaNode {
  betaNote: String
}
"""


def _node(depth: int = 0) -> dict[str, Any]:
    return {"name": f"node-{depth}", "child": None}


alpha_query = QueryType()
alpha_node = ObjectType("AlphaNode")


@alpha_query.field("alphaEcho")
def resolve_echo(_: Any, __: Any, text: str) -> str:
    return text


@alpha_query.field("alphaTree")
def resolve_tree(*_: Any) -> dict[str, Any]:
    return _node()


@alpha_query.field("alphaFail")
def resolve_fail(*_: Any) -> str:
    raise RuntimeError("boom: secret detail")


@alpha_query.field("alphaSecret")
def resolve_secret(*_: Any) -> str:
    return "secret"


@alpha_node.field("child")
def resolve_child(node: dict[str, Any], _: Any) -> dict[str, Any]:
    depth = int(node["name"].split("-")[1]) + 1
    return _node(depth)


@alpha_node.field("items")
def resolve_items(node: dict[str, Any], _: Any, first: int = 10) -> list[dict[str, Any]]:
    return [_node(i) for i in range(min(first, 3))]


alpha_mutation = ObjectType("Mutation")


@alpha_mutation.field("alphaPing")
def resolve_ping(*_: Any) -> bool:
    return True


beta_query = QueryType()
beta_node = ObjectType("AlphaNode")


@beta_query.field("betaHello")
def resolve_beta_hello(*_: Any) -> str:
    return "hello from beta"


@beta_node.field("betaNote")
def resolve_beta_note(node: dict[str, Any], _: Any) -> str:
    return f"note on {node['name']}"


class EchoQuery(BaseModel):
    text: str


class ItemInput(BaseModel):
    name: str
    quantity: int = 1


class ItemOut(BaseModel):
    name: str
    quantity: int


async def rest_echo(_: Request, query: EchoQuery) -> dict[str, str]:
    return {"text": query.text}


async def rest_create_item(_: Request, body: ItemInput) -> ItemOut:
    return ItemOut(name=body.name, quantity=body.quantity)


class SampleModule:
    """A configurable module for tests; hooks return what the instance was given."""

    def __init__(
        self,
        slug: str,
        *,
        kind: ModuleKind = ModuleKind.OPTIONAL,
        dependencies: Sequence[str] = (),
        graphql: GraphQLContribution | None = None,
        routes: Sequence[Any] | None = None,
        health: Callable[[AppContext], Any] | None = None,
        permissions: Sequence[Permission] = (),
    ) -> None:
        self.slug = slug
        self.kind = kind
        self.dependencies = tuple(dependencies)
        self.graphql = graphql
        self.routes = routes
        self.health = health
        self.permissions = tuple(permissions)
        self.enable_calls: list[Any] = []
        self.disable_calls: list[Any] = []
        self.fail_on_enable: Exception | None = None

    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug=self.slug,
            name=self.slug.title(),
            version="1.0.0",
            description=f"sample module {self.slug}",
            kind=self.kind,
            dependencies=self.dependencies,
        )

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution | None:
        return self.graphql

    @hookimpl
    def rustok_routes(self) -> Sequence[Any] | None:
        return self.routes

    @hookimpl
    def rustok_permissions(self) -> Sequence[Permission]:
        return self.permissions

    @hookimpl
    def rustok_health(self, ctx: AppContext) -> Any:
        return self.health(ctx) if self.health else None

    @hookimpl
    async def rustok_on_enable(self, ctx: AppContext, session: Any, tenant_id: Any) -> None:
        # Work inside the toggling transaction, so that a failure must roll it back.
        row = (await session.scalars(select(TenantModule).where(TenantModule.module_slug == self.slug))).one()
        row.settings = {"initialized": True}
        await session.flush()
        self.enable_calls.append(tenant_id)
        if self.fail_on_enable is not None:
            raise self.fail_on_enable

    @hookimpl
    def rustok_on_disable(self, tenant_id: Any) -> None:
        self.disable_calls.append(tenant_id)


def make_alpha() -> SampleModule:
    return SampleModule(
        "alpha",
        graphql=GraphQLContribution((ALPHA_SDL,), (alpha_query, alpha_node, alpha_mutation)),
        routes=[
            RestRoute("/echo", rest_echo, summary="Echo", query=EchoQuery, public=True),
            RestRoute(
                "/items",
                rest_create_item,
                methods=["POST"],
                summary="Create an item",
                body=ItemInput,
                response=ItemOut,
                status_code=201,
                permission="alpha:write",
            ),
        ],
        health=lambda ctx: HealthCheck("alpha-cache", HealthStatus.DEGRADED, "warming up"),
        permissions=(
            Permission("alpha", "read", "Read alpha secrets", grants={"editor": "all"}),
            Permission("alpha", "write", "Create alpha items", grants={"editor": "own"}),
        ),
    )


def make_beta() -> SampleModule:
    return SampleModule(
        "beta",
        dependencies=("alpha",),
        graphql=GraphQLContribution((BETA_SDL,), (beta_query, beta_node)),
    )


def core_plugins() -> list[object]:
    """The core modules every platform needs: events, rbac and tenant."""
    return [events_module, tenant_module, rbac_module]


def sample_plugins() -> list[object]:
    """The core modules plus fresh ``alpha`` and ``beta`` sample modules."""
    return [*core_plugins(), make_alpha(), make_beta()]


# --- an events sample: a "recorder" module with handlers whose behaviour events control ----

RECORDER_TABLE = """
CREATE TABLE IF NOT EXISTS recorder_effects (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL,
    handler text NOT NULL,
    event_id uuid NOT NULL,
    n integer NOT NULL,
    attempts integer NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


class ThingHappened(DomainEvent):
    """Sample event; version 2 renamed ``count`` to ``n``.

    ``fail_times`` makes handlers fail that many deliveries (``fail_handler`` picks
    one handler, else all); ``sleep`` makes them slow (seconds).
    """

    event_type = "recorder.thing.happened"
    schema_version = 2
    n: int
    fail_times: int = 0
    fail_handler: str | None = None
    sleep: float = 0.0

    @classmethod
    def upcast(cls, from_version: int, payload: dict[str, Any]) -> dict[str, Any]:
        if from_version == 1:
            upgraded = dict(payload)
            upgraded["n"] = upgraded.pop("count")
            return upgraded
        return super().upcast(from_version, payload)

    def validate(self) -> None:  # type: ignore[override]
        if self.n < 0:
            raise Validation("n must not be negative", field="payload.n")


class RecordingHandler:
    """Writes one row per application of an event into ``recorder_effects``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.healed = False
        """Set to stop failing on purpose, like a deployed bug fix (a DLQ replay resets attempts)."""

    def handles(self, envelope: EventEnvelope) -> bool:
        return envelope.event_type == ThingHappened.event_type

    async def handle(self, envelope: EventEnvelope, session: Any) -> None:
        await self.handle_batch([envelope], session)

    async def handle_batch(self, envelopes: Sequence[EventEnvelope], session: Any) -> None:
        """Apply several events in one statement (the dispatcher's batch path)."""
        await session.execute(
            text(
                "INSERT INTO recorder_effects (tenant_id, handler, event_id, n, attempts) "
                "VALUES (:tenant, :handler, :event, :n, :attempts)"
            ),
            [
                {
                    "tenant": envelope.tenant_id,
                    "handler": self.name,
                    "event": envelope.id,
                    "n": envelope.payload["n"],
                    "attempts": envelope.attempts,
                }
                for envelope in envelopes
            ],
        )
        for envelope in envelopes:
            await self._misbehave(envelope)

    async def _misbehave(self, envelope: EventEnvelope) -> None:
        payload = envelope.payload
        if payload.get("sleep"):
            await asyncio.sleep(payload["sleep"])
        targeted = payload.get("fail_handler") in (None, self.name)
        if not self.healed and targeted and envelope.attempts < payload.get("fail_times", 0):
            raise RuntimeError(f"{self.name} fails on purpose (attempt {envelope.attempts + 1})")


class RecorderModule:
    """An optional module declaring ``recorder.thing.happened`` and two handlers."""

    handler_names = ("recorder.first", "recorder.second")

    def __init__(self) -> None:
        self.handlers = {name: RecordingHandler(name) for name in self.handler_names}

    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(slug="recorder", name="Recorder", version="1.0.0", kind=ModuleKind.OPTIONAL)

    @hookimpl
    def rustok_event_types(self) -> Sequence[type[DomainEvent]]:
        return (ThingHappened,)

    @hookimpl
    def rustok_event_handlers(self) -> Sequence[RecordingHandler]:
        return tuple(self.handlers.values())


async def ensure_recorder_table(db: Any) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text(RECORDER_TABLE))


def recorder_plugins() -> list[object]:
    """The core modules plus the recorder."""
    return [*core_plugins(), RecorderModule()]
