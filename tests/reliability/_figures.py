"""Figures the reliability tests measured (items, faults injected, duplicates, kills survived).

Each test records what it did with `record(test, **figures)`; the session
prints them at the end and, with `TIMELINES_RELIABILITY_FIGURES=path`, writes
them as JSON (the README's reliability section quotes them).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

__all__ = ["FIGURES", "record", "summary_lines", "write"]

FIGURES: dict[str, dict[str, Any]] = {}


def record(test: str, **figures: Any) -> None:
    """Add `figures` to what `test` measured (numbers and counters add up across calls)."""
    entry = FIGURES.setdefault(test, {})
    for key, value in figures.items():
        if isinstance(value, Counter | dict):
            merged = Counter(entry.get(key, {}))
            merged.update(value)
            entry[key] = dict(sorted(merged.items()))
        elif isinstance(value, int | float) and not isinstance(value, bool) and key in entry:
            entry[key] += value
        else:
            entry[key] = value


def summary_lines() -> list[str]:
    return [f"{test}: {json.dumps(figures)}" for test, figures in sorted(FIGURES.items())]


def write() -> None:
    path = os.environ.get("TIMELINES_RELIABILITY_FIGURES")
    if path and FIGURES:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(FIGURES, handle, indent=2, sort_keys=True)
