"""Retry delays: exponential from ``backoff_base`` to ``backoff_max``, with jitter."""

from __future__ import annotations

import random

from rustok_core.settings import EventSettings


def retry_delay(attempts: int, settings: EventSettings, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failure (1 → ~base, doubling, capped).

    Jitter spreads retries of events that failed together by ±20 %.
    """
    base = min(settings.backoff_base * (2 ** max(attempts - 1, 0)), settings.backoff_max)
    jitter = (rng or random).uniform(0.8, 1.2)
    return float(min(base * jitter, settings.backoff_max))
