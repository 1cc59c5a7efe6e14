"""The fake's clock: real elapsed time plus whatever `advance` added.

Sends spaced by a real client therefore look spaced to the fake too, while a
test moves message statuses forward with `advance` instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

__all__ = ["FakeClock", "parse_query_time"]

_FORMAT = "%Y-%m-%d %H:%M:%S +0000"


class FakeClock:
    """Seconds since the fake started (`now()`), and the API's timestamp text for any of them."""

    def __init__(self, start: datetime, base: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self.start = start.astimezone(UTC).replace(microsecond=0)
        self.start_epoch = self.start.timestamp()
        self._base = base
        self._origin = base()
        self._offset = 0.0
        self.timestamp = lru_cache(maxsize=1 << 16)(self._format)

    def now(self) -> float:
        return self._base() - self._origin + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the fake's clock only moves forward")
        self._offset += seconds

    def datetime_at(self, at: float) -> datetime:
        return self.start + timedelta(seconds=at)

    def _format(self, at: int) -> str:
        return (self.start + timedelta(seconds=at)).strftime(_FORMAT)

    def text(self, at: float) -> str:
        """`YYYY-MM-DD HH:MM:SS +0000` for a time on this clock (whole seconds, as the API)."""
        return self.timestamp(int(at // 1))

    def from_text(self, value: str) -> float | None:
        """A query's date or datetime as a time on this clock; `None` when unreadable."""
        parsed = parse_query_time(value)
        return None if parsed is None else parsed.timestamp() - self.start_epoch


def parse_query_time(value: str) -> datetime | None:
    """ISO dates and datetimes (`2024-01-17`, `2024-01-17 10:35`, `...T23:59:59Z`); naive = UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
