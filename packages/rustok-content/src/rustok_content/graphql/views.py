"""What the GraphQL layers of content and of the modules built on it share.

A resolved node travels as a :class:`NodeView` (the row plus the locale the client
asked for); its fields are resolved through per-request dataloaders, so a list of
any size costs one query per relation. Blog, forum and pages bind these resolvers to
their own types (``Post``, ``Topic``, ``Page``) with :func:`bind_node_fields`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ariadne import EnumType, ObjectType
from graphql import GraphQLResolveInfo

from rustok_content.models import Body, Category, CategoryTranslation, Media, Meta, Node, NodeTranslation, Tag
from rustok_content.permissions import NODES_READ
from rustok_content.services import (
    CategoryService,
    MediaService,
    MetaService,
    NodeService,
    TagService,
    pick_locale,
)
from rustok_content.services.nodes import NODE_TARGET
from rustok_core.context import RequestContext, TenantContext
from rustok_core.interfaces import UserDirectory
from rustok_core.loaders import load_one


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


node_status = EnumType("NodeStatus", {"DRAFT": "draft", "PUBLISHED": "published", "ARCHIVED": "archived"})
body_format = EnumType("BodyFormat", {"MARKDOWN": "markdown", "HTML": "html", "JSON": "json"})
node_order = EnumType(
    "NodeOrder", {"CREATED": "created", "PUBLISHED": "published", "POSITION": "position", "ACTIVITY": "activity"}
)


@dataclass(frozen=True)
class NodeView:
    node: Node
    locale: str | None = None
    """The locale the client asked for (``None``: the tenant's default)."""


@dataclass(frozen=True)
class BodyView:
    body: Body
    node: Node
    """The node the body belongs to (whose author may see the source)."""


@dataclass(frozen=True)
class CategoryView:
    category: Category
    locale: str | None = None


@dataclass(frozen=True)
class MediaView:
    media: Media
    locale: str | None = None


# -- the request -------------------------------------------------------------------------


def request(info: GraphQLResolveInfo) -> RequestContext:
    ctx: RequestContext = info.context
    return ctx


def tenant_of(ctx: RequestContext) -> TenantContext:
    return ctx.require_tenant()


async def visible_statuses(ctx: RequestContext, wanted: str | None = None) -> list[str] | None:
    """Statuses the caller may list: any with ``content_nodes:read``, else published only."""
    if await ctx.may(NODES_READ):
        return [wanted] if wanted else None
    return ["published"]


async def can_see(ctx: RequestContext, node: Node) -> bool:
    return node.status == "published" or await ctx.may(NODES_READ)


# -- loaders -----------------------------------------------------------------------------


async def translations(ctx: RequestContext, node_id: uuid.UUID) -> list[NodeTranslation]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[NodeTranslation]]:
        found = await NodeService(ctx.app).translations_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "content.translations", batch, node_id)


async def translation(ctx: RequestContext, view: NodeView) -> NodeTranslation | None:
    """The translation to serve: the requested locale, else the tenant's default, else any."""
    available = await translations(ctx, view.node.id)
    chosen = pick_locale([t.locale for t in available], view.locale, tenant_of(ctx).default_locale)
    return next((t for t in available if t.locale == chosen), None)


async def body(ctx: RequestContext, translation_id: uuid.UUID) -> Body | None:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[Body | None]:
        found = await NodeService(ctx.app).bodies_of(tenant_id, ids)
        return [found.get(i) for i in ids]

    return await load_one(ctx, "content.bodies", batch, translation_id)


async def tags(ctx: RequestContext, node_id: uuid.UUID) -> list[Tag]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[Tag]]:
        found = await TagService(ctx.app).tags_of(tenant_id, NODE_TARGET, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "content.tags", batch, node_id)


async def category(ctx: RequestContext, category_id: uuid.UUID) -> Category | None:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[Category | None]:
        found = await CategoryService(ctx.app).by_ids(tenant_id, ids)
        return [found.get(i) for i in ids]

    return await load_one(ctx, "content.categories", batch, category_id)


async def category_translations(ctx: RequestContext, category_id: uuid.UUID) -> list[CategoryTranslation]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[CategoryTranslation]]:
        found = await CategoryService(ctx.app).translations_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "content.category_translations", batch, category_id)


async def metas(ctx: RequestContext, target_type: str, target_id: uuid.UUID) -> list[Meta]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[Meta]]:
        found = await MetaService(ctx.app).of(tenant_id, target_type, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, f"content.meta.{target_type}", batch, target_id)


