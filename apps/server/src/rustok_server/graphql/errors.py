"""One mapping from exceptions to GraphQL errors with ``extensions.code``."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from rustok_core.db import translate_db_error
from rustok_core.errors import ErrorCode, RustokError
from rustok_server.graphql.validation import QUERY_TOO_COSTLY

log = logging.getLogger("rustok.graphql")

GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def rustok_error_extensions(error: RustokError) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": str(error.code), **error.details}
    if error.field_errors:
        extensions["fieldErrors"] = [fe.as_dict() for fe in error.field_errors]
    return extensions


def format_error(error: GraphQLError, *, debug: bool = False, request_id: str | None = None) -> dict[str, Any]:
    """Format an error from parsing, validation or a resolver for the response."""
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        formatted["path"] = list(error.path)

    original = error.original_error
    if isinstance(original, GraphQLError):
        original = original.original_error
    if original is not None and not isinstance(original, RustokError):
        original = translate_db_error(original) or original

    if isinstance(original, RustokError):
        formatted["message"] = original.message
        formatted["extensions"] = rustok_error_extensions(original)
    elif original is not None:
        log.error(
            "unexpected error in resolver (request %s): %s",
            request_id,
            error.message,
            exc_info=(type(original), original, original.__traceback__),
        )
        formatted["message"] = f"internal error: {original}" if debug else "internal error"
        extensions: dict[str, Any] = {"code": str(ErrorCode.INTERNAL)}
        if request_id:
            extensions["requestId"] = request_id
        formatted["extensions"] = extensions
    else:
        # Parse and validation errors (GraphQL-level problems with the document).
        extensions = {"code": str(ErrorCode.VALIDATION)}
        given = dict(error.extensions or {})
        if "cost" in given:
            extensions["reason"] = QUERY_TOO_COSTLY
            extensions.update(given["cost"])
        else:
            extensions["reason"] = GRAPHQL_VALIDATION_FAILED
            extensions.update(given)
        formatted["extensions"] = extensions
    return formatted
