"""Identifiers: UUIDs built from ULIDs, so ids sort by creation time.

Every primary key in RusToK is a :class:`uuid.UUID` whose 128 bits are a ULID
(48-bit millisecond timestamp + 80 random bits). Inputs accept either form of text:
the 26-character Crockford base32 ULID or the canonical UUID.
"""

from __future__ import annotations

import uuid

from ulid import ULID

from rustok_core.errors import Validation


def generate_id() -> uuid.UUID:
    """Return a new time-sortable id (a ULID stored as a UUID)."""
    return ULID().to_uuid()


def parse_id(value: str | uuid.UUID, *, field: str = "id") -> uuid.UUID:
    """Parse ULID or UUID text into a UUID; anything else is a ``VALIDATION`` error."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise Validation(f"{field} must be a ULID or UUID string", field=field)
    text = value.strip()
    if len(text) == 26:
        try:
            return ULID.from_str(text.upper()).to_uuid()
        except ValueError:
            pass
    else:
        try:
            return uuid.UUID(text)
        except ValueError:
            pass
    raise Validation(f"{field} is not a valid ULID or UUID: {value!r}", field=field)


def id_to_ulid(value: uuid.UUID) -> str:
    """Render an id as its ULID text (handy for logs and human-facing references)."""
    return str(ULID.from_uuid(value))
