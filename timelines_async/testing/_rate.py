"""The fake's request-rate limit: a token bucket on the fake's clock, answering 429 beyond it."""

from __future__ import annotations

import math

from ._clock import FakeClock
from ._wire import ApiFailure

__all__ = ["RequestRate"]


class RequestRate:
    """`rate` requests per second, with bursts up to one second's worth (at least one request)."""

    def __init__(self, rate: float, clock: FakeClock) -> None:
        if rate <= 0:
            raise ValueError("request_rate must be > 0 or None")
        self.rate = rate
        self._clock = clock
        self._capacity = max(rate, 1.0)
        self._tokens = self._capacity  # starts full
        self._at = clock.now()

    def take(self) -> None:
        """Take a token for one request; a 429 with `Retry-After` when there is none."""
        now = self._clock.now()
        self._tokens = min(self._capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return
        wait = (1.0 - self._tokens) / self.rate
        raise ApiFailure(
            429,
            "Rate limit exceeded. Please retry after a short delay.",
            "rate_limit_exceeded",
            headers=[("retry-after", f"{math.ceil(wait * 1000) / 1000:g}")],
        )
