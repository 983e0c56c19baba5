"""Pages: content nodes of kind ``page`` in a tree, with paths and blocks.

The content module stores the pages (:class:`NodeService`); this service decides what
their slugs are (full paths, see :mod:`rustok_pages.services.paths`) and stores their
blocks. Every write is one transaction: the content changes of the page (and of every
page below it whose path changes), its blocks and all their events commit together,
or nothing does.

Every write locks the page's tree before it reads it (content's
:meth:`NodeService.locked`: the tree's root, then the page; the new parent's tree too
when a page moves). Every writer of a tree takes the root's lock first, so the paths,
versions and subtree read after that cannot change until the write commits; the reads
themselves go through content's services. A write that finds its tree moved while it
waited for the lock (content's ``CONFLICT``, reason ``MOVED``) has changed nothing and
runs again, reading the tree where it is now.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_content.models import NODE_STATUSES, Node
from rustok_content.services import (
    KEEP,
    BodyInput,
    Keep,
    MediaService,
    NewNode,
    NodeChanges,
    NodeQuery,
    NodeService,
    TranslationInput,
)
from rustok_content.services.text import Path, invalid
from rustok_core.context import AppContext, TenantContext
from rustok_core.db import expect_version
from rustok_core.errors import Conflict, ErrorCode, FieldError, NotFound, RustokError, Validation
from rustok_core.events import EventPublisher
from rustok_core.pagination import MAX_PAGE_SIZE
from rustok_pages.events import BlocksUpdated
from rustok_pages.services.blocks import CheckedBlock, check_blocks, digest
from rustok_pages.services.inputs import NewPage, PageChanges, PageText
from rustok_pages.services.page_blocks import PageBlocks
from rustok_pages.services.paths import (
    TreeNode,
    check_distinct,
    check_lengths,
    check_segment,
    paths_below,
    plan_rewrite,
    segment_from_title,
    segment_of,
)

PAGE = "page"
MOVE_ATTEMPTS = 3
MAX_CHILDREN = MAX_PAGE_SIZE
"""Children served with a page (``Page.children``); page through more with ``pages(parentId:)``."""
RESERVED = "_pages"
"""The metadata key where the module keeps a digest of each locale's blocks (hidden from clients).

