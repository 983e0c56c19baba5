"""What callers hand to the content services (plain data; the API layers build it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final


class Keep:
    """Marker for "leave this field as it is" where ``None`` is a real value."""

    _instance: Keep | None = None

    def __new__(cls) -> Keep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()


@dataclass(frozen=True)
class BodyInput:
    format: str
    source: str


@dataclass(frozen=True)
class TranslationInput:
    """One locale's text. On update, ``None`` keeps a field; ``excerpt=""`` clears it."""

    locale: str
    title: str | None = None
    slug: str | None = None
    excerpt: str | None = None
    body: BodyInput | None = None


@dataclass(frozen=True)
class NewNode:
    kind: str
    translations: Sequence[TranslationInput]
    status: str = "draft"
    parent_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    tags: Sequence[str] = ()
    position: int = 0
    metadata: Mapping[str, Any] = field(default_factory=dict)
    pinned: bool = False
    locked: bool = False
    author_id: uuid.UUID | None = None


@dataclass(frozen=True)
class NodeChanges:
    """An update: only what is given changes (``KEEP``/``None`` leave a field alone)."""

    translations: Sequence[TranslationInput] = ()
    remove_locales: Sequence[str] = ()
    parent_id: uuid.UUID | Keep | None = KEEP
    category_id: uuid.UUID | Keep | None = KEEP
    tags: Sequence[str] | None = None
    """The complete new set of tags (names); ``None`` keeps the tags."""
    position: int | None = None
    metadata: Mapping[str, Any] | None = None
    """Replaces the metadata object."""
    pinned: bool | None = None
    locked: bool | None = None

    @property
    def empty(self) -> bool:
        return (
            not self.translations
            and not self.remove_locales
            and self.parent_id is KEEP
            and self.category_id is KEEP
            and self.tags is None
            and self.position is None
            and self.metadata is None
            and self.pinned is None
            and self.locked is None
        )


ORDERS = ("created", "published", "position", "activity")


@dataclass(frozen=True)
class NodeQuery:
    """A filtered, ordered slice of nodes.

    ``parent_id=None`` lists roots only; ``KEEP`` does not filter on the parent.
    ``order``: ``created`` (newest first), ``published`` (latest published first),
    ``position`` (manual order), ``activity`` (pinned first, then latest activity).
    """

    kind: str | None = None
    statuses: Sequence[str] | None = None
    parent_id: uuid.UUID | Keep | None = KEEP
    root_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    tag: str | None = None
    author_id: uuid.UUID | None = None
    order: str = "created"
    first: int = 20
    after: str | None = None
