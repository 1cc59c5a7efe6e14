"""`timelines_async.campaign` against the fake server.

Every recipient is messaged at most once, in CSV order, across interruptions,
lost answers and crashes between the journal write and the request; bad input
is reported with line numbers before anything is sent.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timelines_async import InvalidRequestError, TimelinesClient, campaign
from timelines_async.campaign import (
    CampaignError,
    CampaignProgress,
    InsufficientQuotaError,
    InvalidCampaignError,
    InvalidRowsError,
    JournalBusyError,
    JournalMismatchError,
    Outcome,
)
from timelines_async.campaign._csv import load_plan
from timelines_async.campaign._journal import Journal
from timelines_async.testing import FakeTimelines, FakeTransport, Faults

pytestmark = pytest.mark.anyio

SEND_INTERVAL = 0.01
TEMPLATE = "Hi {name}, your order {order} shipped"


def phones(count: int) -> list[str]:
    return [f"+1415555{index:04d}" for index in range(count)]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def customers_csv(tmp_path: Path, count: int = 6) -> Path:
    rows = [[phone, f"Customer {i}", f"A-{i}"] for i, phone in enumerate(phones(count))]
    return write_csv(tmp_path / "customers.csv", ["phone", "name", "order"], rows)


def expected_texts(count: int) -> list[str]:
    return [f"Hi Customer {i}, your order A-{i} shipped" for i in range(count)]


def sends_made(fake: FakeTimelines) -> list[str]:
    """The paths of every send request the fake saw (answered or not)."""
    return [r.path for r in fake.requests if r.method == "POST"]


def per_recipient(fake: FakeTimelines) -> Counter[str]:
    return Counter(message.recipient_phone for message in fake.sent)


@pytest.fixture
def fake() -> FakeTimelines:
    return FakeTimelines(seed=0, chats=20)


# -- a clean campaign -----------------------------------------------------------------------


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
    seen: list[CampaignProgress] = []
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        await campaign.run(tl, path, text=TEMPLATE, progress=seen.append)

    assert [(p.done, p.total) for p in seen] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert [p.last.line for p in seen if p.last is not None] == [2, 3, 4]


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


# -- bad input: every problem, with its line, before anything is sent ------------------------


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (["12345", "Ann", "A-9"], "not an international phone number"),
        (["+14155559999", "", "A-9"], "missing template variable {name}"),
        (["+14155559999", "x" * 1990, "A-9"], "characters after formatting; the API accepts"),
        (["+14155559999", "A\x00B", "A-9"], "NUL"),
        (
            ["+1 (415) 555-0000", "Ann", "A-9"],
            "duplicate recipient: phone +14155550000 is already on line 2",
        ),
        (["+14155559999", "Ann", "A-9", "surplus"], "has 4 fields but the header has 3"),
    ],
    ids=["bad-phone", "missing-variable", "too-long", "nul", "duplicate", "extra-field"],
)
async def test_an_invalid_row_is_reported_with_its_line_and_nothing_is_sent(
    fake: FakeTimelines, tmp_path: Path, bad_row: list[str], message: str
) -> None:
    good = [[phone, f"Customer {i}", f"A-{i}"] for i, phone in enumerate(phones(3))]
    path = write_csv(tmp_path / "c.csv", ["phone", "name", "order"], [*good[:2], bad_row, good[2]])
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(InvalidRowsError) as caught:
            await campaign.run(tl, path, text=TEMPLATE)

    assert [problem.line for problem in caught.value.problems] == [4]
    assert message in caught.value.problems[0].message
    assert "line 4" in str(caught.value)
    assert fake.requests == []
    assert not campaign.default_journal_path(path).exists()


async def test_every_invalid_row_is_reported_at_once_with_physical_line_numbers(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "phone,name,order\n"
        '+14155550001,"Ann\nwith a two-line name",A-1\n'  # lines 2-3
        "oops,Bob,A-2\n"  # line 4
        "\n"  # line 5: blank, ignored
        "+14155550003,,A-3\n"  # line 6
        "+14155550001,Ann again,A-4\n",  # line 7
        encoding="utf-8",
    )
    with pytest.raises(InvalidRowsError) as caught:
        await campaign.run(None, path, text=TEMPLATE)

    assert [problem.line for problem in caught.value.problems] == [4, 6, 7]
    assert "already on line 2" in caught.value.problems[2].message
    assert isinstance(caught.value, InvalidRequestError)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Hi {first_name}", "names {first_name}, which is not a column"),
        ("Hi {}", "positional field"),
        ("Hi {name.upper}", "only plain column names"),
        ("Hi {name", "literal braces"),
        ("Total {order:.2f}", "cannot be rendered"),
        ("   ", "must not be empty"),
    ],
)
async def test_a_template_that_cannot_be_rendered_is_refused(
    tmp_path: Path, template: str, message: str
) -> None:
    with pytest.raises(InvalidCampaignError, match="template") as caught:
        await campaign.run(None, customers_csv(tmp_path), text=template)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["mobile", "name"], "needs a 'phone' or a 'chat_id' column"),
        (["phone", "chat_id", "name"], "has phone and chat_id columns; keep the one"),
        (["phone", "name", "name"], "names name more than once"),
    ],
)
async def test_a_csv_without_one_clear_target_column_is_refused(
    tmp_path: Path, header: list[str], message: str
) -> None:
    path = write_csv(tmp_path / "c.csv", header, [["+14155550001", "1", "x"][: len(header)]])
    with pytest.raises(InvalidCampaignError, match=message):
        await campaign.run(None, path, text="Hi {name}")


async def test_two_spellings_of_one_number_are_one_recipient(tmp_path: Path) -> None:
    rows = [["14155550001", "Ann", "A-1"], ["+1 415 555 0001", "Ann", "A-2"]]
    path = write_csv(tmp_path / "c.csv", ["Phone", "name", "order"], rows)
    with pytest.raises(InvalidRowsError) as caught:
        await campaign.run(None, path, text=TEMPLATE)
    assert [str(problem) for problem in caught.value.problems] == [
        "line 3: duplicate recipient: phone +14155550001 is already on line 2"
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


async def test_skip_invalid_sends_the_valid_rows_and_reports_the_others(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    rows = [["+14155550001", "Ann", "A-1"], ["bad", "Bob", "A-2"], ["+14155550003", "Cy", "A-3"]]
    path = write_csv(tmp_path / "c.csv", ["phone", "name", "order"], rows)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, skip_invalid=True)

    assert [m.recipient_phone for m in fake.sent] == ["+14155550001", "+14155550003"]
    assert [(r.line, r.outcome) for r in report.results] == [
        (2, Outcome.SENT), (3, Outcome.INVALID), (4, Outcome.SENT)
    ]  # fmt: skip
    assert not report.ok


# -- quota ------------------------------------------------------------------------------------


async def test_a_campaign_larger_than_the_quota_is_refused_with_the_numbers(
    tmp_path: Path,
) -> None:
    fake = FakeTimelines(seed=0, chats=5, credits=5)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(
            InsufficientQuotaError, match=r"needs 8 messages but .* has 5 left"
        ) as caught:
            await campaign.run(tl, customers_csv(tmp_path, 8), text=TEMPLATE)

    assert (caught.value.needed, caught.value.remaining) == (8, 5)
    assert sends_made(fake) == []


async def test_send_what_fits_sends_the_first_that_fit_and_skips_the_rest(
    tmp_path: Path,
) -> None:
    fake = FakeTimelines(seed=0, chats=5, credits=5)
    path = customers_csv(tmp_path, 8)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, send_what_fits=True)

    assert [m.text for m in fake.sent] == expected_texts(5)
    assert [r.outcome for r in report.results] == [Outcome.SENT] * 5 + [Outcome.SKIPPED_QUOTA] * 3
    assert report.quota is not None
    assert (report.quota.needed, report.quota.remaining) == (8, 5)
    assert not report.ok


class WorkspaceQuota(FakeTransport):
    """The fake, except that `GET /workspace` reports the given quotas."""

    def __init__(self, fake: FakeTimelines, quotas: dict[str, object]) -> None:
        super().__init__(fake)
        self.quotas = quotas

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/workspace"):
            return httpx.Response(200, json={"status": "ok", "data": self.quotas})
        return await super().handle_async_request(request)


@pytest.mark.parametrize(
    ("quotas", "remaining"),
    [
        ({"messaging_quota": {"total": 10, "used": 8}}, 2),
        (
            {
                "messaging_quota": {"total": 10, "used": 8},
                "non_recurring_quota": {"remaining_balance": 3},
            },
            5,
        ),
        (
            {
                "messaging_quota": {"total": 10, "used": 12},
                "non_recurring_quota": {"remaining_balance": 1},
            },
            1,
        ),
    ],
    ids=["recurring", "plus-pay-as-you-go", "overdrawn-recurring"],
)
async def test_the_quota_left_counts_the_pay_as_you_go_balance(
    fake: FakeTimelines, tmp_path: Path, quotas: dict[str, object], remaining: int
) -> None:
    async with httpx.AsyncClient(transport=WorkspaceQuota(fake, quotas)) as http:
        tl = fake.client(http_client=http)
        report = await campaign.run(tl, customers_csv(tmp_path, 6), text=TEMPLATE, dry_run=True)

    assert report.quota is not None
    assert report.quota.remaining == remaining


# -- dry run ----------------------------------------------------------------------------------


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


async def test_a_dry_run_shows_what_the_quota_would_leave_out(tmp_path: Path) -> None:
    fake = FakeTimelines(seed=0, chats=5, credits=3)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, customers_csv(tmp_path, 5), text=TEMPLATE, dry_run=True)

    assert sends_made(fake) == []
    assert [r.outcome for r in report.results] == [Outcome.PENDING] * 3 + [
        Outcome.SKIPPED_QUOTA
    ] * 2
    assert not report.ok


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


# -- interruptions and resuming ---------------------------------------------------------------


class Crash(Exception):
    """Stands for the process dying."""


class DiesAfterTheKthSendIsAccepted(FakeTransport):
    """Hands the K-th send to the fake (it is accepted), then 'dies' before the answer."""

    def __init__(self, fake: FakeTimelines, k: int) -> None:
        super().__init__(fake)
        self.k = k
        self.sends = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST":
            self.sends += 1
            if self.sends == self.k:
                raise Crash("killed with the answer in flight")
        return response


async def interrupt_by_exception(
    fake: FakeTimelines, tl: TimelinesClient, path: Path, k: int
) -> None:
    def crash_after_k(progress: CampaignProgress) -> None:
        if progress.done == k:
            raise Crash("killed between two sends")

    with pytest.raises(Crash):
        await campaign.run(tl, path, text=TEMPLATE, progress=crash_after_k)


async def interrupt_by_cancelling(
    fake: FakeTimelines, tl: TimelinesClient, path: Path, k: int
) -> None:
    with anyio.CancelScope() as scope:

        def cancel_after_k(progress: CampaignProgress) -> None:
            if progress.done == k:
                scope.cancel()

        await campaign.run(tl, path, text=TEMPLATE, progress=cancel_after_k)
    assert scope.cancelled_caught


async def interrupt_in_the_transport(
    fake: FakeTimelines, tl: TimelinesClient, path: Path, k: int
) -> None:
    async with httpx.AsyncClient(transport=DiesAfterTheKthSendIsAccepted(fake, k + 1)) as http:
        dying = fake.client(http_client=http, send_interval=SEND_INTERVAL)
        with pytest.raises(Crash):
            await campaign.run(dying, path, text=TEMPLATE, settle=0)


Interrupt = Callable[[FakeTimelines, TimelinesClient, Path, int], Awaitable[None]]


@pytest.mark.parametrize(
    "interrupt",
    [interrupt_by_exception, interrupt_by_cancelling, interrupt_in_the_transport],
    ids=["crash-between-sends", "cancelled", "crash-with-answer-in-flight"],
)
@pytest.mark.parametrize("k", [1, 4])
async def test_an_interrupted_campaign_resumes_and_messages_nobody_twice(
    fake: FakeTimelines, tmp_path: Path, interrupt: Interrupt, k: int
) -> None:
    path = customers_csv(tmp_path, 7)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        await interrupt(fake, tl, path, k)
        assert k <= len(fake.sent) <= k + 1
        report = await campaign.run(tl, path, text=TEMPLATE, settle=0)

    assert sorted(m.text or "" for m in fake.sent) == sorted(expected_texts(7))
    assert set(per_recipient(fake).values()) == {1}
    assert report.ok
    assert {r.message_uid for r in report.results} == {m.uid for m in fake.sent}


@pytest.mark.parametrize("seed", [1, 7])
async def test_lost_answers_are_reconciled_and_nobody_is_messaged_twice(
    tmp_path: Path, seed: int
) -> None:
    fake = FakeTimelines(seed=0, chats=5, faults=Faults(lost_answer=0.3, seed=seed))
    path = customers_csv(tmp_path, 50)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, settle=0)

    lost = fake.faults_injected["lost_answer"]
    assert lost >= 5  # the faults did happen
    assert len(fake.sent) == 50
    assert set(per_recipient(fake).values()) == {1}
    assert [m.text for m in fake.sent] == expected_texts(50)  # nothing needed a resend
    assert report.ok
    assert sum(r.reconciled for r in report.results) == lost
    assert [r.message_uid for r in report.results] == [m.uid for m in fake.sent]


class RefusesSends(FakeTransport):
    """Answers 503 to the chosen sends (numbered from 1) without handing them to the fake."""

    def __init__(self, fake: FakeTimelines, refuse: Callable[[int, str], bool]) -> None:
        super().__init__(fake)
        self.refuse = refuse
        self.sends = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.sends += 1
            body = json.loads(request.content)
            if self.refuse(self.sends, body.get("phone", "")):
                return httpx.Response(
                    503,
                    json={"status": "error", "message": "down", "error_code": "internal_error"},
                )
        return await super().handle_async_request(request)


async def test_a_5xx_send_that_did_not_go_out_is_reconciled_then_sent_again(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = customers_csv(tmp_path, 6)
    refuse_once = {phones(6)[i] for i in (1, 2, 4)}

    def refuse(_: int, phone: str) -> bool:
        if phone in refuse_once:
            refuse_once.remove(phone)
            return True
        return False

    async with httpx.AsyncClient(transport=RefusesSends(fake, refuse)) as http:
        tl = fake.client(http_client=http, send_interval=SEND_INTERVAL)
        report = await campaign.run(tl, path, text=TEMPLATE, settle=0)

    assert sorted(m.text or "" for m in fake.sent) == sorted(expected_texts(6))
    assert set(per_recipient(fake).values()) == {1}
    assert report.ok
    assert [r.attempts for r in report.results] == [1, 2, 2, 1, 2, 1]
    assert not any(r.reconciled for r in report.results)


async def test_a_recipient_whose_sends_never_go_out_fails_after_max_attempts(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    unlucky = phones(3)[1]
    path = customers_csv(tmp_path, 3)
    async with httpx.AsyncClient(
        transport=RefusesSends(fake, lambda _, phone: phone == unlucky)
    ) as http:
        tl = fake.client(http_client=http, send_interval=SEND_INTERVAL)
        report = await campaign.run(tl, path, text=TEMPLATE, settle=0, max_attempts=2)

    assert [m.recipient_phone for m in fake.sent] == [phones(3)[0], phones(3)[2]]
    failed = report.results[1]
    assert (failed.outcome, failed.attempts) == (Outcome.FAILED, 2)
    assert "none went out" in (failed.reason or "")


@pytest.mark.parametrize("went_out", [True, False], ids=["message-went-out", "never-left"])
async def test_a_row_left_sending_by_a_crash_is_reconciled_before_anything_is_resent(
    fake: FakeTimelines, tmp_path: Path, went_out: bool
) -> None:
    """SIGKILL right after the journal commit: the row says `sending`, nothing else is known."""
    path = customers_csv(tmp_path, 3)
    plan = load_plan(path, TEMPLATE)
    first = plan.recipients[0]
    with Journal.open(campaign.default_journal_path(path), plan) as journal:
        journal.mark_sending(first.position, datetime.now(UTC))
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        if went_out:
            await tl.messages.send(phone=first.target, text=first.text)
        report = await campaign.run(tl, path, text=TEMPLATE, settle=0)

    assert per_recipient(fake) == Counter(phones(3))
    result = report.results[0]
    assert result.outcome is Outcome.SENT
    assert result.reconciled is went_out
    assert result.attempts == (1 if went_out else 2)
    assert report.ok


async def test_not_found_is_trusted_only_once_the_attempt_has_settled(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    """A message accepted but not yet in the history when the run resumes is not sent twice."""
    path = customers_csv(tmp_path, 2)
    plan = load_plan(path, TEMPLATE)
    first = plan.recipients[0]
    with Journal.open(campaign.default_journal_path(path), plan) as journal:
        journal.mark_sending(first.position, datetime.now(UTC))
    seen: list[CampaignProgress] = []
    async with fake.client(send_interval=SEND_INTERVAL) as tl:

        async def shows_up_late() -> None:  # the API's queue delivers it a moment later
            await anyio.sleep(0.05)
            await tl.messages.send(phone=first.target, text=first.text)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(shows_up_late)
            report = await campaign.run(tl, path, text=TEMPLATE, settle=0.6, progress=seen.append)

    assert per_recipient(fake) == Counter(phones(2))
    assert report.results[0].reconciled
    assert report.ok
    # While it waits, the progress says one recipient is in doubt.
    assert [(p.done, p.in_doubt, p.last is None) for p in seen] == [
        (0, 0, True), (1, 1, False), (1, 1, True), (2, 0, False)
    ]  # fmt: skip


async def test_an_error_that_would_fail_every_send_stops_the_run_and_keeps_the_rest(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    class QuotaRunsOut(FakeTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and len(fake.sent) == 2:
                body = {"status": "error", "message": "quota", "error_code": "quota_exceeded"}
                return httpx.Response(403, json=body)
            return await super().handle_async_request(request)

    path = customers_csv(tmp_path, 5)
    async with httpx.AsyncClient(transport=QuotaRunsOut(fake)) as http:
        tl = fake.client(http_client=http, send_interval=SEND_INTERVAL)
        stopped = await campaign.run(tl, path, text=TEMPLATE, settle=0)
    assert stopped.stopped is not None
    assert "QuotaExceededError" in stopped.stopped
    assert [r.outcome for r in stopped.results] == [Outcome.SENT] * 2 + [Outcome.PENDING] * 3

    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        resumed = await campaign.run(tl, path, text=TEMPLATE, settle=0)
    assert [m.text for m in fake.sent] == expected_texts(5)
    assert resumed.ok


async def test_a_recipient_the_api_refuses_fails_and_the_campaign_goes_on(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    real = [chat.id for chat in fake.chats.values() if chat.is_allowed_to_message][:2]
    ids = [real[0], 987_654_321, real[1]]
    path = write_csv(tmp_path / "c.csv", ["chat_id", "name"], [[str(i), "x"] for i in ids])
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text="Hi {name}")

    assert [m.chat_id for m in fake.sent] == real
    assert [r.outcome for r in report.results] == [Outcome.SENT, Outcome.FAILED, Outcome.SENT]
    assert "NotFoundError" in (report.results[1].reason or "")
    assert not report.ok


# -- the journal belongs to one campaign -------------------------------------------------------


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
    fake: FakeTimelines, tmp_path: Path, dry_run: bool
) -> None:
    path = customers_csv(tmp_path, 2)
    campaign.default_journal_path(path).write_bytes(b"not an SQLite database, " * 40)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(CampaignError, match=r"journal .* not a database"):
            await campaign.run(tl, path, text=TEMPLATE, dry_run=dry_run)
    assert sends_made(fake) == []


# -- reports ------------------------------------------------------------------------------------


async def test_the_report_is_written_as_json_or_csv_without_the_token(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    rows = [["+14155550001", "Ann", "A-1"], ["nope", "Bob", "A-2"]]
    path = write_csv(tmp_path / "c.csv", ["phone", "name", "order"], rows)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, skip_invalid=True)
    as_json = json.loads(report.write(tmp_path / "report.json").read_text(encoding="utf-8"))
    with report.write(tmp_path / "report.csv").open(encoding="utf-8", newline="") as file:
        as_csv = list(csv.DictReader(file))

    assert as_json["counts"]["sent"] == 1
    assert as_json["counts"]["invalid"] == 1
    assert [(r["line"], r["outcome"]) for r in as_json["results"]] == [(2, "sent"), (3, "invalid")]
    assert [(r["line"], r["outcome"], r["phone"]) for r in as_csv] == [
        ("2", "sent", "+14155550001"), ("3", "invalid", "")
    ]  # fmt: skip
    assert as_csv[0]["message_uid"] == fake.sent[0].uid
    for text in (report.write(tmp_path / "r.json").read_text(), report.to_csv(), repr(report)):
        assert fake.token not in text


# -- reading CSVs: a property ---------------------------------------------------------------

_cell = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
    | st.sampled_from([",", '"', ";", "\n", " "]),
    max_size=12,
).filter(lambda cell: cell.strip() != "")


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.lists(st.tuples(_cell, _cell), min_size=1, max_size=6))
def test_any_csv_a_spreadsheet_writes_renders_each_row_with_its_physical_line(
    tmp_path_factory: pytest.TempPathFactory, cells: list[tuple[str, str]]
) -> None:
    path = tmp_path_factory.mktemp("csv") / "c.csv"
    rows = [
        [phone, name, order] for phone, (name, order) in zip(phones(len(cells)), cells, strict=True)
    ]
    write_csv(path, ["phone", "name", "order"], rows)

    plan = load_plan(path, TEMPLATE)

    assert [r.text for r in plan.recipients] == [
        f"Hi {name.strip()}, your order {order.strip()} shipped" for name, order in cells
    ]
    starts, line = [], 2
    for name, order in cells:
        starts.append(line)
        line += 1 + name.count("\n") + order.count("\n")
    assert [r.line for r in plan.recipients] == starts
