"""Identifiers: UUIDs built from ULIDs, so ids sort by creation time.

Every primary key in RusToK is a :class:`uuid.UUID` whose 128 bits are a ULID
(48-bit millisecond timestamp + 80 random bits). Inputs accept either form of text:
the 26-character Crockford base32 ULID or the canonical UUID.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable

from ulid import ULID

from rustok_core.errors import Validation


def generate_id() -> uuid.UUID:
    """Return a new time-sortable id (a ULID stored as a UUID)."""
    return ULID().to_uuid()


def find_id(text: str) -> uuid.UUID | None:
    """ULID or UUID text (surrounding blanks ignored) as a UUID; ``None`` when it is neither.

    For text that may be an id or something else (a tenant key: id or slug). Text too
    short to be either is refused without trying a parser (no exception raised and caught).
    """
    text = text.strip()
    if len(text) == 26:
        try:
            return ULID.from_str(text.upper()).to_uuid()
        except ValueError:
            return None
    if len(text) < 32:  # every UUID form holds 32 hex digits
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def parse_id(value: str | uuid.UUID, *, field: str = "id") -> uuid.UUID:
    """Parse ULID or UUID text into a UUID; anything else is a ``VALIDATION`` error."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise Validation(f"{field} must be a ULID or UUID string", field=field)
    found = find_id(value)
    if found is None:
        raise Validation(f"{field} is not a valid ULID or UUID: {value!r}", field=field)
    return found


def id_to_ulid(value: uuid.UUID) -> str:
    """Render an id as its ULID text (handy for logs and human-facing references)."""
    return str(ULID.from_uuid(value))


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = tuple(high + low for high in _CROCKFORD for low in _CROCKFORD)
"""Every 10-bit value as its two Crockford base32 characters."""
_TAIL_BITS = 20
_TAIL_MAX = (1 << _TAIL_BITS) - 1
_HEAD_LIMIT = 1 << 60


def _base32(value: int, pairs: int) -> str:
    """``value`` as ``2 * pairs`` Crockford base32 characters, most significant first."""
    return "".join(_PAIRS[(value >> (10 * i)) & 1023] for i in reversed(range(pairs)))


class UlidTexts:
    """New ULIDs as text (26 characters), cheap enough to name every request.

    :func:`generate_id` draws 80 random bits per call and builds objects to render
    them; this draws them once per millisecond and, within it, counts up from there
    (the ULID spec's monotonic mode), so the texts stay unique and sort by creation.
    The random part is kept as a 60-bit head, rendered when it changes, and a 20-bit
    tail rendered per call. Not thread-safe: use one per event loop. ``clock`` (Unix time
    in nanoseconds) and ``randomness`` (``n`` random bytes) are injectable for tests.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], int] = time.time_ns,
        randomness: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._clock = clock
        self._randomness = randomness
        self._millisecond = -1
        self._prefix = ""
        self._head = 0
        self._tail = 0

    def next(self) -> str:
        millisecond = self._clock() // 1_000_000
        if millisecond != self._millisecond:
            self._millisecond = millisecond
            self._start(int.from_bytes(self._randomness(10), "big"))
        elif self._tail < _TAIL_MAX:
            self._tail += 1
        elif self._head + 1 < _HEAD_LIMIT:
            self._head += 1
            self._tail = 0
            self._render_prefix()
        else:  # the 80 bits ran out within one millisecond: draw again (still unique, not in order)
            self._start(int.from_bytes(self._randomness(10), "big"))
        tail = self._tail
        return self._prefix + _PAIRS[tail >> 10] + _PAIRS[tail & 1023]

    def _start(self, randomness: int) -> None:
        self._head = randomness >> _TAIL_BITS
        self._tail = randomness & _TAIL_MAX
        self._render_prefix()

    def _render_prefix(self) -> None:
        """The 48-bit millisecond (10 characters) and the head (12 characters)."""
        self._prefix = _base32(self._millisecond, 5) + _base32(self._head, 6)
