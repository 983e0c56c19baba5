"""Price list windows that open or close: announced as ``commerce.price_list.changed`` (action ``window``).

A price list with ``starts_at``/``ends_at`` starts or stops applying when the clock
passes a bound, with no write and so with no event; anything that keeps resolved
prices (the index's product documents, a storefront cache) would go stale at that
moment. :func:`announce_passed_windows` publishes the missing event for every active
list whose bound passed, naming the products it prices, so they are read again.

Each bound is announced once, whatever the number of server processes, and also when
it passed while none was running: ``window_checked_at`` on a list says up to when its
bounds are announced, and a sweep moves it forward with a conditional ``UPDATE ...
RETURNING`` in the transaction that publishes the events. Two processes sweeping at
once queue on the rows; the second re-checks the condition after the first commits
and matches nothing. A write to a list moves ``window_checked_at`` too (its own event
covers what passed before it).

:class:`PriceWindowWatcher` (started with the server by the module's
``rustok_startup``) sweeps at start, then sleeps until the next bound of any list, at
most :data:`LONGEST_SLEEP` seconds (lists created meanwhile are seen by then).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, union_all, update

from rustok_commerce.events import PriceListChanged
from rustok_commerce.models import PriceList
from rustok_commerce.services.prices import products_in
from rustok_core.context import AppContext
from rustok_core.events import EventPublisher

log = logging.getLogger("rustok.commerce.price_windows")

WINDOW = "window"
LONGEST_SLEEP = 60.0
"""Seconds between sweeps when no bound is known (a bound set meanwhile waits at most this long)."""
STOP_TIMEOUT = 10.0
STATE_KEY = "commerce.price_windows"


def _passed(now: datetime) -> ColumnElement[bool]:
    """Active lists with a bound after the last announcement and not after ``now``."""
    return and_(
        PriceList.is_active.is_(True),
        or_(
            and_(PriceList.starts_at > PriceList.window_checked_at, PriceList.starts_at <= now),
            and_(PriceList.ends_at > PriceList.window_checked_at, PriceList.ends_at <= now),
        ),
    )


async def announce_passed_windows(ctx: AppContext, *, now: datetime | None = None) -> int:
    """Publish ``commerce.price_list.changed`` (action ``window``) for every list whose bound passed; how many."""
    moment = now or datetime.now(UTC)
    async with ctx.db.system_session() as session:
        tenants = list((await session.scalars(select(PriceList.tenant_id).where(_passed(moment)).distinct())).all())
    publisher = ctx.services.get(EventPublisher)
    announced = 0
    for tenant_id in tenants:
        async with ctx.db.session(tenant_id) as session, session.begin():
            claimed = await session.scalars(
                update(PriceList)
                .where(_passed(moment))
                .values(window_checked_at=moment)
                .returning(PriceList.id)
                .execution_options(synchronize_session=False)
            )
            for price_list_id in sorted(claimed.all()):
                event = PriceListChanged(
                    price_list_id=price_list_id, action=WINDOW, product_ids=await products_in(session, price_list_id)
                )
                await publisher.publish(session, event, tenant_id=tenant_id)
                announced += 1
    if announced:
        log.info("announced %d price list window bound(s) that passed", announced)
    return announced


async def next_bound(ctx: AppContext, *, now: datetime | None = None) -> datetime | None:
    """The earliest bound after ``now`` of any active list, of any tenant (``None``: there is none)."""
    moment = now or datetime.now(UTC)
    bounds = union_all(
        *(
            select(bound.label("at")).where(PriceList.is_active.is_(True), bound > moment)
            for bound in (PriceList.starts_at, PriceList.ends_at)
        )
    ).subquery()
    async with ctx.db.system_session() as session:
        found: datetime | None = await session.scalar(select(func.min(bounds.c.at)))
    return found


class PriceWindowWatcher:
    """Runs :func:`announce_passed_windows` whenever a bound passes (a background task of the server)."""

    def __init__(self, ctx: AppContext, *, longest_sleep: float = LONGEST_SLEEP) -> None:
        self.ctx = ctx
        self.longest_sleep = longest_sleep
        self.announced = 0
        self.failures = 0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="commerce.price_windows")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            # A sweep in progress finishes (its transaction commits or rolls back) unless it hangs.
            await asyncio.wait_for(task, timeout=STOP_TIMEOUT)
        except TimeoutError:
            log.warning("the price window sweep did not finish within %.0fs; cancelled", STOP_TIMEOUT)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.announced += await announce_passed_windows(self.ctx)
                upcoming = await next_bound(self.ctx)
                wait = self.longest_sleep
                if upcoming is not None:
                    # A little after the bound: a timer may fire a hair early.
                    wait = min(wait, max(0.0, (upcoming - datetime.now(UTC)).total_seconds()) + 0.01)
            except Exception:
                # A database outage: the bounds stay unannounced and the next sweep takes them.
                self.failures += 1
                log.exception("announcing price list windows failed; retrying in %.0fs", self.longest_sleep)
                wait = self.longest_sleep
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=wait)


def watcher_of(ctx: AppContext) -> PriceWindowWatcher:
    """The context's watcher (made on first use)."""
    watcher = ctx.state.get(STATE_KEY)
    if watcher is None:
        watcher = ctx.state[STATE_KEY] = PriceWindowWatcher(ctx)
    assert isinstance(watcher, PriceWindowWatcher)
    return watcher