Writing it is what bumps the page's version when only its blocks change.
"""


@dataclass(frozen=True)
class _Text:
    """A checked :class:`PageText` with its position in the input."""

    path: Path
    locale: str
    title: str | None
    segment: str | None
    excerpt: str | None
    body: BodyInput | None
    blocks: list[CheckedBlock] | None


class PageService:
    """Writes and reads pages for one platform; every method names its tenant."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.nodes = NodeService(ctx)
        self.blocks = PageBlocks(ctx)

    @asynccontextmanager
    async def _transaction(self, tenant_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            yield session

    # -- create ---------------------------------------------------------------------------

    async def create(self, tenant: TenantContext, draft: NewPage, *, actor_id: uuid.UUID | None) -> Node:
        """Create a page with its translations and blocks below ``draft.parent_id`` (or at the top)."""
        if draft.status not in NODE_STATUSES:
            raise invalid(("status",), f"status must be one of {', '.join(NODE_STATUSES)}")
        if not draft.translations:
            raise invalid(("translations",), "give at least one translation")
        texts = self._texts(tenant, draft.translations)
        metadata = _client_metadata(draft.metadata, ("metadata",))
        segments: dict[str, str] = {}
        for text in texts:
            if text.title is None:
                raise invalid((*text.path, "title"), "a translation needs a title")
            segments[text.locale] = text.segment or segment_from_title(text.title, (*text.path, "segment"))
        blocks = {text.locale: text.blocks for text in texts if text.blocks}
        await self._check_media(tenant.id, texts)
        if blocks:
            metadata[RESERVED] = {"blocks": {locale: digest(b) for locale, b in sorted(blocks.items())}}

        async def attempt() -> Node:
            async with self._transaction(tenant.id) as tx:
                # The parent's tree stays locked until commit: its paths cannot change under us.
                parent = await self._lock_parent(tx, draft.parent_id)
                parent_paths = await self._paths_of(tenant.id, parent.id) if parent else {}
                paths = paths_below(parent_paths, segments, tenant.default_locale)
                for text in texts:
                    check_lengths({text.locale: paths[text.locale]}, (*text.path, "segment"))
                translations = [TranslationInput(t.locale, t.title, paths[t.locale], t.excerpt, t.body) for t in texts]
                try:
                    node = await self.nodes.create(
                        tenant,
                        NewNode(
                            kind=PAGE,
                            translations=translations,
                            status=draft.status,
                            parent_id=parent.id if parent else None,
                            position=draft.position,
                            metadata=metadata,
                            author_id=draft.author_id,
                        ),
                        actor_id=actor_id,
                        session=tx,
                    )
                except RustokError as exc:
                    raise _path_taken(exc, translations, lambda locale: _blame(texts, locale)) from None
                for locale, checked in sorted(blocks.items()):
                    await self._write_blocks(tx, tenant.id, node.id, locale, checked, actor_id)
            return node

        return await _retrying_moves(attempt)

    # -- update ---------------------------------------------------------------------------

    async def update(
        self,
        tenant: TenantContext,
        page_id: uuid.UUID,
        changes: PageChanges,
        *,
        expected_version: int | None,
        actor_id: uuid.UUID | None,
        status: str | None = None,
    ) -> Node:
        """Apply ``changes`` (and a new ``status``, if given) in one transaction.

        A new segment, a new parent, or an added or removed locale rewrites the paths of
        the page and of every page below it, in every locale; a path that another page
        already uses refuses the whole change (``CONFLICT``, reason ``PATH_TAKEN``).
        """
        if status is not None and status not in NODE_STATUSES:
            raise invalid(("status",), f"status must be one of {', '.join(NODE_STATUSES)}")
        texts = self._texts(tenant, changes.translations)
        for index, locale in enumerate(changes.remove_locales):
            self._locale(tenant, locale, ("removeLocales", index))
        client_metadata = _client_metadata(changes.metadata, ("metadata",)) if changes.metadata is not None else None
        by_locale = {text.locale: text for text in texts}
        await self._check_media(tenant.id, texts)

        async def attempt() -> Node:
            async with self._transaction(tenant.id) as tx:
                # Lock first (the page's tree, then the new parent's), read after: every writer
                # of a tree locks its root first, so what is read below cannot change until commit.
                page = await self._lock_page(tx, page_id)
                expect_version(page, expected_version)
                moving = not isinstance(changes.parent_id, Keep) and changes.parent_id != page.parent_id
                parent_id = page.parent_id if isinstance(changes.parent_id, Keep) or not moving else changes.parent_id
                if moving and parent_id == page.id:
                    raise invalid(("parentId",), "a page cannot move below itself")
                parent = await self._lock_parent(tx, parent_id)
                parent_paths = await self._paths_of(tenant.id, parent.id) if parent else {}
                current = await self._paths_of(tenant.id, page.id)

                removed = sorted(set(changes.remove_locales) & set(current))
                for text in texts:
                    if text.locale in removed:
                        raise invalid((*text.path, "locale"), "this locale is also being removed")
                    if text.locale not in current and text.title is None:
                        raise invalid((*text.path, "title"), "a new translation needs a title")
                if removed and not (set(current) | set(by_locale)) - set(removed):
                    raise invalid(("removeLocales",), "a page keeps at least one translation")

                segments: dict[str, str] = {}
                for locale in (set(current) | set(by_locale)) - set(removed):
                    given = by_locale.get(locale)
                    if given is not None and given.segment is not None:
                        segments[locale] = given.segment
                    elif locale in current:
                        segments[locale] = segment_of(current[locale])
                    else:
                        assert given is not None
                        assert given.title is not None
                        segments[locale] = segment_from_title(given.title, (*given.path, "segment"))
                new_paths = paths_below(parent_paths, segments, tenant.default_locale)
                renamed = {locale: value for locale, value in new_paths.items() if current.get(locale) != value}
                blame: Path = ("parentId",) if moving else ("translations",)
                for locale, value in renamed.items():
                    where = (*by_locale[locale].path, "segment") if locale in by_locale else blame
                    check_lengths({locale: value}, where)

                below: list[tuple[TreeNode, dict[str, str]]] = []
                if renamed or removed:
                    subtree = await self.subtree(tenant.id, page)
                    if moving and parent_id in {member.id for member in subtree}:
                        raise invalid(("parentId",), "a page cannot move below itself")
                    subtree[0].paths = dict(current)
                    below = plan_rewrite(subtree, new_paths, tenant.default_locale)
                    for _, paths in below:
                        check_lengths(paths, blame)
                    check_distinct([(page.id, new_paths), *((member.id, paths) for member, paths in below)], blame)

                block_writes, metadata = self._block_changes(page, texts, removed, client_metadata)
                translations = [
                    TranslationInput(
                        locale,
                        text.title if text else None,
                        renamed.get(locale),
                        text.excerpt if text else None,
                        text.body if text else None,
                    )
                    for locale, text in _merged(by_locale, renamed)
                ]
                node_changes = NodeChanges(
                    translations=translations,
                    remove_locales=removed,
                    parent_id=parent_id if moving else KEEP,
                    position=changes.position,
                    metadata=metadata,
                )
                try:
                    node = await self.nodes.update(
                        tenant,
                        page.id,
                        node_changes,
                        expected_version=page.version,
                        actor_id=actor_id,
                        kind=PAGE,
                        session=tx,
                    )
                except RustokError as exc:
                    raise _path_taken(exc, translations, lambda locale: _blame(texts, locale, blame)) from None
                # Breadth first: a rewritten path never collides with one still to be rewritten.
                for member, paths in below:
                    moved = [TranslationInput(locale, slug=value) for locale, value in sorted(paths.items())]
                    try:
                        await self.nodes.update(
                            tenant,
                            member.id,
                            NodeChanges(translations=moved),
                            expected_version=member.version,
                            actor_id=actor_id,
                            kind=PAGE,
                            session=tx,
                        )
                    except RustokError as exc:
                        raise _path_taken(exc, moved, lambda _: blame, page_id=member.id) from None
                for locale, checked in sorted(block_writes.items()):
                    await self._write_blocks(tx, tenant.id, page.id, locale, checked, actor_id)
                if status is not None:
                    node = await self.nodes.set_status(
                        tenant, page.id, status, actor_id=actor_id, kind=PAGE, session=tx
                    )
            return node

        return await _retrying_moves(attempt)

    def _block_changes(
        self,
        page: Node,
        texts: Sequence[_Text],
        removed: Sequence[str],
        client_metadata: dict[str, Any] | None,
    ) -> tuple[dict[str, list[CheckedBlock]], dict[str, Any] | None]:
        """The locales whose blocks change, and the page's new metadata (``None``: unchanged).

        The metadata keeps a digest of each locale's blocks under :data:`RESERVED`; a new
        digest is what makes the page's version go up when only blocks change.
        """
        digests: dict[str, str] = dict((page.node_metadata.get(RESERVED) or {}).get("blocks") or {})
        writes: dict[str, list[CheckedBlock]] = {}
        for text in texts:
            if text.blocks is not None and digest(text.blocks) != digests.get(text.locale, digest([])):
                writes[text.locale] = text.blocks
        for locale in removed:
            if locale in digests:
                writes[locale] = []
        if client_metadata is None and not writes:
            return writes, None
        metadata = client_metadata if client_metadata is not None else visible_metadata(page)
        for locale, checked in writes.items():
            if checked:
                digests[locale] = digest(checked)
            else:
                digests.pop(locale, None)
        if digests:
            metadata[RESERVED] = {"blocks": dict(sorted(digests.items()))}
        return writes, metadata

    # -- status and delete ------------------------------------------------------------------

    async def set_status(
        self,
        tenant: TenantContext,
        page_id: uuid.UUID,
        status: str,
        *,
        expected_version: int | None = None,
        actor_id: uuid.UUID | None,
    ) -> Node:
        """Publish (``published``), unpublish (``draft``) or archive (``archived``) a page."""
        try:
            return await self.nodes.set_status(
                tenant, page_id, status, expected_version=expected_version, actor_id=actor_id, kind=PAGE
            )
        except NotFound:
            raise NotFound("no such page", resource=PAGE) from None

    async def delete(
        self, tenant: TenantContext, page_id: uuid.UUID, *, expected_version: int | None, actor_id: uuid.UUID | None
    ) -> Node:
        """Delete a page, every page below it and all their blocks, in one transaction.

        Menu items that link to them go when the ``content.node.deleted`` event is
        delivered (see :mod:`rustok_pages.handlers`); until then reads skip them.
        """

        async def attempt() -> Node:
            async with self._transaction(tenant.id) as tx:
                page = await self._lock_page(tx, page_id)
                expect_version(page, expected_version)
                members = [member.id for member in await self.subtree(tenant.id, page)]
                deleted = await self.nodes.delete(
                    tenant, page.id, expected_version=page.version, actor_id=actor_id, kind=PAGE, session=tx
                )
                await self.blocks.remove_pages(tx, tenant.id, members)
            return deleted

        return await _retrying_moves(attempt)

    # -- reads ----------------------------------------------------------------------------

    async def get(self, tenant_id: uuid.UUID, page_id: uuid.UUID) -> Node:
        try:
            return await self.nodes.get(tenant_id, page_id, kind=PAGE)
        except NotFound:
            raise NotFound("no such page", resource=PAGE) from None

    async def by_path(self, tenant: TenantContext, path: str, *, locale: str | None = None) -> Node:
        """The page at ``path`` in ``locale`` (else in the default locale, else in any)."""
        wanted = path.strip().strip("/")
        if not wanted:
            raise NotFound("no such page", resource=PAGE)
        try:
            return await self.nodes.find_by_slug(tenant, PAGE, wanted, locale=locale)
        except NotFound:
            raise NotFound("no such page", resource=PAGE) from None

    async def listing(
        self,
        tenant_id: uuid.UUID,
        *,
        parent_id: uuid.UUID | None,
        statuses: Sequence[str] | None,
        first: int = 20,
        after: str | None = None,
    ) -> dict[str, Any]:
        """A Relay connection of the pages directly below ``parent_id`` (``None``: top level), by position."""
        return await self.nodes.page(
            tenant_id,
            NodeQuery(kind=PAGE, statuses=statuses, parent_id=parent_id, order="position", first=first, after=after),
        )

    async def subtree(self, tenant_id: uuid.UUID, page: Node) -> list[TreeNode]:
        """``page`` and every page below it, breadth first, with their paths."""
        root = page.root_id or page.id
        members = {node.id: node for node in await self._all(tenant_id, NodeQuery(kind=PAGE, root_id=root))}
        members[page.id] = page
        children: dict[uuid.UUID, list[Node]] = {}
        for node in members.values():
            if node.parent_id is not None:
                children.setdefault(node.parent_id, []).append(node)
        order = [page]
        for node in order:
            order.extend(sorted(children.get(node.id, ()), key=lambda child: (child.position, child.id)))
        translations = await self.nodes.translations_of(tenant_id, [node.id for node in order])
        return [
            TreeNode(node.id, node.parent_id, node.version, {t.locale: t.slug for t in translations[node.id]})
            for node in order
        ]

    async def children_of(
        self, tenant_id: uuid.UUID, parents: Sequence[Node], statuses: Sequence[str] | None
    ) -> dict[uuid.UUID, list[Node]]:
        """The pages directly below each of ``parents``, by position (at most :data:`MAX_CHILDREN` each).

        The number of queries does not depend on how many parents there are: one page
        of children for a single parent, the parents' tree when they share one, else
        the tenant's pages (100 a query).
        """
        found: dict[uuid.UUID, list[Node]] = {parent.id: [] for parent in parents}
        if not parents:
            return found
        roots = {parent.root_id or parent.id for parent in parents}
        if len(parents) == 1:
            page = await self.nodes.page(
                tenant_id,
                NodeQuery(kind=PAGE, statuses=statuses, parent_id=parents[0].id, order="position", first=MAX_CHILDREN),
            )
            found[parents[0].id] = [edge["node"] for edge in page["edges"]]
            return found
        if len(roots) == 1:
            query = NodeQuery(kind=PAGE, statuses=statuses, root_id=roots.pop(), order="position")
        else:
            query = NodeQuery(kind=PAGE, statuses=statuses, order="position")
        for node in await self._all(tenant_id, query):
            if node.parent_id in found:
                found[node.parent_id].append(node)
        for members in found.values():
            members.sort(key=lambda node: (node.position, node.id))
            del members[MAX_CHILDREN:]
        return found

    # -- helpers --------------------------------------------------------------------------

    async def _all(self, tenant_id: uuid.UUID, query: NodeQuery) -> list[Node]:
        """Every node matching ``query``, reading the largest pages content serves."""
        nodes: list[Node] = []
        after: str | None = None
        while True:
            page = await self.nodes.page(
                tenant_id,
                NodeQuery(
                    kind=query.kind,
                    statuses=query.statuses,
                    parent_id=query.parent_id,
                    root_id=query.root_id,
                    order=query.order,
                    first=MAX_PAGE_SIZE,
                    after=after,
                ),
            )
            nodes.extend(edge["node"] for edge in page["edges"])
            if not page["page_info"]["has_next_page"]:
                return nodes
            after = page["page_info"]["end_cursor"]

    async def _paths_of(self, tenant_id: uuid.UUID, page_id: uuid.UUID) -> dict[str, str]:
        found = await self.nodes.translations_of(tenant_id, [page_id])
        return {t.locale: t.slug for t in found[page_id]}

    async def _lock_page(self, session: AsyncSession, page_id: uuid.UUID) -> Node:
        try:
            return await self.nodes.locked(session, page_id, kind=PAGE)
        except NotFound:
            raise NotFound("no such page", resource=PAGE) from None

    async def _lock_parent(self, session: AsyncSession, parent_id: uuid.UUID | None) -> Node | None:
        if parent_id is None:
            return None
        try:
            return await self.nodes.locked(session, parent_id, kind=PAGE)
        except NotFound:
            raise invalid(("parentId",), "no such parent page") from None

    async def _write_blocks(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        page_id: uuid.UUID,
        locale: str,
        blocks: Sequence[CheckedBlock],
        actor_id: uuid.UUID | None,
    ) -> None:
        await self.blocks.replace(session, tenant_id, page_id, locale, blocks)
        await self.ctx.services.get(EventPublisher).publish(
            session,
            BlocksUpdated(page_id=page_id, locale=locale, count=len(blocks)),
            tenant_id=tenant_id,
            actor_id=actor_id,
        )

    async def _check_media(self, tenant_id: uuid.UUID, texts: Iterable[_Text]) -> None:
        """Blocks may only show media of the tenant's own library."""
        wanted: list[tuple[Path, uuid.UUID]] = []
        for text in texts:
            for index, block in enumerate(text.blocks or ()):
                wanted.extend(
                    ((*text.path, "blocks", index, "data", *inner), media_id) for inner, media_id in block.media_refs
                )
        if not wanted:
            return
        known = await MediaService(self.ctx).by_ids(tenant_id, sorted({media_id for _, media_id in wanted}))
        missing = [FieldError(where, "no such media") for where, media_id in wanted if media_id not in known]
        if missing:
            raise Validation("a block refers to media that does not exist", errors=missing)

    def _texts(self, tenant: TenantContext, given: Sequence[PageText]) -> list[_Text]:
        texts: list[_Text] = []
        seen: set[str] = set()
        for index, text in enumerate(given):
            path: Path = ("translations", index)
            locale = self._locale(tenant, text.locale, (*path, "locale"))
            if locale in seen:
                raise invalid((*path, "locale"), "this locale is given twice")
            seen.add(locale)
            texts.append(
                _Text(
                    path=path,
                    locale=locale,
                    title=text.title,
                    segment=check_segment(text.segment, (*path, "segment")) if text.segment is not None else None,
                    excerpt=text.excerpt,
                    body=text.body,
                    blocks=check_blocks(text.blocks, (*path, "blocks")) if text.blocks is not None else None,
                )
            )
        return texts

    @staticmethod
    def _locale(tenant: TenantContext, locale: str, path: Path) -> str:
        # The message does not repeat the value: it must read the same for any unknown locale.
        if locale not in tenant.locales:
            raise invalid(path, f"not one of this tenant's locales ({', '.join(tenant.locales)})")
        return locale


async def _retrying_moves(attempt: Callable[[], Awaitable[Node]]) -> Node:
    """Run a write again when content found its tree moved while it waited for the lock.

    The write had changed nothing yet (locks come first), so running it again reads the
    tree where it is now.
    """
    for tries in range(1, MOVE_ATTEMPTS + 1):
        try:
            return await attempt()
        except Conflict as exc:
            if exc.details.get("reason") != "MOVED" or tries == MOVE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _merged(by_locale: Mapping[str, _Text], renamed: Mapping[str, str]) -> list[tuple[str, _Text | None]]:
    """One entry per locale that has new text or a new path, in a stable order."""
    return [(locale, by_locale.get(locale)) for locale in sorted(set(by_locale) | set(renamed))]


def _client_metadata(metadata: Mapping[str, Any], path: Path) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        raise invalid(path, "metadata must be a JSON object")
    if RESERVED in metadata:
        raise invalid((*path, RESERVED), f"the key {RESERVED!r} is reserved for the pages module")
    return dict(metadata)


def visible_metadata(node: Node) -> dict[str, Any]:
    """A page's metadata as clients see it (without the module's own key)."""
    return {key: value for key, value in node.node_metadata.items() if key != RESERVED}


def _blame(texts: Sequence[_Text], locale: str, fallback: Path = ("translations",)) -> Path:
    for text in texts:
        if text.locale == locale:
            return (*text.path, "segment")
    return fallback


def _path_taken(
    exc: RustokError,
    translations: Sequence[TranslationInput],
    blame: Any,
    *,
    page_id: uuid.UUID | None = None,
) -> RustokError:
    """Content's ``SLUG_TAKEN`` as a pages error naming the path, locale and input field."""
    if exc.code is not ErrorCode.CONFLICT or exc.details.get("reason") != "SLUG_TAKEN":
        return exc
    clashes: list[tuple[str, str]] = []
    for error in exc.field_errors:
        if len(error.path) >= 2 and error.path[0] == "translations" and isinstance(error.path[1], int):
            given = translations[error.path[1]]
            clashes.append((given.locale, given.slug or ""))
    if not clashes:
        clashes = [(t.locale, t.slug or "") for t in translations if t.slug]
    below = " (for a page below it)" if page_id is not None else ""
    described = ", ".join(f"{path!r} in {locale}" for locale, path in clashes)
    return RustokError(
        f"another page already has the path {described}{below}; nothing was changed",
        ErrorCode.CONFLICT,
        {"reason": "PATH_TAKEN", "paths": [{"locale": locale, "path": path} for locale, path in clashes]},
        [FieldError(blame(locale), f"the path {path!r} is taken in {locale}") for locale, path in clashes],
    )


__all__ = ["PAGE", "RESERVED", "PageService", "visible_metadata"]
