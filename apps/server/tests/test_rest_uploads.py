"""Multipart uploads on REST routes: alpha's ``POST /uploads`` (file + optional thumbnail)
and ``POST /avatars`` (a lower limit of its own).

The platform runs with small limits: 4 KiB for JSON bodies, 64 KiB for uploads.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.samples import SampleModule, core_plugins, make_alpha, make_beta

UPLOADS = "/api/v1/alpha/uploads"
AVATARS = "/api/v1/alpha/avatars"
LIMITS = {"server.max_body_bytes": 4096, "server.max_upload_bytes": 65536, "rustok.rate_limit.enabled": False}


@pytest.fixture(scope="module")
async def sample(boot_platform: Any) -> AsyncIterator[tuple[Platform, RustokClient, SampleModule]]:
    alpha = make_alpha()
    platform = boot_platform(plugins=[*core_plugins(), alpha, make_beta()], **LIMITS)
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        yield platform, client, alpha


@pytest.fixture
def platform(sample: tuple[Platform, RustokClient, SampleModule]) -> Platform:
    return sample[0]


@pytest.fixture
def client(sample: tuple[Platform, RustokClient, SampleModule]) -> RustokClient:
    return sample[1]


@pytest.fixture
def alpha(sample: tuple[Platform, RustokClient, SampleModule]) -> SampleModule:
    return sample[2]


@pytest.fixture
async def tenant(make_tenant: Any, platform: Platform) -> Any:
    return await make_tenant(platform=platform)


@pytest.fixture
async def headers(make_user: Any, platform: Platform, tenant: Any) -> dict[str, str]:
    return dict((await make_user(tenant, platform=platform)).headers)


def picture(size: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8)


async def test_a_file_and_its_text_fields_reach_the_endpoint_and_the_storage(
    platform: Platform, client: RustokClient, tenant: Any, headers: dict[str, str]
) -> None:
    data = picture(3000)
    response = await client.post(
        UPLOADS,
        data={"title": "Cat", "alt": "a cat on a mat"},
        files={"file": ("../../etc/Cat Photo.png", data, "image/png")},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["title"] == "Cat"
    assert body["alt"] == "a cat on a mat"
    assert body["filename"] == "../../etc/Cat Photo.png"  # as sent; the storage key is what is safe
    assert body["content_type"] == "image/png"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["thumbnail_size"] is None

    key = body["key"]
    assert key.startswith(f"{tenant.id}/") and key.endswith("/Cat_Photo.png")
    assert platform.ctx.storage is not None
    assert await platform.ctx.storage.open(key) == data
    on_disk = Path(platform.settings.media.directory) / key
    assert on_disk.read_bytes() == data


async def test_an_optional_file_part_may_be_sent(client: RustokClient, headers: dict[str, str]) -> None:
    response = await client.post(
        UPLOADS,
        data={"title": "With thumbnail"},
        files={
            "file": ("a.pdf", b"%PDF-1.7 ...", "application/pdf"),
            "thumbnail": ("t.png", picture(100), "image/png"),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["thumbnail_size"] == 100


async def test_a_missing_file_and_invalid_fields_are_reported_with_their_paths(
    client: RustokClient, headers: dict[str, str], alpha: SampleModule
) -> None:
    calls = len(alpha.rest_calls)
    response = await client.post(UPLOADS, data={"title": "", "alt": "x"}, files={"other": ("x", b"")}, headers=headers)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "VALIDATION"
    paths = {tuple(error["path"]): error["message"] for error in problem["errors"]}
    assert paths[("body", "file")] == "a file is required"
    assert ("body", "title") in paths
    assert len(alpha.rest_calls) == calls


async def test_a_text_field_in_place_of_the_file_is_refused(client: RustokClient, headers: dict[str, str]) -> None:
    response = await client.post(
        UPLOADS,
        data={"title": "t", "file": "not a file"},
        files={"thumbnail": ("t.png", picture(50), "image/png")},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"path": ["body", "file"], "message": "expected a file, got a text field"}]


async def test_undeclared_and_surplus_files_are_refused(client: RustokClient, headers: dict[str, str]) -> None:
    undeclared = await client.post(
        UPLOADS,
        data={"title": "t"},
        files={"file": ("a.png", picture(50), "image/png"), "extra": ("b.png", picture(50), "image/png")},
        headers=headers,
    )
    assert undeclared.status_code == 422
    assert {"path": ["body", "extra"], "message": "unexpected file part"} in undeclared.json()["errors"]

    surplus = await client.post(
        UPLOADS,
        data={"title": "t"},
        files=[("file", ("a.png", picture(50), "image/png"))] * 3,
        headers=headers,
    )
    assert surplus.status_code == 422
    assert surplus.json()["reason"] == "MALFORMED_FORM"


async def test_upload_routes_take_only_multipart_bodies(client: RustokClient, headers: dict[str, str]) -> None:
    response = await client.post(UPLOADS, json={"title": "t"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["reason"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_upload_routes_accept_bodies_larger_than_the_json_limit(
    client: RustokClient, headers: dict[str, str]
) -> None:
    uploaded = await client.post(
        UPLOADS, data={"title": "big"}, files={"file": ("big.png", picture(20_000), "image/png")}, headers=headers
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["size"] == 20_000

    as_json = await client.post("/api/v1/alpha/items", json={"name": "x" * 20_000}, headers=headers)
    assert as_json.status_code == 413
    assert as_json.json()["reason"] == "BODY_TOO_LARGE"


def multipart(headers: dict[str, str], size: int) -> tuple[dict[str, str], bytes]:
    """A multipart body (and its headers) as the client would stream it."""
    request = httpx.Request(
        "POST",
        "http://testserver" + UPLOADS,
        data={"title": "too big"},
        files={"file": ("huge.png", picture(size), "image/png")},
        headers=headers,
    )
    content = request.read()
    return {**headers, "content-type": request.headers["content-type"]}, content


async def test_bodies_above_the_upload_limit_are_refused_before_the_endpoint_runs(
    client: RustokClient, headers: dict[str, str], alpha: SampleModule
) -> None:
    calls = len(alpha.rest_calls)
    declared = await client.post(
        UPLOADS, data={"title": "huge"}, files={"file": ("huge.png", picture(70_000), "image/png")}, headers=headers
    )
    assert declared.status_code == 413
    assert declared.json()["reason"] == "BODY_TOO_LARGE"
    assert "65536" in declared.json()["detail"]

    stream_headers, content = multipart(headers, 70_000)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for start in range(0, len(content), 8192):
            yield content[start : start + 8192]

    streamed = await client.post(UPLOADS, content=chunks(), headers=stream_headers)
    assert streamed.status_code == 413
    assert streamed.json()["reason"] == "BODY_TOO_LARGE"
    assert len(alpha.rest_calls) == calls

    small_headers, small = multipart(headers, 10_000)

    async def small_chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(small), 4096):
            yield small[start : start + 4096]

    fits = await client.post(UPLOADS, content=small_chunks(), headers=small_headers)
    assert fits.status_code == 201, fits.text
    assert len(alpha.rest_calls) == calls + 1


async def test_a_route_can_lower_its_own_limit(client: RustokClient, headers: dict[str, str]) -> None:
    small = await client.post(
        AVATARS, data={"title": "me"}, files={"file": ("me.png", picture(6000), "image/png")}, headers=headers
    )
    assert small.status_code == 201, small.text  # above the JSON limit, below the route's own
    large = await client.post(
        AVATARS, data={"title": "me"}, files={"file": ("me.png", picture(10_000), "image/png")}, headers=headers
    )
    assert large.status_code == 413
    assert "8192" in large.json()["detail"]


async def test_openapi_describes_the_multipart_body(client: RustokClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    body = document["paths"][UPLOADS]["post"]["requestBody"]
    assert body["required"] is True
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"title", "alt", "file", "thumbnail"}
    assert schema["properties"]["title"]["type"] == "string"
    assert schema["properties"]["file"]["format"] == "binary"
    assert schema["properties"]["thumbnail"]["description"] == "A smaller picture"
    assert set(schema["required"]) == {"title", "file"}
    assert "application/json" not in body["content"]
