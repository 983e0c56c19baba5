"""RestRoute with form fields and file parts, on a bare Starlette app (no server around it)."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request

from rustok_core.errors import RustokError
from rustok_core.rest import FilePart, RestRoute, UploadedFile


class Caption(BaseModel):
    caption: str
    rating: int = 0


async def describe(_: Request, form: Caption, uploads: dict[str, UploadedFile]) -> dict[str, Any]:
    upload = uploads["file"]
    digest = hashlib.sha256()
    chunk_sizes = []
    async for chunk in upload.chunks(256 * 1024):
        digest.update(chunk)
        chunk_sizes.append(len(chunk))
    whole = await upload.read()
    return {
        "caption": form.caption,
        "rating": form.rating,
        "name": upload.name,
        "filename": upload.filename,
        "content_type": upload.content_type,
        "size": upload.size,
        "sha256": digest.hexdigest(),
        "read_matches": hashlib.sha256(whole).hexdigest() == digest.hexdigest(),
        "chunks": len(chunk_sizes),
        "largest_chunk": max(chunk_sizes),
    }


async def note(_: Request, form: Caption) -> dict[str, Any]:
    return {"caption": form.caption, "rating": form.rating}


async def problem(_: Request, exc: Exception) -> Any:
    from starlette.responses import JSONResponse

    assert isinstance(exc, RustokError)
    errors = [e.as_dict() for e in exc.field_errors]
    return JSONResponse({"code": str(exc.code), "errors": errors, **exc.details}, status_code=exc.http_status)


@pytest.fixture
async def client() -> Any:
    app = Starlette(
        routes=[
            RestRoute("/files", describe, methods=["POST"], summary="s", public=True, form=Caption, files=("file",)),
            RestRoute("/notes", note, methods=["POST"], summary="s", public=True, form=Caption),
        ],
        exception_handlers={RustokError: problem},
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def test_large_files_are_spooled_and_read_in_chunks(client: httpx.AsyncClient) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # beyond Starlette's in-memory spool
    response = await client.post(
        "/files", data={"caption": "big", "rating": "4"}, files={"file": ("big.bin", data, "application/x-big")}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "caption": "big",
        "rating": 4,
        "name": "file",
        "filename": "big.bin",
        "content_type": "application/x-big",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "read_matches": True,
        "chunks": 13,
        "largest_chunk": 256 * 1024,
    }


async def test_a_file_without_a_content_type_is_octet_stream(client: httpx.AsyncClient) -> None:
    raw = (
        b'--b\r\nContent-Disposition: form-data; name="caption"\r\n\r\nc\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\nabc\r\n--b--\r\n'
    )
    response = await client.post("/files", content=raw, headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 200, response.text
    assert response.json()["content_type"] == "application/octet-stream"


async def test_an_empty_file_input_counts_as_no_file(client: httpx.AsyncClient) -> None:
    raw = (
        b'--b\r\nContent-Disposition: form-data; name="caption"\r\n\r\nc\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n"
    )
    response = await client.post("/files", content=raw, headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"path": ["body", "file"], "message": "a file is required"}]


async def test_form_only_routes_take_urlencoded_and_multipart_bodies(client: httpx.AsyncClient) -> None:
    urlencoded = await client.post("/notes", data={"caption": "hi", "rating": "2"})
    assert urlencoded.json() == {"caption": "hi", "rating": 2}
    raw = b'--b\r\nContent-Disposition: form-data; name="caption"\r\n\r\nhi\r\n--b--\r\n'
    multipart = await client.post("/notes", content=raw, headers={"content-type": "multipart/form-data; boundary=b"})
    assert multipart.json() == {"caption": "hi", "rating": 0}
    invalid = await client.post("/notes", data={"rating": "lots"})
    assert invalid.status_code == 422
    assert {tuple(e["path"]) for e in invalid.json()["errors"]} == {("body", "caption"), ("body", "rating")}
    with_a_file = await client.post("/notes", data={"caption": "hi"}, files={"file": ("x", b"x")})
    assert with_a_file.status_code == 422
    assert with_a_file.json()["reason"] == "MALFORMED_FORM"


async def test_a_malformed_multipart_body_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/files", content=b"garbage", headers={"content-type": "multipart/form-data; boundary=zzz"}
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "MALFORMED_FORM"


async def endpoint(_: Request) -> None:
    return None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"body": Caption, "files": ("file",)}, "exclude each other"),
        ({"body": Caption, "form": Caption}, "exclude each other"),
        ({"files": ("file", FilePart("file", required=False))}, "distinct names"),
        ({"form": Caption, "files": ("caption",)}, "name of a field of Caption"),
        ({"files": ("file",), "max_body_bytes": 0}, "must be positive"),
    ],
)
def test_inconsistent_declarations_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RestRoute("/x", endpoint, methods=["POST"], summary="s", public=True, **kwargs)


def test_file_parts_are_declared_by_name_or_in_full() -> None:
    route = RestRoute(
        "/x", endpoint, methods=["POST"], summary="s", public=True, files=("a", FilePart("b", required=False))
    )
    assert route.spec.files == (FilePart("a"), FilePart("b", required=False))
    assert route.spec.takes_uploads
    assert not RestRoute("/y", endpoint, summary="s", public=True, form=Caption).spec.takes_uploads
