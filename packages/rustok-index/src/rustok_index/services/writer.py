"""The only code that writes the read model.

:meth:`IndexWriter.reindex` asks the owning module for the current documents of some
entities and makes their rows exactly that: documents are upserted, and rows of
those entities whose (entity, locale) is no longer returned are deleted. Because the
owner always answers with the current state, delivering an event late, twice or out
of order converges to the same rows. Concurrent reindexes of one entity are
serialized with transaction-scoped advisory locks, so an older read can never be
written over a newer one.

Each batch is one statement per table (``INSERT ... SELECT FROM
jsonb_to_recordset(...) ON CONFLICT DO UPDATE`` plus the deletions, as data-modifying
CTEs); the ``tsvector`` and the text-search configuration are computed in SQL. A row
whose searched text (and configuration) did not change keeps its ``tsvector``: most
reindexes follow a price, stock or count change, and building the vector of a long
description was most of the statement's time. Rebuilds (``fresh``) compute every one.

Every statement that changed rows calls ``on_change(session, tenant_id)``: the
storefront's cached answers of that tenant are invalidated once the transaction
commits (:mod:`rustok_index.responses.invalidation`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.context import AppContext
from rustok_core.ids import generate_id
from rustok_core.index import CONTENT, PRODUCT, ContentDocument, IndexDocument, ProductDocument
from rustok_index.metrics import IndexMetrics
from rustok_index.search_config import config_name, config_sql
from rustok_index.services.owners import Owners

BATCH = 500
PREVIEW_CHARS = 300
TABLES = {PRODUCT: "index_products", CONTENT: "index_content"}
ID_COLUMNS = {PRODUCT: "product_id", CONTENT: "node_id"}

LOCK = text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(:scope || k::text, 0))) "
    "FROM (SELECT DISTINCT k FROM unnest(CAST(:ids AS uuid[])) AS u(k) ORDER BY k) AS keys"
)


def _documents_with_vectors(table: str, key: str, weighted: Sequence[str], searched: Sequence[str]) -> str:
    """The ``docs`` CTE: the given documents (``given``), each with its search vector.

    ``weighted`` are the texts of weights A, B, C (SQL over ``g``, the given document);
    ``searched`` the stored columns they are made from. A row whose searched columns and
    configuration are unchanged keeps its stored vector unless ``:fresh`` (a rebuild).
    """
    unchanged = " AND ".join(f"e.{column} IS NOT DISTINCT FROM g.{column}" for column in searched)
    vector = " || ".join(
        f"setweight(to_tsvector(g.cfg, {part}), '{weight}')" for weight, part in zip("ABC", weighted, strict=True)
    )
    return f"""docs AS (
    SELECT g.*, CASE
        WHEN NOT CAST(:fresh AS boolean) AND e.search_config = g.cfg AND {unchanged} THEN e.search_vector
        ELSE {vector}
    END AS vector
    FROM given g
    LEFT JOIN {table} e ON e.tenant_id = :tenant AND e.{key} = g.{key} AND e.locale = g.locale
)"""


CONTENT_DOCS = _documents_with_vectors(
    "index_content",
    "node_id",
    (
        "g.title",
        "concat_ws(' ', g.excerpt, array_to_string(g.tags, ' '))",
        "concat_ws(' ', g.body_text, g.category_name)",
    ),
    ("title", "excerpt", "tags", "body_text", "category_name"),
)
PRODUCT_DOCS = _documents_with_vectors(
    "index_products",
    "product_id",
    (
        "g.title",
        "concat_ws(' ', g.subtitle, array_to_string(g.tags, ' '))",
        "concat_ws(' ', g.description, g.category_names)",  # the names stand in the stored categories
    ),
    ("title", "subtitle", "tags", "description", "categories"),
)

CONTENT_UPSERT = text(
    f"""