async def author(ctx: RequestContext, user_id: uuid.UUID) -> dict[str, Any] | None:
    tenant_id = tenant_of(ctx).id
    directory = ctx.app.services.get(UserDirectory)

    async def batch(ids: Sequence[uuid.UUID]) -> list[dict[str, Any] | None]:
        found = await directory.find_users(tenant_id, ids)
        return [{"id": found[i].id, "display_name": found[i].display_name} if i in found else None for i in ids]

    return await load_one(ctx, "content.authors", batch, user_id)


async def media_translations(ctx: RequestContext, media_id: uuid.UUID) -> list[Any]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[Any]]:
        found = await MediaService(ctx.app).translations_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "content.media_translations", batch, media_id)


def in_locale(ctx: RequestContext, rows: Sequence[Any], wanted: str | None) -> Any:
    """The row (with a ``locale``) to serve for ``wanted`` with the usual fallback."""
    chosen = pick_locale([row.locale for row in rows], wanted, tenant_of(ctx).default_locale)
    return next((row for row in rows if row.locale == chosen), None)


# -- node fields -------------------------------------------------------------------------


async def _title(view: NodeView, info: GraphQLResolveInfo) -> str:
    found = await translation(request(info), view)
    return found.title if found else ""


async def _slug(view: NodeView, info: GraphQLResolveInfo) -> str:
    found = await translation(request(info), view)
    return found.slug if found else ""


async def _excerpt(view: NodeView, info: GraphQLResolveInfo) -> str | None:
    found = await translation(request(info), view)
    return found.excerpt if found else None


async def _locale(view: NodeView, info: GraphQLResolveInfo) -> str | None:
    found = await translation(request(info), view)
    return found.locale if found else None


async def _body(view: NodeView, info: GraphQLResolveInfo) -> BodyView | None:
    found = await translation(request(info), view)
    loaded = await body(request(info), found.id) if found else None
    return BodyView(loaded, view.node) if loaded is not None else None


async def _translations(view: NodeView, info: GraphQLResolveInfo) -> list[NodeTranslation]:
    return await translations(request(info), view.node.id)


async def _available_locales(view: NodeView, info: GraphQLResolveInfo) -> list[str]:
    return [t.locale for t in await translations(request(info), view.node.id)]


async def _author(view: NodeView, info: GraphQLResolveInfo) -> dict[str, Any] | None:
    if view.node.author_id is None:
        return None
    return await author(request(info), view.node.author_id)


async def _category(view: NodeView, info: GraphQLResolveInfo) -> CategoryView | None:
    if view.node.category_id is None:
        return None
    found = await category(request(info), view.node.category_id)
    return CategoryView(found, view.locale) if found else None


async def _tags(view: NodeView, info: GraphQLResolveInfo) -> list[Tag]:
    return await tags(request(info), view.node.id)


async def _meta(view: NodeView, info: GraphQLResolveInfo) -> Meta | None:
    ctx = request(info)
    found: Meta | None = in_locale(ctx, await metas(ctx, NODE_TARGET, view.node.id), view.locale)
    return found


async def _revisions(view: NodeView, info: GraphQLResolveInfo, locale: str | None = None) -> list[Any]:
    ctx = request(info)
    await ctx.authorize(NODES_READ)
    return await NodeService(ctx.app).revisions(tenant_of(ctx).id, view.node.id, locale=locale)


def _attribute(name: str) -> Any:
    def resolve(view: NodeView, _: GraphQLResolveInfo) -> Any:
        return getattr(view.node, name)

    return resolve


NODE_ATTRIBUTES = (
    "id",
    "kind",
    "status",
    "version",
    "parent_id",
    "root_id",
    "depth",
    "position",
    "reply_count",
    "pinned",
    "locked",
    "author_id",
    "published_at",
    "last_activity_at",
    "created_at",
    "updated_at",
)

NODE_FIELDS: Mapping[str, Any] = {
    **{_camel(name): _attribute(name) for name in NODE_ATTRIBUTES},
    "metadata": lambda view, _: view.node.node_metadata,
    "locale": _locale,
    "title": _title,
    "slug": _slug,
    "excerpt": _excerpt,
    "body": _body,
    "translations": _translations,
    "availableLocales": _available_locales,
    "author": _author,
    "category": _category,
    "tags": _tags,
    "meta": _meta,
    "revisions": _revisions,
}


def bind_node_fields(target: ObjectType, *, only: Sequence[str] | None = None) -> ObjectType:
    """Resolve the node fields of ``target`` (a type whose values are :class:`NodeView`)."""
    for name, resolver in NODE_FIELDS.items():
        if only is None or name in only:
            target.set_field(name, resolver)
    return target
