"""Job-level retries for long jobs (an export, a campaign), above the client's per-request ones.

A request's retries last seconds; an outage of the API lasts minutes. A long job
therefore puts a piece of work (a chat, a page, a recipient) whose request still
failed after the client's retries back into its queue, tries it again after a
wait that grows with each failure of that piece (full jitter, up to a minute or
two), and goes on with the other pieces meanwhile. It gives up only when nothing
at all has succeeded for `give_up_after` seconds.

The pieces, each usable alone: `GrowingWait` (the wait policy), `Patience` (the
give-up clock), `RetryQueue` (work that comes back after its wait),
`is_transient` and `describe_failure` (which failures come back, and how the
progress display names them) and `GaveUpError`.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import anyio
import anyio.lowlevel
import attrs

from ._exceptions import (
    APIError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TimelinesError,
    TransportError,
    UnexpectedResponseError,
)
from ._retry import backoff_delay

__all__ = [
    "DEFAULT_GIVE_UP_AFTER",
    "DEFAULT_MAX_RETRY_WAIT",
    "DEFAULT_RETRY_WAIT",
    "GaveUpError",
    "GrowingWait",
    "Patience",
    "RetryQueue",
    "describe_failure",
    "is_transient",
]

T = TypeVar("T")

#: Ten minutes without a single success: the API is down for good, or unreachable.
DEFAULT_GIVE_UP_AFTER = 600.0
#: The wait after a piece's first failure is up to 2 s, doubling up to 2 minutes.
DEFAULT_RETRY_WAIT = 2.0
DEFAULT_MAX_RETRY_WAIT = 120.0


class GaveUpError(TimelinesError):
    """A long job stopped because nothing at all succeeded for `give_up_after` seconds.

    What was done is kept (an SQLite export or a campaign journal resumes where
    it stopped). `last_error` is the failure that came last, `done` says how
    much was done, in words.
    """

    def __init__(self, give_up_after: float, last_error: BaseException | None, done: str) -> None:
        last = f"; last error: {last_error}" if last_error is not None else ""
        super().__init__(f"nothing succeeded for {give_up_after:g} s{last}; {done}")
        self.give_up_after = give_up_after
        self.last_error = last_error
        self.done = done


@attrs.frozen
class GrowingWait:
    """The wait before a piece's next try: uniform in [0, min(longest, first * 2**(failures - 1))].

    Full jitter spreads the pieces that failed together (an outage fails them
    all at once) over the whole window, so they do not come back as one burst.
    """

    first: float = DEFAULT_RETRY_WAIT
    longest: float = DEFAULT_MAX_RETRY_WAIT
    rng: random.Random | None = attrs.field(default=None, eq=False)

    def __attrs_post_init__(self) -> None:
        if not (0 <= self.first <= self.longest and math.isfinite(self.longest)):
            raise ValueError(f"expected 0 <= first <= longest, not {self.first} and {self.longest}")

    def after(self, failures: int) -> float:
        """The wait after the `failures`-th failure in a row (1 for the first)."""
        return backoff_delay(
            failures - 1, retry_base_delay=self.first, retry_max_delay=self.longest, rng=self.rng
        )


class Patience:
    """The give-up clock: how long until `give_up_after` seconds have passed without a success."""

    def __init__(
        self, give_up_after: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not give_up_after > 0:
            raise ValueError(f"give_up_after must be > 0, not {give_up_after!r}")
        self.give_up_after = give_up_after
        self._clock = clock
        self._last_success = clock()

    def succeeded(self) -> None:
        self._last_success = self._clock()

    def remaining(self) -> float:
        """Seconds left before giving up; <= 0 once nothing succeeded for `give_up_after`."""
        return self._last_success + self.give_up_after - self._clock()


def is_transient(error: BaseException) -> bool:
    """Whether a later try may succeed: the server failed, throttled, or could not be reached.

    A used-up quota, a refused token or a refused request fail the same way
    every time: they stop the job rather than come back.
    """
    if isinstance(error, QuotaExceededError):
        return False
    if isinstance(error, TransportError | ServerError | RateLimitError):
        return True
    # A 2xx whose body was cut short or replaced on the way; a 4xx page is no blip.
    return isinstance(error, UnexpectedResponseError) and (
        error.status_code >= 500 or 200 <= error.status_code < 300
    )


def describe_failure(error: BaseException) -> str:
    """A few words for a progress line: "API unavailable (503)", "rate limited (429)"."""
    if isinstance(error, RateLimitError):
        return f"rate limited ({error.status_code})"
    if isinstance(error, UnexpectedResponseError) and error.status_code < 300:
        return "answer damaged on the way"
    if isinstance(error, APIError):
        return f"API unavailable ({error.status_code})"
    if isinstance(error, TransportError):
        return "API unreachable"
    return type(error).__name__


class RetryQueue(Generic[T]):
    """Work for a set of workers, where a failed item comes back after a growing wait.

    `put` adds new work (waiting while `limit` items are ready and untaken),
    `close` says no more will come, `get` hands out the next item (ready ones
    first; `None` once the queue is closed and every item is finished), and
    each item taken ends with `done` or `retry_later`.
    """

    def __init__(
        self,
        waits: GrowingWait,
        *,
        key: Callable[[T], Hashable],
        limit: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._waits = waits
        self._key = key
        self._limit = limit
        self._clock = clock
        self._ready: deque[T] = deque()
        #: (due time, tie-breaker, item), soonest first.
        self._waiting: list[tuple[float, int, T]] = []
        self._order = itertools.count()
        self._failures: dict[Hashable, int] = {}
        self._taken = 0
        self._closed = False
        self._changed = anyio.Event()

    @property
    def waiting(self) -> int:
        """Items waiting for their next try."""
        return len(self._waiting)

    def next_retry_in(self) -> float | None:
        """Seconds until the soonest waiting item is due, or `None` when none waits."""
        if not self._waiting:
            return None
        return max(0.0, self._waiting[0][0] - self._clock())

    async def put(self, item: T) -> None:
        while len(self._ready) >= self._limit:
            await self._wait_for_change(math.inf)
        self._ready.append(item)
        self._notify()

    def close(self) -> None:
        self._closed = True
        self._notify()

    async def get(self) -> T | None:
        # A checkpoint even when an item is ready: a worker whose tries fail without
        # ever waiting (no I/O) must not starve the other tasks, the give-up clock's too.
        await anyio.lowlevel.checkpoint()
        while True:
            self._wake_due()
            if self._ready:
                self._taken += 1
                item = self._ready.popleft()
                self._notify()
                return item
            if self._closed and not self._waiting and not self._taken:
                return None
            due = self.next_retry_in()
            await self._wait_for_change(math.inf if due is None else due)

    def done(self, item: T) -> None:
        """`item` is finished (stored, or skipped for good)."""
        self._failures.pop(self._key(item), None)
        self._taken -= 1
        self._notify()

    def retry_later(self, item: T) -> float:
        """Put `item` back to be tried again after a growing wait; the wait in seconds."""
        failures = self._failures.get(self._key(item), 0) + 1
        self._failures[self._key(item)] = failures
        wait = self._waits.after(failures)
        heapq.heappush(self._waiting, (self._clock() + wait, next(self._order), item))
        self._taken -= 1
        self._notify()
        return wait

    def _wake_due(self) -> None:
        now = self._clock()
        due: list[T] = []
        while self._waiting and self._waiting[0][0] <= now:
            due.append(heapq.heappop(self._waiting)[2])
        # Items that already waited go first: they have waited longest.
        self._ready.extendleft(reversed(due))

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def _wait_for_change(self, at_most: float) -> None:
        with anyio.move_on_after(at_most):
            await self._changed.wait()
