"""The content services: the only code that writes the content tables.

Other modules that depend on content (blog, forum, pages) build on these services;
they never touch the tables themselves.
"""

from rustok_content.services.categories import CategoryService, CategoryText
from rustok_content.services.inputs import KEEP, BodyInput, Keep, NewNode, NodeChanges, NodeQuery, TranslationInput
from rustok_content.services.media import MediaService, MediaText
from rustok_content.services.meta import MetaInput, MetaService
from rustok_content.services.nodes import NODE_TARGET, NodeService
from rustok_content.services.tags import TagService
from rustok_content.services.text import make_slug, pick_locale

__all__ = [
    "KEEP",
    "NODE_TARGET",
    "BodyInput",
    "CategoryService",
    "CategoryText",
    "Keep",
    "MediaService",
    "MediaText",
    "MetaInput",
    "MetaService",
    "NewNode",
    "NodeChanges",
    "NodeQuery",
    "NodeService",
    "TagService",
    "TranslationInput",
    "make_slug",
    "pick_locale",
]
