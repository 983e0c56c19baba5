"""What a module contributes to the GraphQL schema, and how one may answer cacheable queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from ariadne.types import SchemaBindable

if TYPE_CHECKING:
    from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode

    from rustok_core.context import RequestContext


@dataclass(frozen=True)
class GraphQLContribution:
    """SDL documents (``extend type Query { ... }``) and their Ariadne bindables."""

    type_defs: Sequence[str]
    bindables: Sequence[SchemaBindable] = field(default_factory=tuple)

    @classmethod
    def from_package(
        cls,
        package: str,
        *bindables: SchemaBindable,
        resource: str = "graphql/schema.graphql",
    ) -> GraphQLContribution:
        """Load ``resource`` (SDL) shipped inside ``package``."""
        sdl = files(package).joinpath(resource).read_text(encoding="utf-8")
        return cls(type_defs=(sdl,), bindables=tuple(bindables))


@dataclass(frozen=True, slots=True)
class GraphQLAnswer:
    """A GraphQL response, serialized and ready to send."""

    body: bytes
    status: int = 200
    ok: bool = True
    """The response carries no errors (only such answers may be cached or shared)."""


@dataclass(slots=True)
class CacheableRequest:
    """A validated query operation whose answer depends only on the tenant and the request.

    The server builds it when every root field of the operation is ``@storefrontCached``
    (so public) and every field below belongs to its type's owner, and hands it to the
    :class:`~rustok_core.interfaces.GraphQLResponder`. The answer may depend on the
    tenant's id, default locale and enabled modules, the document, the operation name,
    the variables — and on the read model, whose owner says when it changed. It never
    depends on the caller.

    Treat it as read-only. It is not frozen because one is built per request, and a
    frozen dataclass sets each field through ``object.__setattr__`` (about a microsecond
    for these ten).
    """

    context: RequestContext
    schema: GraphQLSchema
    document: DocumentNode
    document_key: str
    """A digest of the normalized document (equal for documents that print the same)."""
    operation: OperationDefinitionNode
    operation_name: str | None
    variables: Mapping[str, Any] | None
    """As the client sent them (not coerced)."""
    memo: dict[str, Any]
    """Storage for the responder, kept with the parsed document (as long as the server caches it)."""
    check: Callable[[], GraphQLAnswer | None]
    """The server's per-request checks (the cost limit): an error answer, or ``None`` to go on.
    Call it before computing an answer; an answer cached for the same document and
    variables has passed it already."""
    execute: Callable[[], Awaitable[GraphQLAnswer]]
    """Execute the operation with graphql-core, as for any other request (no checks)."""
