"""Permissions declared by the content module.

Editors may do everything with content; managers read it. ``own``-scoped grants (for
tenant roles such as an "author") let a user change only the nodes they wrote.
"""

from rustok_core.permissions import Permission, Scope

EDITORS: dict[str, Scope] = {"editor": "all"}
STAFF: dict[str, Scope] = {"manager": "all", "editor": "all"}

NODES_READ = "content_nodes:read"
NODES_CREATE = "content_nodes:create"
NODES_UPDATE = "content_nodes:update"
NODES_PUBLISH = "content_nodes:publish"
NODES_DELETE = "content_nodes:delete"
CATEGORIES_MANAGE = "content_categories:manage"
TAGS_MANAGE = "content_tags:manage"
META_UPDATE = "content_meta:update"
MEDIA_READ = "content_media:read"
MEDIA_UPLOAD = "content_media:upload"
MEDIA_UPDATE = "content_media:update"
MEDIA_DELETE = "content_media:delete"

PERMISSIONS = (
    Permission("content_nodes", "read", "See content nodes in any status, with revisions", grants=STAFF),
    Permission("content_nodes", "create", "Create content nodes", grants=EDITORS),
    Permission("content_nodes", "update", "Change content nodes, their translations and tags", grants=EDITORS),
    Permission("content_nodes", "publish", "Publish, unpublish and archive content nodes", grants=EDITORS),
    Permission("content_nodes", "delete", "Delete content nodes with everything below them", grants=EDITORS),
    Permission("content_categories", "manage", "Create, change and delete categories", grants=EDITORS),
    Permission("content_tags", "manage", "Rename and delete tags", grants=EDITORS),
    Permission("content_meta", "update", "Set SEO and OpenGraph data", grants=EDITORS),
    Permission("content_media", "read", "List uploaded media", grants=STAFF),
    Permission("content_media", "upload", "Upload media", grants=EDITORS),
    Permission("content_media", "update", "Change alt texts and captions of media", grants=EDITORS),
    Permission("content_media", "delete", "Delete media", grants=EDITORS),
)
