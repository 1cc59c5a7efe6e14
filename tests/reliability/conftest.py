"""The profile switch: `TIMELINES_RELIABILITY=short` (default) or `full` (`nox -s reliability`)."""

from __future__ import annotations

from typing import Any

import pytest

from . import _figures
from ._profile import PROFILE


@pytest.fixture(scope="session")
def reliability_profile() -> str:
    return PROFILE


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figures the tests measured, under a heading that names the profile."""
    lines = _figures.summary_lines()
    if lines:
        terminalreporter.section(f"reliability figures ({PROFILE} profile)")
        for line in lines:
            terminalreporter.write_line(line)
    _figures.write()


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client's retry backoff, 100 times shorter (the client has no public knob for it).

    The same function still decides every delay (jitter, `Retry-After` honoured),
    only its base and cap shrink from 0.5 s / 30 s to 5 ms / 0.3 s, so that
    hundreds of injected faults cost no real multi-second sleeps.
    """
    from timelines_async._retry import retry_delay as real

    def quick(attempt: int, *, retry_after: float | None, rng: Any = None, **_: Any) -> float:
        return real(attempt, retry_after=retry_after, base=0.005, cap=0.3, rng=rng)

    monkeypatch.setattr("timelines_async._http.retry_delay", quick)
