"""Permissions declared by the pages module.

Editors do everything with pages and menus; managers may read drafts. Everyone may
read published pages and menus (those fields are ``@public``). ``own``-scoped grants
(for a tenant role such as an "author") let a user change only pages they created.
"""

from rustok_core.permissions import Permission, Scope

EDITORS: dict[str, Scope] = {"editor": "all"}
STAFF: dict[str, Scope] = {"manager": "all", "editor": "all"}

PAGES_READ = "pages:read"
PAGES_CREATE = "pages:create"
PAGES_UPDATE = "pages:update"
PAGES_PUBLISH = "pages:publish"
PAGES_DELETE = "pages:delete"
MENUS_MANAGE = "pages_menus:manage"

PERMISSIONS = (
    Permission("pages", "read", "See pages in any status (drafts, archived)", grants=STAFF),
    Permission("pages", "create", "Create pages with their blocks", grants=EDITORS),
    Permission("pages", "update", "Change, rename and move pages and replace their blocks", grants=EDITORS),
    Permission("pages", "publish", "Publish, unpublish and archive pages", grants=EDITORS),
    Permission("pages", "delete", "Delete pages with everything below them", grants=EDITORS),
    Permission("pages_menus", "manage", "Create, replace and delete menus", grants=EDITORS),
)
