"""Storefront reads, served from the index tables only, each in ONE SQL statement.

Every read is scoped to a :class:`ReadScope`: the tenant, the locale asked for, the
tenant's default locale (rows fall back to it per entity when the entity has no row in
the asked locale) and the modules the tenant has enabled (documents of disabled
modules are never shown, even before the index has dropped them).

Lists use keyset pagination: the cursor holds the sort and the sort key of the last
row, so a page never repeats or skips rows when rows before it change. Search ranks
with ``ts_rank_cd``, cuts highlights with ``ts_headline`` from HTML-escaped text (the
only markup in a highlight is ``<mark>``), and suggests a correction from the titles'
words by trigram similarity when the first page has few hits.

Each read is one statement outside any transaction, run on the driver connection
(:mod:`rustok_index.services.reader`); rows come back as named tuples.

Given the fast path's completion (``render``), listings and single-item reads hand back
their edges or node as JSON, kept per row version (:mod:`rustok_index.services.rendered`):
an unchanged row is completed and serialized once, not on every read.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import orjson
from orjson import Fragment

from rustok_core.context import AppContext, TenantContext
from rustok_core.errors import Validation
from rustok_core.index import CONTENT, ENTITY_TYPES, PRODUCT
from rustok_core.pagination import decode_cursor, encode_cursor_bytes, page_size
from rustok_index.responses.plan import Complete as Render
from rustok_index.responses.plan import Fallback
from rustok_index.search_config import config_name, config_sql
from rustok_index.services import shapes
from rustok_index.services.reader import StorefrontReader
from rustok_index.services.rendered import LastPage, RenderedRows

LOCALE_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\Z")
CURRENCY_RE = re.compile(r"^[A-Z]{3}\Z")
MAX_QUERY_CHARS = 200
MAX_TAGS = 20
FEW_HITS = 3
"""A first search page with fewer hits than this gets a did-you-mean suggestion."""
SUGGESTION_SIMILARITY = 0.3
CANDIDATE_THRESHOLD = 0.4
"""pg_trgm's ``word_similarity_threshold`` while looking for title words near a search term."""
CANDIDATES_PER_TERM = 10
MAX_SUGGESTED_TERMS = 8
"""Terms of a query that get corrections (a bound also keeps the planner's estimate small)."""
HIGHLIGHT = 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
TITLE_HIGHLIGHT = "StartSel=<mark>, StopSel=</mark>, HighlightAll=true"

KEPT_SCOPES = 1024
"""Read scopes kept per process (per tenant context and asked locale; all dropped when full)."""


class _Sort(NamedTuple):
    keys: tuple[str, str]
    """The sort key's SQL, then the product id (``{rank}``: the relevance expression)."""
    kinds: tuple[str, str]
    """How a cursor's values of those keys read back (see :func:`_decode`)."""
    descending: bool


CATALOG_SORTS: dict[str, _Sort] = {
    "RELEVANCE": _Sort(("({rank})", "p.product_id"), ("float", "uuid"), True),
    "PRICE_ASC": _Sort(("pr.min_price", "p.product_id"), ("int", "uuid"), False),
    "PRICE_DESC": _Sort(("pr.min_price", "p.product_id"), ("int", "uuid"), True),
    "NEWEST": _Sort(("p.listed_at", "p.product_id"), ("datetime", "uuid"), True),
    "TITLE": _Sort(("p.title", "p.product_id"), ("str", "uuid"), False),
}
SORTS = tuple(CATALOG_SORTS)


@dataclass(frozen=True)
class ReadScope:
    tenant_id: uuid.UUID
    locale: str
    fallback: str
    """The tenant's default locale."""
    modules: tuple[str, ...]
    """Modules the tenant has enabled."""

    @property
    def falls_back(self) -> bool:
        """Whether rows may come in the default locale (the asked one is another)."""
        return self.locale != self.fallback

    @cached_property
    def _values(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "locale": self.locale,
            "fallback": self.fallback,
            "modules": text_array(self.modules),
            "cfg_locale": config_name(self.locale),
            "cfg_fallback": config_name(self.fallback),
        }

    def params(self) -> dict[str, Any]:
        """The statement values every read names, made once per scope (a new dict: reads add their own)."""
        return self._values.copy()


