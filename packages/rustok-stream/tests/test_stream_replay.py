"""Replaying the stream to one handler: receipts skip what it applied; new handlers catch up."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from rustok_core.errors import NotFound, Validation
from rustok_stream.module import module as stream_module
from rustok_stream.replay import replay, replay_report
from rustok_testing.samples import RecorderModule, ThingHappened, core_plugins


class ThreeHandlers(RecorderModule):
    """The recorder after an upgrade that added a handler."""

    handler_names = ("recorder.first", "recorder.second", "recorder.third")


async def forget(streamtest: Any, platform: Any, handler: str, event_id: uuid.UUID) -> None:
    """What a rebuild does: drop a handler's effects and receipt of an event."""
    for table in ("event_receipts", "recorder_effects"):
        sql = f"DELETE FROM {table} WHERE handler = :h AND event_id = :id"
        await streamtest.rows_exec(platform, sql, h=handler, id=event_id)


def applied(rows: list[Any], handler: str) -> list[uuid.UUID]:
    return sorted(row.event_id for row in rows if row.handler == handler)


async def test_f_replay_delivers_only_what_a_handler_has_not_applied_and_catches_up_new_handlers(
    streamtest: Any, make_tenant: Any
) -> None:
    platform = streamtest.boot()
    tenant = await make_tenant()
    async with streamtest.serve(platform):
        envelopes = []
        for n in range(3):  # one at a time: distinct stream times
            envelopes += await streamtest.publish(platform, tenant.id, ThingHappened(n=n))
            await streamtest.wait_effects(platform, [envelopes[-1].id], 2)
        e1, e2, e3 = envelopes
        ids = [e1.id, e2.id, e3.id]
        assert await streamtest.eventually_idle()
        (m1,), (m2,), (m3,) = [await streamtest.messages_of(event_id) for event_id in ids]
        assert m1.seq < m2.seq < m3.seq

        # From a sequence: the first handler lost E2 (a partial rebuild); only E2 is applied.
        await forget(streamtest, platform, "recorder.first", e2.id)
        assert await replay(platform.ctx, "recorder.first", from_sequence=m1.seq) == 1
        rows = await streamtest.effects(platform, ids)
        assert applied(rows, "recorder.first") == sorted(ids)

        # From a time: the second handler lost E3; E1 is before the point, E2 is skipped.
        await forget(streamtest, platform, "recorder.second", e3.id)
        report = await replay_report(platform.ctx, "recorder.second", since=m2.time)
        assert report.delivered == 1
        assert report.first_seq == m2.seq and report.failed == {}
        assert report.skipped == report.scanned - 1
        rows = await streamtest.effects(platform, ids)
        assert applied(rows, "recorder.second") == sorted(ids)
        assert len(rows) == 6  # nothing applied twice

        # Nothing left to do: a second replay applies nothing.
        assert await replay(platform.ctx, "recorder.first", from_sequence=1) == 0

        # A handler added later (a new release, not relaying here) gets everything since the point...
        upgraded = streamtest.boot([*core_plugins(), ThreeHandlers(), stream_module], **{"rustok.events.relay": False})
        assert await replay(upgraded.ctx, "recorder.third", since=m2.time) == 2
        rows = await streamtest.effects(platform, ids)
        assert applied(rows, "recorder.third") == sorted([e2.id, e3.id])
        # ...and from an earlier sequence only what it is still missing.
        assert await replay(upgraded.ctx, "recorder.third", from_sequence=m1.seq) == 1
        rows = await streamtest.effects(platform, ids)
        assert applied(rows, "recorder.third") == sorted(ids)
        assert len(rows) == 9

        # Past the end: nothing; an unknown handler or a bad starting point: refused.
        assert await replay(platform.ctx, "recorder.first", from_sequence=m3.seq + 1000) == 0
        with pytest.raises(NotFound, match=r"installed: recorder\.first, recorder\.second"):
            await replay(platform.ctx, "recorder.nobody", from_sequence=1)
        with pytest.raises(Validation):
            await replay(platform.ctx, "recorder.first")
        with pytest.raises(Validation):
            await replay(platform.ctx, "recorder.first", from_sequence=1, since=m2.time)
        # The ephemeral replay consumers are gone; the durables are untouched.
        names = {c.name for c in await streamtest.js.consumers_info(streamtest.stream)}
        assert names == {"rustok_recorder_first", "rustok_recorder_second"}
