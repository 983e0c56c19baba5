"""External services in tests: run for real when reachable, skip otherwise.

CI sets ``RUSTOK_TEST_REQUIRE_SERVICES=1``: a test that would skip for a missing
service fails instead, so a broken CI service can never pass silently.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

REQUIRE_ENV = "RUSTOK_TEST_REQUIRE_SERVICES"


def services_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip the test for a missing service, or fail it when services are required."""
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV} is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def require_service(name: str, env_var: str, default_port: int) -> str:
    """Return the service URL from ``env_var`` if the service answers a TCP connect."""
    url = os.environ.get(env_var)
    if not url:
        unavailable(f"{name} not configured: set {env_var}")
        raise AssertionError("unreachable")
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError as exc:
        unavailable(f"{name} at {host}:{port} is not reachable: {exc}")
    return url
