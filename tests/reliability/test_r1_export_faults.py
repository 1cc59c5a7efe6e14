"""R1: a full export under faults stores every chat and message of the fake exactly once.

The fake answers 10 % of requests with a 503, 5 % with a 429, drops 2 % of the
connections and cuts 1 % of the bodies in half. The export must still end, and
the SQLite tables must hold exactly the fake's chats and messages: none
missing, none twice, none that the fake does not have. A second run under the
same faults, after new messages arrived, adds exactly those.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from timelines_async.export import SQLiteStore, export_workspace
from timelines_async.testing import FakeTimelines, Faults

from .._wire import fake_client
from ._checks import assert_export_matches
from ._figures import record
from ._profile import FAST_RETRIES, JOB_WAITS, pick

pytestmark = pytest.mark.anyio

#: The full profile is the soak: 20 runs in a row (each a first and a second export),
#: all with the client's default retry budget; the job-level retries of the export
#: absorb the faults in a row that outlast it.
SEEDS = pick([101], [101 + 101 * run for run in range(20)])
CHATS = pick(120, 200)


def faults(seed: int) -> Faults:
    return Faults(
        seed=seed,
        server_error=0.10,
        rate_limited=0.05,
        retry_after=0.01,
        dropped=0.02,
        truncated=0.01,
    )


@pytest.mark.parametrize("seed", SEEDS)
async def test_export_under_faults_stores_every_chat_and_message_once(
    seed: int, tmp_path: Path, wire: str
) -> None:
    fake = FakeTimelines(seed=seed, chats=CHATS, faults=faults(seed))
    db_path = tmp_path / "export.sqlite"
    async with fake_client(fake, wire, **FAST_RETRIES) as tl:
        first = await export_workspace(tl, SQLiteStore(db_path), **JOB_WAITS)
        messages = assert_export_matches(fake, db_path)
        assert first.chats == CHATS
        assert first.messages == messages

        # New messages arrive; a second run under the same faults adds exactly those.
        chats = sorted(fake.chats)
        arrived = [
            fake.receive_message(chat_id, f"new message {n} in {chat_id}")
            for n, chat_id in enumerate(chats[:: max(1, len(chats) // 10)])
        ]
        second = await export_workspace(tl, SQLiteStore(db_path), **JOB_WAITS)
        assert assert_export_matches(fake, db_path) == messages + len(arrived)
        assert second.messages == len(arrived)
        # At least those chats are read again (chats without messages always are).
        assert second.chats_updated >= len(arrived)

    injected = Counter(fake.faults_injected)
    assert injected["server_error"] > 0
    assert injected["rate_limited"] > 0
    assert injected["dropped"] + injected["truncated"] > 0
    record(
        "R1 export under faults",
        runs=1,
        chats=CHATS,
        messages=messages + len(arrived),
        requests=len(fake.requests),
        faults=injected,
        duplicates=0,
    )
