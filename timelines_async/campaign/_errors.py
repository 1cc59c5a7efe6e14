"""The campaign's own errors, all `TimelinesError`s.

```
TimelinesError
└── CampaignError
    ├── InvalidCampaignError (also InvalidRequestError, ValueError)   nothing was sent
    │   └── InvalidRowsError        .problems: every bad row with its line number
    ├── JournalMismatchError        the journal belongs to another CSV or template
    ├── JournalBusyError            another run holds the journal
    └── InsufficientQuotaError      .needed .remaining
```
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .._exceptions import InvalidRequestError, TimelinesError

__all__ = [
    "CampaignError",
    "InsufficientQuotaError",
    "InvalidCampaignError",
    "InvalidRowsError",
    "JournalBusyError",
    "JournalMismatchError",
    "RowProblem",
]


class CampaignError(TimelinesError):
    """The base of every error `timelines_async.campaign` raises."""


class InvalidCampaignError(CampaignError, InvalidRequestError):
    """The CSV or the template cannot make a campaign; raised before any request is sent.

    `field` names what is at fault (`template`, `csv`, or the CSV's file name).
    """


@attrs.frozen
class RowProblem:
    """One invalid row: its line in the CSV (1 is the header; the item number for a list)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class InvalidRowsError(InvalidCampaignError):
    """Some rows are invalid; `problems` lists every one of them, in line order.

    Nothing was sent (unless `skip_invalid=True`, in which case this is not raised).
    """

    def __init__(self, source: str, problems: Sequence[RowProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        listed = "; ".join(str(problem) for problem in self.problems[:20])
        more = f"; and {count - 20} more" if count > 20 else ""
        super().__init__(
            source,
            f"{count} invalid row{'s' if count != 1 else ''}, nothing was sent: {listed}{more}",
        )


class JournalMismatchError(CampaignError):
    """The journal was written for a different CSV or template: resuming would mix campaigns."""


class JournalBusyError(CampaignError):
    """Another run (in this or another process) is using the journal right now."""


class InsufficientQuotaError(CampaignError):
    """The campaign needs more messages than the workspace's quota has left."""

    def __init__(self, *, needed: int, remaining: int) -> None:
        self.needed = needed
        self.remaining = remaining
        super().__init__(
            f"the campaign needs {needed} message{'s' if needed != 1 else ''} but the "
            f"workspace's messaging quota has {remaining} left; nothing was sent "
            "(pass send_what_fits=True / --send-what-fits to send the first "
            f"{remaining} and skip the rest)"
        )
