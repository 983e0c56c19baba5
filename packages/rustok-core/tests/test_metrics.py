"""Lock-free metric families expose what prometheus_client's own metrics expose for the same counts."""

from __future__ import annotations

import threading

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from rustok_core.metrics import LoopCounter, LoopHistogram

BUCKETS = (0.001, 0.005, 0.01, 0.1, 1.0)


def exposition(registry: CollectorRegistry) -> list[str]:
    """The registry's text, without the ``_created`` samples only prometheus_client's own metrics have."""
    lines = generate_latest(registry).decode().splitlines()
    return [line for line in lines if "_created" not in line]


def test_a_counter_family_reads_like_prometheus_clients_counter() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LoopCounter("shop_requests", "Requests served", ["method", "status"], registry=ours)
    reference = Counter("shop_requests", "Requests served", ["method", "status"], registry=theirs)
    for method, status, amount in [("GET", "200", 1), ("GET", "200", 2.5), ("POST", "500", 1), ("GET", "404", 0)]:
        mine.labels(method, status).inc(amount)
        reference.labels(method, status).inc(amount)

    assert exposition(ours) == exposition(theirs)
    assert mine.labels("GET", "200").value == 3.5
    assert ours.get_sample_value("shop_requests_total", {"method": "POST", "status": "500"}) == 1


def test_a_histogram_family_buckets_like_prometheus_clients_histogram() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LoopHistogram("shop_seconds", "Durations", ["route"], buckets=BUCKETS, registry=ours)
    reference = Histogram("shop_seconds", "Durations", ["route"], buckets=BUCKETS, registry=theirs)
    # Values on a bound belong to its bucket (``le``), values past the last bound to +Inf.
    for route, value in [("/a", 0.0004), ("/a", 0.001), ("/a", 0.0011), ("/a", 0.1), ("/a", 7.0), ("/b", 0.005)]:
        mine.labels(route).observe(value)
        reference.labels(route).observe(value)

    assert exposition(ours) == exposition(theirs)
    assert ours.get_sample_value("shop_seconds_bucket", {"route": "/a", "le": "0.001"}) == 2
    assert ours.get_sample_value("shop_seconds_count", {"route": "/a"}) == 5


def test_labels_and_amounts_are_checked() -> None:
    registry = CollectorRegistry()
    counter = LoopCounter("shop_events", "Events", ["kind"], registry=registry)
    with pytest.raises(ValueError, match="takes labels"):
        counter.labels("a", "b")
    with pytest.raises(ValueError, match="only increase"):
        counter.labels("a").inc(-1)
    with pytest.raises(ValueError, match="distinct"):
        LoopHistogram("shop_bad", "Bad", buckets=(1.0, 1.0))
    # A second family of the same name in one registry is refused, as for prometheus_client's metrics.
    with pytest.raises(ValueError, match="Duplicated"):
        LoopCounter("shop_events", "Events again", ["kind"], registry=registry)


def test_a_scrape_from_another_thread_sees_every_child_while_the_loop_adds_children() -> None:
    registry = CollectorRegistry()
    counter = LoopCounter("shop_hits", "Hits", ["key"], registry=registry)
    stop = threading.Event()
    errors: list[BaseException] = []

    def scrape() -> None:
        while not stop.is_set():
            try:
                generate_latest(registry)
            except BaseException as exc:  # a dict changing size under the scrape would land here
                errors.append(exc)
                return

    scraper = threading.Thread(target=scrape)
    scraper.start()
    try:
        for n in range(20_000):
            counter.labels(str(n)).inc()
    finally:
        stop.set()
        scraper.join()
    assert errors == []
    assert registry.get_sample_value("shop_hits_total", {"key": "19999"}) == 1
