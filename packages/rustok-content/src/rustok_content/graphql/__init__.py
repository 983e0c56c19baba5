"""GraphQL surface of the content module (thin: parse, authorize, call a service, map)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from rustok_content.access import authorize_on, is_author, node_to_write
from rustok_content.graphql.views import (
    BodyView,
    CategoryView,
    MediaView,
    NodeView,
    bind_node_fields,
    body_format,
    can_see,
    category_translations,
    in_locale,
    media_translations,
    metas,
    node_order,
    node_status,
    request,
    tenant_of,
    visible_statuses,
)
from rustok_content.kinds import refuse_claimed
from rustok_content.models import Body, Media, Node
from rustok_content.permissions import NODES_DELETE, NODES_PUBLISH, NODES_READ, NODES_UPDATE
from rustok_content.services import (
    KEEP,
    BodyInput,
    CategoryService,
    CategoryText,
    MediaService,
    MediaText,
    MetaInput,
    MetaService,
    NewNode,
    NodeChanges,
    NodeQuery,
    NodeService,
    TagService,
    TranslationInput,
)
from rustok_core.context import RequestContext
from rustok_core.errors import NotFound
from rustok_core.graphql import GraphQLContribution

query = QueryType()
mutation = MutationType()
node_type = bind_node_fields(ObjectType("Node"))
body_type = ObjectType("Body")
category_type = ObjectType("Category")
media_type = ObjectType("Media")

NOT_FOUND = "no such node"


# -- input mapping (shared with blog, forum and pages) -------------------------------------


def translation_inputs(items: Sequence[Mapping[str, Any]] | None) -> list[TranslationInput]:
    result = []
    for item in items or ():
        body = item.get("body")
        result.append(
            TranslationInput(
                locale=item["locale"],
                title=item.get("title"),
                slug=item.get("slug"),
                excerpt=item.get("excerpt"),
                body=BodyInput(body["format"], body["source"]) if body else None,
            )
        )
    return result


def node_changes(data: Mapping[str, Any]) -> NodeChanges:
    """An ``UpdateNodeInput``-shaped dict as changes; explicit nulls detach parent/category."""
    return NodeChanges(
        translations=translation_inputs(data.get("translations")),
        remove_locales=list(data.get("remove_locales") or ()),
        parent_id=data.get("parent_id", KEEP),
        category_id=data.get("category_id", KEEP),
        tags=data.get("tags"),
        position=data.get("position"),
        metadata=data.get("metadata"),
        pinned=data.get("pinned"),
        locked=data.get("locked"),
    )


async def visible_node(ctx: RequestContext, node_id: uuid.UUID, *, kind: str | None = None) -> Node:
    """The node if the caller may see it; unpublished ones look missing to the public."""
    try:
        node = await NodeService(ctx.app).get(tenant_of(ctx).id, node_id, kind=kind)
    except NotFound:
        raise NotFound(f"no such {kind or 'node'}", resource=kind or "node") from None
    if not await can_see(ctx, node):
        raise NotFound(f"no such {kind or 'node'}", resource=kind or "node")
    return node


def connection_of(page: Mapping[str, Any], wrap: Any) -> dict[str, Any]:
    return {
        "edges": [{"cursor": edge["cursor"], "node": wrap(edge["node"])} for edge in page["edges"]],
        "page_info": page["page_info"],
    }


# -- queries -------------------------------------------------------------------------------


@query.field("node")
async def resolve_node(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, locale: str | None = None) -> NodeView | None:
    ctx = request(info)
    try:
        return NodeView(await visible_node(ctx, id), locale)
    except NotFound:
        return None


@query.field("nodeBySlug")
async def resolve_node_by_slug(
    _: Any, info: GraphQLResolveInfo, kind: str, slug: str, locale: str | None = None
) -> NodeView | None:
    ctx = request(info)
    try:
        node = await NodeService(ctx.app).find_by_slug(tenant_of(ctx), kind, slug, locale=locale)
    except NotFound:
        return None
    return NodeView(node, locale) if await can_see(ctx, node) else None


@query.field("nodes")
async def resolve_nodes(
    _: Any,
    info: GraphQLResolveInfo,
    kind: str | None = None,
    status: str | None = None,
    locale: str | None = None,
    parent_id: uuid.UUID | None = None,
    roots_only: bool | None = None,
    category_id: uuid.UUID | None = None,
    tag: str | None = None,
    author_id: uuid.UUID | None = None,
    order: str = "created",
    first: int = 20,
    after: str | None = None,
) -> dict[str, Any]:
    ctx = request(info)
    page = await NodeService(ctx.app).page(
        tenant_of(ctx).id,
        NodeQuery(
            kind=kind,
            statuses=await visible_statuses(ctx, status),
            parent_id=parent_id if parent_id is not None else (None if roots_only else KEEP),
            category_id=category_id,
            tag=tag,
            author_id=author_id,
            order=order,
            first=first,
            after=after,
        ),
    )
    return connection_of(page, lambda node: NodeView(node, locale))


@query.field("nodeRevisions")
async def resolve_node_revisions(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, locale: str | None = None
) -> list[Any]:
    ctx = request(info)
    return await NodeService(ctx.app).revisions(tenant_of(ctx).id, id, locale=locale)


@query.field("categories")
async def resolve_categories(
    _: Any, info: GraphQLResolveInfo, kind: str = "content", locale: str | None = None
) -> list[CategoryView]:
    ctx = request(info)
    return [CategoryView(c, locale) for c in await CategoryService(ctx.app).tree(tenant_of(ctx).id, kind=kind)]


@query.field("category")
async def resolve_category(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, locale: str | None = None
) -> CategoryView | None:
    ctx = request(info)
    try:
        return CategoryView(await CategoryService(ctx.app).get(tenant_of(ctx).id, id), locale)
    except NotFound:
        return None


@query.field("tags")
async def resolve_tags(_: Any, info: GraphQLResolveInfo, first: int = 50, prefix: str | None = None) -> list[Any]:
    ctx = request(info)
    return await TagService(ctx.app).popular(tenant_of(ctx).id, first=max(1, min(first, 200)), prefix=prefix)


@query.field("media")
async def resolve_media(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, locale: str | None = None) -> MediaView | None:
    ctx = request(info)
    try:
        return MediaView(await MediaService(ctx.app).get(tenant_of(ctx).id, id), locale)
    except NotFound:
        return None


@query.field("mediaLibrary")
async def resolve_media_library(
    _: Any,
    info: GraphQLResolveInfo,
    content_type: str | None = None,
    locale: str | None = None,
    first: int = 20,
    after: str | None = None,
) -> dict[str, Any]:
    ctx = request(info)
    page = await MediaService(ctx.app).page(tenant_of(ctx).id, first=first, after=after, content_type=content_type)
    return connection_of(page, lambda media: MediaView(media, locale))


# -- node mutations ----------------------------------------------------------------------------


@mutation.field("createNode")
async def resolve_create_node(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> NodeView:
    ctx = request(info)
    status = input.get("status") or "draft"
    refuse_claimed(input["kind"])
    if status == "published":
        await ctx.authorize(NODES_PUBLISH)
    node = await NodeService(ctx.app).create(
        tenant_of(ctx),
        NewNode(
            kind=input["kind"],
            translations=translation_inputs(input["translations"]),
            status=status,
            parent_id=input.get("parent_id"),
            category_id=input.get("category_id"),
            tags=input.get("tags") or (),
            position=input.get("position") or 0,
            metadata=input.get("metadata") or {},
            pinned=bool(input.get("pinned")),
            locked=bool(input.get("locked")),
            author_id=ctx.actor_id,
        ),
        actor_id=ctx.actor_id,
    )
    return NodeView(node)


@mutation.field("updateNode")
async def resolve_update_node(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, input: dict[str, Any]
) -> NodeView:
    ctx = request(info)
    service = NodeService(ctx.app)
    await node_to_write(ctx, id, NODES_UPDATE)
    node = await service.update(
        tenant_of(ctx), id, node_changes(input), expected_version=version, actor_id=ctx.actor_id
    )
    return NodeView(node)


@mutation.field("publishNode")
async def resolve_publish_node(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None) -> NodeView:
    return NodeView(await _set_status(request(info), id, "published", version))


@mutation.field("unpublishNode")
async def resolve_unpublish_node(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None, archive: bool = False
) -> NodeView:
    return NodeView(await _set_status(request(info), id, "archived" if archive else "draft", version))


async def _set_status(ctx: RequestContext, node_id: uuid.UUID, status: str, version: int | None) -> Node:
    service = NodeService(ctx.app)
    await node_to_write(ctx, node_id, NODES_PUBLISH)
    return await service.set_status(tenant_of(ctx), node_id, status, expected_version=version, actor_id=ctx.actor_id)


@mutation.field("deleteNode")
async def resolve_delete_node(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None) -> bool:
    ctx = request(info)
    service = NodeService(ctx.app)
    await node_to_write(ctx, id, NODES_DELETE)
    await service.delete(tenant_of(ctx), id, expected_version=version, actor_id=ctx.actor_id)
    return True


@mutation.field("restoreNodeRevision")
async def resolve_restore_revision(_: Any, info: GraphQLResolveInfo, revision_id: uuid.UUID, version: int) -> NodeView:
    ctx = request(info)
    service = NodeService(ctx.app)
    revision = await service.revision(tenant_of(ctx).id, revision_id)
    await node_to_write(ctx, revision.node_id, NODES_UPDATE)
    node = await service.restore_revision(tenant_of(ctx), revision_id, expected_version=version, actor_id=ctx.actor_id)
    return NodeView(node)


# -- categories, tags, meta, media ---------------------------------------------------------


def category_texts(items: Sequence[Mapping[str, Any]] | None) -> list[CategoryText]:
    return [CategoryText(i["locale"], i["name"], i.get("description")) for i in items or ()]


def new_category_fields(input: Mapping[str, Any]) -> dict[str, Any]:
    """``CategoryService.create`` arguments from a category input (this module's or a wrapper's)."""
    return {
        "translations": category_texts(input["translations"]),
        "slug": input.get("slug"),
        "parent_id": input.get("parent_id"),
        "position": input.get("position") or 0,
    }


def category_changes(input: Mapping[str, Any]) -> dict[str, Any]:
    """``CategoryService.update`` arguments: absent fields stay as they are."""
    return {
        "translations": category_texts(input.get("translations")),
        "slug": input.get("slug"),
        "parent_id": input.get("parent_id", KEEP),
        "position": input.get("position"),
    }


@mutation.field("createCategory")
async def resolve_create_category(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> CategoryView:
    ctx = request(info)
    created = await CategoryService(ctx.app).create(
        tenant_of(ctx), kind=input.get("kind") or "content", **new_category_fields(input), actor_id=ctx.actor_id
    )
    return CategoryView(created)


@mutation.field("updateCategory")
async def resolve_update_category(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, input: dict[str, Any]
) -> CategoryView:
    ctx = request(info)
    updated = await CategoryService(ctx.app).update(
        tenant_of(ctx), id, expected_version=version, **category_changes(input), actor_id=ctx.actor_id
    )
    return CategoryView(updated)


@mutation.field("deleteCategory")
async def resolve_delete_category(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    ctx = request(info)
    await CategoryService(ctx.app).delete(tenant_of(ctx), id, actor_id=ctx.actor_id)
    return True


@mutation.field("renameTag")
async def resolve_rename_tag(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, name: str) -> Any:
    ctx = request(info)
    return await TagService(ctx.app).rename(tenant_of(ctx).id, id, name, actor_id=ctx.actor_id)


@mutation.field("deleteTag")
async def resolve_delete_tag(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    ctx = request(info)
    await TagService(ctx.app).delete(tenant_of(ctx).id, id, actor_id=ctx.actor_id)
    return True


@mutation.field("upsertMeta")
async def resolve_upsert_meta(
    _: Any,
    info: GraphQLResolveInfo,
    target_type: str,
    target_id: uuid.UUID,
    locale: str,
    input: dict[str, Any],
    version: int | None = None,
) -> Any:
    ctx = request(info)
    if target_type == "node":
        node = await NodeService(ctx.app).get(tenant_of(ctx).id, target_id)
        await authorize_on(ctx, NODES_UPDATE, node)
    return await MetaService(ctx.app).upsert(
        tenant_of(ctx),
        target_type,
        target_id,
        locale,
        MetaInput(**input),
        expected_version=version,
        actor_id=ctx.actor_id,
    )


def media_texts(items: Sequence[Mapping[str, Any]] | None) -> list[MediaText]:
    return [MediaText(i["locale"], i.get("alt_text"), i.get("caption")) for i in items or ()]


@mutation.field("updateMedia")
async def resolve_update_media(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, translations: list[dict[str, Any]]
) -> MediaView:
    ctx = request(info)
    media = await MediaService(ctx.app).update(
        tenant_of(ctx), id, expected_version=version, texts=media_texts(translations), actor_id=ctx.actor_id
    )
    return MediaView(media)


@mutation.field("deleteMedia")
async def resolve_delete_media(_: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> bool:
    ctx = request(info)
    await MediaService(ctx.app).delete(tenant_of(ctx), id, actor_id=ctx.actor_id)
    return True


# -- object fields ---------------------------------------------------------------------------


def _body_of(value: BodyView | Body) -> Body:
    return value.body if isinstance(value, BodyView) else value


body_type.set_field("format", lambda value, _: _body_of(value).format)
body_type.set_field("html", lambda value, _: _body_of(value).html)


@body_type.field("source")
async def resolve_body_source(value: BodyView | Body, info: GraphQLResolveInfo) -> str | None:
    """The source for those who may read any content, and for the node's author."""
    ctx = request(info)
    if isinstance(value, BodyView) and is_author(ctx, value.node):
        return value.body.source
    return _body_of(value).source if await ctx.may(NODES_READ) else None


