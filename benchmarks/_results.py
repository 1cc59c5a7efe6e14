"""What a benchmark reports: a goal, the ratio measured against it, and the figures behind it."""

from __future__ import annotations

import statistics

import attrs


@attrs.frozen(kw_only=True)
class Goal:
    """One goal: `ratio` measured in this run against `target` (`at_most` or at least)."""

    key: str
    what: str
    ratio: float
    target: float
    at_most: bool = True
    unit: str = "x"
    #: The figures the ratio comes from, for RESULTS.md.
    detail: str = ""

    @property
    def met(self) -> bool:
        return self.ratio <= self.target if self.at_most else self.ratio >= self.target

    @property
    def goal_text(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.target:g}{self.unit}"

    @property
    def measured_text(self) -> str:
        return (
            f"{self.ratio:.3f}{self.unit}" if self.unit == "x" else f"{self.ratio:.2f}{self.unit}"
        )


@attrs.frozen(kw_only=True)
class Section:
    """A benchmark's goals and its own part of RESULTS.md (method, tables, notes)."""

    title: str
    goals: list[Goal]
    body: str


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], scale: float = 1.0, unit: str = "s") -> str:
    """`median (min-max, n runs)` for a list of timings."""
    return (
        f"{median(values) * scale:.3f} {unit} (min {min(values) * scale:.3f}, "
        f"max {max(values) * scale:.3f}, {len(values)} runs)"
    )
