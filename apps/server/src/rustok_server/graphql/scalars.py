"""Scalars of the base schema: UUID, DateTime, JSON."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ariadne import ScalarType
from graphql import GraphQLError, StringValueNode, ValueNode

from rustok_core.errors import Validation
from rustok_core.ids import parse_id

uuid_scalar = ScalarType("UUID")
datetime_scalar = ScalarType("DateTime")
json_scalar = ScalarType("JSON")


@uuid_scalar.serializer
def serialize_uuid(value: Any) -> str:
    return str(value)


@uuid_scalar.value_parser
def parse_uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise GraphQLError("UUID must be a string")
    try:
        parsed: uuid.UUID = parse_id(value)
    except Validation as exc:
        raise GraphQLError(exc.message) from None
    return parsed


@uuid_scalar.literal_parser
def parse_uuid_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> uuid.UUID:
    if not isinstance(node, StringValueNode):
        raise GraphQLError("UUID must be a string")
    parsed: uuid.UUID = parse_uuid(node.value)
    return parsed


@datetime_scalar.serializer
def serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@datetime_scalar.value_parser
def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise GraphQLError("DateTime must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise GraphQLError("DateTime must be an ISO-8601 string") from None
    if parsed.tzinfo is None:
        raise GraphQLError("DateTime needs a time zone offset (e.g. 'Z' or '+02:00')")
    return parsed


@json_scalar.serializer
def serialize_json(value: Any) -> Any:
    return value


SCALARS = (uuid_scalar, datetime_scalar, json_scalar)
