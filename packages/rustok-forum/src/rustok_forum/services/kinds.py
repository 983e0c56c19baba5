"""What the forum's records are in content's terms."""

from typing import Final

TOPIC: Final = "topic"
"""Node kind of a topic: a root node with a forum category; its body is the first post."""
REPLY: Final = "reply"
"""Node kind of a reply: a node below a topic (or below another reply of it)."""
CATEGORY_KIND: Final = "forum"
"""Category tree of the forum (content categories of this kind)."""
