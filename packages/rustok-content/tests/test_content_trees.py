"""Trees of nodes: reply counts on the root stay exact through every change; locked nodes take nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from rustok_content.services import NewNode, NodeChanges, NodeService, TranslationInput
from rustok_core.errors import Conflict, Validation
from rustok_server.boot import Platform


@pytest.fixture
async def tenant(make_tenant: Any) -> Any:
    return await make_tenant()


def draft(title: str, *, parent: Any = None, status: str = "published", kind: str = "thread") -> NewNode:
    return NewNode(
        kind=kind,
        status=status,
        parent_id=parent.id if parent is not None else None,
        translations=[TranslationInput("en", title)],
    )


async def counters(platform: Platform, node_id: Any) -> tuple[int, Any]:
    async with platform.ctx.db.engine.connect() as conn:
        row = (
            await conn.execute(text("SELECT reply_count, last_activity_at FROM nodes WHERE id = :id"), {"id": node_id})
        ).one()
    return row.reply_count, row.last_activity_at


async def published_below(platform: Platform, root_id: Any) -> int:
    async with platform.ctx.db.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    text("SELECT count(*) FROM nodes WHERE root_id = :r AND status = 'published'"), {"r": root_id}
                )
            ).scalar_one()
        )


async def test_reply_counts_follow_publishing_hiding_moving_and_deleting(
    rustok_platform: Platform, tenant: Any
) -> None:
    nodes = NodeService(rustok_platform.ctx)
    root = await nodes.create(tenant, draft("Root"), actor_id=None)
    a = await nodes.create(tenant, draft("A", parent=root), actor_id=None)
    a1 = await nodes.create(tenant, draft("A1", parent=a), actor_id=None)
    b = await nodes.create(tenant, draft("B", parent=root, status="draft"), actor_id=None)
    assert (a1.depth, a1.root_id) == (2, root.id)
    count, activity = await counters(rustok_platform, root.id)
    assert count == 2 == await published_below(rustok_platform, root.id)

    await nodes.set_status(tenant, b.id, "published", actor_id=None)
    count, later = await counters(rustok_platform, root.id)
    assert count == 3 and later >= activity
    await nodes.set_status(tenant, a1.id, "archived", actor_id=None)
    assert (await counters(rustok_platform, root.id))[0] == 2

    # A second tree takes over A's subtree (A published, A1 archived): one reply moves.
    other = await nodes.create(tenant, draft("Other"), actor_id=None)
    await nodes.update(tenant, a.id, NodeChanges(parent_id=other.id), expected_version=a.version, actor_id=None)
    assert (await counters(rustok_platform, root.id))[0] == 1 == await published_below(rustok_platform, root.id)
    assert (await counters(rustok_platform, other.id))[0] == 1 == await published_below(rustok_platform, other.id)
    moved = await nodes.get(tenant.id, a1.id)
    assert (moved.root_id, moved.depth) == (other.id, 2)

    # Detached, A becomes a root: it counts what is below it (A1 is archived: nothing).
    current = await nodes.get(tenant.id, a.id)
    await nodes.update(tenant, a.id, NodeChanges(parent_id=None), expected_version=current.version, actor_id=None)
    assert (await counters(rustok_platform, other.id))[0] == 0
    assert (await nodes.get(tenant.id, a1.id)).root_id == a.id
    await nodes.set_status(tenant, a1.id, "published", actor_id=None)
    assert (await counters(rustok_platform, a.id))[0] == 1

    await nodes.delete(tenant, b.id, actor_id=None)
    assert (await counters(rustok_platform, root.id))[0] == 0 == await published_below(rustok_platform, root.id)


async def test_concurrent_replies_are_all_counted(rustok_platform: Platform, tenant: Any) -> None:
    nodes = NodeService(rustok_platform.ctx)
    root = await nodes.create(tenant, draft("Busy"), actor_id=None)
    await asyncio.gather(*(nodes.create(tenant, draft(f"R{n}", parent=root), actor_id=None) for n in range(25)))
    assert (await counters(rustok_platform, root.id))[0] == 25 == await published_below(rustok_platform, root.id)


async def test_nothing_may_be_added_below_a_locked_node_or_in_its_thread(
    rustok_platform: Platform, tenant: Any
) -> None:
    nodes = NodeService(rustok_platform.ctx)
    root = await nodes.create(tenant, draft("Closed"), actor_id=None)
    reply = await nodes.create(tenant, draft("Early", parent=root), actor_id=None)
    root = await nodes.update(tenant, root.id, NodeChanges(locked=True), expected_version=root.version, actor_id=None)
    for parent in (root, reply):
        with pytest.raises(Conflict) as refused:
            await nodes.create(tenant, draft("Late", parent=parent), actor_id=None)
        assert refused.value.details["reason"] == "LOCKED"
    assert (await counters(rustok_platform, root.id))[0] == 1
    await nodes.update(tenant, root.id, NodeChanges(locked=False), expected_version=root.version, actor_id=None)
    await nodes.create(tenant, draft("Reopened", parent=reply), actor_id=None)
    assert (await counters(rustok_platform, root.id))[0] == 2


async def test_a_node_cannot_move_below_itself(rustok_platform: Platform, tenant: Any) -> None:
    nodes = NodeService(rustok_platform.ctx)
    top = await nodes.create(tenant, draft("Top"), actor_id=None)
    child = await nodes.create(tenant, draft("Child", parent=top), actor_id=None)
    with pytest.raises(Validation):
        await nodes.update(tenant, top.id, NodeChanges(parent_id=child.id), expected_version=top.version, actor_id=None)
    assert (await nodes.get(tenant.id, top.id)).parent_id is None


async def test_deleting_a_subtree_deletes_everything_below(rustok_platform: Platform, tenant: Any) -> None:
    nodes = NodeService(rustok_platform.ctx)
    root = await nodes.create(tenant, draft("Root"), actor_id=None)
    middle = await nodes.create(tenant, draft("Middle", parent=root), actor_id=None)
    for n in range(3):
        await nodes.create(tenant, draft(f"Leaf {n}", parent=middle), actor_id=None)
    await nodes.delete(tenant, middle.id, actor_id=None)
    assert (await counters(rustok_platform, root.id))[0] == 0
    async with rustok_platform.ctx.db.engine.connect() as conn:
        left = (await conn.execute(text("SELECT count(*) FROM nodes WHERE root_id = :r"), {"r": root.id})).scalar_one()
        deleted = (
            await conn.execute(
                text(
                    "SELECT payload->>'descendants' FROM sys_events WHERE event_type = 'content.node.deleted' "
                    "AND payload->>'node_id' = :id"
                ),
                {"id": str(middle.id)},
            )
        ).scalar_one()
    assert left == 0 and deleted == "3"
