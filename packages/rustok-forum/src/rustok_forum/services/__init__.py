"""The forum services. The forum owns no tables: topics and replies are content nodes,
forum categories are content categories, and every write goes through content's
services — in one transaction with the forum's own event where there is one.
"""

from rustok_forum.services.categories import ForumCategoryService
from rustok_forum.services.kinds import CATEGORY_KIND, REPLY, TOPIC
from rustok_forum.services.replies import MAX_REPLY_CHARS, ReplyService, moderation_record
from rustok_forum.services.topics import NewTopic, TopicChanges, TopicService

__all__ = [
    "CATEGORY_KIND",
    "MAX_REPLY_CHARS",
    "REPLY",
    "TOPIC",
    "ForumCategoryService",
    "NewTopic",
    "ReplyService",
    "TopicChanges",
    "TopicService",
    "moderation_record",
]
