"""Index rows to storefront nodes, fetching only the columns a query asks for.

A node (a product or a content item as the GraphQL types show it) is a dict with the
response's snake_case keys. Each key is made from one or more columns of the index
table. A read that knows which keys the query selects (the fast path's plan tells
it) selects only their columns and builds only those keys: a listing that shows
titles and prices does not fetch, decode and drop descriptions, JSON extras and time
stamps for every row. Without that knowledge (graphql-core's execution), every key
is built.

Rows are plain tuples (the cheapest psycopg rows): a :class:`Projection` says which
columns to select, in order, and builds a node from a row starting at a position
(further columns, such as sort keys, may follow).

Ids are selected as text (``CAST(id AS text)``), and the ids inside the stored
categories stay text: a node only ever prints them, and the ``UUID`` scalar prints a
string as it is. PostgreSQL sends a ``uuid`` as text anyway; loading it as
``uuid.UUID`` only to print it again cost about 1.5 µs per id (measured: ~29 µs of the
~400 µs a cold ``catalogProducts(first: 20)`` costs the server).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True, slots=True)
class NodeField:
    key: str
    """The node's key (the GraphQL field's snake_case source)."""
    columns: tuple[str, ...]
    """Output column names it is made from."""
    make: Callable[..., Any] | None = None
    """The columns' values → the key's value; ``None``: the one column's value as it is."""


@dataclass(frozen=True, slots=True)
class Projection:
    columns: tuple[str, ...]
    """Output column names to select, in this order."""
    build: Callable[[Sequence[Any], int], dict[str, Any]]
    """``build(row, start)``: the node from ``row[start:start + len(columns)]``."""


class Shape:
    """The keys of one node type and the columns each needs (``expressions``: column → SQL)."""

    def __init__(self, fields: Sequence[NodeField], expressions: Mapping[str, str]) -> None:
        self.fields = tuple(fields)
        self.keys = frozenset(f.key for f in self.fields)
        self.expressions = dict(expressions)
        missing = {c for f in self.fields for c in f.columns} - self.expressions.keys()
        if missing:
            raise ValueError(f"no SQL for columns {sorted(missing)}")
        self._all = self.project(None)

    def project(self, keys: Collection[str] | None) -> Projection:
        """The projection for these node keys (``None``: all of them; unknown keys are ignored)."""
        return _projection(self, frozenset(self.keys if keys is None else self.keys & frozenset(keys)))

    def select_list(self, projection: Projection) -> str:
        """``expr AS name, …`` for the projection's columns."""
        return ", ".join(f"{self.expressions[c]} AS {c}" for c in projection.columns)

    def node(self, row: Any) -> dict[str, Any]:
        """Every key, from a named row holding every column (e.g. a search hit)."""
        return self._all.build(tuple(getattr(row, c) for c in self._all.columns), 0)


@lru_cache(maxsize=256)
def _projection(shape: Shape, keys: frozenset[str]) -> Projection:
    fields = [f for f in shape.fields if f.key in keys]
    columns: list[str] = []
    for f in fields:
        columns.extend(c for c in f.columns if c not in columns)
    position = {c: n for n, c in enumerate(columns)}
    # One function per projection, generated as source (as the fast path's completions
    # are): a dict display of the keys, each a row item or a maker's call on row items,
    # costs no loop and no argument list per key. Plain keys first, then made ones.
    namespace: dict[str, Any] = {}
    entries = [f"{f.key!r}: row[start + {position[f.columns[0]]}]" for f in fields if f.make is None]
    for n, f in enumerate(fields):
        if f.make is not None:
            namespace[f"make{n}"] = f.make
            arguments = ", ".join(f"row[start + {position[c]}]" for c in f.columns)
            entries.append(f"{f.key!r}: make{n}({arguments})")
    source = f"def build(row, start):\n    return {{{', '.join(entries)}}}"
    # The source holds only repr() of the keys, positions and names of this namespace.
    exec(compile(source, f"<node of {', '.join(sorted(keys)) or 'nothing'}>", "exec"), namespace)
    build: Callable[[Sequence[Any], int], dict[str, Any]] = namespace["build"]
    return Projection(tuple(columns), build)


