"""Permissions declared by the blog module.

Editors run the blog; customers comment. ``own``-scoped grants (for tenant roles such
as an "author") let a user change, publish and delete only the posts they wrote, and
let a customer delete only their own comments.
"""

from rustok_core.permissions import Permission, Scope

EDITORS: dict[str, Scope] = {"editor": "all"}
STAFF: dict[str, Scope] = {"manager": "all", "editor": "all"}

POSTS_READ = "blog_posts:read"
POSTS_CREATE = "blog_posts:create"
POSTS_UPDATE = "blog_posts:update"
POSTS_PUBLISH = "blog_posts:publish"
POSTS_DELETE = "blog_posts:delete"
COMMENTS_CREATE = "blog_comments:create"
COMMENTS_MODERATE = "blog_comments:moderate"
COMMENTS_DELETE = "blog_comments:delete"

PERMISSIONS = (
    Permission("blog_posts", "read", "See posts in any status (drafts, archived)", grants=STAFF),
    Permission("blog_posts", "create", "Write posts", grants=EDITORS),
    Permission("blog_posts", "update", "Change posts, their translations, category and tags", grants=EDITORS),
    Permission("blog_posts", "publish", "Publish, unpublish and archive posts", grants=EDITORS),
    Permission("blog_posts", "delete", "Delete posts with their comments", grants=EDITORS),
    Permission("blog_comments", "create", "Comment on published posts", grants={"customer": "all", "editor": "all"}),
    Permission(
        "blog_comments",
        "moderate",
        "See pending and spam comments; approve, hold or mark them as spam (own comments go out approved)",
        grants=EDITORS,
    ),
    Permission(
        "blog_comments", "delete", "Delete comments with their replies", grants={"customer": "own", "editor": "all"}
    ),
)