def _category_attribute(name: str) -> Any:
    return lambda view, _: getattr(view.category, name)


for _name in ("id", "kind", "slug", "position", "depth", "version"):
    category_type.set_field(_name, _category_attribute(_name))
category_type.set_field("parentId", _category_attribute("parent_id"))


async def _category_text(view: CategoryView, info: GraphQLResolveInfo) -> Any:
    ctx = request(info)
    return in_locale(ctx, await category_translations(ctx, view.category.id), view.locale)


@category_type.field("locale")
async def resolve_category_locale(view: CategoryView, info: GraphQLResolveInfo) -> str | None:
    found = await _category_text(view, info)
    return found.locale if found else None


@category_type.field("name")
async def resolve_category_name(view: CategoryView, info: GraphQLResolveInfo) -> str:
    found = await _category_text(view, info)
    return found.name if found else view.category.slug


@category_type.field("description")
async def resolve_category_description(view: CategoryView, info: GraphQLResolveInfo) -> str | None:
    found = await _category_text(view, info)
    return found.description if found else None


@category_type.field("translations")
async def resolve_category_translations(view: CategoryView, info: GraphQLResolveInfo) -> list[Any]:
    return await category_translations(request(info), view.category.id)


def _media_attribute(name: str) -> Any:
    return lambda view, _: getattr(view.media, name)


