"""The response cache's store: LRU by entries and bytes, per-tenant generations, age as hygiene."""

from __future__ import annotations

import uuid

from rustok_index.responses.cache import ENTRY_OVERHEAD, ResponseCache

A = uuid.UUID(int=1)
B = uuid.UUID(int=2)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def cache(**limits: float) -> ResponseCache:
    settings = {"max_bytes": 1_000_000, "max_entries": 100, "ttl": 60.0, **limits}
    return ResponseCache(
        max_bytes=int(settings["max_bytes"]),
        max_entries=int(settings["max_entries"]),
        ttl=settings["ttl"],
        clock=settings.get("clock", Clock()),  # type: ignore[arg-type]
    )


def key(tenant: uuid.UUID, store: ResponseCache, name: str) -> tuple[object, ...]:
    return (tenant, store.generation(tenant), name)


def test_an_answer_is_kept_under_its_key():
    store = cache()
    assert store.get(key(A, store, "q")) is None
    assert store.put(key(A, store, "q"), A, store.generation(A), b'{"data":1}')
    assert store.get(key(A, store, "q")) == b'{"data":1}'
    assert len(store) == 1


def test_invalidating_a_tenant_drops_its_answers_and_moves_its_generation_only():
    store = cache()
    for tenant in (A, B):
        store.put(key(tenant, store, "q"), tenant, store.generation(tenant), b"x")
    generation_a, generation_b = store.generation(A), store.generation(B)
    assert store.invalidate(A) == 1
    assert store.generation(A) != generation_a
    assert store.generation(B) == generation_b
    assert store.get((A, generation_a, "q")) is None
    assert store.get(key(B, store, "q")) == b"x"
    assert store.bytes == len(b"x") + ENTRY_OVERHEAD + len("q")


def test_an_answer_computed_before_an_invalidation_is_not_kept():
    store = cache()
    read_before = store.generation(A)
    store.invalidate(A)  # the index changed while the answer was computed
    assert not store.put((A, read_before, "q"), A, read_before, b"stale")
    assert len(store) == 0


def test_least_recently_used_answers_go_first_beyond_the_entry_limit():
    store = cache(max_entries=2)
    for name in ("one", "two"):
        store.put(key(A, store, name), A, store.generation(A), name.encode())
    store.get(key(A, store, "one"))  # used: "two" is now the oldest
    store.put(key(A, store, "three"), A, store.generation(A), b"three")
    assert store.get(key(A, store, "two")) is None
    assert store.get(key(A, store, "one")) == b"one"
    assert store.evictions == 1


def test_the_byte_limit_holds_and_one_answer_cannot_take_an_eighth_of_it():
    store = cache(max_bytes=8 * (ENTRY_OVERHEAD + 1_000))
    assert not store.put(key(A, store, "huge"), A, store.generation(A), b"x" * (ENTRY_OVERHEAD + 1_000))
    for n in range(20):
        store.put(key(A, store, f"q{n}"), A, store.generation(A), b"x" * 500)
    assert store.bytes <= store.max_bytes
    assert store.get(key(A, store, "q19")) is not None
    assert store.get(key(A, store, "q0")) is None


def test_age_is_hygiene_an_old_answer_is_dropped_when_met():
    clock = Clock()
    store = cache(ttl=30.0, clock=clock)
    store.put(key(A, store, "q"), A, store.generation(A), b"x")
    clock.now += 29
    assert store.get(key(A, store, "q")) == b"x"
    clock.now += 2
    assert store.get(key(A, store, "q")) is None
    assert store.bytes == 0


def test_clearing_moves_every_tenant_to_a_new_generation():
    store = cache()
    generations = {tenant: store.generation(tenant) for tenant in (A, B)}
    store.put(key(A, store, "q"), A, generations[A], b"x")
    store.invalidate(B)
    store.clear()
    assert len(store) == 0 and store.bytes == 0
    assert all(store.generation(tenant) != generation for tenant, generation in generations.items())
    assert not store.put((A, generations[A], "q"), A, generations[A], b"late")
