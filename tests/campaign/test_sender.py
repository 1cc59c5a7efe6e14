"""Sending (`campaign._sender`): interruptions, lost answers, refusals; nobody messaged twice."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import anyio
import httpx
import pytest

from timelines_async import TimelinesClient, campaign
from timelines_async.campaign import (
    CampaignProgress,
    Outcome,
)
from timelines_async.campaign._csv import load_plan
from timelines_async.campaign._journal import Journal
from timelines_async.testing import FakeTimelines, FakeTransport, Faults

from ._support import (
    SEND_INTERVAL,
    TEMPLATE,
    customers_csv,
    expected_texts,
    per_recipient,
    phones,
    write_csv,
)

pytestmark = pytest.mark.anyio


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


def refusal(status: int, error_code: str) -> httpx.Response:
    return httpx.Response(
        status, json={"status": "error", "message": "no", "error_code": error_code}
    )


class RefusesSends(FakeTransport):
    """Answers the chosen sends (numbered from 1) without handing them to the fake.

    The answer is a 503 unless given (a response, or an exception to raise).
    """

    def __init__(
        self,
        fake: FakeTimelines,
        refuse: Callable[[int, str], bool],
        answer: httpx.Response | Exception | None = None,
    ) -> None:
        super().__init__(fake)
        self.refuse = refuse
        self.answer = answer or refusal(503, "internal_error")
        self.sends = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.sends += 1
            body = json.loads(request.content)
            if self.refuse(self.sends, body.get("phone", "")):
                if isinstance(self.answer, Exception):
                    raise self.answer
                return self.answer
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
            await tl.messages.send(to=first.target, text=first.text)
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
            await tl.messages.send(to=first.target, text=first.text)

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


class Waits(TypedDict):
    retry_base_delay: float
    retry_max_delay: float


#: Waits before sending again after a transient refusal, scaled down for tests.
FAST: Waits = {"retry_base_delay": 0.001, "retry_max_delay": 0.01}


def refuse_first(sends_each: dict[str, int]) -> Callable[[int, str], bool]:
    """Refuse the first N sends to each of these phones."""
    left = dict(sends_each)

    def refuse(_: int, phone: str) -> bool:
        if left.get(phone, 0) > 0:
            left[phone] -= 1
            return True
        return False

    return refuse


@pytest.mark.parametrize(
    "answer",
    [
        refusal(429, "rate_limit_exceeded"),
        refusal(200, "temporarily_unavailable"),
        httpx.ConnectError("refused"),
    ],
    ids=["429-beyond-retries", "200-status-error", "nothing-sent"],
)
async def test_a_transient_refusal_is_sent_again_later_in_the_same_run(
    fake: FakeTimelines, tmp_path: Path, answer: httpx.Response | Exception
) -> None:
    path = customers_csv(tmp_path, 5)
    refuse = refuse_first({phones(5)[1]: 1, phones(5)[3]: 2})
    seen: list[CampaignProgress] = []
    async with httpx.AsyncClient(transport=RefusesSends(fake, refuse, answer)) as http:
        tl = fake.client(http_client=http, send_interval=SEND_INTERVAL, max_retries=0)
        report = await campaign.run(tl, path, text=TEMPLATE, progress=seen.append, **FAST)

    assert report.ok
    assert report.stopped is None
    assert per_recipient(fake) == Counter(phones(5))
    assert [r.attempts for r in report.results] == [1, 2, 1, 3, 1]
    assert max(p.retrying for p in seen) >= 1


async def test_a_recipient_refused_for_a_transient_reason_every_time_fails_after_max_attempts(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = customers_csv(tmp_path, 3)
    unlucky = phones(3)[1]
    answer = refusal(200, "temporarily_unavailable")
    transport = RefusesSends(fake, lambda _, phone: phone == unlucky, answer)
    async with httpx.AsyncClient(transport=transport) as http:
        tl = fake.client(http_client=http, send_interval=SEND_INTERVAL)
        report = await campaign.run(tl, path, text=TEMPLATE, max_attempts=3, **FAST)

    assert [m.recipient_phone for m in fake.sent] == [phones(3)[0], phones(3)[2]]
    failed = report.results[1]
    assert (failed.outcome, failed.attempts) == (Outcome.FAILED, 3)
    assert "not sent after 3 tries" in (failed.reason or "")
    assert report.stopped is None


async def test_a_refusal_of_one_recipient_fails_it_and_the_run_goes_on(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = customers_csv(tmp_path, 3)
    answer = refusal(400, "validation_error")
    transport = RefusesSends(fake, lambda _, phone: phone == phones(3)[0], answer)
    async with httpx.AsyncClient(transport=transport) as http:
        tl = fake.client(http_client=http, send_interval=SEND_INTERVAL)
        report = await campaign.run(tl, path, text=TEMPLATE, **FAST)

    assert [r.outcome for r in report.results] == [Outcome.FAILED, Outcome.SENT, Outcome.SENT]
    assert report.results[0].attempts == 1
    assert report.stopped is None


async def test_the_run_stops_after_a_row_of_failures_that_would_fail_every_send(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = customers_csv(tmp_path, campaign.BREAKER + 5)
    answer = refusal(200, "temporarily_unavailable")
    async with httpx.AsyncClient(transport=RefusesSends(fake, lambda *_: True, answer)) as http:
        tl = fake.client(http_client=http, send_interval=SEND_INTERVAL)
        report = await campaign.run(tl, path, text=TEMPLATE, max_attempts=10, **FAST)

    assert fake.sent == []
    assert report.stopped is not None
    assert f"{campaign.BREAKER} sends in a row failed" in report.stopped
    assert sum(r.attempts for r in report.results) == campaign.BREAKER
    assert [r.outcome for r in report.results][-5:] == [Outcome.PENDING] * 5  # never tried


async def test_a_campaign_resumed_after_a_lost_answer_on_a_two_number_workspace_sends_once(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    """Each contact has a chat on two numbers; the other one gets busier after the loss."""
    default = fake.workspace.default_account()
    other = next(a for a in fake.workspace.accounts if a.id != default.id)
    for phone in phones(4):
        fake.receive_message_from(phone, "hi", whatsapp_account_phone=other.phone)
        fake.receive_message_from(phone, "hello", whatsapp_account_phone=default.phone)
    path = customers_csv(tmp_path, 4)
    async with httpx.AsyncClient(transport=DiesAfterTheKthSendIsAccepted(fake, 2)) as http:
        dying = fake.client(http_client=http, send_interval=SEND_INTERVAL)
        with pytest.raises(Crash):
            await campaign.run(dying, path, text=TEMPLATE, settle=0)
    lost = fake.sent[-1]
    fake.advance(5)
    busier = next(c for c in fake.chats_with(lost.recipient_phone) if c.id != lost.chat_id)
    fake.receive_message(busier.id, "are you there?")
    assert fake.chats_with(lost.recipient_phone)[0].id == busier.id

    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, settle=0)

    assert report.ok
    assert per_recipient(fake) == Counter(phones(4))
    assert report.results[1].reconciled
    assert report.results[1].message_uid == lost.uid
