"""What the pages resolvers read through: views and per-request dataloaders.

A page travels as content's :class:`NodeView` (the node plus the locale asked for), so
content's node field resolvers apply to ``Page`` unchanged. Every relation is loaded
through a dataloader, so a list of any size costs a fixed number of queries.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from rustok_content.graphql.views import NodeView, tenant_of
from rustok_content.models import Node
from rustok_content.services import NodeService
from rustok_core.context import RequestContext
from rustok_core.loaders import load_one, loader
from rustok_pages.models import Menu, MenuItem, PageBlock
from rustok_pages.permissions import PAGES_READ
from rustok_pages.services import MenuService, MenuTreeItem, PageBlocks, PageService


@dataclass(frozen=True)
class BlockView:
    block: PageBlock
    editor: bool


@dataclass(frozen=True)
class MenuView:
    menu: Menu
    locale: str | None = None


@dataclass(frozen=True)
class MenuItemView:
    entry: MenuTreeItem
    position: int
    locale: str | None
    targets: Mapping[uuid.UUID, Node] = field(default_factory=dict)
    """The nodes the menu links to, by id (loaded once for the whole menu)."""

    @property
    def item(self) -> MenuItem:
        return self.entry.item

    @property
    def target(self) -> Node | None:
        target_id = self.item.page_id or self.item.node_id
        return self.targets.get(target_id) if target_id is not None else None


async def is_editor(ctx: RequestContext) -> bool:
    """Whether the caller may see drafts and block sources (``pages:read``)."""
    return await ctx.may(PAGES_READ)


async def visible_statuses(ctx: RequestContext) -> list[str] | None:
    return None if await is_editor(ctx) else ["published"]


async def can_see(ctx: RequestContext, node: Node) -> bool:
    return node.status == "published" or await is_editor(ctx)


# -- loaders -----------------------------------------------------------------------------


async def node(ctx: RequestContext, node_id: uuid.UUID) -> Node | None:
    return await load_one(ctx, "pages.nodes", _nodes_batch(ctx), node_id)


async def nodes(ctx: RequestContext, node_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Node]:
    found = await loader(ctx, "pages.nodes", _nodes_batch(ctx)).load_many(list(node_ids))
    return {n.id: n for n in found if n is not None}


def _nodes_batch(ctx: RequestContext) -> Callable[[Sequence[uuid.UUID]], Awaitable[list[Node | None]]]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[Node | None]:
        found = await NodeService(ctx.app).nodes_by_ids(tenant_id, ids)
        return [found.get(i) for i in ids]

    return batch


async def blocks(ctx: RequestContext, page_id: uuid.UUID, locale: str) -> list[PageBlock]:
    tenant_id = tenant_of(ctx).id

    async def batch(keys: Sequence[tuple[uuid.UUID, str]]) -> list[list[PageBlock]]:
        found = await PageBlocks(ctx.app).of(tenant_id, keys)
        return [found[key] for key in keys]

    return await load_one(ctx, "pages.blocks", batch, (page_id, locale))


async def children(ctx: RequestContext, parent: Node) -> list[Node]:
    tenant_id = tenant_of(ctx).id

    async def batch(parents: Sequence[Node]) -> list[list[Node]]:
        found = await PageService(ctx.app).children_of(tenant_id, parents, await visible_statuses(ctx))
        return [found[p.id] for p in parents]

    return await load_one(ctx, "pages.children", batch, parent)


async def menu_items(ctx: RequestContext, menu_id: uuid.UUID) -> list[MenuItem]:
    tenant_id = tenant_of(ctx).id

    async def batch(ids: Sequence[uuid.UUID]) -> list[list[MenuItem]]:
        found = await MenuService(ctx.app).items_of(tenant_id, ids)
        return [found[i] for i in ids]

    return await load_one(ctx, "pages.menu_items", batch, menu_id)


__all__ = [
    "BlockView",
    "MenuItemView",
    "MenuView",
    "NodeView",
    "blocks",
    "can_see",
    "children",
    "is_editor",
    "menu_items",
    "node",
    "nodes",
    "visible_statuses",
]
