"""`_retry`: the pure retry rules, as tables."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timelines_async._retry import (
    Failure,
    RequestKind,
    backoff_delay,
    parse_retry_after,
    rate_limit_delay,
    retry_delay,
    should_retry,
)

IDEM, UNSAFE, SEND = RequestKind.IDEMPOTENT, RequestKind.UNSAFE, RequestKind.SEND
NOT_SENT, MAYBE_SENT = Failure.NOT_SENT, Failure.MAYBE_SENT


@pytest.mark.parametrize(
    ("kind", "status", "error_code", "expected"),
    [
        # idempotent requests: 429 and the gateway-ish 5xx are retried
        (IDEM, 429, None, True),
        (IDEM, 429, "rate_limit_exceeded", True),
        (IDEM, 502, None, True),
        (IDEM, 503, None, True),
        (IDEM, 504, None, True),
        (IDEM, 500, None, False),
        (IDEM, 501, None, False),
        (IDEM, 400, "validation_error", False),
        (IDEM, 401, "invalid_token", False),
        (IDEM, 403, None, False),
        (IDEM, 404, None, False),
        (IDEM, 409, None, False),
        (IDEM, 413, None, False),
        # a used-up quota does not refill in seconds, whatever the status
        (IDEM, 429, "quota_exceeded", False),
        (IDEM, 403, "quota_exceeded", False),
        # unsafe POSTs and sends: only a 429 proves the server did not take it
        (UNSAFE, 429, None, True),
        (UNSAFE, 502, None, False),
        (UNSAFE, 503, None, False),
        (UNSAFE, 504, None, False),
        (SEND, 429, None, True),
        (SEND, 429, "quota_exceeded", False),
        (SEND, 500, None, False),
        (SEND, 502, None, False),
        (SEND, 503, None, False),
        (SEND, 504, None, False),
        (SEND, 400, None, False),
    ],
)
def test_should_retry_by_status(
    kind: RequestKind, status: int, error_code: str | None, expected: bool
) -> None:
    assert (
        should_retry(kind, attempt=0, max_retries=3, status=status, error_code=error_code)
        is expected
    )


@pytest.mark.parametrize(
    ("kind", "failure", "expected"),
    [
        (IDEM, NOT_SENT, True),
        (IDEM, MAYBE_SENT, True),
        (UNSAFE, NOT_SENT, True),
        (UNSAFE, MAYBE_SENT, False),
        (SEND, NOT_SENT, True),
        (SEND, MAYBE_SENT, False),
    ],
)
def test_should_retry_by_transport_failure(
    kind: RequestKind, failure: Failure, expected: bool
) -> None:
    assert should_retry(kind, attempt=0, max_retries=3, failure=failure) is expected


@pytest.mark.parametrize(
    ("attempt", "max_retries", "expected"),
    [(0, 0, False), (0, 1, True), (1, 1, False), (2, 3, True), (3, 3, False), (9, 3, False)],
)
def test_should_retry_stops_after_max_retries(
    attempt: int, max_retries: int, expected: bool
) -> None:
    """`max_retries` counts retries after the first attempt; 0 turns them off."""
    for kwargs in ({"status": 503}, {"failure": NOT_SENT}):
        assert should_retry(IDEM, attempt=attempt, max_retries=max_retries, **kwargs) is expected


def test_should_retry_without_status_or_failure_is_false() -> None:
    assert should_retry(IDEM, attempt=0, max_retries=3) is False


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "ceiling"),
    [
        (0, 0.5, 30.0, 0.5),
        (1, 0.5, 30.0, 1.0),
        (3, 0.5, 30.0, 4.0),
        (6, 0.5, 30.0, 30.0),
        (20, 0.5, 30.0, 30.0),
        (2, 1.0, 3.0, 3.0),
        (5000, 0.5, 30.0, 30.0),  # no float overflow for absurd attempt numbers
    ],
)
def test_backoff_delay_full_jitter_within_capped_ceiling(
    attempt: int, base: float, cap: float, ceiling: float
) -> None:
    rng = random.Random(1234)
    delays = [
        backoff_delay(attempt, retry_base_delay=base, retry_max_delay=cap, rng=rng)
        for _ in range(500)
    ]
    assert all(0.0 <= d <= ceiling for d in delays)
    # full jitter: spread over the whole range, not clustered at the ceiling
    assert min(delays) < ceiling * 0.1
    assert max(delays) > ceiling * 0.9


@pytest.mark.parametrize(
    ("rng_value", "expected"),
    [(0.0, 0.0), (1.0, 2.0), (0.5, 1.0)],
)
def test_backoff_delay_is_uniform_between_zero_and_ceiling(
    rng_value: float, expected: float
) -> None:
    class Fixed(random.Random):
        def random(self) -> float:
            return rng_value

    assert backoff_delay(2, retry_base_delay=0.5, rng=Fixed()) == pytest.approx(expected)


NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("3", 3.0),
        ("  7 ", 7.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-5", 0.0),  # negative: do not wait, never a negative sleep
        ("3600", 60.0),  # capped
        ("inf", 60.0),
        ("nan", None),
        ("soon", None),
        ("", None),
        ("Sun, 01 Mar 2026 12:00:10 GMT", 10.0),  # HTTP date 10 s ahead
        ("Sun, 01 Mar 2026 11:59:00 GMT", 0.0),  # a date in the past
        ("Sun, 01 Mar 2026 13:00:00 GMT", 60.0),  # a far date is capped
        ("Sun, 99 Foo 2026 nonsense", None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == expected


def test_parse_retry_after_cap_is_configurable() -> None:
    assert parse_retry_after("100", cap=120.0) == 100.0
    assert parse_retry_after("100", cap=5.0) == 5.0


@pytest.mark.parametrize(
    ("retry_after", "expected_max"),
    [(4.0, 4.0), (0.0, 0.0), (None, 0.5)],
)
def test_retry_delay_prefers_retry_after_over_backoff(
    retry_after: float | None, expected_max: float
) -> None:
    delay = retry_delay(0, retry_after=retry_after, rng=random.Random(3))
    if retry_after is not None:
        assert delay == retry_after
    else:
        assert 0.0 <= delay <= expected_max


@given(
    attempt=st.integers(min_value=0, max_value=10_000),
    base=st.floats(min_value=0.001, max_value=10.0),
    cap=st.floats(min_value=0.0, max_value=120.0),
    seed=st.integers(),
)
def test_backoff_delay_is_always_within_zero_and_the_cap(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    delay = backoff_delay(
        attempt, retry_base_delay=base, retry_max_delay=cap, rng=random.Random(seed)
    )
    assert 0.0 <= delay <= min(cap, base * 2 ** min(attempt, 64))


@given(header=st.text(max_size=40))
def test_parse_retry_after_never_raises_and_stays_within_the_cap(header: str) -> None:
    seconds = parse_retry_after(header, now=NOW, cap=60.0)
    assert seconds is None or 0.0 <= seconds <= 60.0


@pytest.mark.parametrize(
    ("attempt", "step"), [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (9, 16.0)]
)
def test_a_429_without_retry_after_waits_the_documented_steps_never_less(
    attempt: int, step: float
) -> None:
    rng = random.Random(attempt)
    waits = [rate_limit_delay(attempt, rng=rng) for _ in range(200)]
    assert step <= min(waits) < step * 1.05
    assert step * 1.45 < max(waits) <= step * 1.5
    # Through retry_delay, for a 429 only; Retry-After still comes first.
    assert step <= retry_delay(attempt, retry_after=None, rate_limited=True, rng=rng) <= step * 1.5
    assert retry_delay(attempt, retry_after=0.25, rate_limited=True) == 0.25


def test_the_rate_limit_steps_scale_with_retry_base_delay() -> None:
    rng = random.Random(3)
    waits = [rate_limit_delay(2, retry_base_delay=0.005, rng=rng) for _ in range(50)]
    assert all(0.04 <= wait <= 0.06 for wait in waits)  # 4 s scaled by 1/100
