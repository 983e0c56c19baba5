"""rustok_core.lru.LRU: bounded, least recently used forgotten first."""

from __future__ import annotations

import pytest

from rustok_core.lru import LRU


def test_the_least_recently_used_entry_is_forgotten_first() -> None:
    kept: LRU[str, int] = LRU(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" is now the most recent
    kept.put("c", 3)
    assert "b" not in kept
    assert kept.get("a") == 1
    assert kept.get("c") == 3
    assert len(kept) == 2


def test_putting_a_kept_key_again_replaces_it_and_makes_it_recent() -> None:
    kept: LRU[str, int] = LRU(2)
    kept.put("a", 1)
    kept.put("b", 2)
    kept.put("a", 10)
    kept.put("c", 3)
    assert kept.get("a") == 10
    assert kept.get("b") is None
    assert len(kept) == 2


def test_a_capacity_of_zero_keeps_nothing() -> None:
    kept: LRU[str, int] = LRU(0)
    kept.put("a", 1)
    assert kept.get("a") is None
    assert len(kept) == 0


def test_pop_and_clear_forget_entries() -> None:
    kept: LRU[str, int] = LRU(3)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.pop("a") == 1
    assert kept.pop("a") is None
    assert "a" not in kept
    kept.clear()
    assert len(kept) == 0
    assert kept.get("b") is None


def test_falsy_values_are_hits_but_none_is_refused() -> None:
    kept: LRU[str, list[int]] = LRU(2)
    kept.put("empty", [])
    assert kept.get("empty") == []
    with pytest.raises(ValueError, match="None"):
        kept.put("nothing", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        LRU(-1)