WITH given AS (
    SELECT d.*, {config_sql("d.config_name")} AS cfg
    FROM jsonb_to_recordset(CAST(:docs AS jsonb)) AS d(
        id uuid, node_id uuid, locale text, locales text[], module text, kind text, title text, slug text, status text,
        excerpt text, body_text text, body_html text, author_id uuid, author_name text, category_id uuid,
        category_name text, category_slug text, tags text[], parent_id uuid, root_id uuid, reply_count integer,
        meta_title text, meta_description text, extra jsonb, published_at timestamptz, config_name text)
),
{CONTENT_DOCS},
written AS (
    INSERT INTO index_content AS t (
        id, tenant_id, node_id, locale, locales, module, kind, title, slug, status, excerpt, body_text,
        body_preview, body_html, author_id, author_name, category_id, category_name, category_slug, tags,
        parent_id, root_id, reply_count, meta_title, meta_description, extra, published_at, listed_at, search_config,
        search_vector, indexed_at)
    SELECT d.id, :tenant, d.node_id, d.locale, d.locales, d.module, d.kind, d.title, d.slug, d.status, d.excerpt,
        d.body_text, left(d.body_text, {PREVIEW_CHARS}), d.body_html, d.author_id, d.author_name, d.category_id,
        d.category_name, d.category_slug, d.tags, d.parent_id, d.root_id, d.reply_count, d.meta_title,
        d.meta_description, d.extra, d.published_at, COALESCE(d.published_at, now()), d.cfg, d.vector,
        clock_timestamp()
    FROM docs d
    ON CONFLICT (tenant_id, node_id, locale) DO UPDATE SET
        locales = excluded.locales, module = excluded.module, kind = excluded.kind, title = excluded.title,
        slug = excluded.slug, status = excluded.status, excerpt = excluded.excerpt, body_text = excluded.body_text,
        body_preview = excluded.body_preview, body_html = excluded.body_html,
        author_id = excluded.author_id, author_name = excluded.author_name,
        category_id = excluded.category_id, category_name = excluded.category_name,
        category_slug = excluded.category_slug, tags = excluded.tags, parent_id = excluded.parent_id,
        root_id = excluded.root_id, reply_count = excluded.reply_count, meta_title = excluded.meta_title,
        meta_description = excluded.meta_description, extra = excluded.extra,
        published_at = excluded.published_at, listed_at = COALESCE(excluded.published_at, t.listed_at),
        search_config = excluded.search_config, search_vector = excluded.search_vector,
        indexed_at = clock_timestamp()
    RETURNING 1
),
removed AS (
    DELETE FROM index_content t
    WHERE t.tenant_id = :tenant AND t.node_id = ANY(CAST(:ids AS uuid[]))
      AND NOT EXISTS (SELECT 1 FROM docs d WHERE d.node_id = t.node_id AND d.locale = t.locale)
    RETURNING 1
)
SELECT (SELECT count(*) FROM written) AS written, (SELECT count(*) FROM removed) AS removed
"""
)

PRODUCT_UPSERT = text(
    f"""
WITH given AS (
    SELECT d.*, {config_sql("d.config_name")} AS cfg
    FROM jsonb_to_recordset(CAST(:docs AS jsonb)) AS d(
        id uuid, product_id uuid, locale text, locales text[], module text, handle text, title text, subtitle text,
        description text, status text, prices jsonb, currencies text[], total_stock integer, has_stock boolean,
        categories jsonb, category_handles text[], category_names text, tags text[], meta_title text,
        meta_description text, thumbnail text, extra jsonb, published_at timestamptz, created_at timestamptz,
        config_name text)
),
{PRODUCT_DOCS},
written AS (
    INSERT INTO index_products AS t (
        id, tenant_id, product_id, locale, locales, module, handle, title, subtitle, description, status, prices,
        currencies, total_stock, has_stock, categories, category_handles, tags, meta_title, meta_description,
        thumbnail, extra, published_at, created_at, listed_at, search_config, search_vector, indexed_at)
    SELECT d.id, :tenant, d.product_id, d.locale, d.locales, d.module, d.handle, d.title, d.subtitle, d.description,
        d.status, d.prices, d.currencies, d.total_stock, d.has_stock, d.categories, d.category_handles, d.tags,
        d.meta_title, d.meta_description, d.thumbnail, d.extra, d.published_at, d.created_at,
        COALESCE(d.published_at, d.created_at, now()), d.cfg, d.vector,
        clock_timestamp()
    FROM docs d
    ON CONFLICT (tenant_id, product_id, locale) DO UPDATE SET
        locales = excluded.locales, module = excluded.module, handle = excluded.handle, title = excluded.title,
        subtitle = excluded.subtitle, description = excluded.description, status = excluded.status,
        prices = excluded.prices, currencies = excluded.currencies, total_stock = excluded.total_stock,
        has_stock = excluded.has_stock, categories = excluded.categories,
        category_handles = excluded.category_handles, tags = excluded.tags, meta_title = excluded.meta_title,
        meta_description = excluded.meta_description, thumbnail = excluded.thumbnail, extra = excluded.extra,
        published_at = excluded.published_at, created_at = excluded.created_at,
        listed_at = COALESCE(excluded.published_at, excluded.created_at, t.listed_at),
        search_config = excluded.search_config, search_vector = excluded.search_vector,
        indexed_at = clock_timestamp()
    RETURNING t.id, t.product_id, t.locale
),
removed AS (
    DELETE FROM index_products t
    WHERE t.tenant_id = :tenant AND t.product_id = ANY(CAST(:ids AS uuid[]))
      AND NOT EXISTS (SELECT 1 FROM docs d WHERE d.product_id = t.product_id AND d.locale = t.locale)
    RETURNING 1
),
prices AS (
    SELECT w.id AS index_product_id, w.product_id, w.locale, p.key AS currency,
        (p.value ->> 'min')::bigint AS min_price, (p.value ->> 'max')::bigint AS max_price
    FROM written w
    JOIN docs d ON d.product_id = w.product_id AND d.locale = w.locale
    CROSS JOIN LATERAL jsonb_each(d.prices) AS p
),
prices_written AS (
    INSERT INTO index_product_prices AS t (index_product_id, currency, tenant_id, product_id, locale, min_price,
        max_price)
    SELECT p.index_product_id, p.currency, :tenant, p.product_id, p.locale, p.min_price, p.max_price FROM prices p
    ON CONFLICT (index_product_id, currency) DO UPDATE SET
        min_price = excluded.min_price, max_price = excluded.max_price
    RETURNING 1
),
prices_removed AS (
    DELETE FROM index_product_prices t USING written w
    WHERE t.index_product_id = w.id
      AND NOT EXISTS (SELECT 1 FROM prices p WHERE p.index_product_id = t.index_product_id
                      AND p.currency = t.currency)
    RETURNING 1
)
SELECT (SELECT count(*) FROM written) AS written, (SELECT count(*) FROM removed) AS removed,
       (SELECT count(*) FROM prices_written) + (SELECT count(*) FROM prices_removed) AS price_rows
