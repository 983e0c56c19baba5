"""Tenant slug and locale rules."""

from __future__ import annotations

import pytest

from rustok_core.errors import Validation
from rustok_tenant.slugs import RESERVED_SLUGS, validate_locale, validate_slug


@pytest.mark.parametrize("slug", ["acme", "a", "shop-1", "0day", "x" * 64, "my-big-store"])
def test_valid_slugs_are_accepted(slug: str) -> None:
    assert validate_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    ["", "Acme", "-acme", "acme-", "ac--me", "ac me", "ac_me", "x" * 65, "café", "acme.shop", "acme/"],
)
def test_malformed_slugs_are_refused(slug: str) -> None:
    with pytest.raises(Validation) as excinfo:
        validate_slug(slug)
    assert excinfo.value.code == "VALIDATION"
    assert excinfo.value.field_errors[0].path == ("slug",)


@pytest.mark.parametrize("slug", ["admin", "api", "www", "graphql", "health", "swagger"])
def test_reserved_slugs_are_refused(slug: str) -> None:
    assert slug in RESERVED_SLUGS
    with pytest.raises(Validation, match="reserved"):
        validate_slug(slug)


@pytest.mark.parametrize("locale", ["en", "de", "pt-BR", "zh-Hant-TW", "fil"])
def test_locale_tags_are_accepted(locale: str) -> None:
    assert validate_locale(locale) == locale


@pytest.mark.parametrize("locale", ["", "EN", "english", "e", "en_US", "en-"])
def test_malformed_locales_are_refused(locale: str) -> None:
    with pytest.raises(Validation):
        validate_locale(locale)
