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
