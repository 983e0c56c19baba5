"""The OpenAPI 3.1 document, built from the routes' own pydantic models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter

from rustok_core.rest import MULTIPART, PATH_PARAM_RE, RouteSpec
from rustok_core.settings import Settings
from rustok_server.rest.idempotency import KEY_HEADER, REPLAYED_HEADER, UNSAFE_METHODS
from rustok_server.rest.mount import MountedRoute
from rustok_server.rest.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA

REF = "#/components/schemas/{model}"
CONVERTOR_FORMATS = {"uuid": {"type": "string", "format": "uuid"}, "int": {"type": "integer"}}


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}

    def schema_for(self, tp: Any, mode: str, module: str) -> dict[str, Any]:
        schema = self.inline_schema(tp, mode)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            name = self._add(tp.__name__, schema, module)
            return {"$ref": REF.format(model=name)}
        return schema

    def inline_schema(self, tp: Any, mode: str) -> dict[str, Any]:
        """The schema of ``tp`` itself; the models it refers to go to the components."""
        schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, definition in schema.pop("$defs", {}).items():
            self._add(name, definition)
        return schema

    def _add(self, name: str, schema: dict[str, Any], module: str | None = None) -> str:
        existing = self.schemas.get(name)
        if existing is None or existing == schema:
            self.schemas[name] = schema
            return name
        # Two modules use the same model name for different shapes: qualify it.
        qualified = f"{module}_{name}" if module else name
        self.schemas[qualified] = schema
        return qualified


def build_openapi(routes: Sequence[MountedRoute], settings: Settings, version: str) -> dict[str, Any]:
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    tenant_header = settings.rustok.tenant.header_name
    for mounted in routes:
        route = mounted.route
        spec = route.spec
        path = mounted.prefix + _openapi_path(route.path)
        parameters: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": CONVERTOR_FORMATS.get(convertor or "", {"type": "string"}),
            }
            for name, convertor in route.path_parameters
        ]
        parameters.append(
            {
                "name": tenant_header,
                "in": "header",
                "required": False,
                "description": "Tenant id or slug the request is served for.",
                "schema": {"type": "string"},
            }
        )
        if spec.query is not None:
            query_schema = spec.query.model_json_schema(ref_template=REF)
            required = set(query_schema.get("required", ()))
            for name, prop in query_schema.get("properties", {}).items():
                parameters.append({"name": name, "in": "query", "required": name in required, "schema": prop})
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            idempotent = spec.idempotent and method in UNSAFE_METHODS
            operation: dict[str, Any] = {
                "operationId": f"{mounted.module}_{route.name}_{method.lower()}",
                "summary": spec.summary,
                "tags": list(spec.tags) or [mounted.module],
                "parameters": [*parameters, IDEMPOTENCY_KEY_PARAMETER] if idempotent else parameters,
                "x-rustok-module": mounted.module,
                "x-rustok-access": "public" if spec.public else {"permission": spec.permission},
                "responses": {},
            }
            if spec.description:
                operation["description"] = spec.description.strip()
            if spec.body is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {"schema": components.schema_for(spec.body, "validation", mounted.module)}
                    },
                }
            elif spec.form is not None or spec.files:
                operation["requestBody"] = {
                    "required": True,
                    "content": {MULTIPART: _multipart_body(spec, components)},
                }
            if spec.response is not None:
                operation["responses"][str(spec.status_code)] = {
                    "description": "Success",
                    "content": {
                        "application/json": {
                            "schema": components.schema_for(spec.response, "serialization", mounted.module)
                        }
                    },
                }
            else:
                operation["responses"]["204"] = {"description": "Success, no content"}
            if idempotent:
                for response in operation["responses"].values():
                    response["headers"] = {REPLAYED_HEADER: REPLAYED_HEADER_OBJECT}
            operation["responses"]["default"] = {
                "description": "Error (RFC 9457 problem details)",
                "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}},
            }
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "RusToK API",
            "version": version,
            "description": "REST API for integrations. Each module's routes live under /api/v1/<module>/.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(components.schemas.items()))},
    }


IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": KEY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes the call safe to retry: a repeat with the same key and the same request gets the recorded "
        "response (for 24 hours, per tenant) instead of running again. 1-255 printable ASCII characters."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
}
REPLAYED_HEADER_OBJECT: dict[str, Any] = {
    "description": "'true' when the response is the one recorded for the request's Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}


def _multipart_body(spec: RouteSpec, components: _Components) -> dict[str, Any]:
    """Text parts from the form model, plus one binary part per declared file."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    if spec.form is not None:
        form_schema = components.inline_schema(spec.form, "validation")
        properties.update(form_schema.get("properties", {}))
        required.extend(form_schema.get("required", ()))
    for part in spec.files:
        file_schema: dict[str, Any] = {
            "type": "string",
            "format": "binary",
            "contentMediaType": "application/octet-stream",
        }
        if part.description:
            file_schema["description"] = part.description
        properties[part.name] = file_schema
        if part.required:
            required.append(part.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"schema": schema}


def _openapi_path(path: str) -> str:
    """Turn Starlette's ``{id:uuid}`` into OpenAPI's ``{id}``."""
    return PATH_PARAM_RE.sub(r"{\1}", path)
