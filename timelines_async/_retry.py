"""Retry decisions and delays, as pure functions (table-tested in tests/test_retry.py).

Three kinds of request, by what a repeat would do on the server:

- `IDEMPOTENT`: reads and idempotent writes (GET, PUT, PATCH, DELETE, and
  `POST /webhooks`, which the API makes idempotent). A repeat is harmless, so
  they are retried on connection failures, timeouts, 429 and 502/503/504.
- `UNSAFE`: other POSTs (notes, uploads). A repeat could create a second object,
  so they are retried only when the server provably did not take the request:
  the connection failed before it was written, or the answer was 429.
- `SEND`: message sends. Retried on the same proof as `UNSAFE`; any other failure
  leaves the outcome unknown (`SendOutcomeUnknown`, decided in `_http.py`).
"""

from __future__ import annotations

import enum
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = [
    "DEFAULT_RETRY_BASE_DELAY",
    "DEFAULT_RETRY_MAX_DELAY",
    "Failure",
    "RequestKind",
    "backoff_delay",
    "parse_retry_after",
    "rate_limit_delay",
    "retry_delay",
    "should_retry",
    "throttled",
]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
#: The API's rate-limit page: after a 429, wait 1, 2, 4, 8 and 16 s before trying again.
RATE_LIMIT_STEPS = (1.0, 2.0, 4.0, 8.0, 16.0)
#: Backoff before retry n (from 0) is uniform in [0, min(max, base * 2**n)]: short
#: blips are absorbed in about a second, an outage surfaces within seconds.
DEFAULT_RETRY_BASE_DELAY = 0.5
DEFAULT_RETRY_MAX_DELAY = 30.0


class RequestKind(enum.Enum):
    IDEMPOTENT = "idempotent"
    UNSAFE = "unsafe"
    SEND = "send"


class Failure(enum.Enum):
    """How an attempt failed, seen from the client."""

    #: The connection could not be made (refused, DNS, connect timeout, no pool
    #: slot): the request was never written, so the server cannot have acted on it.
    NOT_SENT = "not sent"
    #: The request may have reached the server: read/write timeout, a connection
    #: dropped mid-exchange, a broken or truncated answer.
    MAYBE_SENT = "maybe sent"


def should_retry(
    kind: RequestKind,
    *,
    attempt: int,
    max_retries: int,
    status: int | None = None,
    failure: Failure | None = None,
    error_code: str | None = None,
) -> bool:
    """Whether attempt number `attempt` (0 for the first) may be followed by another.

    Pass the answer's `status` (and its `error_code`), or the transport `failure`.
    A used-up quota (`quota_exceeded`, even on a 429) is never retried: waiting
    seconds does not refill a monthly quota. `rate_limit_exceeded` is a 429
    whatever the status.
    """
    if attempt >= max_retries:
        return False
    if failure is not None:
        return failure is Failure.NOT_SENT or kind is RequestKind.IDEMPOTENT
    if status is None or error_code == "quota_exceeded":
        return False
    if throttled(status, error_code):
        return True
    return kind is RequestKind.IDEMPOTENT and status in RETRYABLE_STATUSES


def throttled(status: int, error_code: str | None) -> bool:
    """Whether an answer is the API's "too many requests" (a 429, or a 2xx that says so)."""
    return status == 429 or error_code == "rate_limit_exceeded"


def backoff_delay(
    attempt: int,
    *,
    retry_base_delay: float = DEFAULT_RETRY_BASE_DELAY,
    retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY,
    rng: random.Random | None = None,
) -> float:
    """Capped exponential backoff with full jitter.

    Uniform in [0, min(retry_max_delay, retry_base_delay * 2**attempt)].
    """
    # 2**64 dwarfs any maximum; the clamp keeps an absurd attempt number from overflowing a float.
    ceiling = min(retry_max_delay, retry_base_delay * (2 ** min(max(attempt, 0), 64)))
    return (rng or random).uniform(0.0, ceiling)


def parse_retry_after(
    value: str | None, *, now: datetime | None = None, cap: float = 60.0
) -> float | None:
    """`Retry-After` as seconds to wait (delta-seconds or an HTTP date), capped.

    `None` when the header is absent or unreadable.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


def rate_limit_delay(
    attempt: int,
    *,
    retry_base_delay: float = DEFAULT_RETRY_BASE_DELAY,
    rng: random.Random | None = None,
) -> float:
    """The wait after a 429 without `Retry-After`: the API's 1, 2, 4, 8, 16 s, then 16 s.

    The API asks for these steps and warns that hammering extends the
    throttling, so the jitter only ever lengthens a step (by up to half).
    The steps scale with `retry_base_delay` (its default gives them as documented).
    """
    step = RATE_LIMIT_STEPS[min(max(attempt, 0), len(RATE_LIMIT_STEPS) - 1)]
    scale = retry_base_delay / DEFAULT_RETRY_BASE_DELAY
    return step * scale * (rng or random).uniform(1.0, 1.5)


def retry_delay(
    attempt: int,
    *,
    retry_after: float | None,
    rate_limited: bool = False,
    retry_base_delay: float = DEFAULT_RETRY_BASE_DELAY,
    retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY,
    rng: random.Random | None = None,
) -> float:
    """The wait before the next attempt: the server's `Retry-After` when given, the
    rate-limit steps after a 429 without one, else backoff."""
    if retry_after is not None:
        return retry_after
    if rate_limited:
        return rate_limit_delay(attempt, retry_base_delay=retry_base_delay, rng=rng)
    return backoff_delay(
        attempt, retry_base_delay=retry_base_delay, retry_max_delay=retry_max_delay, rng=rng
    )
