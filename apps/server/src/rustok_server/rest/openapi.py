"""The OpenAPI 3.1 document, built from the routes' own pydantic models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter

from rustok_core.rest import PATH_PARAM_RE
from rustok_core.settings import Settings
from rustok_server.rest.mount import MountedRoute
from rustok_server.rest.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA

REF = "#/components/schemas/{model}"
CONVERTOR_FORMATS = {"uuid": {"type": "string", "format": "uuid"}, "int": {"type": "integer"}}


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}

    def schema_for(self, tp: Any, mode: str, module: str) -> dict[str, Any]:
        schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, definition in schema.pop("$defs", {}).items():
            self._add(name, definition)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            name = self._add(tp.__name__, schema, module)
            return {"$ref": REF.format(model=name)}
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
            operation: dict[str, Any] = {
                "operationId": f"{mounted.module}_{route.name}_{method.lower()}",
                "summary": spec.summary,
                "tags": list(spec.tags) or [mounted.module],
                "parameters": parameters,
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


def _openapi_path(path: str) -> str:
    """Turn Starlette's ``{id:uuid}`` into OpenAPI's ``{id}``."""
    return PATH_PARAM_RE.sub(r"{\1}", path)
