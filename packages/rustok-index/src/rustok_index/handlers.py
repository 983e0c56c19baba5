"""The index's event handler: turn domain events into reindexed entities.

Events only say *which* entities changed; the handler maps them to entity ids and
asks the owners for the current documents (:meth:`IndexWriter.reindex`). Delivery is
at least once and in any order; the dispatcher writes a receipt per event in the
handler's transaction, and re-asking the owner always converges to the current state,
so a repeated or late event changes nothing.

What each event reindexes:

* ``content.node.*`` — the node, its parent and root (their reply counts), and the
  root it had before (a move changes two trees); a deleted node with descendants
  reindexes every indexed node of its tree (the subtree went with it).
* ``content.category.updated|deleted`` — indexed nodes of that category.
* ``content.tag.attached|detached`` and ``content.meta.updated`` — the node they target;
  ``content.tag.renamed`` — indexed nodes carrying the tag's old slug.
* ``commerce.product.*``, ``commerce.variant.*``, ``commerce.price.updated`` — the product;
  ``commerce.inventory.updated``, ``commerce.category.updated|deleted``,
  ``commerce.price_list.changed`` — the products they list.
* ``module.disabled`` — the documents that module shows, and every document of the
  types it owns, leave the tenant's index; ``module.enabled`` rebuilds the tenant's
  types owned by the module or by a module it depends on.
* ``tenant.updated`` that changed the default locale — every type of the tenant is
  rebuilt: a document's texts missing in its locale (category names, image alt texts)
  come from the default locale.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.errors import NotFound
from rustok_core.events import EventEnvelope
from rustok_core.index import CONTENT, PRODUCT
from rustok_core.interfaces import TenantDirectory

if TYPE_CHECKING:
    from rustok_index.runtime import IndexRuntime

log = logging.getLogger("rustok.index")

HANDLER_NAME = "index.documents"
MODULE_ENABLED = "module.enabled"
MODULE_DISABLED = "module.disabled"
NODE_EVENTS = (
    "content.node.created",
    "content.node.updated",
    "content.node.published",
    "content.node.unpublished",
    "content.node.deleted",
)
CONTENT_EVENTS = (
    *NODE_EVENTS,
    "content.category.updated",
    "content.category.deleted",
    "content.tag.attached",
    "content.tag.detached",
    "content.tag.renamed",
    "content.meta.updated",
)
PRODUCT_EVENTS = (
    "commerce.product.created",
    "commerce.product.updated",
    "commerce.product.published",
    "commerce.product.archived",
    "commerce.product.deleted",
    "commerce.variant.created",
    "commerce.variant.updated",
    "commerce.variant.deleted",
    "commerce.price.updated",
    "commerce.price_list.changed",
    "commerce.inventory.updated",
    "commerce.category.updated",
    "commerce.category.deleted",
)
TOGGLE_EVENTS = (MODULE_ENABLED, MODULE_DISABLED)
TENANT_UPDATED = "tenant.updated"
DEFAULT_LOCALE_FIELD = "defaultLocale"
"""How ``tenant.updated`` names a change of the default locale in ``changed``."""
EVENTS_OF_TYPE: dict[str, tuple[str, ...]] = {
    CONTENT: (*CONTENT_EVENTS, *TOGGLE_EVENTS, TENANT_UPDATED),
    PRODUCT: (*PRODUCT_EVENTS, *TOGGLE_EVENTS, TENANT_UPDATED),
}
"""The events that may change each entity type's documents (toggles and the default locale change both)."""
WATCHED = frozenset((*CONTENT_EVENTS, *PRODUCT_EVENTS, *TOGGLE_EVENTS, TENANT_UPDATED))
NODE_TARGET = "node"

EXPAND_CONTENT = text(
    """
    SELECT node_id FROM index_content
    WHERE tenant_id = :tenant
      AND (category_id = ANY(CAST(:categories AS uuid[])) OR root_id = ANY(CAST(:trees AS uuid[]))
           OR tags && CAST(:tags AS text[]))
    UNION
    SELECT root_id FROM index_content
    WHERE tenant_id = :tenant AND node_id = ANY(CAST(:ids AS uuid[])) AND root_id IS NOT NULL
    """
)


@dataclass
class _Pending:
    """Entity ids collected from a run of events, reindexed together."""

    content: set[uuid.UUID] = field(default_factory=set)
    categories: set[uuid.UUID] = field(default_factory=set)
    trees: set[uuid.UUID] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    """Tag slugs that changed: nodes carrying them are reindexed."""
    products: set[uuid.UUID] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.content or self.categories or self.trees or self.tags or self.products)


def _ids(*values: Any) -> Iterable[uuid.UUID]:
    for value in values:
        if value is None:
            continue
        if isinstance(value, list):
            yield from _ids(*value)
        else:
            yield value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def collect(envelope: EventEnvelope, pending: _Pending) -> None:
    """Add the entities ``envelope`` touches to ``pending``."""
    payload = envelope.payload
    event_type = envelope.event_type
    if event_type in NODE_EVENTS:
        pending.content.update(_ids(payload.get("node_id"), payload.get("parent_id"), payload.get("root_id")))
        if event_type == "content.node.deleted" and int(payload.get("descendants") or 0) > 0:
            pending.trees.update(_ids(payload.get("root_id") or payload.get("node_id")))
    elif event_type.startswith("content.category."):
        pending.categories.update(_ids(payload.get("category_id")))
    elif event_type == "content.tag.renamed":
        pending.tags.add(str(payload.get("previous") or ""))
    elif event_type.startswith("content.tag.") or event_type == "content.meta.updated":
        if payload.get("target_type") == NODE_TARGET:
            pending.content.update(_ids(payload.get("target_id")))
    elif event_type in PRODUCT_EVENTS:
        pending.products.update(_ids(payload.get("product_id"), payload.get("product_ids")))


