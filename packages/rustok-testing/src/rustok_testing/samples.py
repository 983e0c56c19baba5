"""Sample modules that exercise the platform's composition machinery in tests.

``alpha`` is an optional module with GraphQL fields, REST routes (among them an
idempotent one that writes to ``alpha_orders`` and an upload route), a health check and
lifecycle hooks; ``beta`` depends on ``alpha`` and extends one of alpha's types. Tests
register them directly (``ModuleRegistry.from_plugins(sample_plugins())``) together
with the real tenant module.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Literal
from uuid import UUID

from ariadne import ObjectType, QueryType
from pydantic import BaseModel, Field
from sqlalchemy import select, text
from starlette.requests import Request
from starlette.responses import Response

from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext, request_context
from rustok_core.errors import Conflict, Internal, Validation
from rustok_core.events import DomainEvent, EventEnvelope
from rustok_core.graphql import GraphQLContribution
from rustok_core.health import HealthCheck, HealthStatus
from rustok_core.ids import generate_id
from rustok_core.permissions import Permission
from rustok_core.rest import FilePart, RestRoute, UploadedFile, json_response
from rustok_core.storage import media_key
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


ALPHA_ORDERS_TABLE = """
CREATE TABLE IF NOT EXISTS alpha_orders (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL,
    quantity integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


class OrderInput(BaseModel):
    """An order; the other fields make the endpoint misbehave after it wrote its row."""

    name: str
    quantity: int = 1
    sleep: float = 0.0
    fail: Literal["internal", "crash"] | None = None
    """``internal``: answer 500 (``INTERNAL``); ``crash``: raise an unexpected exception."""
    reject: bool = False
    """Answer 409 (``CONFLICT``)."""


class OrderOut(BaseModel):
    id: UUID
    name: str
    quantity: int


async def rest_create_order(request: Request, body: OrderInput) -> Response:
    """Writes one ``alpha_orders`` row per execution (tests count them), then answers 201."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    order = OrderOut(id=generate_id(), name=body.name, quantity=body.quantity)
    async with ctx.app.db.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO alpha_orders (id, tenant_id, name, quantity) VALUES (:id, :tenant, :name, :quantity)"),
            {"id": order.id, "tenant": tenant.id, "name": order.name, "quantity": order.quantity},
        )
    if body.sleep:
        await asyncio.sleep(body.sleep)
    if body.fail == "internal":
        raise Internal("the order desk is down")
    if body.fail == "crash":
        raise RuntimeError("the order desk crashed")
    if body.reject:
        raise Conflict("orders are closed", order=str(order.id))
    response = json_response(order.model_dump(mode="json"), status_code=201)
    response.headers["Location"] = f"/api/v1/alpha/orders/{order.id}"
    return response


async def ensure_alpha_tables(db: Any) -> None:
    """Create the table the ``alpha`` sample's order route writes to."""
    async with db.engine.begin() as conn:
        await conn.execute(text(ALPHA_ORDERS_TABLE))


class UploadForm(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    alt: str | None = None


class UploadOut(BaseModel):
    key: str
    title: str
    alt: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    thumbnail_size: int | None = None


def upload_endpoint(module: SampleModule) -> Callable[..., Any]:
    async def rest_upload(request: Request, form: UploadForm, uploads: dict[str, UploadedFile]) -> UploadOut:
        """Stores the file in ``ctx.storage`` and describes what arrived."""
        module.rest_calls.append("upload")
        ctx = request_context(request)
        tenant = ctx.require_tenant()
        upload = uploads["file"]
        data = await upload.read()
        key = media_key(tenant.id, generate_id(), upload.filename)
        assert ctx.app.storage is not None
        await ctx.app.storage.put(key, data, upload.content_type)
        thumbnail = uploads.get("thumbnail")
        return UploadOut(
            key=key,
            title=form.title,
            alt=form.alt,
            filename=upload.filename,
            content_type=upload.content_type,
            size=upload.size,
            sha256=hashlib.sha256(data).hexdigest(),
            thumbnail_size=thumbnail.size if thumbnail else None,
        )

    return rest_upload


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
        self.rest_calls: list[str] = []
        """Names of REST endpoints that ran (routes that record themselves)."""
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
    alpha = SampleModule(
        "alpha",
        graphql=GraphQLContribution((ALPHA_SDL,), (alpha_query, alpha_node, alpha_mutation)),
        health=lambda ctx: HealthCheck("alpha-cache", HealthStatus.DEGRADED, "warming up"),
        permissions=(
            Permission("alpha", "read", "Read alpha secrets", grants={"editor": "all"}),
            Permission("alpha", "write", "Create alpha items", grants={"editor": "own"}),
        ),
    )
    upload = upload_endpoint(alpha)
    alpha.routes = [
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
        RestRoute(
            "/orders",
            rest_create_order,
            methods=["POST"],
            summary="Place an order",
            body=OrderInput,
            response=OrderOut,
            status_code=201,
            permission="alpha:write",
            idempotent=True,
        ),
        RestRoute(
            "/uploads",
            upload,
            methods=["POST"],
            summary="Upload a file",
            form=UploadForm,
            files=("file", FilePart("thumbnail", required=False, description="A smaller picture")),
            response=UploadOut,
            status_code=201,
            permission="alpha:write",
        ),
        RestRoute(
            "/avatars",
            upload,
            methods=["POST"],
            summary="Upload a small file",
            form=UploadForm,
            files=("file",),
            max_body_bytes=8192,
            response=UploadOut,
            status_code=201,
            permission="alpha:write",
            name="rest_upload_avatar",
        ),
    ]
    return alpha


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
