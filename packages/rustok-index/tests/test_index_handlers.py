"""Which entities each event makes the index ask about, and what an owner's answer must look like.

Events are built as the envelopes the dispatcher hands over (payloads shaped like the
content and commerce event classes); the reindexing itself is exercised end to end in
``tests/test_index_content_scenario.py``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from rustok_core.events import EventEnvelope
from rustok_core.index import CONTENT, PRODUCT, ContentDocument
from rustok_index.handlers import EVENTS_OF_TYPE, WATCHED, _Pending, collect
from rustok_index.services.owners import IndexContractError, check_documents

from .conftest import product


def envelope(event_type: str, **payload: Any) -> EventEnvelope:
    return EventEnvelope(
        id=uuid.uuid4(),
        event_type=event_type,
        schema_version=1,
        tenant_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        payload={k: str(v) if isinstance(v, uuid.UUID) else v for k, v in payload.items()},
    )


def collected(*envelopes: EventEnvelope) -> _Pending:
    pending = _Pending()
    for each in envelopes:
        collect(each, pending)
    return pending


def test_node_events_reindex_the_node_its_parent_and_its_root() -> None:
    node, parent, root = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    pending = collected(envelope("content.node.published", node_id=node, kind="reply", parent_id=parent, root_id=root))
    assert pending.content == {node, parent, root} and not pending.trees


def test_a_deleted_subtree_reindexes_its_whole_tree() -> None:
    node, root = uuid.uuid4(), uuid.uuid4()
    leaf = collected(envelope("content.node.deleted", node_id=node, kind="reply", root_id=root, descendants=0))
    assert leaf.content == {node, root} and not leaf.trees
    branch = collected(envelope("content.node.deleted", node_id=node, kind="reply", root_id=root, descendants=3))
    assert branch.trees == {root}
    top = collected(envelope("content.node.deleted", node_id=node, kind="topic", descendants=3))
    assert top.trees == {node}


def test_taxonomy_and_meta_events_reach_nodes_only() -> None:
    node, category = uuid.uuid4(), uuid.uuid4()
    pending = collected(
        envelope("content.tag.attached", tag_id=uuid.uuid4(), tag="x", target_type="node", target_id=node),
        envelope("content.tag.detached", tag_id=uuid.uuid4(), tag="x", target_type="media", target_id=uuid.uuid4()),
        envelope("content.meta.updated", target_type="node", target_id=node, locale="en"),
        envelope("content.category.updated", category_id=category, kind="blog", slug="news"),
    )
    assert pending.content == {node} and pending.categories == {category}


def test_commerce_events_name_their_products() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    pending = collected(
        envelope("commerce.product.updated", product_id=a, version=2, changed=["title"]),
        envelope("commerce.price.updated", variant_id=uuid.uuid4(), product_id=b, currency_code="EUR", amount=100),
        envelope(
            "commerce.inventory.updated",
            inventory_item_id=uuid.uuid4(),
            location_id=uuid.uuid4(),
            variant_ids=[],
            product_ids=[str(c), str(a)],
            stocked=1,
            reserved=0,
            available=1,
            reason="restock",
        ),
        envelope("commerce.price_list.changed", price_list_id=uuid.uuid4(), action="deleted", product_ids=[str(b)]),
    )
    assert pending.products == {a, b, c} and not pending.content


def test_every_watched_event_belongs_to_a_type_and_orders_are_ignored() -> None:
    assert set(EVENTS_OF_TYPE[CONTENT]) | set(EVENTS_OF_TYPE[PRODUCT]) == WATCHED
    assert "commerce.order.placed" not in WATCHED and "content.media.uploaded" not in WATCHED


def test_owners_must_answer_with_the_right_documents() -> None:
    asked = uuid.uuid4()
    good = product(asked)
    assert check_documents("commerce", PRODUCT, [asked], [good]) == [good]
    content = ContentDocument(asked, "en", "article", "T", "t", "published")
    cases = [
        ([content], "returned a ContentDocument"),
        ([product(uuid.uuid4())], "not asked about"),
        ([good, product(asked)], "two 'en' documents"),
    ]
    for answer, message in cases:
        with pytest.raises(IndexContractError, match=message):
            check_documents("commerce", PRODUCT, [asked], answer)
