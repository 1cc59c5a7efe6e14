"""R2: sends under faults, "accepted but the answer was lost" included: nobody messaged twice.

Every message carries a unique text, so the fake's `sent` list is the ground
truth of what went out. Through the bare client, a send whose outcome is
unknown must raise `SendOutcomeUnknown`, and `tl.messages.reconcile(err)`
must return the message exactly when the fake has it (the caller resends only
on `None`). Through `timelines_async.campaign`, the journal does the same
bookkeeping across runs. Either way: every recipient gets exactly one message.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from timelines_async import (
    APIError,
    InvalidRequestError,
    Message,
    SendOutcomeUnknown,
    TimelinesClient,
    TimelinesError,
    TransportError,
)
from timelines_async import campaign as campaign_module
from timelines_async.campaign import Outcome
from timelines_async.testing import FakeTimelines, Faults

from .._wire import fake_client
from ._figures import record
from ._profile import FAST_RETRIES, pick

pytestmark = pytest.mark.anyio

SENDS = pick(150, 1000)
SEND_INTERVAL = 0.002
MAX_RETRIES = 8


def faults(seed: int) -> Faults:
    return Faults(
        seed=seed,
        server_error=0.05,
        rate_limited=0.04,
        retry_after=0.01,
        dropped=0.03,
        lost_answer=0.08,
        truncated=0.02,
        status_error=0.01,
        not_sent=0.02,
    )


def targets(fake: FakeTimelines, count: int, seed: int) -> list[dict[str, Any]]:
    """Existing chats by id, direct chats by phone, and new phone numbers (a first message)."""
    rng = random.Random(seed)
    chats = sorted(fake.chats.values(), key=lambda chat: chat.id)
    phones = sorted({chat.phone for chat in chats if chat.phone and not chat.is_group})
    chosen: list[dict[str, Any]] = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.7:
            chosen.append({"chat_id": rng.choice(chats).id})
        elif roll < 0.9 and phones:
            chosen.append({"phone": rng.choice(phones)})
        else:
            chosen.append({"phone": f"+1555{seed % 1000:03d}{n:04d}"})
    return chosen


def went_out(fake: FakeTimelines, text: str) -> list[str]:
    return [message.uid for message in fake.sent if message.text == text]


async def reconcile(tl: TimelinesClient, error: SendOutcomeUnknown) -> Message | None:
    """`reconcile` is a read: under faults it may fail and is simply asked again."""
    for _ in range(20):
        try:
            return await tl.messages.reconcile(error)
        except TimelinesError:
            continue
    raise AssertionError("reconcile failed 20 times in a row")


async def send_once(
    tl: TimelinesClient,
    fake: FakeTimelines,
    target: dict[str, Any],
    text: str,
    outcomes: Counter[str],
) -> bool:
    """One attempt, checked against the fake; whether the message is now out (once)."""
    unknown: SendOutcomeUnknown | None = None
    refused: TimelinesError | None = None
    try:
        sent = await tl.messages.send(**target, text=text)
    except SendOutcomeUnknown as error:
        unknown = error
    except (TransportError, APIError) as error:
        refused = error
    if refused is not None:
        # A definite answer: the fake did not take it, so sending again is safe.
        outcomes[f"refused: {type(refused).__name__}"] += 1
        assert went_out(fake, text) == [], f"{type(refused).__name__}, yet it went out"
        return False
    if unknown is None:
        outcomes["sent"] += 1
        assert went_out(fake, text) == [sent.message_uid]
        return True
    outcomes["unknown"] += 1
    assert unknown.text == text
    ((kind, value),) = target.items()
    assert (unknown.target.kind, unknown.target.value) == (kind, value)
    found = await reconcile(tl, unknown)
    truth = went_out(fake, text)
    assert len(truth) <= 1, f"{text!r} went out {len(truth)} times"
    if truth:
        assert found is not None, f"reconcile missed {text!r}, which went out"
        assert found.uid == truth[0]
        outcomes["reconciled: went out"] += 1
        return True
    assert found is None, f"reconcile found {text!r}, which never went out"
    outcomes["reconciled: did not go out"] += 1
    return False


async def test_bare_client_sends_each_message_once(tmp_path: Path, wire: str) -> None:
    seed = 7
    fake = FakeTimelines(seed=seed, chats=80, send_interval=SEND_INTERVAL, faults=faults(seed))
    outcomes: Counter[str] = Counter()
    async with fake_client(fake, wire, max_retries=MAX_RETRIES, **FAST_RETRIES) as tl:
        for n, target in enumerate(targets(fake, SENDS, seed)):
            text = f"R2 bare message {n}"
            for _attempt in range(30):
                if await send_once(tl, fake, target, text, outcomes):
                    break
            else:
                raise AssertionError(f"{text!r} could not be sent in 30 attempts")

    texts = Counter(message.text for message in fake.sent)
    duplicates = {text: count for text, count in texts.items() if count > 1}
    assert duplicates == {}
    assert len(fake.sent) == SENDS
    injected = Counter(fake.faults_injected)
    assert injected["lost_answer"] > 0
    assert outcomes["reconciled: went out"] > 0
    assert outcomes["reconciled: did not go out"] > 0
    record(
        "R2 sends, bare client",
        sends=SENDS,
        faults=injected,
        outcomes=outcomes,
        duplicates=len(duplicates),
    )


async def run_until_done(
    tl: TimelinesClient, rows: list[dict[str, str]], journal: Path, template: str
) -> tuple[Any, int]:
    """Run (and resume) the campaign until every recipient is sent; the last report and runs."""
    for runs in range(1, 61):
        try:
            report = await campaign_module.run(
                tl, rows, text=template, journal=journal, settle=0.01, max_attempts=10,
                retry_failed=True, retry_base_delay=0.005, retry_max_delay=0.3,
            )  # fmt: skip
        except InvalidRequestError:
            raise
        except TimelinesError:
            # The quota check is a read: under faults it may fail before anything is sent.
            continue
        if report.ok and all(r.outcome is Outcome.SENT for r in report.results):
            return report, runs
    raise AssertionError(f"the campaign did not finish in 60 runs: {report.summary()}")


async def test_campaign_sends_each_recipient_once(tmp_path: Path, wire: str) -> None:
    seed = 8
    fake = FakeTimelines(
        seed=seed, chats=SENDS // 2 + 40, send_interval=SEND_INTERVAL, faults=faults(seed)
    )
    # A campaign names each recipient once: distinct chats, distinct phones (known and new).
    chats = sorted(fake.chats)[: SENDS // 2]
    known = sorted({c.phone for c in fake.chats.values() if c.phone and not c.is_group})
    phones = known[: (SENDS - len(chats)) // 2]
    phones += [f"+1555{seed:03d}{n:04d}" for n in range(SENDS - len(chats) - len(phones))]
    by_chat = [{"chat_id": str(chat_id), "n": f"c{n}"} for n, chat_id in enumerate(chats)]
    by_phone = [{"phone": phone, "n": f"p{n}"} for n, phone in enumerate(phones)]
    results = []
    runs: dict[str, int] = {}
    async with fake_client(fake, wire, max_retries=MAX_RETRIES, **FAST_RETRIES) as tl:
        for name, rows in (("chats", by_chat), ("phones", by_phone)):
            report, runs[name] = await run_until_done(
                tl, rows, tmp_path / f"{name}.journal.sqlite", "R2 campaign message {n}"
            )
            results += list(report.results)

    texts = Counter(message.text for message in fake.sent)
    duplicates = {text: count for text, count in texts.items() if count > 1}
    assert duplicates == {}
    assert len(fake.sent) == SENDS
    by_text = {message.text: message.uid for message in fake.sent}
    assert len(results) == SENDS
    for result in results:
        assert result.message_uid == by_text[result.text], f"line {result.line}: wrong uid"
    reconciled = sum(result.reconciled for result in results)
    injected = Counter(fake.faults_injected)
    assert injected["lost_answer"] > 0
    assert reconciled > 0, "no lost answer was found again by reconciliation"
    record(
        "R2 sends, campaign",
        sends=SENDS,
        faults=injected,
        runs=runs,
        reconciled=reconciled,
        duplicates=len(duplicates),
    )
    # Transient errors are retried within the run: each campaign finishes in one.
    assert runs == {"chats": 1, "phones": 1}
