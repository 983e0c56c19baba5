"""Every client-visible error carries one code and maps to one HTTP status."""

from __future__ import annotations

import pytest

from rustok_core import (
    Conflict,
    ErrorCode,
    Forbidden,
    Internal,
    ModuleDisabled,
    NotFound,
    RateLimited,
    RustokError,
    Unauthenticated,
    Validation,
)
from rustok_core.errors import HTTP_STATUS, BootError, FieldError


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (NotFound("no such post"), ErrorCode.NOT_FOUND, 404),
        (Validation("bad input"), ErrorCode.VALIDATION, 422),
        (Unauthenticated(), ErrorCode.UNAUTHENTICATED, 401),
        (Forbidden("not yours"), ErrorCode.FORBIDDEN, 403),
        (Conflict("changed"), ErrorCode.CONFLICT, 409),
        (ModuleDisabled("blog"), ErrorCode.MODULE_DISABLED, 403),
        (RateLimited(), ErrorCode.RATE_LIMITED, 429),
        (Internal(), ErrorCode.INTERNAL, 500),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, RustokError) else str(v),
)
def test_error_class_has_its_code_and_http_status(error: RustokError, code: ErrorCode, status: int) -> None:
    assert isinstance(error, RustokError)
    assert error.code is code
    assert error.http_status == status


def test_every_error_code_has_an_http_status() -> None:
    assert set(HTTP_STATUS) == set(ErrorCode)


def test_error_codes_are_their_own_names() -> None:
    assert all(code.value == code.name for code in ErrorCode)


def test_plain_rustok_error_defaults_to_internal() -> None:
    error = RustokError("boom")
    assert error.code is ErrorCode.INTERNAL
    assert error.http_status == 500
    assert error.details == {}
    assert error.field_errors == ()


def test_message_is_the_string_form() -> None:
    assert str(NotFound("post 42 not found")) == "post 42 not found"
    assert NotFound("post 42 not found").message == "post 42 not found"


def test_default_messages() -> None:
    assert Unauthenticated().message == "authentication required"
    assert RateLimited().message == "too many requests"
    assert Internal().message == "internal error"


def test_keyword_details_are_kept() -> None:
    assert NotFound("missing", entity="post", id="42").details == {"entity": "post", "id": "42"}
    assert Forbidden("no", permission="blog:manage").details == {"permission": "blog:manage"}
    assert Conflict("stale", currentVersion=3).details == {"currentVersion": 3}
    assert Unauthenticated(reason="expired").details == {"reason": "expired"}
    assert Internal(requestId="r1").details == {"requestId": "r1"}
    assert Validation("bad", allowed=["a", "b"]).details == {"allowed": ["a", "b"]}


def test_validation_field_becomes_a_field_error_with_a_dotted_path() -> None:
    error = Validation("must not be empty", field="a.b")
    assert error.field_errors == (FieldError(("a", "b"), "must not be empty"),)
    assert error.field_errors[0].as_dict() == {"path": ["a", "b"], "message": "must not be empty"}


def test_validation_without_field_has_no_field_errors() -> None:
    assert Validation("bad").field_errors == ()


def test_validation_keeps_several_field_errors() -> None:
    errors = [FieldError(("input", "slug"), "taken"), FieldError(("input", "items", 0), "empty")]
    error = Validation("invalid input", errors=errors)
    assert error.field_errors == tuple(errors)
    assert error.field_errors[1].as_dict() == {"path": ["input", "items", 0], "message": "empty"}


def test_validation_explicit_errors_win_over_field() -> None:
    errors = [FieldError(("x",), "bad x")]
    assert Validation("bad", field="y", errors=errors).field_errors == tuple(errors)


def test_module_disabled_names_the_module() -> None:
    error = ModuleDisabled("blog")
    assert error.details == {"module": "blog"}
    assert "blog" in error.message
    assert ModuleDisabled("blog", "blog is off").message == "blog is off"


def test_rate_limited_puts_retry_after_in_details() -> None:
    assert RateLimited(retry_after=2.5).details == {"retryAfter": 2.5}
    assert RateLimited().details == {}


def test_errors_are_exceptions_that_can_be_caught_by_base_class() -> None:
    with pytest.raises(RustokError) as caught:
        raise Conflict("x")
    assert isinstance(caught.value, Conflict)


def test_boot_error_is_not_an_api_error() -> None:
    assert not issubclass(BootError, RustokError)
