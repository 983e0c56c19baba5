"""Menus: ordered trees of links to pages, to other content nodes, or to URLs.

A menu is written whole: :meth:`MenuService.upsert` replaces its tree atomically
after checking every item (depth, count, labels, URLs, that linked pages and nodes
exist in the tenant). Links are stored by id; what a link points at (a page's path
in a locale, a node's title) is looked up when the menu is read, so renaming or
moving a page never touches a menu. When a linked node is deleted its items go (the
items below one move up into its place), see :meth:`MenuService.unlink`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_content.models import Node
from rustok_content.services import NodeService
from rustok_content.services.text import SLUG_RE, Path, invalid
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict, FieldError, NotFound, Validation
from rustok_core.events import DomainEvent, EventEnvelope, EventPublisher
from rustok_core.ids import generate_id
from rustok_pages.events import MenuDeleted, MenuUpdated
from rustok_pages.models import Menu, MenuItem
from rustok_pages.services.blocks import check_link
from rustok_pages.services.inputs import MenuLink

MAX_ITEMS = 200
MAX_DEPTH = 3
MAX_LABEL = 200
MAX_NAME = 200
MAX_MENU_SLUG = 100
ITEMS: Table = MenuItem.__table__  # type: ignore[assignment]


@dataclass
class MenuTreeItem:
    """An item with the items below it, in order."""

    item: MenuItem
    children: list[MenuTreeItem] = field(default_factory=list)


def menu_tree(items: Sequence[MenuItem], hidden: Collection[uuid.UUID] = ()) -> list[MenuTreeItem]:
    """Arrange a menu's items as a tree; a hidden item's children take its place."""
    below: dict[uuid.UUID | None, list[MenuItem]] = {}
    for item in sorted(items, key=lambda i: (i.position, i.id)):
        below.setdefault(item.parent_id, []).append(item)

    def build(parent_id: uuid.UUID | None) -> list[MenuTreeItem]:
        built: list[MenuTreeItem] = []
        for item in below.get(parent_id, ()):
            if item.id in hidden:
                built.extend(build(item.id))
            else:
                built.append(MenuTreeItem(item, build(item.id)))
        return built

    return build(None)


def link_targets(items: Sequence[MenuItem]) -> set[uuid.UUID]:
    return {target for item in items if (target := item.page_id or item.node_id) is not None}


class MenuService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.nodes = NodeService(ctx)

    # -- writes ---------------------------------------------------------------------------

    async def upsert(
        self,
        tenant: TenantContext,
        *,
        slug: str,
        name: str,
        items: Sequence[MenuLink],
        expected_version: int | None,
        actor_id: uuid.UUID | None,
    ) -> Menu:
        """Create the menu ``slug`` or replace its name and whole tree.

        ``expected_version`` ``None``/0 creates (``CONFLICT`` if the slug is taken); the
        version read replaces (``CONFLICT`` if it is stale).
        """
        slug = slug.strip()
        if not slug or len(slug) > MAX_MENU_SLUG or not SLUG_RE.match(slug):
            # The message does not repeat the value: it reads the same for any bad slug.
            raise invalid(("slug",), f"a slug is 1-{MAX_MENU_SLUG} lowercase letters and digits in words joined by '-'")
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME:
            raise invalid(("name",), f"a name is 1-{MAX_NAME} characters")
        rows = self._plan(tenant, items)
        await self._check_targets(tenant.id, rows)
        now = datetime.now(UTC)
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            menu = await session.scalar(select(Menu).where(Menu.slug == slug).with_for_update())
            if menu is None:
                if expected_version not in (None, 0):
                    raise Conflict(
                        f"there is no menu {slug!r} (you have version {expected_version}); reload and retry",
                        expectedVersion=expected_version,
                        currentVersion=0,
                    )
                menu = Menu(id=generate_id(), slug=slug, name=name)
                session.add(menu)
                try:
                    await session.flush()
                except IntegrityError:
                    raise Conflict("another menu with this slug was just created; reload and retry") from None
            else:
                if expected_version in (None, 0):
                    raise Conflict(
                        "a menu with this slug exists: send the version you read to replace it",
                        expectedVersion=expected_version,
                        currentVersion=menu.version,
                    )
                expect_version(menu, expected_version)
                menu.name = name
                menu.updated_at = now  # touching the row bumps (and checks) the version
                await session.execute(delete(ITEMS).where(ITEMS.c.tenant_id == tenant.id, ITEMS.c.menu_id == menu.id))
                await session.flush()
            if rows:
                # Parents come before their children, so the self-reference holds row by row.
                await session.execute(insert(MenuItem), [{**row, "menu_id": menu.id} for row in rows])
            await self._publish(
                session, tenant.id, MenuUpdated(menu_id=menu.id, slug=menu.slug, version=menu.version), actor_id
            )
        return menu

    async def delete(
        self, tenant: TenantContext, slug: str, *, expected_version: int | None = None, actor_id: uuid.UUID | None
    ) -> None:
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            menu = await session.scalar(select(Menu).where(Menu.slug == slug).with_for_update())
            if menu is None:
                raise NotFound("no such menu", resource="menu")
            expect_version(menu, expected_version)
            await session.delete(menu)
            await session.flush()
            await self._publish(session, tenant.id, MenuDeleted(menu_id=menu.id, slug=menu.slug), actor_id)

    async def unlink(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        node_ids: Collection[uuid.UUID],
        *,
        sweep: bool = False,
        cause: EventEnvelope | None = None,
    ) -> list[Menu]:
        """Remove the items linking to ``node_ids`` (deleted nodes), in the caller's transaction.

        With ``sweep`` every linked node is checked and links to any that no longer
        exists go too (a deleted node's descendants are not named by its event). Items
        below a removed item move up into its place. Each changed menu's version goes up
        and ``pages.menu.updated`` is published. Running it again changes nothing.
        """
        gone = set(node_ids)
        if sweep:
            linked = link_targets(list((await session.scalars(select(MenuItem))).all()))
            existing = await self.nodes.nodes_by_ids(tenant_id, sorted(linked))
            gone |= linked - set(existing)
        if not gone:
            return []
        targets = sorted(gone)
        touched = (
            await session.scalars(
                select(MenuItem.menu_id)
                .where(or_(MenuItem.page_id.in_(targets), MenuItem.node_id.in_(targets)))
                .distinct()
            )
        ).all()
        changed: list[Menu] = []
        for menu_id in sorted(set(touched)):
            menu = await session.scalar(select(Menu).where(Menu.id == menu_id).with_for_update())
            if menu is None:
                continue
            items = list((await session.scalars(select(MenuItem).where(MenuItem.menu_id == menu.id))).all())
            removed = {item.id for item in items if (item.page_id or item.node_id) in gone}
            for parent_id, position, item in _placed(menu_tree(items, hidden=removed)):
                if (item.parent_id, item.position) != (parent_id, position):
                    item.parent_id, item.position = parent_id, position
            await session.flush()
            await session.execute(delete(ITEMS).where(ITEMS.c.tenant_id == tenant_id, ITEMS.c.id.in_(sorted(removed))))
            menu.updated_at = datetime.now(UTC)
            await session.flush()
            await self._publish(
                session,
                tenant_id,
                MenuUpdated(menu_id=menu.id, slug=menu.slug, version=menu.version),
                None,
                cause=cause,
            )
            changed.append(menu)
        return changed

    # -- reads ----------------------------------------------------------------------------

    async def menus(self, tenant_id: uuid.UUID) -> list[Menu]:
        async with self.ctx.db.session(tenant_id) as session:
            return list((await session.scalars(select(Menu).order_by(Menu.slug))).all())

    async def get(self, tenant_id: uuid.UUID, slug: str) -> Menu:
        async with self.ctx.db.session(tenant_id) as session:
            menu = await session.scalar(select(Menu).where(Menu.slug == slug))
        if menu is None:
            raise NotFound("no such menu", resource="menu")
        return menu

    async def items_of(self, tenant_id: uuid.UUID, menu_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[MenuItem]]:
        """Every item of each menu (one query)."""
        found: dict[uuid.UUID, list[MenuItem]] = {menu_id: [] for menu_id in menu_ids}
        if not menu_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(MenuItem).where(MenuItem.menu_id.in_(list(menu_ids))).order_by(MenuItem.position, MenuItem.id)
            )
            for item in rows.all():
                found[item.menu_id].append(item)
        return found

    # -- helpers --------------------------------------------------------------------------

    async def _publish(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        event: DomainEvent,
        actor_id: uuid.UUID | None,
        *,
        cause: EventEnvelope | None = None,
    ) -> None:
        await self.ctx.services.get(EventPublisher).publish(
            session,
            event,
            tenant_id=tenant_id,
            actor_id=actor_id,
            correlation_id=(cause.correlation_id or cause.id) if cause else None,
            causation_id=cause.id if cause else None,
        )

    def _plan(self, tenant: TenantContext, links: Sequence[MenuLink]) -> list[dict[str, Any]]:
        """Check the tree and flatten it into rows, parents before children."""
        rows: list[dict[str, Any]] = []
        errors: list[FieldError] = []

        def walk(given: Sequence[MenuLink], parent_id: uuid.UUID | None, path: Path, depth: int) -> None:
            for position, link in enumerate(given):
                where = (*path, position)
                if len(rows) == MAX_ITEMS:
                    raise invalid(("items",), f"a menu has at most {MAX_ITEMS} items")
                problems = _link_problems(tenant, link, where)
                if link.children and depth == MAX_DEPTH:
                    problems.append(FieldError((*where, "children"), f"menus nest at most {MAX_DEPTH} levels deep"))
                errors.extend(problems)
                item_id = generate_id()
                rows.append(
                    {
                        "id": item_id,
                        "parent_id": parent_id,
                        "position": position,
                        "labels": {locale: " ".join(label.split()) for locale, label in link.labels},
                        "page_id": link.page_id,
                        "node_id": link.node_id,
                        "url": link.url,
                        "open_in_new_tab": link.open_in_new_tab,
                        "path": where,
                    }
                )
                if depth < MAX_DEPTH:
                    walk(link.children, item_id, (*where, "children"), depth + 1)

        walk(links, None, ("items",), 1)
        if errors:
            raise Validation(f"invalid menu item: {errors[0].message}", errors=errors)
        return rows

    async def _check_targets(self, tenant_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
        """Linked pages and nodes must exist in the tenant (pages must be pages)."""
        wanted = sorted({row["page_id"] or row["node_id"] for row in rows if row["page_id"] or row["node_id"]})
        found: dict[uuid.UUID, Node] = await self.nodes.nodes_by_ids(tenant_id, wanted) if wanted else {}
        errors: list[FieldError] = []
        for row in rows:
            where = row.pop("path")
            if row["page_id"] is not None:
                page = found.get(row["page_id"])
                if page is None or page.kind != "page":
                    errors.append(FieldError((*where, "pageId"), "no such page"))
            elif row["node_id"] is not None and row["node_id"] not in found:
                errors.append(FieldError((*where, "nodeId"), "no such node"))
        if errors:
            raise Validation(f"invalid menu item: {errors[0].message}", errors=errors)


def _link_problems(tenant: TenantContext, link: MenuLink, where: Path) -> list[FieldError]:
    problems: list[FieldError] = []
    targets = [link.page_id is not None, link.node_id is not None, link.url is not None]
    if sum(targets) != 1:
        problems.append(FieldError(where, "give exactly one of pageId, nodeId or url"))
    if link.url is not None:
        try:
            check_link(link.url)
        except ValueError as exc:
            problems.append(FieldError((*where, "url"), str(exc)))
    seen: set[str] = set()
    for index, (locale, label) in enumerate(link.labels):
        if locale not in tenant.locales:
            message = f"not one of this tenant's locales ({', '.join(tenant.locales)})"
            problems.append(FieldError((*where, "labels", index, "locale"), message))
        elif locale in seen:
            problems.append(FieldError((*where, "labels", index, "locale"), "this locale is given twice"))
        seen.add(locale)
        cleaned = " ".join(label.split())
        if not cleaned or len(cleaned) > MAX_LABEL:
            problems.append(FieldError((*where, "labels", index, "label"), f"a label is 1-{MAX_LABEL} characters"))
    if link.url is not None and not link.labels:
        problems.append(FieldError((*where, "labels"), "a link to a URL needs a label"))
    return problems


def _placed(
    tree: Sequence[MenuTreeItem], parent_id: uuid.UUID | None = None
) -> list[tuple[uuid.UUID | None, int, MenuItem]]:
    """(parent, position, item) for every item of ``tree``, positions renumbered from 0."""
    placed: list[tuple[uuid.UUID | None, int, MenuItem]] = []
    for position, node in enumerate(tree):
        placed.append((parent_id, position, node.item))
        placed.extend(_placed(node.children, node.item.id))
    return placed


__all__ = ["MAX_DEPTH", "MAX_ITEMS", "MenuService", "MenuTreeItem", "link_targets", "menu_tree"]
