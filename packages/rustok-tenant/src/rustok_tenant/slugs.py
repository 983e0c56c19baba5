"""Tenant slug and locale rules."""

from __future__ import annotations

import re

from rustok_core.errors import Validation
from rustok_core.net import normalize_host

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")
LOCALE_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\Z")

RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "assets",
        "auth",
        "cdn",
        "dashboard",
        "default",
        "docs",
        "graphql",
        "health",
        "help",
        "login",
        "logout",
        "mail",
        "metrics",
        "null",
        "root",
        "rustok",
        "static",
        "status",
        "support",
        "swagger",
        "system",
        "www",
    }
)


def validate_slug(slug: str) -> str:
    """Return ``slug`` if it is a valid, unreserved tenant slug; ``VALIDATION`` otherwise."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise Validation(
            f"invalid tenant slug {slug!r}: use 1-64 lowercase letters, digits and hyphens, "
            "not starting or ending with a hyphen",
            field="slug",
        )
    if "--" in slug:
        raise Validation(f"invalid tenant slug {slug!r}: no consecutive hyphens", field="slug")
    if slug in RESERVED_SLUGS:
        raise Validation(f"tenant slug {slug!r} is reserved", field="slug")
    return slug


def validate_locale(locale: str, field: str = "locale") -> str:
    if not isinstance(locale, str) or not LOCALE_RE.match(locale):
        raise Validation(f"invalid locale {locale!r}: expected a tag like 'en' or 'pt-BR'", field=field)
    return locale


def validate_domain(domain: str) -> str:
    """A host name a tenant may be served on (lower-cased, no port, not an IP)."""
    try:
        host = normalize_host(domain) if isinstance(domain, str) else None
    except Validation:
        host = None
    if host is None or "." not in host or host.replace(".", "").isdigit() or ":" in host:
        raise Validation(f"invalid domain {domain!r}: expected a host name like 'shop.example.com'", field="domain")
    return host