class IndexHandler:
    """Keeps ``index_products`` and ``index_content`` in step with the owners' data."""

    name = HANDLER_NAME

    def __init__(self, runtime: IndexRuntime) -> None:
        self.runtime = runtime
        self.ctx = runtime.ctx

    def handles(self, envelope: EventEnvelope) -> bool:
        return envelope.event_type in WATCHED

    async def handle(self, envelope: EventEnvelope, session: AsyncSession) -> None:
        await self.handle_batch([envelope], session)

    async def handle_batch(self, envelopes: Sequence[EventEnvelope], session: AsyncSession) -> None:
        """Apply one tenant's events in order: reindexes are merged, toggles apply where they occur."""
        if not envelopes:
            return
        tenant_id = envelopes[0].tenant_id
        try:
            tenant = await self.ctx.services.get(TenantDirectory).get(tenant_id)
        except NotFound:
            log.info("tenant %s is gone; its index rows went with it", tenant_id)
            return
        enabled = tenant.enabled_modules
        pending = _Pending()
        # Types an enable earlier in this batch rebuilt (a new tenant enables several modules at once).
        rebuilt: set[str] = set()
        for envelope in envelopes:
            if envelope.event_type in TOGGLE_EVENTS:
                await self._flush(session, tenant_id, pending, enabled)
                pending = _Pending()
                await self._toggle(session, tenant_id, envelope, enabled, rebuilt)
            elif envelope.event_type == TENANT_UPDATED:
                if DEFAULT_LOCALE_FIELD in (envelope.payload.get("changed") or ()):
                    await self._flush(session, tenant_id, pending, enabled)
                    pending = _Pending()
                    await self._rebuild(session, tenant_id, enabled, rebuilt, "default locale changed")
            else:
                collect(envelope, pending)
        await self._flush(session, tenant_id, pending, enabled)

    async def _flush(
        self, session: AsyncSession, tenant_id: uuid.UUID, pending: _Pending, enabled: frozenset[str]
    ) -> None:
        if not pending:
            return
        writer = self.runtime.writer
        content = set(pending.content)
        if content or pending.categories or pending.trees or pending.tags:
            found = await session.execute(
                EXPAND_CONTENT,
                {
                    "tenant": tenant_id,
                    "categories": sorted(pending.categories),
                    "trees": sorted(pending.trees),
                    "tags": sorted(pending.tags),
                    "ids": sorted(content),
                },
            )
            content.update(found.scalars())
            await writer.reindex(session, tenant_id, CONTENT, content, enabled_modules=enabled)
        if pending.products:
            await writer.reindex(session, tenant_id, PRODUCT, pending.products, enabled_modules=enabled)

    async def _rebuild(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        enabled: frozenset[str],
        rebuilt: set[str],
        why: str,
        *,
        of_module: str | None = None,
    ) -> None:
        """Rebuild the tenant's types whose owner is enabled (only those ``of_module`` and of modules
        it depends on, when given) and not rebuilt yet in this batch, from the owners' current documents.

        Rebuilds read the current state (documents, enabled modules, default locale), so a late
        or repeated event converges to the same rows.
        """
        registry = self.ctx.registry
        for entity_type, owner in (await self.runtime.owners.discover(session, tenant_id)).items():
            if owner is None or owner not in enabled or entity_type in rebuilt:
                continue
            if of_module is not None and owner != of_module and of_module not in registry.dependents(owner):
                continue
            rebuilt.add(entity_type)
            result = await self.runtime.rebuilder.rebuild_in_session(
                session, tenant_id, entity_type, enabled_modules=enabled
            )
            log.info(
                "%s for tenant %s: %s rebuilt (%d written, %d removed)",
                why,
                tenant_id,
                entity_type,
                result.written,
                result.removed,
            )

    async def _toggle(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        envelope: EventEnvelope,
        enabled: frozenset[str],
        rebuilt: set[str],
    ) -> None:
        module = str(envelope.payload.get("module") or "")
        registry = self.ctx.registry
        if module not in registry:
            return
        owners = self.runtime.owners
        # Toggles act on the tenant's current state, so a late or repeated toggle event
        # cannot undo a newer one: a disable whose module is on again is stale (the
        # enable that followed rebuilds), and so is an enable whose module is off again.
        if envelope.event_type == MODULE_DISABLED:
            if module in enabled:
                return
            removed = (await self.runtime.writer.remove_module(session, tenant_id, module)).removed
            for entity_type in await owners.types_owned_by(session, tenant_id, module):
                removed += await self.runtime.writer.clear(session, tenant_id, entity_type)
            log.info("module %s disabled for tenant %s: %d index rows removed", module, tenant_id, removed)
            rebuilt.clear()
            return
        if module not in enabled:
            return
        await self._rebuild(session, tenant_id, enabled, rebuilt, f"module {module} enabled", of_module=module)