# -- value makers ---------------------------------------------------------------------------------


def _prices(prices: Mapping[str, Mapping[str, int]] | None) -> list[dict[str, Any]]:
    return [
        {"currency": currency, "min": price["min"], "max": price["max"]}
        for currency, price in sorted((prices or {}).items())
    ]


def _categories(categories: list[dict[str, str]] | None) -> list[dict[str, str]]:
    # Stored as the response shows them ({"id", "handle", "name"}, ids as text): kept as they are.
    return categories or []


def _strings(values: Sequence[str] | None) -> list[str]:
    return list(values or ())


def _object(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return value or {}


def _author(author_id: str | None, name: str | None) -> dict[str, Any] | None:
    return {"id": author_id, "name": name} if author_id or name else None


def _category(category_id: str | None, name: str | None, slug: str | None) -> dict[str, Any] | None:
    return {"id": category_id, "name": name, "slug": slug} if category_id is not None else None


# -- the two node types ---------------------------------------------------------------------------

PRODUCT_FIELDS = (
    NodeField("id", ("entity_id",)),
    NodeField("locale", ("locale",)),
    NodeField("handle", ("handle",)),
    NodeField("title", ("title",)),
    NodeField("subtitle", ("subtitle",)),
    NodeField("description", ("description",)),
    NodeField("status", ("status",)),
    NodeField("prices", ("prices",), _prices),
    NodeField("currencies", ("currencies",), _strings),
    NodeField("total_stock", ("total_stock",)),
    NodeField("in_stock", ("has_stock",)),
    NodeField("categories", ("categories",), _categories),
    NodeField("tags", ("tags",), _strings),
    NodeField("seo_title", ("meta_title",)),
    NodeField("seo_description", ("meta_description",)),
    NodeField("thumbnail", ("thumbnail",)),
    NodeField("extra", ("extra",), _object),
    NodeField("published_at", ("published_at",)),
)
CONTENT_FIELDS = (
    NodeField("id", ("entity_id",)),
    NodeField("kind", ("kind",)),
    NodeField("locale", ("locale",)),
    NodeField("title", ("title",)),
    NodeField("slug", ("slug",)),
    NodeField("excerpt", ("excerpt",)),
    NodeField("body_preview", ("body_preview",)),
    NodeField("status", ("status",)),
    NodeField("author", ("author_id", "author_name"), _author),
    NodeField("category", ("category_id", "category_name", "category_slug"), _category),
    NodeField("tags", ("tags",), _strings),
    NodeField("parent_id", ("parent_id",)),
    NodeField("root_id", ("root_id",)),
    NodeField("reply_count", ("reply_count",)),
    NodeField("seo_title", ("meta_title",)),
    NodeField("seo_description", ("meta_description",)),
    NodeField("extra", ("extra",), _object),
    NodeField("published_at", ("published_at",)),
)


UUID_COLUMNS = frozenset({"entity_id", "author_id", "category_id", "parent_id", "root_id"})
"""Columns of type ``uuid``: selected as text (see the module's docstring)."""


def _expressions(alias: str, fields: Sequence[NodeField], id_column: str) -> dict[str, str]:
    def expression(column: str) -> str:
        sql = f"{alias}.{id_column if column == 'entity_id' else column}"
        return f"CAST({sql} AS text)" if column in UUID_COLUMNS else sql

    return {c: expression(c) for f in fields for c in f.columns}


PRODUCT = Shape(PRODUCT_FIELDS, _expressions("p", PRODUCT_FIELDS, "product_id"))
CONTENT = Shape(CONTENT_FIELDS, _expressions("c", CONTENT_FIELDS, "node_id"))
CONTENT_WITH_BODY = Shape(
    (*CONTENT_FIELDS, NodeField("body_html", ("body_html",))),
    {**_expressions("c", CONTENT_FIELDS, "node_id"), "body_html": "c.body_html"},
)