def array_literal(values: Iterable[str]) -> str:
    """``values`` as a PostgreSQL array literal, for ``CAST(:param AS text[])``.

    psycopg adapts a ``str`` in C but a ``list`` in Python, per statement: measured ~5 µs
    on one core for a tenant's module list, ~4% of a cold storefront read's CPU.
    """
    quoted = ('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return "{" + ",".join(quoted) + "}"


text_array = lru_cache(maxsize=256)(array_literal)
""":func:`array_literal` of a tuple, kept: the few module lists every read passes."""


def _shown(alias: str) -> str:
    """Rows of ``alias`` whose module the tenant has enabled (``:modules`` is :func:`text_array`'s literal)."""
    return f"{alias}.module = ANY(CAST(:modules AS text[]))"


def check_locale(locale: str) -> str:
    if len(locale) > 10 or not LOCALE_RE.match(locale):
        raise Validation("invalid locale: expected a tag like 'en' or 'pt-BR'", field="locale")
    return locale


@dataclass(frozen=True)
class CatalogFilter:
    category_handle: str | None = None
    tags: Sequence[str] = ()
    min_price: int | None = None
    max_price: int | None = None
    currency: str | None = None
    in_stock: bool | None = None
    query: str | None = None


@dataclass
class Page:
    """A Relay connection in the making: rows (already shaped), cursors, and extras."""

    edges: list[Any] = field(default_factory=list)
    """Edge dicts, or their JSON (``orjson.Fragment``) when the read rendered them."""
    has_next_page: bool = False
    did_you_mean: str | None = None
    end_cursor: str | None = None
    """The last edge's cursor (also made when the edges' own cursors are not)."""

    def connection(self) -> dict[str, Any]:
        return {
            "edges": self.edges,
            "page_info": {"has_next_page": self.has_next_page, "end_cursor": self.end_cursor},
            "did_you_mean": self.did_you_mean,
        }


# -- SQL pieces -----------------------------------------------------------------------------------

QUERY_LOCALE = f"websearch_to_tsquery({config_sql('CAST(:cfg_locale AS text)')}, :query)"
QUERY_FALLBACK = f"websearch_to_tsquery({config_sql('CAST(:cfg_fallback AS text)')}, :query)"

# (column, SQL type, product expression, content expression) of a search hit.
SEARCH_COLUMNS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("entity_id", "uuid", "p.product_id", "c.node_id"),
    ("locale", "text", "p.locale", "c.locale"),
    ("title", "text", "p.title", "c.title"),
    ("handle", "text", "p.handle", "c.slug"),
    ("slug", "text", None, "c.slug"),
    ("kind", "text", None, "c.kind"),
    ("status", "text", "p.status", "c.status"),
    ("subtitle", "text", "p.subtitle", None),
    ("description", "text", "p.description", None),
    ("excerpt", "text", None, "c.excerpt"),
    ("body_preview", "text", None, "c.body_preview"),
    ("prices", "jsonb", "p.prices", None),
    ("currencies", "varchar[]", "p.currencies", None),
    ("total_stock", "integer", "p.total_stock", None),
    ("has_stock", "boolean", "p.has_stock", None),
    ("categories", "jsonb", "p.categories", None),
    ("tags", "text[]", "p.tags", "c.tags"),
    ("meta_title", "text", "p.meta_title", "c.meta_title"),
    ("meta_description", "text", "p.meta_description", "c.meta_description"),
    ("thumbnail", "text", "p.thumbnail", None),
    ("extra", "jsonb", "p.extra", "c.extra"),
    ("published_at", "timestamptz", "p.published_at", "c.published_at"),
    ("listed_at", "timestamptz", "p.listed_at", "c.listed_at"),
    ("author_id", "uuid", None, "c.author_id"),
    ("author_name", "text", None, "c.author_name"),
    ("category_id", "uuid", None, "c.category_id"),
    ("category_name", "text", None, "c.category_name"),
    ("category_slug", "text", None, "c.category_slug"),
    ("parent_id", "uuid", None, "c.parent_id"),
    ("root_id", "uuid", None, "c.root_id"),
    ("reply_count", "integer", None, "c.reply_count"),
    ("search_config", "regconfig", "p.search_config", "c.search_config"),
    (
        "highlight_source",
        "text",
        "COALESCE(NULLIF(p.description, ''), p.subtitle, '')",
        "COALESCE(NULLIF(c.body_text, ''), c.excerpt, '')",
    ),
)


def _locale_condition(alias: str, falls_back: bool) -> str:
    """Rows in the asked locale, or in the default locale for entities that lack it."""
    if not falls_back:
        return f"{alias}.locale = :locale"
    return (
        f"({alias}.locale = :locale OR ({alias}.locale = :fallback "
        f"AND NOT ({alias}.locales @> ARRAY[CAST(:locale AS varchar)])))"
    )


def _match(alias: str, falls_back: bool) -> str:
    if not falls_back:
        return f"{alias}.search_vector @@ {QUERY_LOCALE}"
    return (
        f"(({alias}.locale = :locale AND {alias}.search_vector @@ {QUERY_LOCALE}) "
        f"OR ({alias}.locale = :fallback AND {alias}.search_vector @@ {QUERY_FALLBACK}))"
    )


