"""Errors as values with codes.

Every error a client can see carries one code from :class:`ErrorCode`. Services raise
these; the API layers (GraphQL error formatter, REST problem details) map them in one
place each. Anything else that escapes is reported as ``INTERNAL``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """The one list of error codes exposed by every API."""

    NOT_FOUND = "NOT_FOUND"
    VALIDATION = "VALIDATION"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    MODULE_DISABLED = "MODULE_DISABLED"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"


HTTP_STATUS: Mapping[ErrorCode, int] = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.VALIDATION: 422,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CONFLICT: 409,
    ErrorCode.MODULE_DISABLED: 403,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL: 500,
}


@dataclass(frozen=True)
class FieldError:
    """One invalid input: the path of the field (e.g. ``("input", "slug")``) and why."""

    path: tuple[str | int, ...]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": list(self.path), "message": self.message}


class RustokError(Exception):
    """Base class of every error that carries a code.

    ``details`` holds extra machine-readable data (e.g. the allowed transitions of a
    state machine) that ends up in GraphQL ``extensions`` and REST problem details.
    """

    def __init__(
        self,
        message: str,
        code: ErrorCode = ErrorCode.INTERNAL,
        details: dict[str, Any] | None = None,
        field_errors: Sequence[FieldError] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details: dict[str, Any] = details or {}
        self.field_errors: tuple[FieldError, ...] = tuple(field_errors)

    def __str__(self) -> str:
        return self.message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]


class NotFound(RustokError):
    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, ErrorCode.NOT_FOUND, dict(details))


class Validation(RustokError):
    """Invalid input. ``field`` names a single bad field; ``errors`` lists several."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: Sequence[FieldError] = (),
        **details: Any,
    ) -> None:
        field_errors = tuple(errors)
        if field is not None and not field_errors:
            field_errors = (FieldError(tuple(field.split(".")), message),)
        super().__init__(message, ErrorCode.VALIDATION, dict(details), field_errors)


class Unauthenticated(RustokError):
    def __init__(self, message: str = "authentication required", **details: Any) -> None:
        super().__init__(message, ErrorCode.UNAUTHENTICATED, dict(details))


class Forbidden(RustokError):
    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, ErrorCode.FORBIDDEN, dict(details))


class Conflict(RustokError):
    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, ErrorCode.CONFLICT, dict(details))


class ModuleDisabled(RustokError):
    def __init__(self, module: str, message: str | None = None) -> None:
        super().__init__(
            message or f"module '{module}' is disabled for this tenant",
            ErrorCode.MODULE_DISABLED,
            {"module": module},
        )


class RateLimited(RustokError):
    def __init__(self, message: str = "too many requests", *, retry_after: float | None = None) -> None:
        details: dict[str, Any] = {}
        if retry_after is not None:
            details["retryAfter"] = retry_after
        super().__init__(message, ErrorCode.RATE_LIMITED, details)


class Internal(RustokError):
    def __init__(self, message: str = "internal error", **details: Any) -> None:
        super().__init__(message, ErrorCode.INTERNAL, dict(details))


class BootError(Exception):
    """The platform cannot start (bad settings, module mismatch, schema behind...).

    Not an API error: the CLI prints the message and exits non-zero. Messages say
    what is wrong and what to run.
    """
