"""Domain events of the blog module (``blog.*``).

Published in the same transaction as the node write they describe. Every write of a
post or comment also publishes content's ``content.node.*`` events (``kind`` ``post``
or ``comment``); the blog events add what only the blog knows: which post a comment
belongs to and where it stands in moderation.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import ConfigDict, Field

from rustok_core.errors import Validation
from rustok_core.events import DomainEvent

Moderation = Literal["pending", "approved", "spam"]


class CommentEvent(DomainEvent):
    comment_id: uuid.UUID
    post_id: uuid.UUID


class CommentAdded(CommentEvent):
    """A comment was written on a post; parent_id is the comment it answers (null: the post itself)."""

    event_type = "blog.comment.added"
    parent_id: uuid.UUID | None = None
    moderation: Moderation = Field(description="pending, or approved when its author may moderate.")
    author_id: uuid.UUID | None = None


class CommentModerated(CommentEvent):
    """A moderator moved a comment from one moderation state to another."""

    event_type = "blog.comment.moderated"
    model_config = ConfigDict(populate_by_name=True)

    # ``from`` is a Python keyword: the fields are ``from_``/``to`` in code, ``from``/``to`` on the wire.
    from_: Moderation = Field(alias="from", description="The state it left.")
    to: Moderation = Field(description="The state it is in now.")

    def validate(self) -> None:  # type: ignore[override]
        if self.from_ == self.to:
            raise Validation("a moderation event needs two different states", field="payload.to")

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        return data


class CommentDeleted(CommentEvent):
    """A comment was deleted, with every reply below it."""

    event_type = "blog.comment.deleted"
    parent_id: uuid.UUID | None = None
    moderation: Moderation = Field(description="The state it was in.")


EVENT_TYPES: tuple[type[DomainEvent], ...] = (CommentAdded, CommentModerated, CommentDeleted)
