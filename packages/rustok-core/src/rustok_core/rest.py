"""REST routes for integrations, declared with the models that validate them.

A module returns :class:`RestRoute` objects from ``rustok_routes``. Each route names
its request and response models (pydantic) and its access (``permission`` or
``public=True``). The same models validate requests, shape responses and feed the
OpenAPI document, so the document cannot drift from the behaviour.

Endpoints receive the request plus path parameters and, when declared, ``body`` and
``query`` as validated model instances. They return a model, a list of models, a
plain JSON-able value, ``None`` (204) or any Starlette ``Response``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rustok_core.errors import FieldError, Validation

Endpoint = Callable[..., Awaitable[Any]]
PATH_PARAM_RE = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-z]+))?}")


@dataclass(frozen=True)
class RouteSpec:
    """What the OpenAPI generator and the access guard need to know about a route."""

    summary: str
    description: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status_code: int
    permission: str | None
    public: bool
    tags: tuple[str, ...] = field(default_factory=tuple)
    idempotent: bool = False

    @property
    def access(self) -> str:
        return "public" if self.public else f"permission {self.permission}"


class RestRoute(Route):
    """A Starlette route with validated input, typed output and declared access."""

    def __init__(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        methods: Sequence[str] = ("GET",),
        summary: str,
        description: str | None = None,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status_code: int = 200,
        permission: str | None = None,
        public: bool = False,
        tags: Sequence[str] = (),
        idempotent: bool = False,
        name: str | None = None,
    ) -> None:
        if public == (permission is not None):
            raise ValueError(f"route {path}: declare exactly one of permission='resource:action' or public=True")
        self.spec = RouteSpec(
            summary=summary,
            description=description or endpoint.__doc__,
            body=body,
            query=query,
            response=response,
            status_code=status_code,
            permission=permission,
            public=public,
            tags=tuple(tags),
            idempotent=idempotent,
        )
        self._endpoint = endpoint
        self._response_adapter = TypeAdapter(response) if response is not None else None
        super().__init__(path, self._handle, methods=list(methods), name=name or endpoint.__name__)

    @property
    def path_parameters(self) -> list[tuple[str, str | None]]:
        return [(m.group(1), m.group(2)) for m in PATH_PARAM_RE.finditer(self.path)]

    async def _handle(self, request: Request) -> Response:
        kwargs: dict[str, Any] = dict(request.path_params)
        if self.spec.body is not None:
            raw = await request.body()
            try:
                kwargs["body"] = self.spec.body.model_validate_json(raw or b"{}")
            except ValidationError as exc:
                raise validation_error(exc, ("body",)) from None
        if self.spec.query is not None:
            try:
                kwargs["query"] = self.spec.query.model_validate(dict(request.query_params))
            except ValidationError as exc:
                raise validation_error(exc, ("query",)) from None
        result = await self._endpoint(request, **kwargs)
        return self.render(result)

    def render(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=204)
        if self._response_adapter is not None:
            data = self._response_adapter.dump_python(result, mode="json", by_alias=True)
        elif isinstance(result, BaseModel):
            data = result.model_dump(mode="json", by_alias=True)
        else:
            data = result
        return json_response(data, status_code=self.spec.status_code)


def json_response(data: Any, *, status_code: int = 200, media_type: str = "application/json") -> Response:
    """A JSON response serialized with orjson."""
    return Response(orjson.dumps(data), status_code=status_code, media_type=media_type)


def validation_error(exc: ValidationError, prefix: tuple[str, ...] = ()) -> Validation:
    """Turn a pydantic ``ValidationError`` into a ``VALIDATION`` error with field paths."""
    errors = [
        FieldError((*prefix, *(str(p) if not isinstance(p, int) else p for p in err["loc"])), err["msg"])
        for err in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(str(p) for p in e.path)}: {e.message}" for e in errors[:5])
    return Validation(f"invalid input: {summary}", errors=errors)