def _rank(alias: str, falls_back: bool) -> str:
    if not falls_back:
        return f"ts_rank_cd({alias}.search_vector, {QUERY_LOCALE}, 32)"
    return (
        f"CASE WHEN {alias}.locale = :locale THEN ts_rank_cd({alias}.search_vector, {QUERY_LOCALE}, 32) "
        f"ELSE ts_rank_cd({alias}.search_vector, {QUERY_FALLBACK}, 32) END"
    )


def _query_of(alias: str, falls_back: bool) -> str:
    """The tsquery of a row's locale (the asked one or the fallback)."""
    if not falls_back:
        return QUERY_LOCALE
    return f"CASE WHEN {alias}.locale = :locale THEN {QUERY_LOCALE} ELSE {QUERY_FALLBACK} END"


def _limit(size: int, *, filtered: bool) -> str:
    """``LIMIT`` of a listing's page (one row more than ``size``, to tell whether a next page exists).

    A listing without filters has one best plan for every tenant, page and cursor: walk the
    sort's index and stop after the page. Its limit is written into the SQL, so PostgreSQL
    keeps that plan on the connection once the statement is prepared. With the limit as a
    parameter every generic plan looks costly (the planner assumes a tenth of the rows), so
    each execution was planned again: measured ~60 of ~160 µs of the database's CPU per
    read. A filtered listing keeps the parameter, so it keeps a plan for its actual values:
    its best plan depends on how selective the filter is.
    """
    if filtered:
        return "LIMIT :limit"  # the read passes ``size + 1``
    return f"LIMIT {int(size) + 1}"


def _escaped(expression: str) -> str:
    return f"replace(replace(replace({expression}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"


def _keyset(columns: Sequence[str], descending: bool) -> str:
    left = ", ".join(columns)
    right = ", ".join(f":k{n}" for n in range(len(columns)))
    return f"({left}) {'<' if descending else '>'} ({right})"


@dataclass(frozen=True, slots=True)
class Listing:
    """A listing's statement for one shape of read: made once per shape (see :func:`_catalog_listing`)."""

    sql: str
    """Sort keys ``k0``, ``k1``, the version, then the projection's columns (rendering: also ``known``, ``ku``)."""
    wrapped: str | None
    """Rendering: ``sql`` wrapped so that rows of a known version come back without their columns."""
    projection: shapes.Projection
    filtered: bool
    """Whether the read passes ``:limit`` (see :func:`_limit`)."""


def _make_listing(
    inner: str, descending: bool, projection: shapes.Projection, rendering: bool, filtered: bool
) -> Listing:
    """The :class:`Listing` of a statement ``inner`` whose rows are ordered by ``k0`` then ``ku``."""
    if not rendering:
        return Listing(inner, None, projection, filtered)
    direction = " DESC" if descending else ""
    columns = "".join(f", CASE WHEN q.known THEN NULL ELSE q.{c} END" for c in projection.columns)
    wrapped = (
        f"SELECT q.k0, q.k1, q.version, q.known{columns} FROM ({inner}) q ORDER BY q.k0{direction}, q.ku{direction}"
    )
    return Listing(inner, wrapped, projection, filtered)


@dataclass(frozen=True, slots=True)
class _CatalogFilters:
    """Which of a catalog read's filters are given (their values are the statement's)."""

    currency: bool
    min_price: bool
    max_price: bool
    category: bool
    tags: bool
    in_stock: bool
    ranked: bool
    """A search text is given: rows must match it and carry its rank."""


