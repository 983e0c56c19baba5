"""Nodes: the only place that writes them, their translations, bodies and revisions.

Every write runs in one transaction with its domain event. Updates carry the version
the client read: a stale version is a ``CONFLICT`` and nothing changes. An update of
a translation keeps the previous text as a revision. Replies are counted on the root
of a tree (``reply_count`` = published nodes below it) in the same transaction as the
change that adds, publishes, hides or deletes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Select, Table, delete, func, literal, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_content.events import NodeCreated, NodeDeleted, NodePublished, NodeUnpublished, NodeUpdated
from rustok_content.models import NODE_STATUSES, Body, Category, Node, NodeRevision, NodeTranslation, Tag, Taggable
from rustok_content.rendering import render_body
from rustok_content.services.inputs import (
    ORDERS,
    BodyInput,
    Keep,
    NewNode,
    NodeChanges,
    NodeQuery,
    TranslationInput,
)
from rustok_content.services.meta import MetaService
from rustok_content.services.tags import TagService
from rustok_content.services.text import (
    MAX_EXCERPT,
    Path,
    check_kind,
    check_locale,
    check_optional_text,
    check_title,
    check_unique_locales,
    invalid,
    pick_locale,
    slug_for,
)
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict, ErrorCode, FieldError, NotFound, RustokError, Validation
from rustok_core.events import DomainEvent, EventPublisher
from rustok_core.ids import generate_id
from rustok_core.pagination import connection, decode_cursor, page_size

NODES: Table = Node.__table__  # type: ignore[assignment]
NODE_TARGET = "node"
MAX_METADATA_BYTES = 32_768
SLUG_CONSTRAINT = "uq_node_translations_tenant_id_kind_locale_slug"


class NodeService:
    """Writes and reads nodes for one platform; every method names its tenant."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.tags = TagService(ctx)

    # -- events ---------------------------------------------------------------------------

    async def _publish(
        self, session: AsyncSession, tenant_id: uuid.UUID, event: DomainEvent, actor_id: uuid.UUID | None
    ) -> None:
        await self.ctx.services.get(EventPublisher).publish(session, event, tenant_id=tenant_id, actor_id=actor_id)

    # -- create ---------------------------------------------------------------------------

    async def create(
        self,
        tenant: TenantContext,
        draft: NewNode,
        *,
        actor_id: uuid.UUID | None,
        session: AsyncSession | None = None,
    ) -> Node:
        """Create a node with its translations (at least one), tags and category."""
        kind = check_kind(draft.kind)
        if draft.status not in NODE_STATUSES:
            raise invalid(("status",), f"status must be one of {', '.join(NODE_STATUSES)}")
        if not draft.translations:
            raise invalid(("translations",), "give at least one translation")
        check_unique_locales([t.locale for t in draft.translations], ("translations",))
        metadata = _check_metadata(draft.metadata)
        prepared = [
            _prepare_translation(tenant, t, ("translations", i), creating=True)
            for i, t in enumerate(draft.translations)
        ]
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            parent = await self._parent_for(tx, draft.parent_id, path=("parentId",))
            if draft.category_id is not None:
                await self._require_category(tx, draft.category_id)
            now = datetime.now(UTC)
            node = Node(
                id=_new_id(),
                kind=kind,
                status=draft.status,
                parent_id=parent.id if parent else None,
                root_id=(parent.root_id or parent.id) if parent else None,
                depth=parent.depth + 1 if parent else 0,
                author_id=draft.author_id,
                category_id=draft.category_id,
                position=draft.position,
                pinned=draft.pinned,
                locked=draft.locked,
                node_metadata=metadata,
                published_at=now if draft.status == "published" else None,
                last_activity_at=now,
            )
            tx.add(node)
            await self._check_slugs_free(tx, kind, node.id, prepared)
            await tx.flush()
            bodies = [self._add_translation(tx, node, values) for values in prepared]
            await self._flush_slugs(tx, prepared)
            tx.add_all([body for body in bodies if body is not None])
            if draft.tags:
                await self.tags.set_tags(tx, tenant.id, NODE_TARGET, node.id, draft.tags, actor_id=actor_id)
            if draft.status == "published" and node.root_id is not None:
                await self._count_replies(tx, tenant.id, node.root_id, +1, activity=now)
            locales = sorted(v["locale"] for v in prepared)
            await self._publish(
                tx,
                tenant.id,
                NodeCreated(
                    node_id=node.id,
                    kind=kind,
                    parent_id=node.parent_id,
                    root_id=node.root_id,
                    status=node.status,
                    locales=locales,
                    author_id=node.author_id,
                ),
                actor_id,
            )
            if draft.status == "published":
                await self._publish(
                    tx,
                    tenant.id,
                    NodePublished(
                        node_id=node.id,
                        kind=kind,
                        parent_id=node.parent_id,
                        root_id=node.root_id,
                        published_at=now,
                        locales=locales,
                    ),
                    actor_id,
                )
        return node

    def _add_translation(self, session: AsyncSession, node: Node, values: Mapping[str, Any]) -> Body | None:
        """Add a new translation; return its body, to be added once the translation is flushed."""
        translation = NodeTranslation(
            id=_new_id(),
            node_id=node.id,
            kind=node.kind,
            locale=values["locale"],
            title=values["title"],
            slug=values["slug"],
            excerpt=values["excerpt"] or None,
        )
        session.add(translation)
        body: BodyInput | None = values["body"]
        if body is None:
            return None
        return Body(translation_id=translation.id, format=body.format, source=body.source, html=values["html"])

    async def _check_slugs_free(
        self, session: AsyncSession, kind: str, node_id: uuid.UUID, prepared: Sequence[Mapping[str, Any]]
    ) -> None:
        """A slug another node of ``kind`` uses in the same locale is a ``CONFLICT`` naming the field."""
        wanted = [(v["locale"], v["slug"]) for v in prepared if v["slug"] is not None]
        if not wanted:
            return
        taken = set(
            (
                await session.execute(
                    select(NodeTranslation.locale, NodeTranslation.slug).where(
                        NodeTranslation.kind == kind,
                        NodeTranslation.node_id != node_id,
                        tuple_(NodeTranslation.locale, NodeTranslation.slug).in_(wanted),
                    )
                )
            ).all()
        )
        clashes = [v for v in prepared if (v["locale"], v["slug"]) in taken]
        if clashes:
            raise _slug_conflict(clashes)

    async def _flush_slugs(self, session: AsyncSession, prepared: Sequence[Mapping[str, Any]]) -> None:
        """Flush translations; a concurrent writer that took a slug first is a ``CONFLICT`` too."""
        try:
            await session.flush()
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
            if constraint != SLUG_CONSTRAINT:
                raise
            raise _slug_conflict([v for v in prepared if v["slug"] is not None]) from None

    # -- update ---------------------------------------------------------------------------

    async def update(
        self,
        tenant: TenantContext,
        node_id: uuid.UUID,
        changes: NodeChanges,
        *,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
        kind: str | None = None,
        session: AsyncSession | None = None,
    ) -> Node:
        """Apply ``changes``; the node's version goes up by one."""
        check_unique_locales([t.locale for t in changes.translations], ("translations",))
        prepared = [
            _prepare_translation(tenant, t, ("translations", i), creating=False)
            for i, t in enumerate(changes.translations)
        ]
        for index, locale in enumerate(changes.remove_locales):
            check_locale(tenant, locale, ("removeLocales", index))
        metadata = _check_metadata(changes.metadata) if changes.metadata is not None else None
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            node = await self._locked(tx, node_id, kind)
            expect_version(node, expected_version)
            changed: list[str] = []
            existing = {
                t.locale: t
                for t in (await tx.scalars(select(NodeTranslation).where(NodeTranslation.node_id == node.id))).all()
            }
            bodies = {
                b.translation_id: b
                for b in (
                    await tx.scalars(select(Body).where(Body.translation_id.in_([t.id for t in existing.values()])))
                ).all()
            }
            for values in prepared:
                current = existing.get(values["locale"])
                if current is not None:
                    values["slug"] = values["slug"] or current.slug
                    continue
                if values["title"] is None:
                    raise invalid((*values["path"], "title"), "a new translation needs a title")
                if values["slug"] is None:
                    values["slug"] = slug_for(None, values["title"], (*values["path"], "slug"))
            await self._check_slugs_free(tx, node.kind, node.id, prepared)
            new_bodies: list[Body | None] = []
            for values in prepared:
                current = existing.get(values["locale"])
                if current is None:
                    new_bodies.append(self._add_translation(tx, node, values))
                    changed.append(f"translation:{values['locale']}")
                elif await self._change_translation(tx, node, current, bodies.get(current.id), values, actor_id):
                    changed.append(f"translation:{values['locale']}")
            await self._flush_slugs(tx, prepared)
            tx.add_all([body for body in new_bodies if body is not None])
            # Nothing is flushed until every change is in place: the node's row is
            # written once, so its version goes up by exactly one.
            with tx.no_autoflush:
                removed = [locale for locale in changes.remove_locales if locale in existing]
                remaining = (set(existing) | {v["locale"] for v in prepared}) - set(removed)
                if removed:
                    if not remaining:
                        raise invalid(("removeLocales",), "a node keeps at least one translation")
                    for locale in removed:
                        await self._keep_revision(tx, node, existing[locale], bodies.get(existing[locale].id), actor_id)
                        await tx.delete(existing[locale])
                        changed.append(f"translation:{locale}")
                if not isinstance(changes.parent_id, Keep) and changes.parent_id != node.parent_id:
                    await self._move(tx, tenant.id, node, changes.parent_id)
                    changed.append("parentId")
                if not isinstance(changes.category_id, Keep) and changes.category_id != node.category_id:
                    if changes.category_id is not None:
                        await self._require_category(tx, changes.category_id)
                    node.category_id = changes.category_id
                    changed.append("categoryId")
                if changes.tags is not None:
                    before = await self._tag_slugs(tx, node.id)
                    after = await self.tags.set_tags(
                        tx, tenant.id, NODE_TARGET, node.id, changes.tags, actor_id=actor_id
                    )
                    if before != after:
                        changed.append("tags")
                for name, value in (
                    ("position", changes.position),
                    ("pinned", changes.pinned),
                    ("locked", changes.locked),
                ):
                    if value is not None and getattr(node, name) != value:
                        setattr(node, name, value)
                        changed.append(name)
                if metadata is not None and metadata != node.node_metadata:
                    node.node_metadata = metadata
                    changed.append("metadata")
            if not changed:
                return node
            # Touching the row makes the ORM bump ``version`` (and check the one it read).
            node.updated_at = datetime.now(UTC)
            await tx.flush()
            await self._publish(
                tx,
                tenant.id,
                NodeUpdated(
                    node_id=node.id,
                    kind=node.kind,
                    parent_id=node.parent_id,
                    root_id=node.root_id,
                    version=node.version,
                    changed=changed,
                    locales=sorted(remaining),
                ),
                actor_id,
            )
        return node

    async def _change_translation(
        self,
        session: AsyncSession,
        node: Node,
        current: NodeTranslation,
        body: Body | None,
        values: dict[str, Any],
        actor_id: uuid.UUID | None,
    ) -> bool:
        new_title = values["title"] if values["title"] is not None else current.title
        new_slug = values["slug"]
        new_excerpt = current.excerpt if values["excerpt"] is None else (values["excerpt"] or None)
        new_body: BodyInput | None = values["body"]
        body_changed = new_body is not None and (
            body is None or body.format != new_body.format or body.source != new_body.source
        )
        if (new_title, new_slug, new_excerpt) == (current.title, current.slug, current.excerpt) and not body_changed:
            return False
        await self._keep_revision(session, node, current, body, actor_id)
        current.title, current.slug, current.excerpt = new_title, new_slug, new_excerpt
        if body_changed and new_body is not None:
            if body is None:
                session.add(
                    Body(translation_id=current.id, format=new_body.format, source=new_body.source, html=values["html"])
                )
            else:
                body.format, body.source, body.html = new_body.format, new_body.source, values["html"]
        return True

    async def _keep_revision(
        self,
        session: AsyncSession,
        node: Node,
        translation: NodeTranslation,
        body: Body | None,
        actor_id: uuid.UUID | None,
    ) -> None:
        session.add(
            NodeRevision(
                id=_new_id(),
                node_id=node.id,
                locale=translation.locale,
                node_version=node.version,
                title=translation.title,
                slug=translation.slug,
                excerpt=translation.excerpt,
                body_format=body.format if body else None,
                body_source=body.source if body else None,
                edited_by=actor_id,
            )
        )

    async def _move(self, session: AsyncSession, tenant_id: uuid.UUID, node: Node, parent_id: uuid.UUID | None) -> None:
        """Re-hang ``node`` (and everything below it) under ``parent_id``."""
        parent = await self._parent_for(session, parent_id, path=("parentId",))
        subtree = await self._subtree(session, node.id)
        if parent is not None and parent.id in subtree:
            raise invalid(("parentId",), "a node cannot move below itself")
        published = await self._published_in(session, subtree)
        if node.root_id is not None:
            # Its old root counted the moved subtree among its replies.
            await self._count_replies(session, tenant_id, node.root_id, -published)
        new_root = (parent.root_id or parent.id) if parent else None
        new_depth = parent.depth + 1 if parent else 0
        delta_depth = new_depth - node.depth
        node.parent_id = parent.id if parent else None
        node.root_id = new_root
        node.depth = new_depth
        descendants = [node_id for node_id in subtree if node_id != node.id]
        if descendants:
            # Below the moved node the root is the new root, or the node itself when it becomes one.
            await session.execute(
                update(NODES)
                .where(NODES.c.tenant_id == tenant_id, NODES.c.id.in_(descendants))
                .values(root_id=new_root or node.id, depth=NODES.c.depth + delta_depth)
            )
        if new_root is not None:
            node.reply_count = 0
            await self._count_replies(
                session, tenant_id, new_root, published, activity=datetime.now(UTC) if published else None
            )
        else:
            node.reply_count = published - (1 if node.status == "published" else 0)

    # -- status ---------------------------------------------------------------------------

    async def set_status(
        self,
        tenant: TenantContext,
        node_id: uuid.UUID,
        status: str,
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
        kind: str | None = None,
        session: AsyncSession | None = None,
    ) -> Node:
        """Publish (``published``), unpublish (``draft``) or archive (``archived``)."""
        if status not in NODE_STATUSES:
            raise invalid(("status",), f"status must be one of {', '.join(NODE_STATUSES)}")
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            node = await self._locked(tx, node_id, kind)
            expect_version(node, expected_version)
            if node.status == status:
                return node
            was_published = node.status == "published"
            now = datetime.now(UTC)
            node.status = status
            node.updated_at = now
            if status == "published":
                node.published_at = now
            await tx.flush()
            if node.root_id is not None:
                await self._count_replies(
                    tx,
                    tenant.id,
                    node.root_id,
                    +1 if status == "published" else -1 if was_published else 0,
                    activity=now,
                )
            if status == "published":
                locales = sorted(
                    (await tx.scalars(select(NodeTranslation.locale).where(NodeTranslation.node_id == node.id))).all()
                )
                event: DomainEvent = NodePublished(
                    node_id=node.id,
                    kind=node.kind,
                    parent_id=node.parent_id,
                    root_id=node.root_id,
                    published_at=now,
                    locales=locales,
                )
            else:
                event = NodeUnpublished(
                    node_id=node.id, kind=node.kind, parent_id=node.parent_id, root_id=node.root_id, status=status
                )
            await self._publish(tx, tenant.id, event, actor_id)
        return node

    # -- delete ---------------------------------------------------------------------------

    async def delete(
        self,
        tenant: TenantContext,
        node_id: uuid.UUID,
        *,
        actor_id: uuid.UUID | None,
        kind: str | None = None,
        expected_version: int | None = None,
        session: AsyncSession | None = None,
    ) -> Node:
        """Delete a node and everything below it; return the node as it was."""
        async with self.ctx.db.transaction(tenant.id, session) as tx:
            node = await self._locked(tx, node_id, kind)
            expect_version(node, expected_version)
            subtree = await self._subtree(tx, node.id)
            if node.root_id is not None:
                published = await self._published_in(tx, subtree)
                await self._count_replies(tx, tenant.id, node.root_id, -published)
            await self.tags.detach_all(tx, tenant.id, NODE_TARGET, subtree, actor_id=actor_id)
            await MetaService(self.ctx).delete_for(tx, tenant.id, NODE_TARGET, subtree)
            await tx.execute(delete(NODES).where(NODES.c.tenant_id == tenant.id, NODES.c.id == node.id))
            await self._publish(
                tx,
                tenant.id,
                NodeDeleted(
                    node_id=node.id,
                    kind=node.kind,
                    parent_id=node.parent_id,
                    root_id=node.root_id,
                    descendants=len(subtree) - 1,
                ),
                actor_id,
            )
        return node

    # -- revisions ------------------------------------------------------------------------

    async def revisions(
        self, tenant_id: uuid.UUID, node_id: uuid.UUID, *, locale: str | None = None, kind: str | None = None
    ) -> list[NodeRevision]:
        """Earlier texts of a node, newest first."""
        async with self.ctx.db.session(tenant_id) as session:
            await self._get(session, node_id, kind)
            query = select(NodeRevision).where(NodeRevision.node_id == node_id)
            if locale is not None:
                query = query.where(NodeRevision.locale == locale)
            return list((await session.scalars(query.order_by(NodeRevision.id.desc()))).all())

    async def revision(self, tenant_id: uuid.UUID, revision_id: uuid.UUID) -> NodeRevision:
        async with self.ctx.db.session(tenant_id) as session:
            revision = await session.get(NodeRevision, revision_id)
        if revision is None:
            raise NotFound("no such revision", resource="revision")
        return revision

    async def restore_revision(
        self,
        tenant: TenantContext,
        revision_id: uuid.UUID,
        *,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
        kind: str | None = None,
    ) -> Node:
        """Make a revision's text current again (the text it replaces becomes a revision)."""
        revision = await self.revision(tenant.id, revision_id)
        body = BodyInput(revision.body_format, revision.body_source or "") if revision.body_format else None
        restored = TranslationInput(
            locale=revision.locale, title=revision.title, slug=revision.slug, excerpt=revision.excerpt or "", body=body
        )
        return await self.update(
            tenant,
            revision.node_id,
            NodeChanges(translations=[restored]),
            expected_version=expected_version,
            actor_id=actor_id,
            kind=kind,
        )

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, node_id: uuid.UUID, *, kind: str | None = None) -> Node:
        async with self.ctx.db.session(tenant_id) as session:
            return await self._get(session, node_id, kind)

    async def find_by_slug(self, tenant: TenantContext, kind: str, slug: str, *, locale: str | None = None) -> Node:
        """The node of ``kind`` whose slug is ``slug`` in ``locale``, else in any locale.

        Preference: the requested locale, then the tenant's default, then any.
        """
        async with self.ctx.db.session(tenant.id) as session:
            rows = (
                await session.execute(
                    select(NodeTranslation.locale, Node)
                    .join(Node, Node.id == NodeTranslation.node_id)
                    .where(NodeTranslation.kind == kind, NodeTranslation.slug == slug)
                )
            ).all()
        if not rows:
            raise NotFound(f"no {kind} with this slug", resource=kind)
        by_locale = {row[0]: row[1] for row in rows}
        chosen = pick_locale(sorted(by_locale), locale, tenant.default_locale)
        assert chosen is not None
        return by_locale[chosen]

    async def nodes_by_ids(self, tenant_id: uuid.UUID, node_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Node]:
        if not node_ids:
            return {}
        async with self.ctx.db.session(tenant_id) as session:
            return {n.id: n for n in (await session.scalars(select(Node).where(Node.id.in_(node_ids)))).all()}

    async def translations_of(
        self, tenant_id: uuid.UUID, node_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[NodeTranslation]]:
        """Every translation of each node (one query), by locale."""
        found: dict[uuid.UUID, list[NodeTranslation]] = {node_id: [] for node_id in node_ids}
        if not node_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(
                select(NodeTranslation).where(NodeTranslation.node_id.in_(node_ids)).order_by(NodeTranslation.locale)
            )
            for translation in rows.all():
                found[translation.node_id].append(translation)
        return found

    async def bodies_of(self, tenant_id: uuid.UUID, translation_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Body]:
        if not translation_ids:
            return {}
        async with self.ctx.db.session(tenant_id) as session:
            rows = await session.scalars(select(Body).where(Body.translation_id.in_(translation_ids)))
            return {body.translation_id: body for body in rows.all()}

    async def page(self, tenant_id: uuid.UUID, query: NodeQuery) -> dict[str, Any]:
        """A Relay connection (``edges``, ``page_info``) of nodes matching ``query``."""
        size = page_size(query.first)
        if query.order not in ORDERS:
            raise invalid(("order",), f"order must be one of {', '.join(ORDERS)}")
        statement = self._filtered(query)
        key_columns = _order_columns(query.order)
        after = _decode_key(query.after, query.order)
        if after is not None:
            statement = statement.where(_after(key_columns, after, query.order))
        ordering = [c.asc() if query.order == "position" else c.desc() for c in key_columns]
        statement = statement.order_by(*ordering).limit(size + 1)
        async with self.ctx.db.session(tenant_id) as session:
            nodes = list((await session.scalars(statement)).all())
        return connection(nodes, size, lambda n: _encode_key(n, query.order))

    def _filtered(self, query: NodeQuery) -> Select[Any]:
        statement = select(Node)
        if query.kind is not None:
            statement = statement.where(Node.kind == query.kind)
        if query.statuses is not None:
            statement = statement.where(Node.status.in_(list(query.statuses)))
        if not isinstance(query.parent_id, Keep):
            statement = statement.where(
                Node.parent_id.is_(None) if query.parent_id is None else Node.parent_id == query.parent_id
            )
        if query.root_id is not None:
            statement = statement.where(Node.root_id == query.root_id)
        if query.category_id is not None:
            statement = statement.where(Node.category_id == query.category_id)
        if query.author_id is not None:
            statement = statement.where(Node.author_id == query.author_id)
        if query.tag is not None:
            tagged = (
                select(Taggable.target_id)
                .join(Tag, Tag.id == Taggable.tag_id)
                .where(Taggable.target_type == NODE_TARGET, Tag.slug == query.tag)
            )
            statement = statement.where(Node.id.in_(tagged))
        return statement

    # -- helpers --------------------------------------------------------------------------

    async def _get(self, session: AsyncSession, node_id: uuid.UUID, kind: str | None) -> Node:
        node = await session.get(Node, node_id)
        if node is None or (kind is not None and node.kind != kind):
            raise NotFound(f"no such {kind or 'node'}", resource=kind or "node")
        return node

    async def locked(self, session: AsyncSession, node_id: uuid.UUID, *, kind: str | None = None) -> Node:
        """The node, row-locked in the caller's transaction (its tree's root locked first)."""
        return await self._locked(session, node_id, kind)

    async def _locked(self, session: AsyncSession, node_id: uuid.UUID, kind: str | None) -> Node:
        """The node, row-locked for the rest of the transaction.

        The root of its tree is locked first: every writer of a tree takes its locks in
        the same order (root, then node), so concurrent replies, edits and deletions
        queue instead of deadlocking.
        """
        found = (await session.execute(select(Node.root_id, Node.kind).where(Node.id == node_id))).first()
        if found is None or (kind is not None and found.kind != kind):
            raise NotFound(f"no such {kind or 'node'}", resource=kind or "node")
        if found.root_id is not None:
            await self._lock_root(session, found.root_id)
        node = await session.scalar(
            select(Node).where(Node.id == node_id).with_for_update().execution_options(populate_existing=True)
        )
        if node is None:
            raise NotFound(f"no such {kind or 'node'}", resource=kind or "node")
        if node.root_id != found.root_id:
            raise Conflict("the node was moved meanwhile; retry", reason="MOVED")
        return node

    async def _lock_root(self, session: AsyncSession, root_id: uuid.UUID) -> Node | None:
        """Lock a tree's root against other writers of the tree (its reply count changes)."""
        return await session.scalar(
            select(Node)
            .where(Node.id == root_id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE
            .execution_options(populate_existing=True)
        )

    async def _parent_for(self, session: AsyncSession, parent_id: uuid.UUID | None, *, path: Path) -> Node | None:
        """The parent for a node being added or moved, with its tree locked (root first)."""
        if parent_id is None:
            return None
        found = (await session.execute(select(Node.root_id).where(Node.id == parent_id))).first()
        if found is None:
            raise invalid(path, "the parent node does not exist")
        root_id = found.root_id or parent_id
        root = await self._lock_root(session, root_id)
        if root_id == parent_id:
            parent = root
        else:
            # Share-locked: the parent cannot be deleted or moved while a child is added.
            parent = await session.scalar(
                select(Node)
                .where(Node.id == parent_id)
                .with_for_update(read=True)
                .execution_options(populate_existing=True)
            )
        if parent is None or root is None or (parent.root_id or parent.id) != root_id:
            raise Conflict("the parent was moved or deleted meanwhile; retry", reason="MOVED")
        if parent.locked:
            raise Conflict("the parent is locked: nothing may be added below it", reason="LOCKED")
        if root.locked:
            raise Conflict("the thread is locked: nothing may be added to it", reason="LOCKED")
        return parent

    async def _require_category(self, session: AsyncSession, category_id: uuid.UUID) -> None:
        # Key-share locked: the category cannot be deleted while a node is put into it.
        query = select(Category.id).where(Category.id == category_id).with_for_update(read=True, key_share=True)
        if await session.scalar(query) is None:
            raise invalid(("categoryId",), "the category does not exist")

    async def _subtree(self, session: AsyncSession, node_id: uuid.UUID) -> list[uuid.UUID]:
        """``node_id`` and every node below it."""
        tree = select(Node.id).where(Node.id == node_id).cte("tree", recursive=True)
        tree = tree.union_all(select(Node.id).join(tree, Node.parent_id == tree.c.id))
        return list((await session.scalars(select(tree.c.id))).all())

    async def _published_in(self, session: AsyncSession, node_ids: Sequence[uuid.UUID]) -> int:
        query = select(func.count()).select_from(Node).where(Node.id.in_(node_ids), Node.status == "published")
        return int(await session.scalar(query) or 0)

    async def _count_replies(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        root_id: uuid.UUID,
        delta: int,
        *,
        activity: datetime | None = None,
    ) -> None:
        """Adjust the root's reply count in place (no version bump: replies are not edits)."""
        if delta == 0 and activity is None:
            return
        # Replies are not edits of the root: its version and updated_at stay.
        values: dict[str, Any] = {"reply_count": NODES.c.reply_count + delta, "updated_at": NODES.c.updated_at}
        if activity is not None and delta > 0:
            values["last_activity_at"] = func.greatest(func.coalesce(NODES.c.last_activity_at, activity), activity)
        await session.execute(
            update(NODES).where(NODES.c.tenant_id == tenant_id, NODES.c.id == root_id).values(**values)
        )

    async def _tag_slugs(self, session: AsyncSession, node_id: uuid.UUID) -> list[str]:
        rows = await session.scalars(
            select(Tag.slug)
            .join(Taggable, Taggable.tag_id == Tag.id)
            .where(Taggable.target_type == NODE_TARGET, Taggable.target_id == node_id)
        )
        return sorted(rows.all())


# -- input checks ------------------------------------------------------------------------


def _prepare_translation(
    tenant: TenantContext, given: TranslationInput, path: Path, *, creating: bool
) -> dict[str, Any]:
    locale = check_locale(tenant, given.locale, (*path, "locale"))
    title = check_title(given.title, (*path, "title")) if given.title is not None else None
    if creating and title is None:
        raise invalid((*path, "title"), "a translation needs a title")
    slug: str | None
    if given.slug is not None or creating:
        slug = slug_for(given.slug, title or "", (*path, "slug"), allow_path=True)
    else:
        slug = None
    excerpt = check_optional_text(given.excerpt, (*path, "excerpt"), max_length=MAX_EXCERPT)
    if given.excerpt is not None and excerpt is None:
        excerpt = ""  # an explicit empty excerpt clears it
    html = None
    if given.body is not None:
        try:
            html = render_body(given.body.format, given.body.source)
        except Validation as exc:
            errors = [FieldError((*path, *e.path), e.message) for e in exc.field_errors] or [
                FieldError((*path, "body"), exc.message)
            ]
            raise Validation(exc.message, errors=errors) from None
    return {
        "path": path,
        "locale": locale,
        "title": title,
        "slug": slug,
        "excerpt": excerpt,
        "body": given.body,
        "html": html,
    }


def _check_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        raise invalid(("metadata",), "metadata must be a JSON object")
    try:
        encoded = orjson.dumps(dict(metadata))
    except TypeError:
        raise invalid(("metadata",), "metadata must be JSON") from None
    if len(encoded) > MAX_METADATA_BYTES:
        raise invalid(("metadata",), f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
    result: dict[str, Any] = orjson.loads(encoded)
    return result


def _new_id() -> uuid.UUID:
    return generate_id()


def _slug_conflict(clashes: Sequence[Mapping[str, Any]]) -> RustokError:
    errors = [
        FieldError((*v["path"], "slug"), f"slug {v['slug']!r} is already used in locale {v['locale']}") for v in clashes
    ]
    taken = ", ".join(f"{v['slug']!r} ({v['locale']})" for v in clashes)
    return RustokError(
        f"another node of this kind already uses the slug {taken}", ErrorCode.CONFLICT, {"reason": "SLUG_TAKEN"}, errors
    )


# -- keyset pagination -----------------------------------------------------------------


def _order_columns(order: str) -> list[Any]:
    if order == "published":
        return [func.coalesce(Node.published_at, Node.created_at), Node.id]
    if order == "position":
        return [Node.position, Node.id]
    if order == "activity":
        return [Node.pinned, func.coalesce(Node.last_activity_at, Node.created_at), Node.id]
    return [Node.id]


def _encode_key(node: Node, order: str) -> str:
    values: list[Any]
    if order == "published":
        values = [(node.published_at or node.created_at).isoformat(), str(node.id)]
    elif order == "position":
        values = [node.position, str(node.id)]
    elif order == "activity":
        values = [node.pinned, (node.last_activity_at or node.created_at).isoformat(), str(node.id)]
    else:
        values = [str(node.id)]
    return orjson.dumps([order, *values]).decode()


def _decode_key(cursor: str | None, order: str) -> list[Any] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        decoded = orjson.loads(raw)
        if not isinstance(decoded, list) or decoded[0] != order:
            raise ValueError
        values: list[Any] = decoded[1:]
        values[-1] = uuid.UUID(values[-1])
        if order in ("published", "activity"):
            values[-2] = datetime.fromisoformat(values[-2])
        if order == "position":
            values[0] = int(values[0])
        if order == "activity":
            values[0] = bool(values[0])
        return values
    except (ValueError, TypeError, IndexError, orjson.JSONDecodeError):
        raise Validation("invalid cursor", field="after") from None


def _after(columns: list[Any], values: list[Any], order: str) -> Any:
    if len(columns) == 1:
        return columns[0] > values[0] if order == "position" else columns[0] < values[0]
    row = tuple_(*columns)
    bound = tuple_(*[literal(v) for v in values])
    return row > bound if order == "position" else row < bound


__all__ = ["NODE_TARGET", "NodeService"]
