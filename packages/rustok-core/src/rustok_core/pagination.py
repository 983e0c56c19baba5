"""Relay-style connections with keyset cursors.

Lists are read ``first + 1`` rows at a time, ordered by a unique key (usually the
ULID-based id, which sorts by creation time); the extra row tells whether there is a
next page. Cursors are opaque to clients (base64 of a versioned key).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from rustok_core.errors import Validation

T = TypeVar("T")
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_PREFIX = "v1:"


def page_size(first: int | None, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    if first is None:
        return default
    if not 1 <= first <= maximum:
        raise Validation(f"first must be between 1 and {maximum}", field="first")
    return first


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_PREFIX_BYTES = _PREFIX.encode()


def encode_cursor(key: str) -> str:
    return encode_cursor_bytes(key.encode())


def encode_cursor_bytes(key: bytes) -> str:
    """:func:`encode_cursor` of UTF-8 text given as bytes (e.g. ``orjson.dumps``: no decoding on the way)."""
    return binascii.b2a_base64(_PREFIX_BYTES + key, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Validation("invalid cursor", field="after") from None
    if not text.startswith(_PREFIX):
        raise Validation("invalid cursor", field="after")
    return text[len(_PREFIX) :]


def connection(rows: Sequence[T], size: int, key: Callable[[T], str]) -> dict[str, Any]:
    """Build ``{edges, page_info}`` from up to ``size + 1`` rows."""
    page = list(rows[:size])
    edges = [{"cursor": encode_cursor(key(row)), "node": row} for row in page]
    return {
        "edges": edges,
        "page_info": {"has_next_page": len(rows) > size, "end_cursor": edges[-1]["cursor"] if edges else None},
    }
