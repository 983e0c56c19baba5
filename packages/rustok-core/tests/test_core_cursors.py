"""Keyset cursors: opaque, URL-safe, and read back exactly as written."""

from __future__ import annotations

import base64

import pytest

from rustok_core.errors import Validation
from rustok_core.pagination import decode_cursor, encode_cursor, encode_cursor_bytes

KEYS = [
    "",
    "a",
    "ab",
    "abc",
    '["NEWEST","2026-11-21T19:30:05.468099+00:00","01a1ff96-5810-ad12"]',
    "ünï\u00e7ødé ✓",
    "~~~???>>>",
]


@pytest.mark.parametrize("key", KEYS)
def test_a_cursor_reads_back_as_its_key_and_is_url_safe(key: str) -> None:
    cursor = encode_cursor(key)
    assert decode_cursor(cursor) == key
    assert not set(cursor) & set("+/=\n")
    assert encode_cursor_bytes(key.encode()) == cursor
    # The documented format: URL-safe base64 of "v1:" + key, without padding.
    assert cursor == base64.urlsafe_b64encode(("v1:" + key).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", ["***", base64.urlsafe_b64encode(b"v2:x").decode(), "dj", "\u00ff"])
def test_a_foreign_or_broken_cursor_is_a_validation_error(cursor: str) -> None:
    with pytest.raises(Validation) as caught:
        decode_cursor(cursor)
    assert [error.path for error in caught.value.field_errors] == [("after",)]
