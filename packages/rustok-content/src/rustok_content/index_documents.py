"""Content's documents for the index (``rustok_index_documents`` for entity type ``content``).

One :class:`ContentDocument` per translation of every *published* node, of any kind;
a draft, archived or deleted node has none, so it leaves the storefront. A document
carries what a listing, an item page or a search hit shows: the text (the body as
plain text for search and previews, and as sanitized HTML for item pages), the
author's display name, the category's name in the document's locale (else the
tenant's default), tag slugs, SEO meta of the locale, the tree (parent, root, reply
count) and, in ``extra``, the node's flags (pinned, locked, position, depth, last
activity) plus a page's ``path``. The module that shows a kind publicly (``blog`` for
posts) is named, so the storefront hides it when a tenant switches that module off.

Batched: any number of ids costs the same six queries (nodes with translations and
bodies, tags, categories, meta, authors, the tenant's default locale).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from html.parser import HTMLParser

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_content.kinds import owner_of
from rustok_content.models import Body, Category, CategoryTranslation, Meta, Node, NodeTranslation, Tag, Taggable
from rustok_content.services.nodes import NODE_TARGET
from rustok_content.services.text import pick_locale
from rustok_core.context import AppContext
from rustok_core.index import ContentDocument
from rustok_core.interfaces import TenantDirectory, UserDirectory

PUBLISHED = "published"
PAGE_KIND = "page"
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "tr",
        "td",
        "th",
        "table",
        "hr",
        "figure",
        "figcaption",
        "section",
        "article",
    }
)
_SPACES = re.compile(r"\s+")


class _TextOf(HTMLParser):
    """The text of sanitized HTML: tags dropped, entities decoded, blocks separated."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """``html`` as one line of plain text."""
    if not html:
        return ""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return _SPACES.sub(" ", "".join(parser.parts)).strip()


async def entity_ids(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """Ids of the tenant's published nodes (the ones with documents), ascending, after ``after``."""
    statement = select(Node.id).where(Node.status == PUBLISHED)
    if after is not None:
        statement = statement.where(Node.id > after)
    return list((await session.scalars(statement.order_by(Node.id).limit(limit))).all())


async def documents(
    ctx: AppContext, session: AsyncSession, tenant_id: uuid.UUID, node_ids: Sequence[uuid.UUID]
) -> list[ContentDocument]:
    """The documents of ``node_ids`` as they are now (``session`` is scoped to the tenant)."""
    if not node_ids:
        return []
    rows = (
        await session.execute(
            select(Node, NodeTranslation, Body.html)
            .join(NodeTranslation, NodeTranslation.node_id == Node.id)
            .outerjoin(Body, Body.translation_id == NodeTranslation.id)
            .where(Node.id.in_(list(node_ids)), Node.status == PUBLISHED)
            .order_by(Node.id, NodeTranslation.locale)
        )
    ).all()
    if not rows:
        return []
    nodes = {node.id: node for node, _, _ in rows}
    published = sorted(nodes)

    tags: dict[uuid.UUID, list[str]] = {}
    for target_id, slug in (
        await session.execute(
            select(Taggable.target_id, Tag.slug)
            .join(Tag, Tag.id == Taggable.tag_id)
            .where(Taggable.target_type == NODE_TARGET, Taggable.target_id.in_(published))
            .order_by(Tag.slug)
        )
    ).all():
        tags.setdefault(target_id, []).append(slug)

    category_ids = sorted({node.category_id for node in nodes.values() if node.category_id is not None})
    category_slugs: dict[uuid.UUID, str] = {}
    category_names: dict[uuid.UUID, dict[str, str]] = {}
    if category_ids:
        for category_id, slug, locale, name in (
            await session.execute(
                select(Category.id, Category.slug, CategoryTranslation.locale, CategoryTranslation.name)
                .outerjoin(CategoryTranslation, CategoryTranslation.category_id == Category.id)
                .where(Category.id.in_(category_ids))
                .order_by(Category.id, CategoryTranslation.locale)
            )
        ).all():
            category_slugs[category_id] = slug
            if locale is not None:
                category_names.setdefault(category_id, {})[locale] = name

    metas = {
        (meta.target_id, meta.locale): meta
        for meta in (
            await session.scalars(select(Meta).where(Meta.target_type == NODE_TARGET, Meta.target_id.in_(published)))
        ).all()
    }

    author_ids = sorted({node.author_id for node in nodes.values() if node.author_id is not None})
    directory = ctx.services.find(UserDirectory)
    authors = await directory.find_users(tenant_id, author_ids) if directory is not None and author_ids else {}
    default_locale = (await ctx.services.get(TenantDirectory).get(tenant_id)).default_locale if category_ids else ""

    result = []
    for node, translation, html in rows:
        body_html = html or ""
        meta = metas.get((node.id, translation.locale))
        author = authors.get(node.author_id) if node.author_id is not None else None
        names = category_names.get(node.category_id, {}) if node.category_id is not None else {}
        name_locale = pick_locale(sorted(names), translation.locale, default_locale)
        result.append(
            ContentDocument(
                node_id=node.id,
                locale=translation.locale,
                kind=node.kind,
                title=translation.title,
                slug=translation.slug,
                status=node.status,
                excerpt=translation.excerpt,
                body_text=plain_text(body_html),
                body_html=body_html,
                author_id=node.author_id,
                author_name=author.display_name if author is not None else None,
                category_id=node.category_id,
                category_name=names[name_locale] if name_locale is not None else None,
                category_slug=category_slugs.get(node.category_id) if node.category_id is not None else None,
                tags=tuple(tags.get(node.id, ())),
                parent_id=node.parent_id,
                root_id=node.root_id,
                reply_count=node.reply_count,
                seo_title=meta.title if meta is not None else None,
                seo_description=meta.description if meta is not None else None,
                published_at=node.published_at,
                extra=_extra(node, translation),
                module=owner_of(node.kind),
            )
        )
    return result


def _extra(node: Node, translation: NodeTranslation) -> dict[str, object]:
    extra: dict[str, object] = {
        "pinned": node.pinned,
        "locked": node.locked,
        "position": node.position,
        "depth": node.depth,
        "last_activity_at": node.last_activity_at.isoformat() if node.last_activity_at else None,
    }
    if node.kind == PAGE_KIND:
        extra["path"] = "/" + translation.slug  # a page's slug is its full path (see rustok-pages)
    return extra