@lru_cache(maxsize=512)
def _catalog_listing(
    falls_back: bool,
    given: _CatalogFilters,
    sort: str,
    after: bool,
    projection: shapes.Projection,
    rendering: bool,
    size: int,
) -> Listing:
    """The statement of a catalog page: its text depends only on these, so it is built once per shape
    (the SQL text, its driver form and the rendering wrapper are then the same objects every read)."""
    where = ["p.tenant_id = :tenant", _shown("p"), _locale_condition("p", falls_back)]
    scoped = len(where)
    joins = ""
    if given.currency:
        # The price rows repeat tenant and locale so that a price sort walks their
        # (tenant_id, locale, currency, min_price) index in order and stops at the page.
        locales = "pr.locale = :locale" if not falls_back else "pr.locale IN (:locale, :fallback)"
        joins = (
            " JOIN index_product_prices pr ON pr.index_product_id = p.id AND pr.tenant_id = :tenant"
            f" AND {locales} AND pr.currency = :currency"
        )
    if given.min_price:
        where.append("pr.min_price >= :min_price")
    if given.max_price:
        where.append("pr.min_price <= :max_price")
    if given.category:
        where.append("p.category_handles @> ARRAY[CAST(:category AS text)]")
    if given.tags:
        where.append("p.tags @> CAST(:tags AS text[])")
    if given.in_stock:
        where.append("p.has_stock = :in_stock")
    rank = "NULL::real"
    if given.ranked:
        where.append(_match("p", falls_back))
        rank = _rank("p", falls_back)
    filtered = bool(joins) or len(where) > scoped  # a cursor's keyset below is no filter
    chosen = CATALOG_SORTS[sort]
    keys = [key.format(rank=rank) for key in chosen.keys]
    descending = chosen.descending
    if after:
        if sort == "RELEVANCE":
            where.append(f"({rank}, p.product_id) < (CAST(:k0 AS real), :k1)")
        else:
            where.append(_keyset(keys, descending))
    direction = " DESC" if descending else ""
    order = ", ".join(f"{key}{direction}" for key in keys)
    # The key's id is selected as the text a cursor holds (the node's id expression): no UUID parsed and printed.
    selected = (
        f"{keys[0]} AS k0",
        f"{shapes.PRODUCT.expressions['entity_id']} AS k1",
        f"{_version('p', rendering)} AS version",
        shapes.PRODUCT.select_list(projection),
    )
    sql = (
        f"SELECT {', '.join(selected)}{_known('p', 'p.product_id', rendering)} "
        f"FROM index_products p{joins} "
        f"WHERE {' AND '.join(where)} ORDER BY {order} {_limit(size, filtered=filtered)}"
    )
    return _make_listing(sql, descending, projection, rendering, filtered)


@lru_cache(maxsize=256)
def _feed_listing(
    falls_back: bool,
    category: bool,
    tag: bool,
    after: bool,
    projection: shapes.Projection,
    rendering: bool,
    size: int,
) -> Listing:
    """The statement of a content feed page, built once per shape (as :func:`_catalog_listing`)."""
    where = ["c.tenant_id = :tenant", "c.kind = :kind", _shown("c"), _locale_condition("c", falls_back)]
    if category:
        where.append("c.category_slug = :category")
    if tag:
        where.append("c.tags @> ARRAY[CAST(:tag AS text)]")
    if after:
        where.append(_keyset(["c.listed_at", "c.node_id"], True))
    selected = (
        "c.listed_at AS k0",
        f"{shapes.CONTENT.expressions['entity_id']} AS k1",
        f"{_version('c', rendering)} AS version",
        shapes.CONTENT.select_list(projection),
    )
    sql = (
        f"SELECT {', '.join(selected)}{_known('c', 'c.node_id', rendering)} "
        f"FROM index_content c WHERE {' AND '.join(where)} ORDER BY c.listed_at DESC, c.node_id DESC "
        f"{_limit(size, filtered=category or tag)}"
    )
    return _make_listing(sql, True, projection, rendering, category or tag)


# -- cursors --------------------------------------------------------------------------------------


def _encode(sort: str, values: Sequence[Any]) -> str:
    # orjson writes datetimes as isoformat() and UUIDs as str() do: what _decode reads back.
    return encode_cursor_bytes(orjson.dumps([sort, *values]))