"""
)


@dataclass(frozen=True)
class WriteResult:
    """Rows written (inserted or updated) and rows removed."""

    written: int = 0
    removed: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.written + other.written, self.removed + other.removed)


OnChange = Callable[[AsyncSession, uuid.UUID], None]


class IndexWriter:
    def __init__(
        self,
        ctx: AppContext,
        owners: Owners,
        metrics: IndexMetrics | None = None,
        *,
        on_change: OnChange | None = None,
    ) -> None:
        self.ctx = ctx
        self.owners = owners
        self.metrics = metrics
        self.on_change = on_change

    def _changed(self, session: AsyncSession, tenant_id: uuid.UUID, rows: int) -> None:
        if rows and self.on_change is not None:
            self.on_change(session, tenant_id)

    async def reindex(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        entity_type: str,
        entity_ids: Collection[uuid.UUID],
        *,
        enabled_modules: Collection[str] | None = None,
        fresh: bool = False,
    ) -> WriteResult:
        """Make the rows of ``entity_ids`` what their owner returns now.

        ``session`` is scoped to ``tenant_id`` and its transaction holds the locks until
        it ends. With ``enabled_modules``, documents of other modules are left out (the
        tenant has those modules off). Without an owning module, the entities' rows go.
        ``fresh`` recomputes every search vector (:meth:`write`).
        """
        ids = sorted(set(entity_ids))
        total = WriteResult()
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            await lock_entities(session, tenant_id, entity_type, chunk)
            owner, documents = await self.owners.documents(session, tenant_id, entity_type, chunk)
            total += await self.write(
                session,
                tenant_id,
                entity_type,
                chunk,
                documents,
                owner=owner or "",
                enabled_modules=enabled_modules,
                fresh=fresh,
            )
        return total

    async def write(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        entity_type: str,
        entity_ids: Sequence[uuid.UUID],
        documents: Sequence[IndexDocument],
        *,
        owner: str,
        enabled_modules: Collection[str] | None = None,
        fresh: bool = False,
    ) -> WriteResult:
        """Make the rows of ``entity_ids`` exactly ``documents`` (one statement per batch).

        ``owner`` is the module the documents came from (the ``module`` of documents
        that name none). Callers hold the entities' locks (:func:`lock_entities`), so the
        stored row a search vector is reused from cannot change meanwhile; ``fresh``
        computes every vector anew (after a change of the configurations or the formula).
        """
        if entity_type not in TABLES:
            raise ValueError(f"unknown entity type {entity_type!r}")
        asked = set(entity_ids)
        records: list[dict[str, Any]] = []
        for document in documents:
            if document.entity_id not in asked:
                raise ValueError("a document for an entity outside entity_ids")
            module = document.module or owner
            if enabled_modules is not None and module not in enabled_modules:
                continue
            if entity_type == PRODUCT and isinstance(document, ProductDocument):
                records.append(_product_record(document, module))
            elif entity_type == CONTENT and isinstance(document, ContentDocument):
                records.append(_content_record(document, module))
            else:
                raise ValueError(f"a {type(document).__name__} is not a document of entity type {entity_type!r}")
        locales: dict[str, list[str]] = {}
        for record in records:
            locales.setdefault(record[ID_COLUMNS[entity_type]], []).append(record["locale"])
        for record in records:
            record["locales"] = sorted(locales[record[ID_COLUMNS[entity_type]]])
        statement = PRODUCT_UPSERT if entity_type == PRODUCT else CONTENT_UPSERT
        row = (
            await session.execute(
                statement,
                {"tenant": tenant_id, "ids": list(entity_ids), "docs": orjson.dumps(records).decode(), "fresh": fresh},
            )
        ).one()
        result = WriteResult(int(row.written), int(row.removed))
        self._changed(session, tenant_id, result.written + result.removed)
        if self.metrics is not None:
            self.metrics.written.labels(entity_type).inc(result.written)
            self.metrics.removed.labels(entity_type).inc(result.removed)
        return result

    async def remove_module(self, session: AsyncSession, tenant_id: uuid.UUID, module: str) -> WriteResult:
        """Delete every document a module shows for a tenant (it was disabled)."""
        removed = 0
        for entity_type, table in TABLES.items():
            result = await session.execute(
                text(f"DELETE FROM {table} WHERE tenant_id = :tenant AND module = :module"),
                {"tenant": tenant_id, "module": module},
            )
            count = int(result.rowcount or 0)  # type: ignore[attr-defined]
            removed += count
            if self.metrics is not None:
                self.metrics.removed.labels(entity_type).inc(count)
        self._changed(session, tenant_id, removed)
        return WriteResult(0, removed)

    async def clear(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        entity_type: str,
        *,
        indexed_before: datetime | None = None,
    ) -> int:
        """Delete a tenant's rows of ``entity_type`` (only those last written before ``indexed_before``)."""
        condition = "" if indexed_before is None else " AND indexed_at < :before"
        params: dict[str, Any] = {"tenant": tenant_id}
        if indexed_before is not None:
            params["before"] = indexed_before
        result = await session.execute(
            text(f"DELETE FROM {TABLES[entity_type]} WHERE tenant_id = :tenant{condition}"), params
        )
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        self._changed(session, tenant_id, count)
        if self.metrics is not None:
            self.metrics.removed.labels(entity_type).inc(count)
        return count


