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

import time
from collections.abc import Awaitable, Callable
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


class RequestPacer:
    """Starts requests at most `rate` per second, slowing down when the server says 429.

    Each 429 halves the current rate (down to `rate / 32`); each success adds
    back `rate / 20`, so a full recovery from one halving takes ten answers.
    `rate=None` turns pacing off. The clock and sleep are injectable for tests.
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

    async def wait(self) -> None:
        """Reserve the next start time and sleep until it.

        No lock: nothing awaits between reading and moving `_next_start`.
        """
        if self.rate is None:
            return
        now = self._clock()
        start = max(now, self._next_start)
        self._next_start = start + 1.0 / self.rate
        if start > now:
            await self._sleep(start - now)

    def on_throttled(self) -> None:
        if self.rate is not None and self.max_rate is not None:
            self.rate = max(self.rate / 2, self.max_rate / 32)

    def on_success(self) -> None:
        if self.rate is not None and self.max_rate is not None and self.rate < self.max_rate:
            self.rate = min(self.max_rate, self.rate + self.max_rate / 20)
