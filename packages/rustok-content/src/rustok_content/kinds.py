"""Which module owns a node kind.

Modules built on content (blog: ``post``, ``comment``; forum: ``topic``, ``reply``;
pages: ``page``) claim their kinds when they are imported. Nodes of a claimed kind are
written only through the owning module's API, which keeps its own rules (moderation,
paths, categories); content's generic API refuses to write them.
"""

from __future__ import annotations

from rustok_core.errors import Forbidden

_OWNERS: dict[str, str] = {}


def claim_kind(kind: str, module: str) -> None:
    """Declare that ``module`` alone writes nodes of ``kind``."""
    owner = _OWNERS.setdefault(kind, module)
    if owner != module:
        raise RuntimeError(f"node kind '{kind}' is claimed by both '{owner}' and '{module}'")


def owner_of(kind: str) -> str | None:
    return _OWNERS.get(kind)


def refuse_claimed(kind: str) -> None:
    """``FORBIDDEN`` when another module owns ``kind`` (for content's generic writers)."""
    owner = _OWNERS.get(kind)
    if owner is not None:
        raise Forbidden(
            f"nodes of kind '{kind}' belong to the {owner} module: write them through its API",
            reason="KIND_OWNED",
            module=owner,
        )
