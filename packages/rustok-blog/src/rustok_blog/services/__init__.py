"""The blog services: posts and comments, written through content's services."""

from rustok_blog.services.comments import (
    COMMENT_KIND,
    MODERATION_STATUS,
    MODERATIONS,
    STATUS_MODERATION,
    CommentService,
    NewComment,
    moderation_of,
)
from rustok_blog.services.posts import CATEGORY_KIND, POST_KIND, NewPost, PostChanges, PostQuery, PostService

__all__ = [
    "CATEGORY_KIND",
    "COMMENT_KIND",
    "MODERATIONS",
    "MODERATION_STATUS",
    "POST_KIND",
    "STATUS_MODERATION",
    "CommentService",
    "NewComment",
    "NewPost",
    "PostChanges",
    "PostQuery",
    "PostService",
    "moderation_of",
]
