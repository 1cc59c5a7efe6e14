"""What a campaign did: one result per recipient, counts, and CSV/JSON output."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import attrs

from .._send_attempt import TargetKind
from ._journal import JournalRow, State

__all__ = [
    "CampaignProgress",
    "CampaignReport",
    "Outcome",
    "QuotaCheck",
    "RecipientResult",
    "result_of",
]


class Outcome(StrEnum):
    """A recipient's outcome in a report."""

    SENT = "sent"  # the API accepted the message (message_uid is set)
    FAILED = "failed"  # the API refused it, or it provably never went out after retries
    UNKNOWN = "unknown"  # it may have gone out; a later run reconciles before sending again
    PENDING = "pending"  # not attempted yet (dry run, or the run stopped early)
    SKIPPED_QUOTA = "skipped_quota"  # left out by send_what_fits: the quota had no room
    INVALID = "invalid"  # the row is invalid (only with skip_invalid)


@attrs.frozen(kw_only=True)
class RecipientResult:
    line: int  # the CSV line (1 is the header), or the item number for a list
    phone: str | None
    chat_id: int | None
    outcome: Outcome
    text: str | None = None
    message_uid: str | None = None
    reason: str | None = None
    attempts: int = 0
    attempted_at: datetime | None = None
    #: True when the message was found in the chat's history after an unknown outcome.
    reconciled: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "phone": self.phone,
            "chat_id": self.chat_id,
            "outcome": self.outcome.value,
            "message_uid": self.message_uid,
            "reason": self.reason,
            "attempts": self.attempts,
            "attempted_at": self.attempted_at.isoformat() if self.attempted_at else None,
            "reconciled": self.reconciled,
            "text": self.text,
        }


@attrs.frozen(kw_only=True)
class QuotaCheck:
    """The quota check made before sending."""

    needed: int  # credits this run may use: one per message, two with a file attached
    #: Credits the workspace has left (recurring plus pay-as-you-go); None when the API
    #: reported no messaging quota, or the check was not made (dry run without a client).
    remaining: int | None
    per_message: int = 1

    @property
    def fits(self) -> bool:
        return self.remaining is None or self.needed <= self.remaining

    @property
    def messages_that_fit(self) -> int | None:
        """How many messages the quota left can pay for; None when it is not known."""
        return None if self.remaining is None else max(self.remaining, 0) // self.per_message


@attrs.frozen(kw_only=True)
class CampaignProgress:
    """Passed to `progress` at the start, on each outcome, and before waiting to reconcile."""

    done: int  # recipients with a final outcome (sent or failed), earlier runs included
    total: int  # recipients in the campaign (valid rows, less those skipped for quota)
    last: RecipientResult | None  # the latest outcome; None at the start and before a wait
    #: Recipients whose send had an unknown outcome, waiting to be looked up in their chat.
    in_doubt: int = 0
    #: Recipients refused for a transient reason, waiting to be sent again in this run.
    retrying: int = 0
    #: Seconds until the next of those is due, when the run is waiting for it; else None.
    waiting: float | None = None
    #: Seconds until the last send in doubt can be checked (the settle wait); None if none.
    checks_due_in: float | None = None
    #: The quota check made before the first send.
    quota: QuotaCheck | None = None


@attrs.frozen(kw_only=True)
class CampaignReport:
    """Every recipient's outcome, in CSV order, and how the run went."""

    results: tuple[RecipientResult, ...]
    dry_run: bool
    journal: Path | None
    quota: QuotaCheck | None
    #: Why the run stopped before the end (an authentication or quota error, say), or None.
    stopped: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(result.outcome.value for result in self.results)
        return {outcome.value: counts.get(outcome.value, 0) for outcome in Outcome}

    @property
    def ok(self) -> bool:
        """Every recipient sent (for a dry run: every row valid and the quota is enough)."""
        if self.dry_run:
            return (
                self.stopped is None
                and (self.quota is None or self.quota.fits)
                and all(
                    result.outcome in (Outcome.PENDING, Outcome.SENT) for result in self.results
                )
            )
        return self.stopped is None and all(r.outcome is Outcome.SENT for r in self.results)

    def summary(self) -> str:
        """One line: the counts that are not zero, and why the run stopped if it did.

        Returns:
            E.g. `"118 sent, 2 failed"`.
        """
        parts = [f"{count} {name}" for name, count in self.counts.items() if count]
        text = ", ".join(parts) or "no recipients"
        return f"{text}{f' (stopped: {self.stopped})' if self.stopped else ''}"

    def to_json(self) -> str:
        """The report as JSON: the run's facts and every recipient's outcome.

        Returns:
            The JSON text.
        """
        return json.dumps(
            {
                "dry_run": self.dry_run,
                "journal": str(self.journal) if self.journal else None,
                "quota": None
                if self.quota is None
                else {"needed": self.quota.needed, "remaining": self.quota.remaining},
                "stopped": self.stopped,
                "counts": self.counts,
                "results": [result.as_dict() for result in self.results],
            },
            indent=2,
            ensure_ascii=False,
        )

    def to_csv(self) -> str:
        """Every recipient's outcome as CSV, one row each, with a header.

        Returns:
            The CSV text.
        """
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for result in self.results:
            writer.writerow({k: "" if v is None else v for k, v in result.as_dict().items()})
        return out.getvalue()

    def write(self, path: str | Path) -> Path:
        """Write the report as JSON if `path` ends in `.json`, else as CSV.

        Args:
            path: Where to write it.

        Returns:
            The path written.
        """
        target = Path(path)
        body = self.to_json() if target.suffix.lower() == ".json" else self.to_csv()
        target.write_text(body, encoding="utf-8")
        return target


_CSV_FIELDS = [
    "line", "phone", "chat_id", "outcome", "message_uid", "reason", "attempts",
    "attempted_at", "reconciled", "text",
]  # fmt: skip


_OUTCOMES = {
    State.SENT: Outcome.SENT,
    State.FAILED: Outcome.FAILED,
    State.UNKNOWN: Outcome.UNKNOWN,
    State.SENDING: Outcome.UNKNOWN,
    State.PENDING: Outcome.PENDING,
}


def result_of(row: JournalRow, *, skipped: bool = False) -> RecipientResult:
    """A journal row as the report shows it (`skipped`: left out for the quota)."""
    outcome = _OUTCOMES[row.state]
    if skipped and outcome is Outcome.PENDING:
        outcome = Outcome.SKIPPED_QUOTA
    by_phone = row.target.kind is TargetKind.PHONE
    return RecipientResult(
        line=row.line,
        phone=str(row.target.value) if by_phone else None,
        chat_id=None if by_phone else int(row.target.value),
        outcome=outcome,
        text=row.text,
        message_uid=row.message_uid,
        reason=row.reason,
        attempts=row.attempts,
        attempted_at=row.attempted_at,
        reconciled=row.reconciled,
    )