def _decode(cursor: str | None, sort: str, kinds: Sequence[str]) -> list[Any] | None:
    """The key values of a cursor made by the same sort (``kinds`` say how to read each)."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        data = orjson.loads(raw)
        if not isinstance(data, list) or len(data) != len(kinds) + 1 or data[0] != sort:
            raise ValueError("another sort")
        values: list[Any] = []
        for kind, value in zip(kinds, data[1:], strict=True):
            if kind == "uuid":
                values.append(uuid.UUID(value))
            elif kind == "datetime":
                values.append(datetime.fromisoformat(value))
            elif kind == "int":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError("not an integer")
                values.append(value)
            elif kind == "float":
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError("not a number")
                values.append(float(value))
            else:
                if not isinstance(value, str):
                    raise ValueError("not a string")
                values.append(value)
        return values
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise Validation("invalid cursor for this query", field="after") from None


# -- the reads ------------------------------------------------------------------------------------


class StorefrontQueries:
    """The storefront's reads; each method runs exactly one SQL statement."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._reader = StorefrontReader(ctx.db)
        kept = ctx.settings.graphql.rendered_rows
        self.rendered = RenderedRows(kept) if kept else None
        """Rendered rows of this process (``graphql.rendered_rows``; ``None``: every read renders nothing)."""
        self._scopes: dict[tuple[int, str | None], tuple[TenantContext, ReadScope]] = {}

    def scope(self, tenant: TenantContext, locale: str | None) -> ReadScope:
        """The scope of a read for ``tenant`` in ``locale`` (``None``: the tenant's default), checked.

        Kept per tenant context object and locale (a request's tenant comes from the tenant
        cache, which hands out one frozen context until the tenant changes, and a change
        makes a new one): the scope and its values are made once, not per read.
        """
        key = (id(tenant), locale)
        kept = self._scopes.get(key)
        if kept is not None and kept[0] is tenant:  # the reference held keeps the id unique
            return kept[1]
        scope = ReadScope(
            tenant_id=tenant.id,
            locale=check_locale(locale) if locale is not None else tenant.default_locale,
            fallback=tenant.default_locale,
            modules=tuple(sorted(tenant.enabled_modules)),
        )
        if len(self._scopes) >= KEPT_SCOPES:
            self._scopes.clear()
        self._scopes[key] = (tenant, scope)
        return scope

    async def _rows(self, scope: ReadScope, sql: str, params: dict[str, Any]) -> Sequence[Any]:
        """The named rows of one statement (``scope`` is the tenant the SQL names as ``:tenant``)."""
        return await self._reader.rows(sql, params)

    # -- products -----------------------------------------------------------------------------

    async def catalog_products(
        self,
        scope: ReadScope,
        filters: CatalogFilter,
        *,
        sort: str = "NEWEST",
        first: int | None = None,
        after: str | None = None,
        fields: Collection[str] | None = None,
        cursors: bool = True,
        render: Render | None = None,
    ) -> Page:
        """A page of products; ``fields``: the node keys to build (default all); ``cursors``: the edges'
        own (the end cursor is always made); ``render``: the completion of an edge (see :func:`_page`)."""
        size = page_size(first)
        render = render if self.rendered is not None else None
        if sort not in SORTS:
            raise Validation("unknown sort", field="sort")
        params = scope.params()
        currency = filters.currency
        if currency is not None:
            if not CURRENCY_RE.match(currency):
                raise Validation("currency must be an ISO-4217 code such as 'EUR'", field="currency")
            params["currency"] = currency
        priced = filters.min_price is not None or filters.max_price is not None or sort in ("PRICE_ASC", "PRICE_DESC")
        if priced and currency is None:
            raise Validation("price filters and price sorts need a currency", field="currency")
        if filters.min_price is not None:
            params["min_price"] = filters.min_price
        if filters.max_price is not None:
            params["max_price"] = filters.max_price
        if filters.category_handle is not None:
            params["category"] = filters.category_handle
        if filters.tags:
            if len(filters.tags) > MAX_TAGS:
                raise Validation(f"at most {MAX_TAGS} tags", field="tags")
            params["tags"] = list(filters.tags)
        if filters.in_stock is not None:
            params["in_stock"] = filters.in_stock
        if filters.query is not None and filters.query.strip():
            params["query"] = _search_text(filters.query)
        elif sort == "RELEVANCE":
            sort = "NEWEST"  # nothing to rank by: newest first
        after_key = _decode(after, sort, CATALOG_SORTS[sort].kinds)
        if after_key is not None:
            params.update({f"k{n}": value for n, value in enumerate(after_key)})
        listing = _catalog_listing(
            scope.falls_back,
            _CatalogFilters(
                currency=currency is not None,
                min_price=filters.min_price is not None,
                max_price=filters.max_price is not None,
                category=filters.category_handle is not None,
                tags=bool(filters.tags),
                in_stock=filters.in_stock is not None,
                ranked="query" in params,
            ),
            sort,
            after_key is not None,
            shapes.PRODUCT.project(fields),
            render is not None,
            size,
        )
        return await self._listing(listing, params, size, sort, cursors, render)

    async def catalog_product(
        self,
        scope: ReadScope,
        handle: str,
        *,
        fields: Collection[str] | None = None,
        render: Render | None = None,
    ) -> dict[str, Any] | Fragment | None:
        """The product with this handle in the asked locale, else the default, else any (``render``: the
        completion of the node, see :func:`_page`)."""
        render = render if self.rendered is not None else None
        projection = shapes.PRODUCT.project(fields)
        sql = f"""
            WITH hit AS (
                SELECT product_id FROM index_products
                WHERE tenant_id = :tenant AND handle = :handle AND {_shown("index_products")}
                ORDER BY (locale = :locale) DESC, (locale = :fallback) DESC, locale LIMIT 1
            )
            SELECT {_version("p", render is not None)}, {shapes.PRODUCT.select_list(projection) or "1"}
            FROM index_products p JOIN hit ON p.product_id = hit.product_id
            WHERE p.tenant_id = :tenant
            ORDER BY (p.locale = :locale) DESC, (p.locale = :fallback) DESC, p.locale LIMIT 1
        """
        rows = await self._reader.tuples(sql, {**scope.params(), "handle": handle})
        return _node(rows[0], projection, render, self.rendered) if rows else None

    # -- content ------------------------------------------------------------------------------

    async def content_feed(
        self,
        scope: ReadScope,
        kind: str,
        *,
        category_slug: str | None = None,
        tag: str | None = None,
        first: int | None = None,
        after: str | None = None,
        fields: Collection[str] | None = None,
        cursors: bool = True,
        render: Render | None = None,
    ) -> Page:
        """Published content of a kind, newest first (``fields``, ``cursors`` and ``render`` as for products)."""
        size = page_size(first)
        render = render if self.rendered is not None else None
        params = scope.params()
        params["kind"] = kind
        if category_slug is not None:
            params["category"] = category_slug
        if tag is not None:
            params["tag"] = tag
        after_key = _decode(after, "FEED", ["datetime", "uuid"])
        if after_key is not None:
            params["k0"], params["k1"] = after_key
        listing = _feed_listing(
            scope.falls_back,
            category_slug is not None,
            tag is not None,
            after_key is not None,
            shapes.CONTENT.project(fields),
            render is not None,
            size,
        )
        return await self._listing(listing, params, size, "FEED", cursors, render)

    async def content_item(
        self,
        scope: ReadScope,
        kind: str,
        slug: str,
        *,
        fields: Collection[str] | None = None,
        render: Render | None = None,
    ) -> dict[str, Any] | Fragment | None:
        """The item whose slug (in any locale) is ``slug``, in the asked locale, else the default, else any
        (``render`` as for products)."""
        render = render if self.rendered is not None else None
        projection = shapes.CONTENT_WITH_BODY.project(fields)
        sql = f"""
            WITH hit AS (
                SELECT node_id FROM index_content
                WHERE tenant_id = :tenant AND kind = :kind AND slug = :slug AND {_shown("index_content")}
                ORDER BY (locale = :locale) DESC, (locale = :fallback) DESC, locale LIMIT 1
            )
            SELECT {_version("c", render is not None)}, {shapes.CONTENT_WITH_BODY.select_list(projection) or "1"}
            FROM index_content c JOIN hit ON c.node_id = hit.node_id
            WHERE c.tenant_id = :tenant
            ORDER BY (c.locale = :locale) DESC, (c.locale = :fallback) DESC, c.locale LIMIT 1
        """
        rows = await self._reader.tuples(sql, {**scope.params(), "kind": kind, "slug": slug})
        return _node(rows[0], projection, render, self.rendered) if rows else None

    async def _listing(
        self,
        listing: Listing,
        params: dict[str, Any],
        size: int,
        sort: str,
        cursors: bool,
        render: Render | None,
    ) -> Page:
        """The page of a listing statement (see :func:`_known` for the columns it has when rendering).

        Rendering, the statement is asked again with the row versions of its last page (same
        selection, statement and values; kept by :class:`RenderedRows` under its age rule):
        rows of those versions come back without their columns (the edges made of them are
        kept with the versions); only new or written rows travel and are decoded.
        """
        if listing.filtered:
            params["limit"] = size + 1
        rendered = self.rendered
        projection = listing.projection
        if render is None or rendered is None or listing.wrapped is None:
            rows = await self._reader.tuples(listing.sql, params)
            return _page(rows, size, sort, projection, cursors)
        key = (render, listing.sql, orjson.dumps(params, option=orjson.OPT_SORT_KEYS))
        rendered.refresh()
        last = rendered.last_page(key)
        params["known"] = last.versions if last is not None else "{}"
        rows = await self._reader.tuples(listing.wrapped, params)
        page = _page(rows, size, sort, projection, cursors, render, rendered, last.edges if last is not None else None)
        shown = rows[:size]
        if last is not None and len(last.edges) == len(shown) and all(row[3] for row in shown):
            return page  # the same rows as the kept page: it stays as it is
        edges = {row[2]: edge for row, edge in zip(shown, page.edges, strict=True) if type(edge) is Fragment}
        if len(edges) == len(page.edges):
            rendered.keep_page(key, LastPage(array_literal(edges), edges))
        return page

    # -- search -------------------------------------------------------------------------------

    async def search(
        self,
        scope: ReadScope,
        query: str,
        *,
        types: Sequence[str] = ENTITY_TYPES,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        size = page_size(first)
        wanted = [t for t in ENTITY_TYPES if t in set(types)]
        if not wanted:
            raise Validation("search at least one type", field="types")
        params = {**scope.params(), "query": _search_text(query), "limit": size + 1}
        branches = []
        for entity_type in wanted:
            alias, table = ("p", "index_products") if entity_type == PRODUCT else ("c", "index_content")
            columns = []
            for name, sql_type, product_expr, content_expr in SEARCH_COLUMNS:
                expression = product_expr if entity_type == PRODUCT else content_expr
                columns.append(f"{expression if expression is not None else 'NULL'}::{sql_type} AS {name}")
            conditions = [
                f"{alias}.tenant_id = :tenant",
                _shown(alias),
                _locale_condition(alias, scope.falls_back),
                _match(alias, scope.falls_back),
            ]
            rank = _rank(alias, scope.falls_back)
            branches.append(
                f"SELECT '{entity_type}'::text AS type, {', '.join(columns)}, ({rank})::real AS rank "
                f"FROM {table} {alias} WHERE {' AND '.join(conditions)}"
            )
        after_key = _decode(after, "SEARCH", ["float", "str", "uuid"])
        page_filter = ""
        if after_key is not None:
            page_filter = "WHERE (h.rank, h.type, h.entity_id) < (CAST(:k0 AS real), :k1, :k2)"
            params.update({"k0": after_key[0], "k1": after_key[1], "k2": after_key[2]})
        row_query = _query_of("page", scope.falls_back)
        suggestion = "NULL::text"
        if after_key is None:
            suggestion = (
                f"CASE WHEN (SELECT count(*) FROM page) < {FEW_HITS} THEN ({self._suggestion_sql(wanted, scope)}) END"
            )
        sql = f"""
            WITH hits AS ({" UNION ALL ".join(branches)}),
            page AS (
                SELECT h.* FROM hits h {page_filter}
                ORDER BY h.rank DESC, h.type DESC, h.entity_id DESC LIMIT :limit
            ),
            shaped AS (
                SELECT page.*,
                    ts_headline(page.search_config, {_escaped("page.highlight_source")},
                        {row_query}, '{HIGHLIGHT}') AS highlight,
                    ts_headline(page.search_config, {_escaped("page.title")},
                        {row_query}, '{TITLE_HIGHLIGHT}') AS title_highlight
                FROM page
            )
            SELECT s.*, meta.did_you_mean
            FROM (SELECT {suggestion} AS did_you_mean) meta
            LEFT JOIN shaped s ON TRUE
            ORDER BY s.rank DESC, s.type DESC, s.entity_id DESC
        """
        rows = await self._rows(scope, sql, params)
        hits = [row for row in rows if row.entity_id is not None]
        page = Page(has_next_page=len(hits) > size, did_you_mean=rows[0].did_you_mean if rows else None)
        for row in hits[:size]:
            node = shapes.PRODUCT.node(row) if row.type == PRODUCT else shapes.CONTENT.node(row)
            hit = {
                "type": row.type,
                "id": row.entity_id,
                "locale": row.locale,
                "title": row.title,
                "handle": row.handle,
                "kind": row.kind,
                "rank": row.rank,
                "highlight": row.highlight or None,
                "title_highlight": row.title_highlight,
                "product": node if row.type == PRODUCT else None,
                "content": node if row.type == CONTENT else None,
            }
            page.edges.append({"cursor": _encode("SEARCH", [row.rank, row.type, row.entity_id]), "node": hit})
        page.end_cursor = page.edges[-1]["cursor"] if page.edges else None
        return page

    @staticmethod
    def _suggestion_sql(types: Sequence[str], scope: ReadScope) -> str:
        """Each search term replaced by the most similar word of a matching title (NULL when nothing changes)."""
        sources = []
        for entity_type in types:
            table = "index_products" if entity_type == PRODUCT else "index_content"
            sources.append(
                f"(SELECT t.title FROM {table} t WHERE t.tenant_id = :tenant AND {_shown('t')} "
                "AND t.locale IN (:locale, :fallback) "
                "AND terms.word <% t.title "
                f"ORDER BY terms.word <<-> t.title LIMIT {CANDIDATES_PER_TERM})"
            )
        return f"""
            WITH terms AS (
                SELECT t.word, t.n,
                    set_config('pg_trgm.word_similarity_threshold', '{CANDIDATE_THRESHOLD}', true) AS tuned
                FROM regexp_split_to_table(lower(:query), '[[:space:][:punct:]]+') WITH ORDINALITY AS t(word, n)
                WHERE t.word <> ''
                LIMIT {MAX_SUGGESTED_TERMS}
            ),
            candidates AS (
                SELECT terms.n, w.word, similarity(terms.word, w.word) AS score
                FROM terms CROSS JOIN LATERAL (
                    SELECT DISTINCT lower(part) AS word
                    FROM ({" UNION ALL ".join(sources)}) titles(title),
                         regexp_split_to_table(titles.title, '[[:space:][:punct:]]+') AS part
                    WHERE length(part) > 1 AND terms.tuned IS NOT NULL
                ) w
            ),
            best AS (
                SELECT DISTINCT ON (terms.n) terms.n, COALESCE(c.word, terms.word) AS word
                FROM terms LEFT JOIN candidates c ON c.n = terms.n AND c.score >= {SUGGESTION_SIMILARITY}
                ORDER BY terms.n, c.score DESC NULLS LAST, c.word
            )
            SELECT NULLIF(string_agg(best.word, ' ' ORDER BY best.n),
                          (SELECT string_agg(terms.word, ' ' ORDER BY terms.n) FROM terms))
            FROM best
        """


def _version(alias: str, rendering: bool) -> str:
    """The column a rendered row is kept by (the row's id and version), when the read renders."""
    return f"CAST({alias}.id AS text) || CAST({alias}.xmin AS text)" if rendering else "NULL"


def _known(alias: str, id_column: str, rendering: bool) -> str:
    """The columns :meth:`StorefrontQueries._listing` adds when rendering: whether the row's version is one
    of ``:known`` (its columns are then not sent), and the row's id as such (the order's last key)."""
    if not rendering:
        return ""
    return f", {_version(alias, rendering)} = ANY(CAST(:known AS text[])) AS known, {id_column} AS ku"


def _page(
    rows: Sequence[tuple[Any, ...]],
    size: int,
    sort: str,
    projection: shapes.Projection,
    cursors: bool,
    render: Render | None = None,
    rendered: RenderedRows | None = None,
    known: dict[str, Fragment] | None = None,
) -> Page:
    """A page from rows of two sort-key columns and the row version, then the projection's columns
    (rendering: the version, whether it is ``known``, then the projection's columns).

    With ``render`` (the plan's completion of an edge), each edge is its JSON, made once per
    row version, sort and selection (and rank, for a ranked sort) and then taken from
    ``rendered``: an edge depends on nothing else (its cursor is the sort and the row's key).
    """
    page = Page(has_next_page=len(rows) > size)
    build = projection.build
    shown = rows[:size]
    if render is not None and rendered is not None:  # refreshed by the listing, with its last page
        rendered.served += len(shown)
        get = rendered.get
        edges = page.edges
        # The sort key is a column of the row, kept by its version, except a rank (the query's).
        ranked = sort == "RELEVANCE"
        for row in shown:
            if row[3]:
                assert known is not None
                edges.append(known[row[2]])
                continue
            key = (render, sort, row[2], row[0]) if ranked else (render, sort, row[2])
            edge = get(key)
            if edge is None:
                made = {"cursor": _encode(sort, row[:2]), "node": build(row, 4)} if cursors else {"node": build(row, 4)}
                edge = _rendered(made, render, rendered, key)
            edges.append(edge)
    elif cursors:
        page.edges = [{"cursor": _encode(sort, row[:2]), "node": build(row, 3)} for row in shown]
    else:
        page.edges = [{"node": build(row, 3)} for row in shown]
    if shown:
        last = page.edges[-1]
        page.end_cursor = last["cursor"] if cursors and type(last) is dict else _encode(sort, shown[-1][:2])
    return page


def _node(
    row: tuple[Any, ...], projection: shapes.Projection, render: Render | None, rendered: RenderedRows | None
) -> dict[str, Any] | Fragment:
    """One node from a row of the row version and the projection's columns (rendered as :func:`_page` does)."""
    if render is None or rendered is None:
        return projection.build(row, 1)
    rendered.refresh()
    rendered.served += 1
    key = (render, row[0])
    node = rendered.get(key)
    return node if node is not None else _rendered(projection.build(row, 1), render, rendered, key)


def _rendered(made: dict[str, Any], render: Render, rendered: RenderedRows, key: Any) -> dict[str, Any] | Fragment:
    """``made`` completed by ``render`` as JSON, kept under ``key``; ``made`` itself when the plan refuses it."""
    try:
        value = render(made)
    except Fallback:
        return made  # the plan completes it again and falls back with its reason
    fragment = Fragment(orjson.dumps(value))
    rendered.put(key, fragment)
    rendered.made += 1
    return fragment


def _search_text(query: str) -> str:
    cleaned = " ".join(query.split())
    if not cleaned:
        raise Validation("the search query is empty", field="query")
    if len(cleaned) > MAX_QUERY_CHARS:
        raise Validation(f"the search query must be at most {MAX_QUERY_CHARS} characters", field="query")
    return cleaned
