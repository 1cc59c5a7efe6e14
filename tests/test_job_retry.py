"""The job-level retry pieces (`_job_retry`): waits, the give-up clock, the queue, the triage."""

from __future__ import annotations

import random
from typing import Any

import anyio
import pytest

from timelines_async import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from timelines_async._job_retry import (
    GaveUpError,
    GrowingWait,
    Patience,
    RetryQueue,
    describe_failure,
    is_transient,
)

pytestmark = pytest.mark.anyio


def test_waits_grow_with_full_jitter_up_to_the_longest() -> None:
    waits = GrowingWait(2.0, 120.0, rng=random.Random(7))
    for failures, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 64.0), (7, 120.0), (40, 120.0)]:
        drawn = [waits.after(failures) for _ in range(400)]
        assert 0 <= min(drawn) < ceiling * 0.05
        assert ceiling * 0.95 < max(drawn) <= ceiling


def test_waits_refuse_a_first_wait_beyond_the_longest() -> None:
    with pytest.raises(ValueError, match="first <= longest"):
        GrowingWait(10.0, 1.0)


def test_patience_runs_out_only_after_give_up_after_without_a_success() -> None:
    now = [100.0]
    patience = Patience(60.0, clock=lambda: now[0])
    now[0] = 150.0
    assert patience.remaining() == 10.0
    patience.succeeded()
    now[0] = 200.0
    assert patience.remaining() == 10.0
    now[0] = 210.0
    assert patience.remaining() <= 0


@pytest.mark.parametrize("give_up_after", [0, -1.0])
def test_patience_needs_a_positive_time(give_up_after: float) -> None:
    with pytest.raises(ValueError, match="give_up_after"):
        Patience(give_up_after)


async def test_queue_hands_out_new_work_and_a_failed_item_again_after_its_wait() -> None:
    queue = RetryQueue[str](GrowingWait(0.05, 0.05, rng=random.Random(1)), key=str, limit=10)
    await queue.put("a")
    await queue.put("b")
    queue.close()
    first = await queue.get()
    assert first == "a"
    wait = queue.retry_later("a")
    assert queue.waiting == 1
    retry_in = queue.next_retry_in()
    assert retry_in is not None
    assert retry_in <= wait
    assert await queue.get() == "b"
    queue.done("b")
    # Only "a" is left: get() sleeps until its wait is over, then hands it out.
    assert await queue.get() == "a"
    assert queue.waiting == 0
    queue.done("a")
    assert await queue.get() is None


async def test_queue_ends_only_when_every_taken_item_is_finished() -> None:
    queue = RetryQueue[int](GrowingWait(0.0, 0.0), key=int, limit=10)
    await queue.put(1)
    queue.close()
    assert await queue.get() == 1
    ended: list[int | None] = []

    async def worker() -> None:
        ended.append(await queue.get())

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(worker)
        await anyio.sleep(0.01)
        assert ended == []  # item 1 is still out: it may come back
        queue.retry_later(1)
    assert ended == [1]
    queue.done(1)
    assert await queue.get() is None


async def test_queue_put_waits_while_the_ready_items_fill_the_limit() -> None:
    queue = RetryQueue[int](GrowingWait(), key=int, limit=2)
    await queue.put(1)
    await queue.put(2)
    with anyio.move_on_after(0.05) as scope:
        await queue.put(3)
    assert scope.cancelled_caught
    assert await queue.get() == 1
    with anyio.fail_after(1):
        await queue.put(3)


def error(cls: type[APIError], status: int, **context: Any) -> APIError:
    return cls("boom", status_code=status, method="GET", path="/chats", **context)


@pytest.mark.parametrize(
    ("failure", "transient", "words"),
    [
        (error(ServerError, 503), True, "API unavailable (503)"),
        (error(ServerError, 500), True, "API unavailable (500)"),
        (error(RateLimitError, 429), True, "rate limited (429)"),
        (TransportError("ConnectError: refused", method="GET", path="/chats"), True, None),
        (error(UnexpectedResponseError, 200), True, "answer damaged on the way"),
        (error(UnexpectedResponseError, 404), False, None),
        (error(QuotaExceededError, 429, error_code="quota_exceeded"), False, None),
        (error(AuthenticationError, 401), False, None),
        (error(BadRequestError, 400), False, None),
        (error(NotFoundError, 404), False, None),
    ],
)
def test_which_failures_come_back_and_how_the_progress_names_them(
    failure: Exception, transient: bool, words: str | None
) -> None:
    assert is_transient(failure) is transient
    if words is not None:
        assert describe_failure(failure) == words
    if isinstance(failure, TransportError):
        assert describe_failure(failure) == "API unreachable"


def test_gave_up_says_how_long_what_failed_and_what_is_done() -> None:
    last = error(ServerError, 503)
    gave_up = GaveUpError(600.0, last, "3 of 5 chats done")
    assert str(gave_up) == (
        "nothing succeeded for 600 s; last error: GET /chats -> 503: boom; 3 of 5 chats done"
    )
    assert gave_up.last_error is last
