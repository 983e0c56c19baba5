"""Projections: which columns a set of node keys selects, and the nodes built from rows."""

from __future__ import annotations

import uuid

from rustok_index.services.shapes import CONTENT, PRODUCT


def test_a_projection_selects_only_the_columns_of_its_keys_and_builds_only_those_keys() -> None:
    projection = PRODUCT.project({"handle", "prices", "in_stock", "no_such_key"})
    assert set(projection.columns) == {"handle", "prices", "has_stock"}
    row = ("sort", "key")
    values = {
        "handle": "linen-scarf",
        "has_stock": True,
        "prices": {"USD": {"min": 5, "max": 9}, "EUR": {"min": 4, "max": 8}},
    }
    node = projection.build((*row, *(values[c] for c in projection.columns)), 2)
    assert node == {
        "handle": "linen-scarf",
        "in_stock": True,
        # made keys: one entry per currency, in currency order
        "prices": [{"currency": "EUR", "min": 4, "max": 8}, {"currency": "USD", "min": 5, "max": 9}],
    }


def test_a_key_made_of_several_columns_takes_them_in_its_order() -> None:
    projection = CONTENT.project({"category", "author", "title"})
    category_id, author_id = uuid.uuid4(), uuid.uuid4()
    values = {
        "title": "Hello",
        "author_id": author_id,
        "author_name": "Ann",
        "category_id": category_id,
        "category_name": "News",
        "category_slug": "news",
    }
    node = projection.build(tuple(values[c] for c in projection.columns), 0)
    assert node == {
        "title": "Hello",
        "author": {"id": author_id, "name": "Ann"},
        "category": {"id": category_id, "name": "News", "slug": "news"},
    }
    values["category_id"] = None
    assert projection.build(tuple(values[c] for c in projection.columns), 0)["category"] is None


def test_every_key_is_built_by_the_full_projection_and_the_same_keys_share_one_projection() -> None:
    full = PRODUCT.project(None)
    assert set(full.build(tuple([None] * len(full.columns)), 0)) == PRODUCT.keys
    assert PRODUCT.project(["title", "handle"]) is PRODUCT.project({"handle", "title"})
    assert PRODUCT.project([]).build((1, 2), 2) == {}
