"""``Idempotency-Key`` for REST routes declared ``idempotent=True``.

A client that may retry an unsafe call sends ``Idempotency-Key: <1-255 printable
ASCII characters>``. Per tenant, the first request with a key claims it (an
``INSERT ... ON CONFLICT`` committed before the endpoint runs), runs, and records its
outcome: status, ``Content-Type``, ``Location`` and body. Then, for 24 hours
(``server.idempotency_ttl_seconds``):

* the same request again (method, path with query, body hash and caller all equal)
  gets the recorded response byte for byte, with ``Idempotent-Replayed: true``, and
  the endpoint does not run;
* a different request with the key gets ``VALIDATION`` (``IDEMPOTENCY_KEY_REUSED``);
* a repeat while the first is still running gets ``CONFLICT`` (``IDEMPOTENCY_KEY_IN_USE``).

Outcomes of 5xx and of unexpected exceptions are not recorded (the claim is deleted),
so a retry runs again. A claim whose request never finished (a crashed process) is
taken over after ``server.idempotency_lease_seconds``. Expired keys are ignored and
overwritten by the next claim, and deleted in batches at most once a minute per
process, right after a claim.

The outcome is recorded after the endpoint's own transaction committed: a crash in
between leaves only the claim, and a retry after the lease runs the endpoint again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import ColumnElement, Executable, Table, and_, delete, func, null, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rustok_core.context import REQUEST_CONTEXT_KEY, RequestContext
from rustok_core.db import Database
from rustok_core.errors import Conflict, Validation
from rustok_core.ids import generate_id
from rustok_core.settings import ServerSettings
from rustok_server.rest.models import IdempotencyRecord

log = logging.getLogger("rustok.rest.idempotency")

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_RE = re.compile(r"^[\x20-\x7e]{1,255}\Z")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RECORDED_HEADERS = ("content-type", "location")
PRUNE_INTERVAL = 60.0
PRUNE_BATCH = 1000
CLAIM_ATTEMPTS = 3

TABLE: Table = IdempotencyRecord.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Fingerprint:
    """What makes two requests "the same" for one key."""

    method: str
    path: str
    """Path with the query string."""
    body_sha256: str
    principal: str | None
    """``user:<id>`` / ``key:<id>``; ``None`` for anonymous callers of public routes."""


@dataclass(frozen=True)
class Claim:
    """The right to run the request once and record its outcome."""

    tenant_id: uuid.UUID
    key: str
    claim_id: uuid.UUID


@dataclass(frozen=True)
class RecordedResponse:
    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def replay(self) -> Response:
        headers = dict(self.headers)
        headers[REPLAYED_HEADER] = "true"
        return Response(self.body, status_code=self.status_code, headers=headers)


def parse_key(headers: Headers) -> str | None:
    """The request's ``Idempotency-Key``, ``None`` without one; ``VALIDATION`` when malformed."""
    values = headers.getlist(KEY_HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise _invalid_key(f"send one {KEY_HEADER} header, not {len(values)}")
    if not KEY_RE.match(values[0]):
        raise _invalid_key(f"{KEY_HEADER} must be 1 to 255 printable ASCII characters")
    return values[0]


def _invalid_key(message: str) -> Validation:
    return Validation(message, field=f"header.{KEY_HEADER}", reason="IDEMPOTENCY_KEY_INVALID")


class IdempotencyStore:
    """Claims keys, records outcomes and prunes expired keys in ``sys_idempotency_keys``.

    Each method runs in a transaction of its own on a connection (not an ORM session);
    every statement names the tenant.
    """

    def __init__(self, db: Database, settings: ServerSettings) -> None:
        self.db = db
        self.ttl = timedelta(seconds=settings.idempotency_ttl_seconds)
        self.lease = timedelta(seconds=settings.idempotency_lease_seconds)
        self._next_prune = 0.0

    async def claim(self, tenant_id: uuid.UUID, key: str, fingerprint: Fingerprint) -> Claim | RecordedResponse:
        """Claim ``key`` for this request, or return the response recorded for it.

        Raises ``VALIDATION`` (``IDEMPOTENCY_KEY_REUSED``) when the key belongs to a
        different request and ``CONFLICT`` (``IDEMPOTENCY_KEY_IN_USE``) while the
        request that holds it is still running.
        """
        for _ in range(CLAIM_ATTEMPTS):
            claim = Claim(tenant_id, key, generate_id())
            async with self.db.engine.begin() as conn:
                taken = (await conn.execute(self._claim_statement(claim, fingerprint))).scalar_one_or_none()
                if taken is None:
                    held = (
                        await conn.execute(select(TABLE).where(TABLE.c.tenant_id == tenant_id, TABLE.c.key == key))
                    ).one_or_none()
            if taken is not None:
                await self._prune_if_due()
                return claim
            if held is None:
                continue  # the holder gave the key up between the two statements: claim again
            if Fingerprint(held.method, held.path, held.body_sha256, held.principal) != fingerprint:
                raise Validation(
                    f"{KEY_HEADER} {key!r} was already used for a different request (method, path, body or "
                    "caller differ); send a new key for a new request",
                    field=f"header.{KEY_HEADER}",
                    reason="IDEMPOTENCY_KEY_REUSED",
                )
            if held.status_code is None:
                break
            return RecordedResponse(
                held.status_code,
                tuple((name, value) for name, value in held.response_headers or ()),
                bytes(held.response_body or b""),
            )
        raise Conflict(
            f"a request with {KEY_HEADER} {key!r} is still being processed; retry once it has finished",
            reason="IDEMPOTENCY_KEY_IN_USE",
        )

    def _claim_statement(self, claim: Claim, fingerprint: Fingerprint) -> Executable:
        now = func.now()
        values = {
            "tenant_id": claim.tenant_id,
            "key": claim.key,
            "claim_id": claim.claim_id,
            "method": fingerprint.method,
            "path": fingerprint.path,
            "body_sha256": fingerprint.body_sha256,
            "principal": fingerprint.principal,
            "status_code": null(),
            "response_headers": null(),
            "response_body": null(),
            "created_at": now,
            "locked_until": now + self.lease,
            "expires_at": now + self.ttl,
        }
        insert = pg_insert(TABLE).values(**values)
        # A live key stays; an expired one, or a claim whose request died, is taken over.
        takeover = or_(TABLE.c.expires_at <= now, and_(TABLE.c.status_code.is_(None), TABLE.c.locked_until <= now))
        return insert.on_conflict_do_update(
            index_elements=[TABLE.c.tenant_id, TABLE.c.key],
            set_={name: insert.excluded[name] for name in values if name not in ("tenant_id", "key")},
            where=takeover,
        ).returning(TABLE.c.claim_id)

    async def complete(self, claim: Claim, status_code: int, headers: Sequence[tuple[str, str]], body: bytes) -> bool:
        """Record the outcome; ``False`` when the claim was lost (taken over after its lease)."""
        async with self.db.engine.begin() as conn:
            result = await conn.execute(
                update(TABLE)
                .where(_held(claim))
                .values(
                    status_code=status_code,
                    response_headers=[list(pair) for pair in headers],
                    response_body=body,
                    locked_until=func.now(),
                )
            )
        return bool(result.rowcount)

    async def release(self, claim: Claim) -> None:
        """Give the key up, so that a retry runs the request again."""
        async with self.db.engine.begin() as conn:
            await conn.execute(delete(TABLE).where(_held(claim)))

    async def prune(self, *, limit: int = PRUNE_BATCH) -> int:
        """Delete up to ``limit`` expired keys of any tenant; return how many went."""
        expired = (
            select(TABLE.c.tenant_id, TABLE.c.key)
            .where(TABLE.c.expires_at <= func.now())
            .order_by(TABLE.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.db.engine.begin() as conn:
            result = await conn.execute(delete(TABLE).where(tuple_(TABLE.c.tenant_id, TABLE.c.key).in_(expired)))
        return int(result.rowcount)

    async def _prune_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_INTERVAL
        try:
            pruned = await self.prune()
        except Exception:
            # Keys are ignored once expired anyway; the next pass tries again.
            log.warning("pruning expired idempotency keys failed", exc_info=True)
            return
        if pruned:
            log.info("pruned %d expired idempotency keys", pruned)


def _held(claim: Claim) -> ColumnElement[bool]:
    return and_(TABLE.c.tenant_id == claim.tenant_id, TABLE.c.key == claim.key, TABLE.c.claim_id == claim.claim_id)


@dataclass
class _Recorder:
    """Holds the endpoint's response until its outcome is recorded."""

    messages: list[Message] = field(default_factory=list)
    status_code: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.start":
            self.status_code = message["status"]
            for name, value in message.get("headers", ()):
                if name.decode("latin-1").lower() in RECORDED_HEADERS:
                    self.headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))

    async def forward(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


class IdempotencyGuard:
    """Wraps one ``idempotent=True`` route; sits inside the access guard, so callers
    that may not call the route never claim a key."""

    def __init__(self, app: ASGIApp, store: IdempotencyStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = parse_key(Headers(scope=scope)) if scope["method"] in UNSAFE_METHODS else None
        if key is None:
            await self.app(scope, receive, send)
            return
        ctx: RequestContext = scope[REQUEST_CONTEXT_KEY]
        tenant = ctx.require_tenant()
        body = await _read_body(receive)
        fingerprint = Fingerprint(
            method=scope["method"],
            path=_path_with_query(scope),
            body_sha256=hashlib.sha256(body).hexdigest(),
            principal=ctx.principal.identity if ctx.principal else None,
        )
        outcome = await self.store.claim(tenant.id, key, fingerprint)
        if isinstance(outcome, RecordedResponse):
            await outcome.replay()(scope, receive, send)
            return
        recorder = _Recorder()
        try:
            await self.app(scope, _replaying(body, receive), recorder.send)
        except BaseException:
            await self._release(outcome)
            raise
        status = recorder.status_code
        if status is None or status >= 500:
            await self._release(outcome)
        else:
            await self._complete(outcome, status, recorder)
        await recorder.forward(send)

    async def _complete(self, claim: Claim, status: int, recorder: _Recorder) -> None:
        try:
            recorded = await self.store.complete(claim, status, recorder.headers, bytes(recorder.body))
        except Exception:
            # The endpoint has run: answer the client; a retry finds the claim and waits for its lease.
            log.exception("could not record the outcome for %s %r", claim.tenant_id, claim.key)
            return
        if not recorded:
            log.warning(
                "idempotency claim of %s %r was taken over before the request finished", claim.tenant_id, claim.key
            )

    async def _release(self, claim: Claim) -> None:
        try:
            await asyncio.shield(self.store.release(claim))
        except Exception:
            log.exception("could not release the idempotency claim %s %r", claim.tenant_id, claim.key)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """Hand the already-read body to the route, then pass through (disconnects)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _path_with_query(scope: Scope) -> str:
    path: str = scope["path"]
    query: bytes = scope.get("query_string", b"")
    return path + (f"?{query.decode('latin-1')}" if query else "")
