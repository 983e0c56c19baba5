"""The :class:`Database`: one async engine and the two kinds of session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from rustok_core.db.reads import ReadConnections
from rustok_core.db.scoping import SYSTEM_KEY, TENANT_KEY, RustokSession

DRIVER = "postgresql+psycopg"


def normalize_url(url: str) -> str:
    """Accept ``postgres://``, ``postgresql://`` or ``postgresql+psycopg://`` URLs."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"only PostgreSQL is supported, got {parsed.get_backend_name()!r}")
    return parsed.set(drivername=DRIVER).render_as_string(hide_password=False)


def driver_conninfo(url: str) -> str:
    """A database URL (``postgresql+psycopg://…`` and the like) as a libpq connection string,
    for connections psycopg opens itself (the read pool, the relay's, tools)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _bind(bind: AsyncConnection | None) -> dict[str, Any]:
    return {"bind": bind} if bind is not None else {}


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Database:
    """Async engine plus tenant-scoped and system sessions."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        echo: bool = False,
        read_pool_size: int = 10,
    ) -> None:
        self.url = normalize_url(url)
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            echo=echo,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
        )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=RustokSession)
        self.reads = ReadConnections(driver_conninfo(self.url), max_size=read_pool_size)
        """Autocommit connections for one-statement reads (storefront), beside the engine's pool."""

    def session(self, tenant_id: uuid.UUID, *, bind: AsyncConnection | None = None) -> AsyncSession:
        """A session that only sees and writes ``tenant_id``'s rows of tenant-owned tables.

        ``bind`` joins an open connection (and its transaction) instead of the pool.
        """
        if not isinstance(tenant_id, uuid.UUID):
            raise TypeError("Database.session() needs the tenant's UUID")
        return self._sessions(info={TENANT_KEY: tenant_id}, **_bind(bind))

    @asynccontextmanager
    async def transaction(
        self, tenant_id: uuid.UUID, session: AsyncSession | None = None
    ) -> AsyncIterator[AsyncSession]:
        """Join the caller's ``session`` (its transaction), or open a tenant session committed at the end.

        Lets a service's write run alone or inside a caller's larger transaction (another
        module adding its own rows and events to the same commit).
        """
        if session is not None:
            yield session
            return
        async with self.session(tenant_id) as own, own.begin():
            yield own

    def system_session(self, *, bind: AsyncConnection | None = None) -> AsyncSession:
        """An unscoped session for explicit platform work. Never use it to serve a tenant."""
        return self._sessions(info={SYSTEM_KEY: True}, **_bind(bind))

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.reads.close()
        await self.engine.dispose()
