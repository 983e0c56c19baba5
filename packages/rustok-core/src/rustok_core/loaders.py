"""Per-request dataloaders: batch the lookups of a relation into one query.

Resolvers call ``load_one(ctx, "rbac.roles_by_user", batch, key)``; every call with the
same loader name during one request is collected and answered by a single call of
``batch(keys)``, which must return one result per key, in order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader

from rustok_core.context import RequestContext

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BatchFn = Callable[[Sequence[K]], Awaitable[Sequence[V]]]


def loader(ctx: RequestContext, name: str, batch: BatchFn[Any, Any]) -> DataLoader:
    """The request's loader called ``name`` (created on first use)."""
    found = ctx.loaders.get(name)
    if found is None:

        async def batch_load(keys: list[Any]) -> list[Any]:
            return list(await batch(keys))

        found = DataLoader(batch_load)
        ctx.loaders[name] = found
    return found


async def load_one(ctx: RequestContext, name: str, batch: BatchFn[K, V], key: K) -> V:
    result: V = await loader(ctx, name, batch).load(key)
    return result
