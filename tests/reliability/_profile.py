"""The reliability profile: `short` (default, part of the normal run) or `full`.

`TIMELINES_RELIABILITY=full` (what `nox -s reliability` sets) runs every seed,
item and kill the README's figures quote; the short profile runs the same
tests on fewer of them, so that CI pays well under two minutes for it.
"""

from __future__ import annotations

import os
from typing import TypedDict, TypeVar

from hypothesis import HealthCheck, Phase, settings

__all__ = ["FAST_RETRIES", "FULL", "JOB_WAITS", "PROFILE", "fuzz_settings", "pick"]

T = TypeVar("T")

PROFILE = os.environ.get("TIMELINES_RELIABILITY", "short").strip().lower() or "short"
if PROFILE not in ("short", "full"):
    raise RuntimeError(f"TIMELINES_RELIABILITY must be 'short' or 'full', not {PROFILE!r}")
FULL = PROFILE == "full"


#: Client options for a retry backoff 100 times shorter than the default (5 ms base,
#: 0.3 s cap instead of 0.5 s / 30 s): hundreds of injected faults cost no real
#: multi-second sleeps, while the same rules decide every delay (jitter, `Retry-After`).
class RetryDelays(TypedDict):
    retry_base_delay: float
    retry_max_delay: float


FAST_RETRIES: RetryDelays = {"retry_base_delay": 0.005, "retry_max_delay": 0.3}


#: `export_workspace` options for job-level waits 100 times shorter than the default
#: (20 ms growing to 1.2 s instead of 2 s to 2 minutes), like `FAST_RETRIES`.
class JobWaits(TypedDict):
    retry_wait: float
    max_retry_wait: float


JOB_WAITS: JobWaits = {"retry_wait": 0.02, "max_retry_wait": 1.2}


def pick(short: T, full: T) -> T:
    """The value for the profile in force."""
    return full if FULL else short


def fuzz_settings(short: int, full: int) -> settings:
    """Hypothesis settings: derandomized (the same examples every run), no deadline, no database.

    `short` examples in the short profile, `full` in the full one.
    """
    return settings(
        max_examples=pick(short, full),
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        # No shrinking: the first failing example is reported as found, and a
        # failing run costs no more time than a passing one.
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
