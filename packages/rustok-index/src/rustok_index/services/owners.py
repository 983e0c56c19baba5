"""The modules that own the indexed entity types, reached only through hooks.

The index imports no domain module: it asks every module that implements
``rustok_index_documents`` whether an entity type is its own (an implementation
answers ``None`` for types it does not own) and remembers the answer. Owners then
supply documents (``rustok_index_documents``) and, for rebuilds, the ids of their
entities (``rustok_index_entity_ids``).
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.context import AppContext
from rustok_core.index import DOCUMENT_CLASSES, ENTITY_TYPES, IndexDocument

DOCUMENTS_HOOK = "rustok_index_documents"
IDS_HOOK = "rustok_index_entity_ids"


class IndexContractError(RuntimeError):
    """A module broke the document contract (names the module and what it did)."""


async def _call(ctx: AppContext, slug: str, hook: str, **kwargs: Any) -> Any:
    result = ctx.registry.call_module(slug, hook, ctx=ctx, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


class Owners:
    """Who owns ``product`` and ``content``, and the calls to reach them."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._owners: dict[str, str | None] | None = None

    async def discover(self, session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, str | None]:
        """Entity type → owning module slug (``None`` when no installed module owns it)."""
        if self._owners is None:
            owners: dict[str, str | None] = dict.fromkeys(ENTITY_TYPES)
            for module in self.ctx.registry:
                if not self.ctx.registry.implements(module.slug, DOCUMENTS_HOOK):
                    continue
                for entity_type in ENTITY_TYPES:
                    answer = await _call(
                        self.ctx,
                        module.slug,
                        DOCUMENTS_HOOK,
                        session=session,
                        tenant_id=tenant_id,
                        entity_type=entity_type,
                        entity_ids=[],
                    )
                    if answer is None:
                        continue
                    if owners[entity_type] is not None:
                        raise IndexContractError(
                            f"both '{owners[entity_type]}' and '{module.slug}' return documents for "
                            f"entity type '{entity_type}'; only one module may own it"
                        )
                    owners[entity_type] = module.slug
            self._owners = owners
        return self._owners

    async def owner_of(self, session: AsyncSession, tenant_id: uuid.UUID, entity_type: str) -> str | None:
        return (await self.discover(session, tenant_id))[entity_type]

    async def types_owned_by(self, session: AsyncSession, tenant_id: uuid.UUID, module: str) -> list[str]:
        return [t for t, owner in (await self.discover(session, tenant_id)).items() if owner == module]

    async def documents(
        self, session: AsyncSession, tenant_id: uuid.UUID, entity_type: str, entity_ids: Sequence[uuid.UUID]
    ) -> tuple[str | None, list[IndexDocument]]:
        """The owner's current documents for ``entity_ids`` (no owner: none), checked."""
        owner = await self.owner_of(session, tenant_id, entity_type)
        if owner is None or not entity_ids:
            return owner, []
        answer = await _call(
            self.ctx,
            owner,
            DOCUMENTS_HOOK,
            session=session,
            tenant_id=tenant_id,
            entity_type=entity_type,
            entity_ids=list(entity_ids),
        )
        if answer is None:
            raise IndexContractError(f"module '{owner}' stopped answering for entity type '{entity_type}'")
        return owner, check_documents(owner, entity_type, entity_ids, answer)

    async def entity_ids(
        self, session: AsyncSession, tenant_id: uuid.UUID, entity_type: str, *, after: uuid.UUID | None, limit: int
    ) -> list[uuid.UUID]:
        """One page of the owner's entity ids (ascending, after ``after``); none without an owner."""
        owner = await self.owner_of(session, tenant_id, entity_type)
        if owner is None:
            return []
        if not self.ctx.registry.implements(owner, IDS_HOOK):
            raise IndexContractError(
                f"module '{owner}' owns entity type '{entity_type}' but does not implement {IDS_HOOK}, "
                "so its documents cannot be rebuilt"
            )
        answer = await _call(
            self.ctx,
            owner,
            IDS_HOOK,
            session=session,
            tenant_id=tenant_id,
            entity_type=entity_type,
            after=after,
            limit=limit,
        )
        if answer is None:
            raise IndexContractError(f"module '{owner}' returned no ids for its entity type '{entity_type}'")
        ids = list(answer)
        if len(ids) > limit or any(not isinstance(i, uuid.UUID) for i in ids) or ids != sorted(ids):
            raise IndexContractError(
                f"module '{owner}': {IDS_HOOK} must return at most {limit} UUIDs in ascending order"
            )
        if after is not None and ids and ids[0] <= after:
            raise IndexContractError(f"module '{owner}': {IDS_HOOK} returned ids not after the one given")
        return ids


def check_documents(
    owner: str, entity_type: str, entity_ids: Sequence[uuid.UUID], documents: Sequence[Any]
) -> list[IndexDocument]:
    """The documents, if they are what was asked for: the right class, the asked ids, one per locale."""
    expected = DOCUMENT_CLASSES[entity_type]
    asked = set(entity_ids)
    seen: set[tuple[uuid.UUID, str]] = set()
    checked: list[IndexDocument] = []
    for document in documents:
        if not isinstance(document, expected):
            raise IndexContractError(
                f"module '{owner}' returned a {type(document).__name__} for entity type '{entity_type}' "
                f"(expected {expected.__name__})"
            )
        key = (document.entity_id, document.locale)
        if document.entity_id not in asked:
            raise IndexContractError(f"module '{owner}' returned a document for an entity it was not asked about")
        if key in seen:
            raise IndexContractError(
                f"module '{owner}' returned two '{document.locale}' documents for one {entity_type}"
            )
        seen.add(key)
        checked.append(document)
    return checked
