"""The request pipeline's plumbing: header lookups, request ids, the context's lifetime, JSON answers."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Message
from ulid import ULID

from rustok_core.context import REQUEST_CONTEXT_KEY
from rustok_server.app import create_app
from rustok_server.graphql.endpoint import JSONBytes, read_body
from rustok_server.middleware import RequestConnection, RequestHeaders
from rustok_testing.samples import sample_plugins

RAW = [
    (b"host", b"shop.example.com"),
    (b"x-tenant-id", b"first"),
    (b"content-type", b"application/json"),
    (b"x-tenant-id", b"second"),
    (b"x-odd", "caf\u00e9".encode("latin-1")),
]


@pytest.mark.parametrize("name", ["x-tenant-id", "X-Tenant-ID", "host", "x-odd", "authorization", "x-tenant"])
def test_request_headers_answer_get_as_starlette_headers_do(name: str) -> None:
    ours, theirs = RequestHeaders({"headers": list(RAW)}), Headers(raw=list(RAW))
    assert ours.get(name) == theirs.get(name)
    assert ours.get(name, "fallback") == theirs.get(name, "fallback")
    assert (name in ours) == (name in theirs)
    if name in theirs:
        assert ours[name] == theirs[name]


def test_a_request_connection_keeps_one_headers_object() -> None:
    connection = RequestConnection({"type": "http", "headers": list(RAW)})
    assert isinstance(connection.headers, RequestHeaders)
    assert connection.headers is connection.headers
    assert connection.headers.get("x-tenant-id") == "first"


@pytest.mark.parametrize("status", [200, 400, 405, 413, 204, 304, 101])
def test_json_bytes_send_what_a_json_response_sends(status: int) -> None:
    body = b'{"data":{"x":1}}'
    ours, theirs = JSONBytes(body, status), Response(body, status_code=status, media_type="application/json")
    assert (ours.status_code, ours.body, ours.raw_headers) == (theirs.status_code, theirs.body, theirs.raw_headers)
    assert ours.headers["content-type"] == "application/json"
    assert ours.background is None


class Messages:
    def __init__(self, *messages: Message) -> None:
        self.messages = list(messages)

    async def __call__(self) -> Message:
        return self.messages.pop(0)


async def test_read_body_joins_chunks_and_skips_other_messages() -> None:
    receive = Messages(
        {"type": "http.request", "body": b'{"query":', "more_body": True},
        {"type": "http.other"},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b' "{ x }"}'},
    )
    assert await read_body(receive) == b'{"query": "{ x }"}'
    assert await read_body(Messages({"type": "http.request"})) == b""


async def test_read_body_reports_a_client_that_went_away() -> None:
    receive = Messages({"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"})
    with pytest.raises(ClientDisconnect):
        await read_body(receive)


@pytest.fixture
async def app(boot_platform: Any) -> AsyncIterator[Any]:
    application = create_app(boot_platform(plugins=sample_plugins()))
    async with application.router.lifespan_context(application):
        yield application


async def call(app: Any, method: str, path: str, body: bytes = b"", seen: list[Any] | None = None) -> list[Message]:
    """One request straight through ASGI; ``seen`` gets the scope's context as the response starts."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5555),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if seen is not None and message["type"] == "http.response.start":
            seen.append(weakref.ref(scope[REQUEST_CONTEXT_KEY]))
        sent.append(message)

    await app(scope, receive, send)
    assert REQUEST_CONTEXT_KEY not in scope
    return sent


async def test_the_request_context_is_freed_when_the_request_ends(app: Any) -> None:
    """By reference counting, not the cycle collector: the scope lets go of the context that refers to it.

    (Executing an operation with graphql-core makes cycles of its own; these requests do not.)
    """
    seen: list[Any] = []
    gc.collect()
    gc.disable()
    try:
        health = await call(app, "GET", "/health", seen=seen)
        invalid = await call(app, "POST", "/graphql", orjson.dumps({"query": "{ nope"}), seen=seen)
        assert [health[0]["status"], invalid[0]["status"]] == [200, 400]
        assert len(seen) == 2
        assert [ref() for ref in seen] == [None, None]
    finally:
        gc.enable()


async def test_every_response_gets_one_fresh_time_ordered_request_id(app: Any) -> None:
    ids = []
    for _ in range(20):
        sent = await call(app, "POST", "/graphql", orjson.dumps({"query": '{ alphaEcho(text: "hi") }'}))
        headers = Headers(raw=sent[0]["headers"])
        assert headers.getlist("x-request-id") == [headers["x-request-id"]]
        assert headers["content-type"] == "application/json"
        assert int(headers["content-length"]) == len(sent[1]["body"])
        ids.append(headers["x-request-id"])
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(str(ULID.from_str(value)) == value for value in ids)
