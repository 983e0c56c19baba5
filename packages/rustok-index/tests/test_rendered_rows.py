"""The store of rendered rows: two generations, bounded, dropped whole when too old."""

from __future__ import annotations

import pytest

from rustok_index.services.rendered import LAST_PAGES, MAX_AGE_SECONDS, LastPage, RenderedRows


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_entries_used_within_the_last_generation_stay_and_older_ones_go() -> None:
    rendered = RenderedRows(3)
    for key in "abc":
        rendered.put(key, key.upper())
    assert [rendered.get(key) for key in "abc"] == ["A", "B", "C"]
    rendered.put("d", "D")  # the young generation was full: a, b, c are the old one now
    assert len(rendered) == 4
    assert rendered.get("a") == "A"  # used again: back in the young generation
    for key in "efg":
        rendered.put(key, key.upper())  # fills and turns the young generation over once more
    assert rendered.get("b") is None and rendered.get("c") is None  # not used for two generations
    assert rendered.get("a") == "A" and rendered.get("g") == "G"
    assert rendered.get("missing") is None


def test_the_store_never_holds_more_than_two_generations() -> None:
    rendered = RenderedRows(50)
    for n in range(1_000):
        rendered.put(n, str(n))
        assert len(rendered) <= 100
    assert rendered.get(999) == "999" and rendered.get(0) is None


def test_everything_is_dropped_once_the_store_is_too_old() -> None:
    clock = Clock()
    rendered = RenderedRows(10, clock=clock)
    rendered.put("a", "A")
    clock.now += MAX_AGE_SECONDS / 2
    rendered.refresh()
    assert rendered.get("a") == "A"
    clock.now += MAX_AGE_SECONDS / 2 + 1
    rendered.refresh()
    assert rendered.get("a") is None and len(rendered) == 0
    rendered.put("b", "B")  # a new life starts at the drop
    clock.now += MAX_AGE_SECONDS - 1
    rendered.refresh()
    assert rendered.get("b") == "B"


def test_a_store_keeps_at_least_one_entry_per_generation() -> None:
    with pytest.raises(ValueError):
        RenderedRows(0)


def test_last_pages_are_kept_per_listing_and_dropped_with_the_rendered_rows() -> None:
    clock = Clock()
    rendered = RenderedRows(10, clock=clock)
    page = LastPage("{a}", {"a": "A"})
    rendered.keep_page("listing", page)
    assert rendered.last_page("listing") is page and rendered.last_page("other") is None
    for n in range(LAST_PAGES):
        rendered.keep_page(n, page)
        if n == 0:
            assert rendered.last_page("listing") is page  # read again: the most recently used
    assert rendered.last_page(0) is None  # the least recently used went
    assert rendered.last_page("listing") is page and rendered.last_page(LAST_PAGES - 1) is page
    clock.now += MAX_AGE_SECONDS + 1
    rendered.refresh()  # no known version outlives the store (xmin comes round after 2**32 transactions)
    assert rendered.last_page(LAST_PAGES - 1) is None
