"""Rules for the text a client sends: slugs, locales, titles, tag names.

Every rule raises ``Validation`` with the path of the offending field, so an API can
point at it (``("input", "translations", 1, "slug")``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from slugify import slugify

from rustok_core.context import TenantContext
from rustok_core.errors import FieldError, Validation

Path = tuple[str | int, ...]

SEGMENT = r"[a-z0-9]+(?:-[a-z0-9]+)*"
SLUG_RE = re.compile(rf"^{SEGMENT}\Z")
PATH_SLUG_RE = re.compile(rf"^{SEGMENT}(?:/{SEGMENT})*\Z")
KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}\Z")
MAX_SLUG = 512
MAX_TITLE = 512
MAX_EXCERPT = 5_000


def invalid(path: Path, message: str) -> Validation:
    return Validation(message, errors=[FieldError(path, message)])


def make_slug(text: str, *, max_length: int = 200) -> str:
    """A URL slug from any text (transliterated to ASCII, lowercase, dashes)."""
    return slugify(text, max_length=max_length, word_boundary=True, save_order=True)


def check_slug(slug: str, path: Path, *, allow_path: bool = False, max_length: int = MAX_SLUG) -> str:
    """Return ``slug`` if it is a valid slug (``a-b`` or, with ``allow_path``, ``a/b-c``)."""
    pattern = PATH_SLUG_RE if allow_path else SLUG_RE
    if not slug or len(slug) > max_length or not pattern.match(slug):
        shape = "lowercase words of letters and digits joined by '-'"
        if allow_path:
            shape += ", segments separated by '/'"
        raise invalid(path, f"invalid slug: use {shape} (at most {max_length} characters)")
    return slug


def slug_for(given: str | None, title: str, path: Path, *, allow_path: bool = False) -> str:
    """The given slug (checked) or one made from the title."""
    if given is not None and given.strip():
        return check_slug(given.strip(), path, allow_path=allow_path)
    made = make_slug(title)
    if not made:
        raise invalid(path, "cannot make a slug from this title; give one")
    return made


def check_kind(kind: str, path: Path = ("kind",)) -> str:
    if not KIND_RE.match(kind):
        raise invalid(path, "invalid kind: use 1-32 lowercase letters, digits or '_', starting with a letter")
    return kind


def check_title(title: str, path: Path, *, max_length: int = MAX_TITLE) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise invalid(path, "must not be empty")
    if len(cleaned) > max_length:
        raise invalid(path, f"must be at most {max_length} characters")
    return cleaned


def check_optional_text(value: str | None, path: Path, *, max_length: int) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    if len(stripped) > max_length:
        raise invalid(path, f"must be at most {max_length} characters")
    return stripped or None


def check_locale(tenant: TenantContext, locale: str, path: Path) -> str:
    """``locale`` if the tenant serves it."""
    if locale not in tenant.locales:
        raise invalid(path, f"not one of this tenant's locales ({', '.join(tenant.locales)})")
    return locale


def check_unique_locales(locales: Sequence[str], path: Path) -> None:
    seen: set[str] = set()
    for index, locale in enumerate(locales):
        if locale in seen:
            raise invalid((*path, index, "locale"), f"locale {locale!r} is given twice")
        seen.add(locale)


def pick_locale(available: Sequence[str], wanted: str | None, default: str) -> str | None:
    """The locale to serve: the wanted one, else the tenant's default, else the first there is."""
    if wanted is not None and wanted in available:
        return wanted
    if default in available:
        return default
    return available[0] if available else None
