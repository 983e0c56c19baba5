"""GraphQL surface of the pages module (thin: parse, authorize, call a service, map)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from rustok_content.graphql import authorize_on, connection_of
from rustok_content.graphql.views import NodeView, bind_node_fields, request, tenant_of, translation
from rustok_content.services import KEEP, BodyInput, pick_locale
from rustok_core.errors import FieldError, NotFound, RustokError
from rustok_core.graphql import GraphQLContribution
from rustok_pages.graphql import views
from rustok_pages.graphql.views import BlockView, MenuItemView, MenuView
from rustok_pages.permissions import PAGES_DELETE, PAGES_PUBLISH, PAGES_UPDATE
from rustok_pages.services import (
    PAGE,
    BlockDraft,
    MenuLink,
    MenuService,
    NewPage,
    PageChanges,
    PageService,
    PageText,
    link_targets,
    menu_tree,
    served_data,
    visible_metadata,
)
from rustok_pages.services.menus import MAX_DEPTH
from rustok_pages.services.paths import segment_of

query = QueryType()
mutation = MutationType()
page_type = bind_node_fields(
    ObjectType("Page"),
    only=[
        "id",
        "kind",
        "status",
        "version",
        "locale",
        "title",
        "slug",
        "excerpt",
        "body",
        "translations",
        "availableLocales",
        "parentId",
        "rootId",
        "depth",
        "position",
        "authorId",
        "author",
        "meta",
        "publishedAt",
        "createdAt",
        "updatedAt",
        "revisions",
    ],
)
block_type = ObjectType("Block")
menu_type = ObjectType("Menu")
menu_item_type = ObjectType("MenuItem")
block_kind = EnumType(
    "BlockType",
    {
        "HERO": "hero",
        "TEXT": "text",
        "IMAGE": "image",
        "GALLERY": "gallery",
        "CTA": "cta",
        "PRODUCT_LIST": "product_list",
    },
)
menu_item_kind = EnumType("MenuItemKind", {"PAGE": "page", "NODE": "node", "URL": "url"})


# -- input mapping ------------------------------------------------------------------------------


@contextmanager
def under(prefix: str) -> Iterator[None]:
    """Report field errors of a service call at their place in the GraphQL arguments."""
    try:
        yield
    except RustokError as exc:
        if not exc.field_errors:
            raise
        moved = [FieldError((prefix, *error.path), error.message) for error in exc.field_errors]
        raise RustokError(exc.message, exc.code, exc.details, moved) from None


def page_texts(items: Sequence[Mapping[str, Any]] | None) -> list[PageText]:
    texts = []
    for item in items or ():
        body = item.get("body")
        given_blocks = item.get("blocks")
        texts.append(
            PageText(
                locale=item["locale"],
                title=item.get("title"),
                segment=item.get("segment"),
                excerpt=item.get("excerpt"),
                body=BodyInput(body["format"], body["source"]) if body else None,
                blocks=[BlockDraft(b["type"], b["data"]) for b in given_blocks] if given_blocks is not None else None,
            )
        )
    return texts


def menu_links(items: Sequence[Mapping[str, Any]] | None, depth: int = 1) -> list[MenuLink]:
    # Below the deepest allowed level only the presence of children matters (it is refused).
    return [
        MenuLink(
            labels=[(label["locale"], label["label"]) for label in item.get("labels") or ()],
            page_id=item.get("page_id"),
            node_id=item.get("node_id"),
            url=item.get("url"),
            open_in_new_tab=bool(item.get("open_in_new_tab")),
            children=menu_links(item.get("children"), depth + 1) if depth <= MAX_DEPTH else (),
        )
        for item in items or ()
    ]


# -- queries -------------------------------------------------------------------------------


@query.field("page")
async def resolve_page(_: Any, info: GraphQLResolveInfo, slug: str, locale: str | None = None) -> NodeView | None:
    ctx = request(info)
    try:
        found = await PageService(ctx.app).by_path(tenant_of(ctx), slug, locale=locale)
    except NotFound:
        return None
    return NodeView(found, locale) if await views.can_see(ctx, found) else None


@query.field("pageById")
async def resolve_page_by_id(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, locale: str | None = None) -> Any:
    ctx = request(info)
    try:
        found = await PageService(ctx.app).get(tenant_of(ctx).id, id)
    except NotFound:
        return None
    return NodeView(found, locale) if await views.can_see(ctx, found) else None


@query.field("pages")
async def resolve_pages(
    _: Any,
    info: GraphQLResolveInfo,
    parent_id: uuid.UUID | None = None,
    locale: str | None = None,
    first: int = 20,
    after: str | None = None,
) -> dict[str, Any]:
    ctx = request(info)
    page = await PageService(ctx.app).listing(
        tenant_of(ctx).id,
        parent_id=parent_id,
        statuses=await views.visible_statuses(ctx),
        first=first,
        after=after,
    )
    return connection_of(page, lambda node: NodeView(node, locale))


@query.field("menus")
async def resolve_menus(_: Any, info: GraphQLResolveInfo, locale: str | None = None) -> list[MenuView]:
    ctx = request(info)
    return [MenuView(menu, locale) for menu in await MenuService(ctx.app).menus(tenant_of(ctx).id)]


@query.field("menu")
async def resolve_menu(_: Any, info: GraphQLResolveInfo, slug: str, locale: str | None = None) -> MenuView | None:
    ctx = request(info)
    try:
        return MenuView(await MenuService(ctx.app).get(tenant_of(ctx).id, slug), locale)
    except NotFound:
        return None


# -- page mutations --------------------------------------------------------------------------


@mutation.field("createPage")
async def resolve_create_page(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> NodeView:
    ctx = request(info)
    status = input.get("status") or "draft"
    if status == "published":
        await ctx.authorize(PAGES_PUBLISH)
    with under("input"):
        created = await PageService(ctx.app).create(
            tenant_of(ctx),
            NewPage(
                translations=page_texts(input["translations"]),
                parent_id=input.get("parent_id"),
                position=input.get("position") or 0,
                status=status,
                metadata=input.get("metadata") or {},
                author_id=ctx.actor_id,
            ),
            actor_id=ctx.actor_id,
        )
    return NodeView(created)


@mutation.field("updatePage")
async def resolve_update_page(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int, input: dict[str, Any]
) -> NodeView:
    ctx = request(info)
    service = PageService(ctx.app)
    await authorize_on(ctx, PAGES_UPDATE, await service.get(tenant_of(ctx).id, id))
    changes = PageChanges(
        translations=page_texts(input.get("translations")),
        remove_locales=list(input.get("remove_locales") or ()),
        parent_id=input.get("parent_id", KEEP),
        position=input.get("position"),
        metadata=input.get("metadata"),
    )
    with under("input"):
        updated = await service.update(tenant_of(ctx), id, changes, expected_version=version, actor_id=ctx.actor_id)
    return NodeView(updated)


@mutation.field("publishPage")
async def resolve_publish_page(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None) -> Any:
    return NodeView(await _set_status(info, id, "published", version))


@mutation.field("unpublishPage")
async def resolve_unpublish_page(
    _: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int | None = None, archive: bool = False
) -> NodeView:
    return NodeView(await _set_status(info, id, "archived" if archive else "draft", version))


async def _set_status(info: GraphQLResolveInfo, page_id: uuid.UUID, status: str, version: int | None) -> Any:
    ctx = request(info)
    service = PageService(ctx.app)
    await authorize_on(ctx, PAGES_PUBLISH, await service.get(tenant_of(ctx).id, page_id))
    return await service.set_status(tenant_of(ctx), page_id, status, expected_version=version, actor_id=ctx.actor_id)


@mutation.field("deletePage")
async def resolve_delete_page(_: Any, info: GraphQLResolveInfo, id: uuid.UUID, version: int) -> bool:
    ctx = request(info)
    service = PageService(ctx.app)
    await authorize_on(ctx, PAGES_DELETE, await service.get(tenant_of(ctx).id, id))
    await service.delete(tenant_of(ctx), id, expected_version=version, actor_id=ctx.actor_id)
    return True


# -- menu mutations ----------------------------------------------------------------------------


@mutation.field("upsertMenu")
async def resolve_upsert_menu(
    _: Any, info: GraphQLResolveInfo, input: dict[str, Any], version: int | None = None
) -> MenuView:
    ctx = request(info)
    with under("input"):
        menu = await MenuService(ctx.app).upsert(
            tenant_of(ctx),
            slug=input["slug"],
            name=input["name"],
            items=menu_links(input["items"]),
            expected_version=version,
            actor_id=ctx.actor_id,
        )
    return MenuView(menu)


@mutation.field("deleteMenu")
async def resolve_delete_menu(_: Any, info: GraphQLResolveInfo, slug: str, version: int | None = None) -> bool:
    ctx = request(info)
    await MenuService(ctx.app).delete(tenant_of(ctx), slug, expected_version=version, actor_id=ctx.actor_id)
    return True


# -- Page fields -----------------------------------------------------------------------------


@page_type.field("metadata")
def resolve_page_metadata(view: NodeView, _: GraphQLResolveInfo) -> dict[str, Any]:
    return visible_metadata(view.node)


@page_type.field("path")
async def resolve_page_path(view: NodeView, info: GraphQLResolveInfo) -> str:
    found = await translation(request(info), view)
    return found.slug if found else ""


@page_type.field("segment")
async def resolve_page_segment(view: NodeView, info: GraphQLResolveInfo) -> str:
    return segment_of(await resolve_page_path(view, info))


@page_type.field("blocks")
async def resolve_page_blocks(view: NodeView, info: GraphQLResolveInfo, locale: str | None = None) -> list[BlockView]:
    ctx = request(info)
    served = await translation(ctx, NodeView(view.node, locale or view.locale))
    if served is None:
        return []
    editor = await views.is_editor(ctx)
    return [BlockView(block, editor) for block in await views.blocks(ctx, view.node.id, served.locale)]


@page_type.field("parent")
async def resolve_page_parent(view: NodeView, info: GraphQLResolveInfo) -> NodeView | None:
    ctx = request(info)
    if view.node.parent_id is None:
        return None
    parent = await views.node(ctx, view.node.parent_id)
    if parent is None or parent.kind != PAGE or not await views.can_see(ctx, parent):
        return None
    return NodeView(parent, view.locale)


@page_type.field("children")
async def resolve_page_children(view: NodeView, info: GraphQLResolveInfo) -> list[NodeView]:
    return [NodeView(child, view.locale) for child in await views.children(request(info), view.node)]


@page_type.field("breadcrumbs")
async def resolve_page_breadcrumbs(view: NodeView, info: GraphQLResolveInfo) -> list[NodeView]:
    ctx = request(info)
    chain = [view.node]
    current = view.node
    # Ancestors level by level: the loader batches each level across every page being resolved.
    while current.parent_id is not None and len(chain) <= 64:
        parent = await views.node(ctx, current.parent_id)
        if parent is None or parent.kind != PAGE:
            break
        chain.append(parent)
        current = parent
    return [NodeView(node, view.locale) for node in reversed(chain) if await views.can_see(ctx, node)]


# -- Block fields -----------------------------------------------------------------------------


for _name in ("id", "type", "position", "locale"):
    block_type.set_field(_name, lambda view, _, name=_name: getattr(view.block, name))


@block_type.field("data")
def resolve_block_data(view: BlockView, _: GraphQLResolveInfo) -> dict[str, Any]:
    block = view.block
    return served_data(block.type, block.data, block.html, editor=view.editor)


# -- Menu fields -----------------------------------------------------------------------------


for _name, _attr in (
    ("id", "id"),
    ("slug", "slug"),
    ("name", "name"),
    ("version", "version"),
    ("updatedAt", "updated_at"),
):
    menu_type.set_field(_name, lambda view, _, attr=_attr: getattr(view.menu, attr))
menu_type.set_field("locale", lambda view, _: view.locale)


@menu_type.field("items")
async def resolve_menu_items(view: MenuView, info: GraphQLResolveInfo) -> list[MenuItemView]:
    ctx = request(info)
    items = await views.menu_items(ctx, view.menu.id)
    targets = await views.nodes(ctx, sorted(link_targets(items)))
    editor = await views.is_editor(ctx)
    hidden = set()
    for item in items:
        target_id = item.page_id or item.node_id
        if target_id is None:
            continue
        target = targets.get(target_id)
        missing = target is None or (item.page_id is not None and target.kind != PAGE)
        if missing or (target is not None and target.status != "published" and not editor):
            hidden.add(item.id)
    return _item_views(menu_tree(items, hidden=hidden), view.locale, targets)


def _item_views(entries: Sequence[Any], locale: str | None, targets: Mapping[uuid.UUID, Any]) -> list[MenuItemView]:
    return [MenuItemView(entry, position, locale, targets) for position, entry in enumerate(entries)]


def _item_kind(view: MenuItemView) -> str:
    if view.item.page_id is not None:
        return "page"
    return "node" if view.item.node_id is not None else "url"


menu_item_type.set_field("id", lambda view, _: view.item.id)
menu_item_type.set_field("kind", lambda view, _: _item_kind(view))
menu_item_type.set_field("pageId", lambda view, _: view.item.page_id)
menu_item_type.set_field("nodeId", lambda view, _: view.item.node_id)
menu_item_type.set_field("nodeKind", lambda view, _: view.target.kind if view.target else None)
menu_item_type.set_field("openInNewTab", lambda view, _: view.item.open_in_new_tab)
menu_item_type.set_field("position", lambda view, _: view.position)
menu_item_type.set_field(
    "labels", lambda view, _: [{"locale": k, "label": v} for k, v in sorted(view.item.labels.items())]
)
menu_item_type.set_field("children", lambda view, _: _item_views(view.entry.children, view.locale, view.targets))


async def _target_text(view: MenuItemView, info: GraphQLResolveInfo) -> Any:
    if view.target is None:
        return None
    return await translation(request(info), NodeView(view.target, view.locale))


@menu_item_type.field("label")
async def resolve_menu_item_label(view: MenuItemView, info: GraphQLResolveInfo) -> str:
    labels: dict[str, str] = view.item.labels
    wanted = view.locale or tenant_of(request(info)).default_locale
    if wanted in labels:
        return labels[wanted]
    found = await _target_text(view, info)
    if found is not None:
        return str(found.title)
    chosen = pick_locale(sorted(labels), view.locale, tenant_of(request(info)).default_locale)
    return labels[chosen] if chosen is not None else ""


@menu_item_type.field("path")
async def resolve_menu_item_path(view: MenuItemView, info: GraphQLResolveInfo) -> str | None:
    found = await _target_text(view, info)
    return str(found.slug) if found is not None else None


@menu_item_type.field("url")
async def resolve_menu_item_url(view: MenuItemView, info: GraphQLResolveInfo) -> str | None:
    if view.item.url is not None:
        return view.item.url
    if view.item.page_id is None:
        return None
    path = await resolve_menu_item_path(view, info)
    return f"/{path}" if path is not None else None


def contribution() -> GraphQLContribution:
    return GraphQLContribution.from_package(
        "rustok_pages",
        query,
        mutation,
        page_type,
        block_type,
        menu_type,
        menu_item_type,
        block_kind,
        menu_item_kind,
    )


__all__ = ["contribution", "menu_links", "page_texts", "under"]
