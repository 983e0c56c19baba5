"""Domain events of the forum module (``forum.*``).

Each is published in the transaction of the content write it describes, so a consumer
sees a forum event exactly when the change is committed. Content's own
``content.node.*`` events come with every write as well; the forum's events add what
only the forum knows (a topic was closed, a reply was hidden by a moderator).
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from rustok_core.errors import Validation
from rustok_core.events import DomainEvent


class TopicEvent(DomainEvent):
    topic_id: uuid.UUID
    category_id: uuid.UUID | None = Field(None, description="The topic's forum category.")


class TopicLocked(TopicEvent):
    """A moderator closed a topic: no reply can be added until it is unlocked."""

    event_type = "forum.topic.locked"


class TopicUnlocked(TopicEvent):
    """A moderator reopened a topic for replies."""

    event_type = "forum.topic.unlocked"


class TopicPinned(TopicEvent):
    """A moderator pinned a topic: it is listed before the others."""

    event_type = "forum.topic.pinned"


class TopicUnpinned(TopicEvent):
    """A moderator unpinned a topic: it is listed by activity again."""

    event_type = "forum.topic.unpinned"


class ReplyAdded(DomainEvent):
    """Someone replied in a topic, to the topic itself or to one of its replies."""

    event_type = "forum.reply.added"
    topic_id: uuid.UUID
    reply_id: uuid.UUID
    parent_id: uuid.UUID | None = Field(None, description="The reply answered; null when the reply answers the topic.")
    author_id: uuid.UUID | None = None

    def validate(self) -> None:  # type: ignore[override]
        if self.reply_id in (self.topic_id, self.parent_id) or self.parent_id == self.topic_id:
            raise Validation("a reply answers the topic or another reply, never itself", reason="EVENT_INVALID")


class ReplyModerated(DomainEvent):
    """A moderator hid a reply (it leaves the topic and its count) or restored it."""

    event_type = "forum.reply.moderated"
    reply_id: uuid.UUID
    topic_id: uuid.UUID
    action: Literal["hide", "restore"]
    reason: str | None = Field(None, description="What the moderator wrote about it, if anything.")

    def validate(self) -> None:  # type: ignore[override]
        if self.reply_id == self.topic_id:
            raise Validation("a reply is not its own topic", reason="EVENT_INVALID")


EVENT_TYPES: tuple[type[DomainEvent], ...] = (
    TopicLocked,
    TopicUnlocked,
    TopicPinned,
    TopicUnpinned,
    ReplyAdded,
    ReplyModerated,
)
