"""What callers hand to the pages services (plain data; the API layers build it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rustok_content.services import KEEP, BodyInput, Keep
from rustok_pages.services.blocks import BlockDraft


@dataclass(frozen=True)
class PageText:
    """One locale of a page. On update ``None`` keeps a field; ``blocks=[]`` clears the blocks."""

    locale: str
    title: str | None = None
    segment: str | None = None
    """The last part of the path; made from the title when a locale is added without one."""
    excerpt: str | None = None
    body: BodyInput | None = None
    blocks: Sequence[BlockDraft] | None = None
    """The locale's complete list of blocks (replaces the stored ones); ``None`` keeps them."""


@dataclass(frozen=True)
class NewPage:
    translations: Sequence[PageText]
    parent_id: uuid.UUID | None = None
    position: int = 0
    status: str = "draft"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    author_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PageChanges:
    """An update: only what is given changes. ``parent_id=None`` moves the page to the top."""

    translations: Sequence[PageText] = ()
    remove_locales: Sequence[str] = ()
    parent_id: uuid.UUID | Keep | None = KEEP
    position: int | None = None
    metadata: Mapping[str, Any] | None = None
    """Replaces the page's metadata object."""


@dataclass(frozen=True)
class MenuLink:
    """A menu item as a client sends it: a label per locale and exactly one target."""

    labels: Sequence[tuple[str, str]] = ()
    """(locale, label) pairs; page and node links may leave a locale out (the node's title is used)."""
    page_id: uuid.UUID | None = None
    node_id: uuid.UUID | None = None
    url: str | None = None
    open_in_new_tab: bool = False
    children: Sequence[MenuLink] = ()
