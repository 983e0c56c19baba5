"""Domain events of the pages module (``pages.*``).

Pages themselves are content nodes of kind ``page``: their creation, edits, moves,
publication and deletion travel as ``content.node.*`` events (payload ``kind: page``).
The events below cover what the pages module stores itself: blocks and menus.
"""

from __future__ import annotations

import uuid

from pydantic import Field

from rustok_core.events import DomainEvent


class BlocksUpdated(DomainEvent):
    event_type = "pages.blocks.updated"
    page_id: uuid.UUID
    locale: str
    count: int = Field(ge=0, description="How many blocks the page has in this locale now.")


class MenuUpdated(DomainEvent):
    event_type = "pages.menu.updated"
    menu_id: uuid.UUID
    slug: str
    version: int = Field(ge=1, description="The menu's version after the change.")


class MenuDeleted(DomainEvent):
    event_type = "pages.menu.deleted"
    menu_id: uuid.UUID
    slug: str


EVENT_TYPES: tuple[type[DomainEvent], ...] = (BlocksUpdated, MenuUpdated, MenuDeleted)
