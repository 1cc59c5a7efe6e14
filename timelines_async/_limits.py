"""Pacing: the send spacing behind one small seam, and the adaptive request pacer.

Two different limits, kept apart on purpose:

- **Send spacing** (`SendLimiter`): WhatsApp messages go out about 2 s apart; the
  API queues faster sends and answers 429 to bursts. Every send waits for a
  slot. The default limiter is in-process (aiolimiter); `RedisSendLimiter`
  (`timelines_async.redis`) shares the spacing between processes and hosts.
- **Request pacing** (`RequestPacer`): all requests, reads included, are started
  at most `requests_per_second` apart; the rate halves on each 429 and climbs
  back gradually on successes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Protocol, runtime_checkable

import anyio
from aiolimiter import AsyncLimiter

__all__ = ["InProcessSendLimiter", "RequestPacer", "RequestPacing", "SendLimiter"]


@runtime_checkable
class SendLimiter(Protocol):
    """Hands out send slots: `acquire()` returns when the next message may go out."""

    async def acquire(self) -> None: ...


@runtime_checkable
class RequestPacing(Protocol):
    """Paces request starts: `wait()` before each request, then what the server answered.

    `RequestPacer` does it within one process; `timelines_async.redis.RedisRequestPacer`
    shares one rate between processes (`TimelinesClient(request_pacer=...)`).
    """

    @property
    def rate(self) -> float | None:
        """The current rate in requests per second (`None`: not paced)."""
        ...

    async def wait(self) -> None: ...

    def on_throttled(self) -> None: ...

    def on_success(self) -> None: ...


class InProcessSendLimiter:
    """At most one send every `interval` seconds within this process, first come first served.

    aiolimiter's leaky bucket never spaces two slots closer than the interval and
    does not burst after idle, but it is not strictly FIFO (a task arriving as a
    slot frees can overtake a queued one). The FIFO lock in front of it keeps
    callers in arrival order, which matters for campaigns. `interval=0` turns
    the spacing off.
    """

    def __init__(self, interval: float) -> None:
        if interval < 0:
            raise ValueError("interval must be >= 0")
        self.interval = interval
        self._limiter = AsyncLimiter(1, interval) if interval > 0 else None
        self._gate = anyio.Lock()

    async def acquire(self) -> None:
        if self._limiter is None:
            return
        async with self._gate:
            await self._limiter.acquire()

    def __repr__(self) -> str:
        return f"InProcessSendLimiter(interval={self.interval})"


#: When the request this task is about to send (or has sent) was let through by
#: its pacer: a 429 is matched with the request it answers, across concurrent tasks.
#: Unknown (no wait in this task) counts as after any cut.
_REQUEST_START: ContextVar[float] = ContextVar("timelines_request_start", default=math.inf)


#: How a request pacer adapts; `RequestPacer` and `RedisRequestPacer`'s Lua script
#: both read these. A 429 halves the rate, never below `MIN_RATE_SHARE` of the
#: configured one; each success gives back `RECOVERY_SHARE` of it, and only a
#: `SLOW_RECOVERY` part of that from `NEAR_THE_LIMIT` of the rate that drew the last 429.
MIN_RATE_SHARE = 1 / 32
RECOVERY_SHARE = 1 / 200
NEAR_THE_LIMIT = 0.9
SLOW_RECOVERY = 1 / 10


class RequestPacer:
    """Starts requests at most `rate` per second, slowing down when the server says 429.

    The rate is cut once per congestion episode: the first 429 halves it (down
    to `rate / 32`), and the 429s that answer requests started before that cut
    (already in flight) belong to the same episode and cut nothing. Successes
    then win the rate back, `rate / 200` each, until it nears the rate that drew
    the last 429; from 90 % of that rate on, ten times more slowly, so that the
    pacer settles just under the server's limit instead of running into it
    again every few seconds. `rate=None` turns pacing off. The clock and sleep
    are injectable for tests.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be > 0 or None")
        self.max_rate = rate
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._next_start = 0.0
        #: When the rate was last cut: 429s to requests started before it are that episode's.
        self._cut_at = -math.inf
        #: The rate at which the last 429 came: the server's limit is below it.
        self._refused_at = math.inf

    async def wait(self) -> None:
        """Reserve the next start time and sleep until it.

        No lock: nothing awaits between reading and moving `_next_start`.
        """
        if self.rate is None:
            return
        now = self._clock()
        start = max(now, self._next_start)
        self._next_start = start + 1.0 / self.rate
        _REQUEST_START.set(start)
        if start > now:
            await self._sleep(start - now)

    def on_throttled(self) -> None:
        if self.rate is None or self.max_rate is None:
            return
        if _REQUEST_START.get() <= self._cut_at:
            return  # in flight when the rate was cut: the same episode
        self._cut_at = self._clock()
        self._refused_at = self.rate
        self.rate = max(self.rate / 2, self.max_rate * MIN_RATE_SHARE)
        # Requests already spaced at the old rate are pushed back to the new one.
        self._next_start = max(self._next_start, self._cut_at + 1.0 / self.rate)

    def on_success(self) -> None:
        if self.rate is None or self.max_rate is None or self.rate >= self.max_rate:
            return
        step = self.max_rate * RECOVERY_SHARE
        if self.rate >= NEAR_THE_LIMIT * self._refused_at:
            step *= SLOW_RECOVERY  # close to where the server said no: probe gently
        self.rate = min(self.max_rate, self.rate + step)
