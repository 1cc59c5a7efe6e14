"""R7: the API fails every request for a while in the middle of an export over HTTP.

The fake, served by uvicorn, answers 503 to everything for `OUTAGE` seconds
once the export is under way. The export must ride it out in one run (no
error, no rerun) and store every chat and message exactly once. Times are
scaled by 1/10 (a 20 s outage becomes 2 s; the client's retry delays and the
job's waits shrink alike), so the test costs seconds, not minutes.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from timelines_async import TimelinesClient
from timelines_async.export import ExportProgress, SQLiteStore, export_workspace
from timelines_async.testing import FakeTimelines, Outage, serve_http

from ._checks import assert_export_matches
from ._figures import record
from ._profile import pick

pytestmark = pytest.mark.anyio

SCALE = 0.1
OUTAGE = 20.0 * SCALE
CHATS = pick(60, 200)
STARTS = pick([30], [10, 60, 150])


@pytest.mark.parametrize("after_requests", STARTS)
async def test_export_rides_out_an_outage_in_one_run(tmp_path: Path, after_requests: int) -> None:
    fake = FakeTimelines(seed=7, chats=CHATS, token="r7-token")
    fake.set_outage(Outage(after_requests=after_requests, seconds=OUTAGE))
    db_path = tmp_path / "export.sqlite"
    seen: list[ExportProgress] = []
    started = time.monotonic()
    with serve_http(fake) as base_url:
        async with TimelinesClient(
            fake.token,
            base_url=base_url,
            requests_per_second=None,
            retry_base_delay=0.5 * SCALE,
            retry_max_delay=30.0 * SCALE,
        ) as tl:
            summary = await export_workspace(
                tl,
                SQLiteStore(db_path),
                progress=seen.append,
                retry_wait=2.0 * SCALE,
                max_retry_wait=120.0 * SCALE,
            )
    seconds = time.monotonic() - started

    messages = assert_export_matches(fake, db_path)
    assert summary.chats == CHATS
    assert summary.messages == messages
    statuses = Counter(request.status for request in fake.requests)
    assert statuses[503] > 0, "the outage never happened"
    waiting = [p for p in seen if p.retry_in is not None]
    assert waiting, "the progress never showed the wait"
    assert seconds > OUTAGE
    record(
        "R7 export through an outage",
        outages=1,
        outage_seconds=OUTAGE,
        chats=CHATS,
        messages=messages,
        requests=len(fake.requests),
        answered_503=statuses[503],
        most_chats_waiting=max(p.chats_waiting for p in seen),
        runs=1,
        duplicates=0,
    )
