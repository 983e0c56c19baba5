"""REST routes for integrations, declared with the models that validate them.

A module returns :class:`RestRoute` objects from ``rustok_routes``. Each route names
its request and response models (pydantic) and its access (``permission`` or
``public=True``). The same models validate requests, shape responses and feed the
OpenAPI document, so the document cannot drift from the behaviour.

Endpoints receive the request plus path parameters and, when declared, ``body`` and
``query`` as validated model instances. They return a model, a list of models, a
plain JSON-able value, ``None`` (204) or any Starlette ``Response``.

Routes that take files (``multipart/form-data``) declare ``files`` (the file parts)
and optionally ``form`` (a model for the text parts); the endpoint receives ``form``
and ``uploads`` (``{part name: UploadedFile}``). Their bodies may be as large as
``server.max_upload_bytes`` instead of ``server.max_body_bytes``; ``max_body_bytes``
lowers a route's own limit.

``idempotent=True`` marks an unsafe route as safe to retry with an
``Idempotency-Key`` header; the server records and replays its outcome.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rustok_core.errors import FieldError, Validation

Endpoint = Callable[..., Awaitable[Any]]
PATH_PARAM_RE = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-z]+))?}")
MULTIPART = "multipart/form-data"
MAX_FORM_FIELDS = 100
"""Text parts accepted in one multipart body."""
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FilePart:
    """A file part a route takes: its name in the form, whether it must be sent, what it is."""

    name: str
    required: bool = True
    description: str | None = None


@dataclass(frozen=True, eq=False)
class UploadedFile:
    """One uploaded file. The bytes are spooled by Starlette (in memory, then on disk).

    ``filename`` and ``content_type`` are what the client said; do not trust them for
    paths (see :func:`rustok_core.storage.safe_filename`) or for type checks alone.
    """

    name: str
    """The form part the file came in."""
    filename: str
    content_type: str
    size: int
    file: UploadFile = field(repr=False)

    async def read(self) -> bytes:
        """All the bytes (from the start, however often it is called)."""
        await self.file.seek(0)
        return await self.file.read()

    async def chunks(self, size: int = READ_CHUNK) -> AsyncIterator[bytes]:
        """The bytes in chunks of at most ``size``, without holding the whole file in memory."""
        await self.file.seek(0)
        while chunk := await self.file.read(size):
            yield chunk


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
    form: type[BaseModel] | None = None
    files: tuple[FilePart, ...] = ()
    max_body_bytes: int | None = None

    @property
    def access(self) -> str:
        return "public" if self.public else f"permission {self.permission}"

    @property
    def takes_uploads(self) -> bool:
        return bool(self.files)


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
        form: type[BaseModel] | None = None,
        files: Sequence[str | FilePart] = (),
        max_body_bytes: int | None = None,
        name: str | None = None,
    ) -> None:
        if public == (permission is not None):
            raise ValueError(f"route {path}: declare exactly one of permission='resource:action' or public=True")
        parts = tuple(part if isinstance(part, FilePart) else FilePart(part) for part in files)
        if body is not None and (form is not None or parts):
            raise ValueError(f"route {path}: a JSON body and form/files exclude each other")
        if len({part.name for part in parts}) != len(parts):
            raise ValueError(f"route {path}: file parts must have distinct names")
        if form is not None and any(part.name in form.model_fields for part in parts):
            raise ValueError(f"route {path}: a file part has the name of a field of {form.__name__}")
        if max_body_bytes is not None and max_body_bytes < 1:
            raise ValueError(f"route {path}: max_body_bytes must be positive")
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
            form=form,
            files=parts,
            max_body_bytes=max_body_bytes,
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
        if self.spec.form is None and not self.spec.files:
            return self.render(await self._endpoint(request, **kwargs))
        form = await self._read_form(request)
        try:
            kwargs.update(self._form_arguments(form))
            result = await self._endpoint(request, **kwargs)
        finally:
            await form.close()
        return self.render(result)

    async def _read_form(self, request: Request) -> FormData:
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if self.spec.files and media_type != MULTIPART:
            raise Validation(
                f"send this request as {MULTIPART} (got {media_type or 'no content type'})",
                field="body",
                reason="UNSUPPORTED_MEDIA_TYPE",
            )
        try:
            return await request.form(max_files=len(self.spec.files), max_fields=MAX_FORM_FIELDS)
        except (MultiPartException, HTTPException) as exc:
            detail = exc.message if isinstance(exc, MultiPartException) else exc.detail
            raise Validation(f"malformed form body: {detail}", field="body", reason="MALFORMED_FORM") from None

    def _form_arguments(self, form: FormData) -> dict[str, Any]:
        """Validate the text parts with the form model and collect the declared files."""
        errors: list[FieldError] = []
        arguments: dict[str, Any] = {}
        declared = {part.name for part in self.spec.files}
        texts: dict[str, list[str]] = {}
        for name, value in form.multi_items():
            if isinstance(value, str):
                texts.setdefault(name, []).append(value)
            elif name not in declared:
                errors.append(FieldError(("body", name), "unexpected file part"))
        if self.spec.files:
            uploads: dict[str, UploadedFile] = {}
            for part in self.spec.files:
                received = [v for v in form.getlist(part.name) if isinstance(v, UploadFile) and not _empty(v)]
                if part.name in texts:
                    errors.append(FieldError(("body", part.name), "expected a file, got a text field"))
                elif len(received) > 1:
                    errors.append(FieldError(("body", part.name), "send one file in this part"))
                elif received:
                    uploads[part.name] = _uploaded(part.name, received[0])
                elif part.required:
                    errors.append(FieldError(("body", part.name), "a file is required"))
            arguments["uploads"] = uploads
        if self.spec.form is not None:
            data = {name: values[0] if len(values) == 1 else values for name, values in texts.items()}
            for name in declared:
                data.pop(name, None)
            try:
                arguments["form"] = self.spec.form.model_validate(data)
            except ValidationError as exc:
                errors.extend(validation_error(exc, ("body",)).field_errors)
        if errors:
            raise invalid_input(errors)
        return arguments

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


def _empty(upload: UploadFile) -> bool:
    # Browsers send an empty part without a file name for a file input left empty.
    return not upload.filename and not upload.size


def _uploaded(name: str, upload: UploadFile) -> UploadedFile:
    return UploadedFile(
        name=name,
        filename=upload.filename or "",
        content_type=upload.content_type or "application/octet-stream",
        size=upload.size or 0,
        file=upload,
    )


def json_response(data: Any, *, status_code: int = 200, media_type: str = "application/json") -> Response:
    """A JSON response serialized with orjson."""
    return Response(orjson.dumps(data), status_code=status_code, media_type=media_type)


def validation_error(exc: ValidationError, prefix: tuple[str, ...] = ()) -> Validation:
    """Turn a pydantic ``ValidationError`` into a ``VALIDATION`` error with field paths."""
    errors = [
        FieldError((*prefix, *(str(p) if not isinstance(p, int) else p for p in err["loc"])), err["msg"])
        for err in exc.errors()
    ]
    return invalid_input(errors)


def invalid_input(errors: Sequence[FieldError]) -> Validation:
    """A ``VALIDATION`` error listing ``errors``, the first five summarized in the message."""
    summary = "; ".join(f"{'.'.join(str(p) for p in e.path)}: {e.message}" for e in errors[:5])
    return Validation(f"invalid input: {summary}", errors=errors)
