"""The campaign journal (`campaign._journal`): one campaign per journal, one run at a time."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from timelines_async import campaign
from timelines_async.campaign import (
    CampaignError,
    InsufficientQuotaError,
    JournalBusyError,
    JournalMismatchError,
    Outcome,
)
from timelines_async.campaign._csv import load_plan
from timelines_async.campaign._journal import Journal
from timelines_async.testing import FakeTimelines

from ._support import (
    SEND_INTERVAL,
    TEMPLATE,
    customers_csv,
    expected_texts,
    sends_made,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("change", ["csv", "template"])
async def test_resuming_with_another_csv_or_template_is_refused(
    fake: FakeTimelines, tmp_path: Path, change: str
) -> None:
    path = customers_csv(tmp_path, 3)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        await campaign.run(tl, path, text=TEMPLATE)
        template = TEMPLATE
        if change == "csv":
            with path.open("a", encoding="utf-8") as out:
                out.write("+14155550999,Late Customer,A-99\n")
        else:
            template = "Hello {name}, order {order} is on its way"
        with pytest.raises(JournalMismatchError, match="belongs to another campaign"):
            await campaign.run(tl, path, text=template)

    assert len(fake.sent) == 3


async def test_a_journal_nothing_was_sent_under_is_started_afresh_for_a_changed_csv(
    tmp_path: Path,
) -> None:
    """Refused for quota, the user trims the CSV: no send was ever journaled, so no conflict."""
    fake = FakeTimelines(seed=0, chats=5, credits=3)
    path = customers_csv(tmp_path, 5)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(InsufficientQuotaError):
            await campaign.run(tl, path, text=TEMPLATE)
        customers_csv(tmp_path, 3)
        dry = await campaign.run(tl, path, text=TEMPLATE, dry_run=True)
        report = await campaign.run(tl, path, text=TEMPLATE)

    assert [r.outcome for r in dry.results] == [Outcome.PENDING] * 3
    assert [m.text for m in fake.sent] == expected_texts(3)
    assert report.ok


async def test_two_runs_cannot_share_a_journal(fake: FakeTimelines, tmp_path: Path) -> None:
    path = customers_csv(tmp_path, 2)
    with Journal.open(campaign.default_journal_path(path), load_plan(path, TEMPLATE)):
        async with fake.client(send_interval=SEND_INTERVAL) as tl:
            with pytest.raises(JournalBusyError):
                await campaign.run(tl, path, text=TEMPLATE)
    assert sends_made(fake) == []


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "run"])
async def test_a_journal_path_holding_something_else_is_a_clear_error(
    fake: FakeTimelines, tmp_path: Path, dry_run: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[sqlite3.Connection] = []

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(real_connect(*args, **kwargs))
        return opened[-1]

    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", connect)
    path = customers_csv(tmp_path, 2)
    campaign.default_journal_path(path).write_bytes(b"not an SQLite database, " * 40)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(CampaignError, match=r"journal .* not a database"):
            await campaign.run(tl, path, text=TEMPLATE, dry_run=dry_run)
    assert sends_made(fake) == []
    # Every connection is closed (Python 3.13 warns about one left to the garbage collector).
    assert opened
    for connection in opened:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")
