"""Tags: free-form labels on any target, with a use count per tag."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_content.events import TagAttached, TagDetached, TagRenamed
from rustok_content.models import Tag, Taggable
from rustok_content.services.text import Path, invalid, make_slug
from rustok_core.context import AppContext
from rustok_core.errors import Conflict, NotFound
from rustok_core.events import EventPublisher

MAX_TAGS = 50
MAX_TAG_NAME = 100
TAGS: Table = Tag.__table__  # type: ignore[assignment]
TAGGABLES: Table = Taggable.__table__  # type: ignore[assignment]


def normalize_tags(names: Sequence[str], path: Path) -> dict[str, str]:
    """``{slug: display name}`` for a list of tag names (duplicates by slug merge)."""
    if len(names) > MAX_TAGS:
        raise invalid(path, f"at most {MAX_TAGS} tags")
    tags: dict[str, str] = {}
    for index, raw in enumerate(names):
        name = " ".join(raw.split())
        if not name or len(name) > MAX_TAG_NAME:
            raise invalid((*path, index), f"a tag must be 1-{MAX_TAG_NAME} characters")
        slug = make_slug(name, max_length=MAX_TAG_NAME)
        if not slug:
            raise invalid((*path, index), f"cannot make a tag from {name!r}")
        tags.setdefault(slug, name)
    return tags


class TagService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def set_tags(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        target_type: str,
        target_id: uuid.UUID,
        names: Sequence[str],
        *,
        actor_id: uuid.UUID | None,
        path: Path = ("tags",),
    ) -> list[str]:
        """Make the target's tags exactly ``names``; return the tag slugs it now has.

        Runs in the caller's transaction; publishes ``content.tag.attached`` and
        ``content.tag.detached`` for what changed and keeps ``use_count`` exact.
        """
        wanted = normalize_tags(names, path)
        current = dict(
            (
                await session.execute(
                    select(Tag.slug, Tag.id)
                    .join(Taggable, Taggable.tag_id == Tag.id)
                    .where(Taggable.target_type == target_type, Taggable.target_id == target_id)
                )
            ).all()
        )
        to_attach = [slug for slug in wanted if slug not in current]
        to_detach = [slug for slug in current if slug not in wanted]
        events = self.ctx.services.get(EventPublisher)
        if to_attach:
            await session.execute(
                insert(TAGS)
                .values([{"tenant_id": tenant_id, "slug": slug, "name": wanted[slug]} for slug in to_attach])
                .on_conflict_do_nothing(index_elements=["tenant_id", "slug"])
            )
            ids = dict(
                (
                    await session.execute(
                        select(Tag.slug, Tag.id).where(Tag.tenant_id == tenant_id, Tag.slug.in_(to_attach))
                    )
                ).all()
            )
            await session.execute(
                insert(TAGGABLES).values(
                    [
                        {
                            "tenant_id": tenant_id,
                            "tag_id": ids[slug],
                            "target_type": target_type,
                            "target_id": target_id,
                        }
                        for slug in to_attach
                    ]
                )
            )
            await session.execute(
                update(TAGS)
                .where(TAGS.c.tenant_id == tenant_id, TAGS.c.id.in_(ids.values()))
                .values(use_count=TAGS.c.use_count + 1)
            )
            for slug in sorted(to_attach):
                await events.publish(
                    session,
                    TagAttached(tag_id=ids[slug], tag=slug, target_type=target_type, target_id=target_id),
                    tenant_id=tenant_id,
                    actor_id=actor_id,
                )
        if to_detach:
            detached_ids = [current[slug] for slug in to_detach]
            await session.execute(
                delete(TAGGABLES).where(
                    TAGGABLES.c.tenant_id == tenant_id,
                    TAGGABLES.c.target_type == target_type,
                    TAGGABLES.c.target_id == target_id,
                    TAGGABLES.c.tag_id.in_(detached_ids),
                )
            )
            await session.execute(
                update(TAGS)
                .where(TAGS.c.tenant_id == tenant_id, TAGS.c.id.in_(detached_ids))
                .values(use_count=TAGS.c.use_count - 1)
            )
            for slug in sorted(to_detach):
                await events.publish(
                    session,
                    TagDetached(tag_id=current[slug], tag=slug, target_type=target_type, target_id=target_id),
                    tenant_id=tenant_id,
                    actor_id=actor_id,
                )
        return sorted(wanted)

    async def detach_all(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        target_type: str,
        target_ids: Sequence[uuid.UUID],
        *,
        actor_id: uuid.UUID | None,
    ) -> None:
        """Remove every tag of the targets (they are being deleted)."""
        if not target_ids:
            return
        rows = (
            await session.execute(
                delete(TAGGABLES)
                .where(
                    TAGGABLES.c.tenant_id == tenant_id,
                    TAGGABLES.c.target_type == target_type,
                    TAGGABLES.c.target_id.in_(target_ids),
                )
                .returning(TAGGABLES.c.tag_id, TAGGABLES.c.target_id)
            )
        ).all()
        if not rows:
            return
        counts: dict[uuid.UUID, int] = defaultdict(int)
        for tag_id, _ in rows:
            counts[tag_id] += 1
        slugs = dict(
            (
                await session.execute(select(Tag.id, Tag.slug).where(Tag.tenant_id == tenant_id, Tag.id.in_(counts)))
            ).all()
        )
        for tag_id, count in counts.items():
            await session.execute(
                update(TAGS)
                .where(TAGS.c.tenant_id == tenant_id, TAGS.c.id == tag_id)
                .values(use_count=TAGS.c.use_count - count)
            )
        events = self.ctx.services.get(EventPublisher)
        for tag_id, target_id in sorted(rows, key=lambda row: (str(row[1]), slugs[row[0]])):
            await events.publish(
                session,
                TagDetached(tag_id=tag_id, tag=slugs[tag_id], target_type=target_type, target_id=target_id),
                tenant_id=tenant_id,
                actor_id=actor_id,
            )

    # -- reads -------------------------------------------------------------------------

    async def tags_of(
        self, tenant_id: uuid.UUID, target_type: str, target_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Tag]]:
        """The tags of each target (one query), sorted by slug."""
        found: dict[uuid.UUID, list[Tag]] = {target_id: [] for target_id in target_ids}
        if not target_ids:
            return found
        async with self.ctx.db.session(tenant_id) as session:
            rows = (
                await session.execute(
                    select(Taggable.target_id, Tag)
                    .join(Tag, Tag.id == Taggable.tag_id)
                    .where(Taggable.target_type == target_type, Taggable.target_id.in_(target_ids))
                    .order_by(Tag.slug)
                )
            ).all()
        for target_id, tag in rows:
            found[target_id].append(tag)
        return found

    async def popular(self, tenant_id: uuid.UUID, *, first: int = 100, prefix: str | None = None) -> list[Tag]:
        """Tags by use (most used first); ``prefix`` filters slugs for autocompletion."""
        async with self.ctx.db.session(tenant_id) as session:
            query = select(Tag).order_by(Tag.use_count.desc(), Tag.slug).limit(first)
            if prefix:
                query = query.where(Tag.slug.startswith(make_slug(prefix), autoescape=True))
            return list((await session.scalars(query)).all())

    async def rename(
        self, tenant_id: uuid.UUID, tag_id: uuid.UUID, name: str, *, actor_id: uuid.UUID | None = None
    ) -> Tag:
        """Change a tag's display name (and slug); a slug taken by another tag is a conflict."""
        normalized = normalize_tags([name], ("name",))
        slug, display = next(iter(normalized.items()))
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            tag = await session.get(Tag, tag_id)
            if tag is None:
                raise NotFound("no such tag", resource="tag")
            clash = await session.scalar(select(Tag.id).where(Tag.slug == slug, Tag.id != tag_id))
            if clash is not None:
                raise Conflict(f"another tag already has the slug {slug!r}", field="name")
            previous = tag.slug
            tag.slug, tag.name = slug, display
            if previous != slug:
                await self.ctx.services.get(EventPublisher).publish(
                    session,
                    TagRenamed(tag_id=tag_id, tag=slug, previous=previous),
                    tenant_id=tenant_id,
                    actor_id=actor_id,
                )
        return tag

    async def delete(self, tenant_id: uuid.UUID, tag_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> None:
        """Delete a tag and detach it from everything (one ``detached`` event per target)."""
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            tag = await session.get(Tag, tag_id)
            if tag is None:
                raise NotFound("no such tag", resource="tag")
            targets = (
                await session.execute(select(Taggable.target_type, Taggable.target_id).where(Taggable.tag_id == tag_id))
            ).all()
            events = self.ctx.services.get(EventPublisher)
            for target_type, target_id in targets:
                await events.publish(
                    session,
                    TagDetached(tag_id=tag_id, tag=tag.slug, target_type=target_type, target_id=target_id),
                    tenant_id=tenant_id,
                    actor_id=actor_id,
                )
            await session.delete(tag)
