"""RFC 9457 problem details: the one mapping from errors to REST responses."""

from __future__ import annotations

import logging
import math
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response

from rustok_core.db import translate_db_error
from rustok_core.errors import ErrorCode, Internal, RustokError
from rustok_core.rest import json_response

log = logging.getLogger("rustok.rest")

PROBLEM_MEDIA_TYPE = "application/problem+json"
WWW_AUTHENTICATE = 'Bearer realm="rustok"'

TITLES = {
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.VALIDATION: "Invalid request",
    ErrorCode.UNAUTHENTICATED: "Authentication required",
    ErrorCode.FORBIDDEN: "Forbidden",
    ErrorCode.CONFLICT: "Conflict",
    ErrorCode.MODULE_DISABLED: "Module disabled",
    ErrorCode.RATE_LIMITED: "Too many requests",
    ErrorCode.INTERNAL: "Internal error",
}


def problem_body(error: RustokError, *, instance: str | None = None, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:rustok:error:{error.code.lower()}",
        "title": TITLES[error.code],
        "status": error.http_status,
        "detail": error.message,
        "code": str(error.code),
    }
    if instance:
        body["instance"] = instance
    if request_id:
        body["requestId"] = request_id
    if error.field_errors:
        body["errors"] = [fe.as_dict() for fe in error.field_errors]
    for key, value in error.details.items():
        body.setdefault(key, value)
    return body


def problem_response(error: RustokError, conn: HTTPConnection | None = None) -> Response:
    request_id = conn.scope.get("rustok.request_id") if conn is not None else None
    instance = conn.url.path if conn is not None else None
    headers = {}
    if error.code is ErrorCode.RATE_LIMITED and "retryAfter" in error.details:
        headers["Retry-After"] = str(math.ceil(error.details["retryAfter"]))
    if error.code is ErrorCode.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    response = json_response(
        problem_body(error, instance=instance, request_id=request_id),
        status_code=error.http_status,
        media_type=PROBLEM_MEDIA_TYPE,
    )
    response.headers.update(headers)
    return response


async def handle_rustok_error(conn: HTTPConnection, exc: Exception) -> Response:
    assert isinstance(exc, RustokError)
    return problem_response(exc, conn)


async def handle_unexpected(conn: HTTPConnection, exc: Exception) -> Response:
    known = translate_db_error(exc)
    if known is not None:
        return problem_response(known, conn)
    request_id = conn.scope.get("rustok.request_id")
    log.error("unhandled error on %s (request %s)", conn.url.path, request_id, exc_info=exc)
    return problem_response(Internal("internal error"), conn)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details with the platform's error code.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "enum": [str(c) for c in ErrorCode]},
        "instance": {"type": "string"},
        "requestId": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