async def lock_entities(
    session: AsyncSession, tenant_id: uuid.UUID, entity_type: str, entity_ids: Sequence[uuid.UUID]
) -> None:
    """Take the transaction-scoped locks of these entities (in id order, so two writers cannot deadlock)."""
    if entity_ids:
        await session.execute(LOCK, {"scope": f"rustok-index:{tenant_id}:{entity_type}:", "ids": list(entity_ids)})


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _product_record(document: ProductDocument, module: str) -> dict[str, Any]:
    prices = {
        currency.upper(): {"min": int(price.min), "max": int(price.max)}
        for currency, price in sorted(document.prices.items())
    }
    return {
        "id": str(generate_id()),
        "product_id": str(document.product_id),
        "locale": document.locale,
        "module": module,
        "handle": document.handle,
        "title": document.title,
        "subtitle": document.subtitle,
        "description": document.description,
        "status": document.status,
        "prices": prices,
        "currencies": sorted(prices),
        "total_stock": int(document.total_stock),
        "has_stock": bool(document.has_stock),
        "categories": [{"id": str(c.id), "handle": c.handle, "name": c.name} for c in document.categories],
        "category_handles": sorted({c.handle for c in document.categories}),
        "category_names": " ".join(c.name for c in document.categories),
        "tags": list(document.tags),
        "meta_title": document.seo_title,
        "meta_description": document.seo_description,
        "thumbnail": document.thumbnail,
        "extra": dict(document.extra),
        "published_at": _iso(document.published_at),
        "created_at": _iso(document.created_at),
        "config_name": config_name(document.locale),
    }


def _content_record(document: ContentDocument, module: str) -> dict[str, Any]:
    return {
        "id": str(generate_id()),
        "node_id": str(document.node_id),
        "locale": document.locale,
        "module": module,
        "kind": document.kind,
        "title": document.title,
        "slug": document.slug,
        "status": document.status,
        "excerpt": document.excerpt,
        "body_text": document.body_text,
        "body_html": document.body_html,
        "author_id": str(document.author_id) if document.author_id else None,
        "author_name": document.author_name,
        "category_id": str(document.category_id) if document.category_id else None,
        "category_name": document.category_name,
        "category_slug": document.category_slug,
        "tags": list(document.tags),
        "parent_id": str(document.parent_id) if document.parent_id else None,
        "root_id": str(document.root_id) if document.root_id else None,
        "reply_count": int(document.reply_count),
        "meta_title": document.seo_title,
        "meta_description": document.seo_description,
        "extra": dict(document.extra),
        "published_at": _iso(document.published_at),
        "config_name": config_name(document.locale),
    }
