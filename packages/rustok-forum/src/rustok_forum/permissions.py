"""Permissions declared by the forum module.

Customers start topics and reply, and change what they wrote (``own`` scope); editors
do everything, moderation included. ``forum_moderation:manage`` is what a tenant gives
a moderator role: lock, pin, hide and restore, edit and delete anyone's posts.
"""

from rustok_core.permissions import Permission, Scope

EVERYONE: dict[str, Scope] = {"customer": "all", "editor": "all"}
AUTHORS: dict[str, Scope] = {"customer": "own", "editor": "all"}
EDITORS: dict[str, Scope] = {"editor": "all"}

TOPICS_CREATE = "forum_topics:create"
TOPICS_UPDATE = "forum_topics:update"
REPLIES_CREATE = "forum_replies:create"
REPLIES_UPDATE = "forum_replies:update"
MODERATION = "forum_moderation:manage"
CATEGORIES_MANAGE = "forum_categories:manage"

PERMISSIONS = (
    Permission("forum_topics", "create", "Start topics", grants=EVERYONE),
    Permission("forum_topics", "update", "Edit topics (with 'own' scope: one's own)", grants=AUTHORS),
    Permission("forum_replies", "create", "Reply in topics", grants=EVERYONE),
    Permission("forum_replies", "update", "Edit and delete replies (with 'own' scope: one's own)", grants=AUTHORS),
    Permission(
        "forum_moderation",
        "manage",
        "Lock and pin topics, hide and restore replies, edit and delete anyone's topics and replies",
        grants=EDITORS,
    ),
    Permission("forum_categories", "manage", "Create, change and delete forum categories", grants=EDITORS),
)
