"""`campaign.run` (`campaign._runner`): a clean campaign, options, dry runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from timelines_async import campaign
from timelines_async.campaign import (
    CampaignError,
    CampaignProgress,
    InvalidCampaignError,
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
    phones,
    sends_made,
    write_csv,
)

pytestmark = pytest.mark.anyio


async def test_a_clean_campaign_sends_each_recipient_once_in_csv_order(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = customers_csv(tmp_path, 6)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE)

    assert [message.text for message in fake.sent] == expected_texts(6)
    assert [message.recipient_phone for message in fake.sent] == phones(6)
    assert report.ok
    assert report.counts["sent"] == 6
    assert [result.line for result in report.results] == [2, 3, 4, 5, 6, 7]
    assert [result.message_uid for result in report.results] == [m.uid for m in fake.sent]
    assert report.journal == tmp_path / "customers.csv.journal.sqlite"
    assert report.journal.exists()


async def test_a_campaign_by_chat_id_sends_into_those_chats_in_order(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    chat_ids = [chat.id for chat in fake.chats.values() if chat.is_allowed_to_message][:4]
    path = write_csv(
        tmp_path / "chats.csv", ["chat_id", "name"], [[str(i), f"team {i}"] for i in chat_ids]
    )
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text="Hello {name}")

    assert [message.chat_id for message in fake.sent] == chat_ids
    assert [message.text for message in fake.sent] == [f"Hello team {i}" for i in chat_ids]
    assert [result.chat_id for result in report.results] == chat_ids
    assert report.ok


async def test_running_a_finished_campaign_again_sends_nothing(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = customers_csv(tmp_path, 4)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        first = await campaign.run(tl, path, text=TEMPLATE)
        requests_before = len(sends_made(fake))
        again = await campaign.run(tl, path, text=TEMPLATE)

    assert len(fake.sent) == 4
    assert len(sends_made(fake)) == requests_before
    assert again.ok
    assert [r.message_uid for r in again.results] == [r.message_uid for r in first.results]


async def test_progress_reports_every_outcome_against_the_total(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = customers_csv(tmp_path, 3)
    seen: list[tuple[CampaignProgress, int]] = []
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        await campaign.run(
            tl, path, text=TEMPLATE, progress=lambda p: seen.append((p, len(fake.sent)))
        )

    assert [(p.done, p.total) for p, _ in seen] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert [p.last.line for p, _ in seen if p.last is not None] == [2, 3, 4]
    # The first call comes before any send, with the quota check (the CLI prints it then).
    first, sent_by_then = seen[0]
    assert sent_by_then == 0
    assert first.quota is not None
    assert (first.quota.needed, first.quota.fits) == (3, True)


async def test_a_list_of_recipients_needs_a_journal_path(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    rows = [{"phone": phone, "name": "A", "order": str(i)} for i, phone in enumerate(phones(2))]
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(CampaignError, match="journal=PATH"):
            await campaign.run(tl, rows, text=TEMPLATE)
        report = await campaign.run(tl, rows, text=TEMPLATE, journal=tmp_path / "list.sqlite")

    assert report.ok
    assert [m.text for m in fake.sent] == [
        "Hi A, your order 0 shipped",
        "Hi A, your order 1 shipped",
    ]


@pytest.mark.parametrize(
    ("option", "value"),
    [("settle", -1.0), ("settle", float("nan")), ("settle", float("inf")), ("max_attempts", 0)],
)
async def test_bad_settle_or_max_attempts_is_refused_before_anything_happens(
    fake: FakeTimelines, tmp_path: Path, option: str, value: float
) -> None:
    path = customers_csv(tmp_path, 2)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(InvalidCampaignError, match=option):
            await campaign.run(tl, path, text=TEMPLATE, **{option: value})  # type: ignore[arg-type]
    assert fake.requests == []
    assert not campaign.default_journal_path(path).exists()


async def test_a_dry_run_renders_every_message_and_sends_and_writes_nothing(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = customers_csv(tmp_path, 5)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, dry_run=True)

    assert sends_made(fake) == []
    assert not campaign.default_journal_path(path).exists()
    assert [r.text for r in report.results] == expected_texts(5)
    assert {r.outcome for r in report.results} == {Outcome.PENDING}
    assert report.quota is not None
    assert report.quota.fits
    assert report.dry_run
    assert report.ok


async def test_a_dry_run_of_a_resumed_campaign_counts_only_what_is_left(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = customers_csv(tmp_path, 5)
    plan = load_plan(path, TEMPLATE)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with Journal.open(campaign.default_journal_path(path), plan) as journal:
            journal.mark_sending(0, datetime.now(UTC))
            journal.mark_sent(0, "uid-0")
        report = await campaign.run(tl, path, text=TEMPLATE, dry_run=True)

    assert [r.outcome for r in report.results] == [Outcome.SENT] + [Outcome.PENDING] * 4
    assert report.quota is not None
    assert report.quota.needed == 4
