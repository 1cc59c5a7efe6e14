"""Running a campaign: check, journal, quota, one sender in order, reconcile what is in doubt."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

from .._client import TimelinesClient
from .._exceptions import (
    BadRequestError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    SendOutcomeUnknown,
    TimelinesError,
)
from .._validation import check_integer, check_number
from ._csv import Plan, Recipient, Source, load_plan
from ._errors import CampaignError, InsufficientQuotaError, InvalidCampaignError
from ._journal import Journal, JournalRow, State, default_journal_path
from ._report import CampaignProgress, CampaignReport, Outcome, QuotaCheck, RecipientResult

__all__ = ["DEFAULT_MAX_ATTEMPTS", "DEFAULT_SETTLE", "ProgressCallback", "run"]

logger = logging.getLogger("timelines_async.campaign")

#: Seconds an attempt must be old before "not in the chat's history" is trusted to mean
#: "did not go out". The API accepts a send at once and queues it; the message may show up
#: in the history a little later, so an earlier check could miss it and send it twice.
DEFAULT_SETTLE = 60.0
#: Sends to one recipient whose outcome was unknown and which, each time, did not go out.
DEFAULT_MAX_ATTEMPTS = 3

ProgressCallback = Callable[[CampaignProgress], None]

#: Errors that concern one recipient: it is marked failed and the campaign goes on.
_RECIPIENT_ERRORS = (
    BadRequestError,
    NotFoundError,
    ConflictError,
    PayloadTooLargeError,
    InvalidRequestError,
)


async def run(
    client: TimelinesClient | None,
    recipients: Source,
    *,
    text: str,
    journal: str | Path | None = None,
    dry_run: bool = False,
    send_what_fits: bool = False,
    skip_invalid: bool = False,
    retry_failed: bool = False,
    settle: float = DEFAULT_SETTLE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    progress: ProgressCallback | None = None,
) -> CampaignReport:
    """Send `text` to every recipient once, in order, journaled so a crashed run can resume.

    - `client`: the `TimelinesClient` to send with (its `send_interval` spaces the
      sends); `None` only for a dry run, which then skips the quota check.
    - `recipients`: a CSV path (header row with a `phone` or a `chat_id` column), or
      an iterable of mappings with those keys.
    - `text`: the template; `{column}` fields are filled from each row.
    - `journal`: the SQLite journal; default `FILE.csv.journal.sqlite` beside the CSV
      (required for a list of mappings). Run again with the same journal to resume.
    - `dry_run`: check and render every row, check the quota, send and write nothing.
    - `send_what_fits`: when the quota is short, send the first recipients that fit
      and report the rest as `skipped_quota` (instead of `InsufficientQuotaError`).
    - `skip_invalid`: send the valid rows and report the others as `invalid`
      (instead of `InvalidRowsError`).
    - `retry_failed`: send again to recipients the API refused in an earlier run.
    - `settle`: seconds an attempt with an unknown outcome must age before "not in
      the chat's history" is trusted to mean it did not go out.
    - `max_attempts`: sends per recipient while each outcome is unknown and none
      went out; then the recipient is `failed`.
    - `progress`: called with a `CampaignProgress` at the start and on each outcome.

    Returns a `CampaignReport`; raises before sending anything on bad input,
    a short quota, or a journal of another campaign. See the
    `timelines_async.campaign` module documentation for the whole story.
    """
    check_number("settle", settle, minimum=0, error=InvalidCampaignError)
    check_integer("max_attempts", max_attempts, minimum=1, error=InvalidCampaignError)
    plan = load_plan(recipients, text, skip_invalid=skip_invalid)
    journal_path = _journal_path(plan, journal)
    if dry_run:
        return await _dry_run(client, plan, journal_path, retry_failed=retry_failed)
    if client is None:
        raise CampaignError("a client is needed to send (only a dry run can do without one)")
    with Journal.open(journal_path, plan) as journal_db:
        rows = journal_db.rows()
        in_doubt = [row for row in rows if row.state in (State.SENDING, State.UNKNOWN)]
        fresh = [
            row
            for row in rows
            if row.state is State.PENDING or (retry_failed and row.state is State.FAILED)
        ]
        todo = in_doubt + fresh
        quota = await _check_quota(client, len(todo))
        skipped: set[int] = set()
        if not quota.fits:
            assert quota.remaining is not None
            if not send_what_fits:
                raise InsufficientQuotaError(needed=quota.needed, remaining=quota.remaining)
            skipped = {row.position for row in todo[quota.remaining :]}
        sender = _Sender(
            client,
            journal_db,
            done=len(rows) - len(todo),
            total=len(rows) - len(skipped),
            settle=settle,
            max_attempts=max_attempts,
            progress=progress,
        )
        sender.announce()
        for row in in_doubt:
            sender.defer(row, may_resend=row.position not in skipped)
        for row in fresh:
            if sender.stopped:
                break
            if row.position in skipped:
                continue
            await sender.reconcile_due()
            if not sender.stopped:
                await sender.attempt(row)
        await sender.reconcile_all()
        return _report(plan, journal_db.rows(), journal_path, quota, skipped, sender.stopped)


class _Sender:
    """The one task that sends, in order; attempts with unknown outcomes wait in `deferred`."""

    def __init__(
        self,
        client: TimelinesClient,
        journal: Journal,
        *,
        done: int,
        total: int,
        settle: float,
        max_attempts: int,
        progress: ProgressCallback | None,
    ) -> None:
        self._client = client
        self._journal = journal
        self._settle = timedelta(seconds=settle)
        self._max_attempts = max_attempts
        self._progress = progress
        self._total = total
        self._done = done
        self.deferred: deque[tuple[int, bool]] = deque()
        self.stopped: str | None = None

    def announce(self) -> None:
        if self._progress is not None:
            self._tell(None)

    def defer(self, row: JournalRow, *, may_resend: bool = True) -> None:
        self.deferred.append((row.position, may_resend))

    async def attempt(self, row: JournalRow) -> None:
        """Journal the attempt (committed), then send; record what came back."""
        position = row.position
        self._journal.mark_sending(position, datetime.now(UTC))
        try:
            if row.kind == "phone":
                sent = await self._client.messages.send(phone=row.target, text=row.text)
            else:
                sent = await self._client.messages.send(chat_id=int(row.target), text=row.text)
        except SendOutcomeUnknown as exc:
            logger.info("line %d: the outcome of the send is unknown (%s)", row.line, exc.reason)
            self._journal.mark_unknown(position, f"outcome unknown: {exc.reason}")
            self.defer(row)
            self._emit(position)
        except _RECIPIENT_ERRORS as exc:
            self._journal.mark_failed(position, _reason(exc))
            self._emit(position, final=True)
        except TimelinesError as exc:
            # The API provably did not take it (a definite refusal, or nothing was sent),
            # but the next sends would fare no better: stop, keep the row for a later run.
            self._journal.mark_pending(position, _reason(exc))
            self.stopped = _reason(exc)
            self._emit(position)
        except BaseException:
            # Cancelled, interrupted, or a bug: the request may have left.
            self._journal.mark_unknown(position, "interrupted while sending")
            raise
        else:
            self._journal.mark_sent(position, sent.message_uid)
            self._emit(position, final=True)

    async def reconcile_due(self) -> None:
        """Reconcile the deferred attempts that are old enough, without waiting."""
        while self.deferred and not self.stopped:
            position, _ = self.deferred[0]
            if self._wait_for(self._journal.row(position)) > 0:
                return
            await self._resolve(*self.deferred.popleft())

    async def reconcile_all(self) -> None:
        """Wait for every deferred attempt to settle and reconcile it (resending if needed)."""
        while self.deferred and not self.stopped:
            position, may_resend = self.deferred[0]
            delay = self._wait_for(self._journal.row(position))
            if delay > 0:
                self._tell(None)
                logger.info("waiting %.1f s before checking whether line %d went out",
                            delay, self._journal.row(position).line)  # fmt: skip
                await anyio.sleep(delay)
            self.deferred.popleft()
            await self._resolve(position, may_resend)

    def _wait_for(self, row: JournalRow) -> float:
        if row.attempted_at is None:
            return 0.0
        due = row.attempted_at + self._settle
        return max((due - datetime.now(UTC)).total_seconds(), 0.0)

    async def _resolve(self, position: int, may_resend: bool) -> None:
        """Look the in-doubt message up; mark it sent if found, else send it again."""
        row = self._journal.row(position)
        if row.attempted_at is None:  # never attempted: nothing can have gone out
            question = None
        else:
            question = SendOutcomeUnknown(
                target=row.address,
                text=row.text,
                attempted_at=row.attempted_at,
                reason="an attempt recorded in the campaign journal",
            )
        try:
            found = await self._client.messages.reconcile(question) if question else None
        except TimelinesError as exc:
            self._journal.mark_unknown(position, f"could not check whether it went out: {exc}")
            self._emit(position)
            return
        if found is not None:
            logger.info("line %d: found the message %s in the chat", row.line, found.uid)
            self._journal.mark_sent(position, found.uid, reconciled=True)
            self._emit(position, final=True)
        elif not may_resend:
            self._journal.mark_pending(position, "did not go out; no quota left to send it again")
        elif row.attempts >= self._max_attempts:
            self._journal.mark_failed(
                position,
                f"not sent: {row.attempts} attempts had an unknown outcome and none went out",
            )
            self._emit(position, final=True)
        else:
            await self.attempt(row)

    def _emit(self, position: int, *, final: bool = False) -> None:
        if final:
            self._done += 1
        if self._progress is not None:
            self._tell(_result(self._journal.row(position)))

    def _tell(self, last: RecipientResult | None) -> None:
        if self._progress is not None:
            self._progress(
                CampaignProgress(
                    done=self._done, total=self._total, last=last, in_doubt=len(self.deferred)
                )
            )


async def _check_quota(client: TimelinesClient, needed: int) -> QuotaCheck:
    if needed == 0:
        return QuotaCheck(needed=0, remaining=None)
    workspace = await client.quotas.get()
    if workspace.messaging_quota is None:
        logger.info("the API reported no messaging quota; the campaign is not checked against it")
        return QuotaCheck(needed=needed, remaining=None)
    remaining = workspace.messaging_quota.remaining
    if remaining is None:
        logger.info("the API reported no messaging total; the campaign is not checked against it")
        return QuotaCheck(needed=needed, remaining=None)
    extra = workspace.non_recurring_quota
    if extra is not None and extra.remaining_balance is not None:
        remaining += max(extra.remaining_balance, 0)
    return QuotaCheck(needed=needed, remaining=remaining)


async def _dry_run(
    client: TimelinesClient | None, plan: Plan, journal_path: Path, *, retry_failed: bool
) -> CampaignReport:
    """Check, render and count; read the journal if there is one; send and write nothing."""
    rows = Journal.peek(journal_path, plan)
    by_position = {row.position: row for row in rows or ()}
    done = {State.SENT} if retry_failed else {State.SENT, State.FAILED}
    todo = [
        r for r in plan.recipients
        if r.position not in by_position or by_position[r.position].state not in done
    ]  # fmt: skip
    quota = await _check_quota(client, len(todo)) if client is not None else None
    skipped: set[int] = set()
    if quota is not None and quota.remaining is not None and not quota.fits:
        skipped = {r.position for r in todo[quota.remaining :]}
    journal_rows = [by_position.get(r.position) or _pending_row(r) for r in plan.recipients]
    return _report(plan, journal_rows, journal_path, quota, skipped, None, dry_run=True)


def _pending_row(recipient: Recipient) -> JournalRow:
    return JournalRow(
        position=recipient.position,
        line=recipient.line,
        kind=recipient.kind,
        target=recipient.target,
        text=recipient.text,
        state=State.PENDING,
        message_uid=None,
        reason=None,
        attempts=0,
        attempted_at=None,
        reconciled=False,
    )


def _report(
    plan: Plan,
    rows: list[JournalRow],
    journal_path: Path | None,
    quota: QuotaCheck | None,
    skipped: set[int],
    stopped: str | None,
    *,
    dry_run: bool = False,
) -> CampaignReport:
    results = [_result(row, skipped=row.position in skipped) for row in rows]
    results += [
        RecipientResult(
            line=problem.line,
            phone=None,
            chat_id=None,
            outcome=Outcome.INVALID,
            reason=problem.message,
        )
        for problem in plan.problems
    ]
    results.sort(key=lambda result: result.line)
    return CampaignReport(
        results=tuple(results),
        dry_run=dry_run,
        journal=journal_path,
        quota=quota,
        stopped=stopped,
    )


_OUTCOMES = {
    State.SENT: Outcome.SENT,
    State.FAILED: Outcome.FAILED,
    State.UNKNOWN: Outcome.UNKNOWN,
    State.SENDING: Outcome.UNKNOWN,
    State.PENDING: Outcome.PENDING,
}


def _result(row: JournalRow, *, skipped: bool = False) -> RecipientResult:
    outcome = _OUTCOMES[row.state]
    if skipped and outcome is Outcome.PENDING:
        outcome = Outcome.SKIPPED_QUOTA
    return RecipientResult(
        line=row.line,
        phone=row.target if row.kind == "phone" else None,
        chat_id=int(row.target) if row.kind == "chat_id" else None,
        outcome=outcome,
        text=row.text,
        message_uid=row.message_uid,
        reason=row.reason,
        attempts=row.attempts,
        attempted_at=row.attempted_at,
        reconciled=row.reconciled,
    )


def _journal_path(plan: Plan, journal: str | Path | None) -> Path:
    if journal is not None:
        return Path(journal)
    if plan.csv_path is None:
        raise CampaignError(
            "pass journal=PATH: a campaign from a list of recipients has no CSV to keep it beside"
        )
    return default_journal_path(plan.csv_path)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
