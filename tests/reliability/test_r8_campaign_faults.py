"""R8: a campaign under transient faults finishes in one run, messaging every recipient once.

A 40-recipient campaign meets 10 % `200 "status": "error"` answers, 5 % 5xx and
5 % 429. None of them refuses a recipient for good, so none may end the run or
leave a recipient pending: the run's report is `ok` (the CLI's exit 0), and the
fake's `sent` list holds every recipient's text exactly once.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from timelines_async import campaign
from timelines_async.testing import FakeTimelines, Faults

from ._figures import record
from ._profile import FAST_RETRIES, pick

pytestmark = pytest.mark.anyio

RECIPIENTS = 40
SEEDS = pick([1, 2], list(range(1, 11)))


@pytest.mark.parametrize("seed", SEEDS)
async def test_a_campaign_rides_out_transient_faults_in_one_run(tmp_path: Path, seed: int) -> None:
    faults = Faults(
        seed=seed, status_error=0.10, server_error=0.05, rate_limited=0.05, retry_after=0.01
    )
    fake = FakeTimelines(seed=seed, chats=10, faults=faults)
    rows = [{"phone": f"+1555{seed:03d}{n:04d}", "n": str(n)} for n in range(RECIPIENTS)]
    async with fake.client(send_interval=0.001, **FAST_RETRIES) as tl:
        report = await campaign.run(
            tl,
            rows,
            text="R8 message {n}",
            journal=tmp_path / "r8.journal.sqlite",
            settle=0.02,
            retry_base_delay=0.005,
            retry_max_delay=0.1,
        )

    texts = Counter(message.text for message in fake.sent)
    record(
        "R8 campaign under transient faults",
        campaigns=1,
        runs=1,  # each campaign's one and only run
        recipients=RECIPIENTS,
        faults=Counter(fake.faults_injected),
        ok=int(report.ok),
        duplicates=sum(count - 1 for count in texts.values()),
        attempts=sum(result.attempts for result in report.results),
    )
    assert report.stopped is None
    assert report.ok, report.summary()
    assert texts == Counter(f"R8 message {n}" for n in range(RECIPIENTS))
    assert sum(fake.faults_injected.values()) > 0
