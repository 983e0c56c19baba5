"""What a module contributes to the GraphQL schema."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files

from ariadne.types import SchemaBindable


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
