"""Property-based checks of tenant slugs, domains and tenant-header parsing."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rustok_core.errors import Validation
from rustok_core.ids import generate_id, id_to_ulid
from rustok_tenant.slugs import RESERVED_SLUGS, SLUG_RE, validate_domain, validate_slug

SLUG_ALPHABET = string.ascii_lowercase + string.digits + "-"
valid_slugs = st.from_regex(r"\A[a-z0-9](?:[a-z0-9]|-(?!-)){0,40}[a-z0-9]\Z").filter(
    lambda s: s not in RESERVED_SLUGS and "--" not in s
)
labels = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?\Z")


@given(st.text(max_size=80))
@example("shop\n")  # `$` would match before a trailing newline: the patterns end in `\Z`
def test_any_text_is_either_a_valid_slug_or_a_validation_error(text: str) -> None:
    try:
        accepted = validate_slug(text)
    except Validation as exc:  # hypothesis drives both outcomes, so no pytest.raises here
        assert exc.code == "VALIDATION"  # noqa: PT017
        assert exc.field_errors[0].path == ("slug",)  # noqa: PT017
    else:
        assert accepted == text
        assert SLUG_RE.match(text)
        assert text not in RESERVED_SLUGS
        assert set(text) <= set(SLUG_ALPHABET)
        assert not text.startswith("-")
        assert not text.endswith("-")


@given(valid_slugs)
def test_well_formed_unreserved_slugs_are_accepted(slug: str) -> None:
    assert validate_slug(slug) == slug


@given(st.lists(labels, min_size=2, max_size=4), st.sampled_from(["", ":80", ":8443"]), st.booleans())
def test_domains_are_normalized_case_port_and_trailing_dot(parts: list[str], port: str, shout: bool) -> None:
    domain = ".".join(parts)
    if domain.replace(".", "").isdigit():
        return  # all-digit names look like IP addresses and are refused
    raw = (domain.upper() if shout else domain) + "." + port
    assert validate_domain(raw) == domain


@given(st.text(max_size=300))
def test_any_text_is_either_a_domain_or_a_validation_error(text: str) -> None:
    try:
        host = validate_domain(text)
    except Validation:
        return
    assert host == host.lower()
    assert "." in host
    assert ":" not in host
    assert len(host) <= 253


@pytest.fixture(scope="module")
def resolver(rustok_platform):  # type: ignore[no-untyped-def]
    from rustok_core.interfaces import TenantResolver

    return rustok_platform.ctx.services.get(TenantResolver)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(value=st.one_of(st.text(max_size=200), st.just(id_to_ulid(generate_id())), st.uuids().map(str)))
async def test_tenant_header_values_resolve_or_fail_with_a_code(resolver, value: str) -> None:  # type: ignore[no-untyped-def]
    from starlette.requests import HTTPConnection

    from rustok_core.errors import NotFound, RustokError

    header_value = value.encode("latin-1", "ignore").decode("latin-1").strip()
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/graphql",
        "headers": [(b"x-tenant-id", header_value.encode("latin-1"))],
        "client": ("127.0.0.1", 1),
    }
    try:
        found = await resolver.resolve(HTTPConnection(scope))
    except (NotFound, Validation) as exc:  # hypothesis drives both outcomes
        assert isinstance(exc, RustokError)  # noqa: PT017
        assert exc.code in ("NOT_FOUND", "VALIDATION")  # noqa: PT017
    else:
        assert found is None or found.is_active
