"""The commerce GraphQL contribution, assembled from one part per area.

Each area (catalog, inventory, carts, orders) is a module of this package exposing
``BINDABLES``, with its SDL in ``<area>.graphql`` beside it.
"""

from __future__ import annotations

from importlib import import_module
from importlib.resources import files

from ariadne.types import SchemaBindable

from rustok_core.graphql import GraphQLContribution


def areas() -> list[str]:
    """The areas present: every ``<area>.graphql`` shipped in this package, sorted."""
    here = files("rustok_commerce.graphql")
    return sorted(entry.name.removesuffix(".graphql") for entry in here.iterdir() if entry.name.endswith(".graphql"))


def contribution() -> GraphQLContribution:
    here = files("rustok_commerce.graphql")
    type_defs: list[str] = []
    bindables: list[SchemaBindable] = []
    for area in areas():
        type_defs.append(here.joinpath(f"{area}.graphql").read_text(encoding="utf-8"))
        bindables.extend(import_module(f"rustok_commerce.graphql.{area}").BINDABLES)
    return GraphQLContribution(type_defs=tuple(type_defs), bindables=tuple(bindables))
