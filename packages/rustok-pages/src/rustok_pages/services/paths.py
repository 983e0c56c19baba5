"""Page paths: a page's slug in a locale is its whole path (``about/team``).

Content keeps slugs unique per tenant, kind and locale, so storing the full path as
the slug of each translation makes paths unique and lets a page be found by its path
with one lookup. Clients give a segment per locale (``team``); the path is the
parent's path in that locale, or the parent's path in the tenant's default locale
when the parent has no translation in it, plus ``/`` plus the segment.

This module plans path changes; it reads and writes nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rustok_content.services import make_slug, pick_locale
from rustok_content.services.text import MAX_SLUG, Path, invalid

SEGMENT_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
MAX_SEGMENT = 200
MAX_PATH = MAX_SLUG


@dataclass
class TreeNode:
    """A page of a subtree as read before a change: its paths by locale."""

    id: uuid.UUID
    parent_id: uuid.UUID | None
    version: int
    paths: dict[str, str] = field(default_factory=dict)


def check_segment(value: str, path: Path) -> str:
    """A single path segment (``team``, ``contact-us``): no slashes."""
    segment = value.strip()
    if not segment or len(segment) > MAX_SEGMENT or not SEGMENT_RE.match(segment):
        raise invalid(
            path,
            f"a segment is 1-{MAX_SEGMENT} lowercase letters and digits in words joined by '-' (no '/')",
        )
    return segment


def segment_from_title(title: str, path: Path) -> str:
    made = make_slug(title, max_length=MAX_SEGMENT)
    if not made:
        raise invalid(path, "cannot make a segment from this title; give one")
    return made


def segment_of(page_path: str) -> str:
    return page_path.rsplit("/", 1)[-1]


def parent_path(parent_paths: Mapping[str, str], locale: str, default_locale: str) -> str | None:
    """The parent's path in ``locale``, else in the default locale, else in any (``None``: no parent)."""
    if not parent_paths:
        return None
    chosen = pick_locale(sorted(parent_paths), locale, default_locale)
    assert chosen is not None
    return parent_paths[chosen]


def join(parent: str | None, segment: str) -> str:
    return f"{parent}/{segment}" if parent else segment


def paths_below(parent_paths: Mapping[str, str], segments: Mapping[str, str], default_locale: str) -> dict[str, str]:
    """The paths of a page with ``segments`` (by locale) under a parent with ``parent_paths``."""
    return {
        locale: join(parent_path(parent_paths, locale, default_locale), segment) for locale, segment in segments.items()
    }


def plan_rewrite(
    subtree: Sequence[TreeNode], new_top_paths: Mapping[str, str], default_locale: str
) -> list[tuple[TreeNode, dict[str, str]]]:
    """The path changes below the page that moved or was renamed (``subtree[0]``).

    ``subtree`` is in breadth-first order, so a parent's new paths are known before its
    children's. Each page keeps its segments; only the pages whose path changes in some
    locale are returned, with the changed locales. Processing them in this order never
    makes a path collide with a path of the same subtree that is still to be rewritten.
    """
    new_paths: dict[uuid.UUID, Mapping[str, str]] = {subtree[0].id: new_top_paths}
    changes: list[tuple[TreeNode, dict[str, str]]] = []
    for node in subtree[1:]:
        assert node.parent_id in new_paths, "subtree must be breadth-first"
        assert node.parent_id is not None
        segments = {locale: segment_of(old) for locale, old in node.paths.items()}
        mine = paths_below(new_paths[node.parent_id], segments, default_locale)
        new_paths[node.id] = mine
        changed = {locale: value for locale, value in mine.items() if node.paths.get(locale) != value}
        if changed:
            changes.append((node, changed))
    return changes


def check_lengths(paths: Mapping[str, str], blame: Path) -> None:
    for locale, value in paths.items():
        if len(value) > MAX_PATH:
            raise invalid(blame, f"the path in locale {locale} would be longer than {MAX_PATH} characters")


def check_distinct(planned: Sequence[tuple[uuid.UUID, Mapping[str, str]]], blame: Path) -> None:
    """Two pages of one change may not end up with the same path in a locale."""
    seen: dict[tuple[str, str], uuid.UUID] = {}
    for page_id, paths in planned:
        for locale, value in paths.items():
            other = seen.setdefault((locale, value), page_id)
            if other != page_id:
                raise invalid(blame, f"two pages would get the path {value!r} in locale {locale}")