for _name, _attr in (
    ("id", "id"),
    ("filename", "filename"),
    ("contentType", "content_type"),
    ("sizeBytes", "size_bytes"),
    ("width", "width"),
    ("height", "height"),
    ("checksumSha256", "checksum_sha256"),
    ("uploaderId", "uploader_id"),
    ("version", "version"),
    ("createdAt", "created_at"),
):
    media_type.set_field(_name, _media_attribute(_attr))
media_type.set_field("url", lambda view, _: media_url(view.media))


def media_url(media: Media) -> str:
    return f"/api/v1/content/media/{media.id}/file"


async def _media_text(view: MediaView, info: GraphQLResolveInfo) -> Any:
    ctx = request(info)
    return in_locale(ctx, await media_translations(ctx, view.media.id), view.locale)


@media_type.field("locale")
async def resolve_media_locale(view: MediaView, info: GraphQLResolveInfo) -> str | None:
    found = await _media_text(view, info)
    return found.locale if found else None


@media_type.field("altText")
async def resolve_media_alt(view: MediaView, info: GraphQLResolveInfo) -> str | None:
    found = await _media_text(view, info)
    return found.alt_text if found else None


@media_type.field("caption")
async def resolve_media_caption(view: MediaView, info: GraphQLResolveInfo) -> str | None:
    found = await _media_text(view, info)
    return found.caption if found else None


@media_type.field("translations")
async def resolve_media_translations(view: MediaView, info: GraphQLResolveInfo) -> list[Any]:
    return await media_translations(request(info), view.media.id)


def contribution() -> GraphQLContribution:
    return GraphQLContribution.from_package(
        "rustok_content",
        query,
        mutation,
        node_type,
        body_type,
        category_type,
        media_type,
        node_status,
        body_format,
        node_order,
    )


__all__ = [
    "authorize_on",
    "connection_of",
    "contribution",
    "metas",
    "node_changes",
    "translation_inputs",
    "visible_node",
]
