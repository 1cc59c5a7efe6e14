"""Running a campaign: check, journal, quota, upload, then one sender in order."""

from __future__ import annotations

import os
from pathlib import Path

from .._client import TimelinesClient
from .._validation import check_integer, check_number
from ._csv import Plan, Recipient, Source, load_plan
from ._errors import CampaignError, InsufficientQuotaError, InvalidCampaignError
from ._journal import Journal, JournalRow, State, default_journal_path
from ._quota import check_quota, check_sending_number
from ._report import CampaignReport, Outcome, QuotaCheck, RecipientResult, result_of
from ._sender import Extras, Pacing, ProgressCallback, Sender
from ._settings import SendSettings, check_settings

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_RETRY_BASE_DELAY",
    "DEFAULT_RETRY_MAX_DELAY",
    "DEFAULT_SETTLE",
    "run",
]

#: Seconds an attempt must be old before "not in the chat's history" is trusted to mean
#: "did not go out". The API accepts a send at once and queues it; the message may show up
#: in the history a little later, so an earlier check could miss it and send it twice.
DEFAULT_SETTLE = 60.0
#: Sends to one recipient in one run that did not go out, before it is `failed`.
DEFAULT_MAX_ATTEMPTS = 5
#: The first wait before sending again after a transient refusal, in seconds (it doubles).
DEFAULT_RETRY_BASE_DELAY = 2.0
#: The longest such wait, in seconds.
DEFAULT_RETRY_MAX_DELAY = 120.0


async def run(
    client: TimelinesClient | None,
    recipients: Source,
    *,
    text: str,
    journal: str | Path | None = None,
    label: str | None = None,
    file: str | os.PathLike[str] | None = None,
    whatsapp_account_phone: str | None = None,
    dry_run: bool = False,
    send_what_fits: bool = False,
    skip_invalid: bool = False,
    retry_failed: bool = False,
    settle: float = DEFAULT_SETTLE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_base_delay: float = DEFAULT_RETRY_BASE_DELAY,
    retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY,
    progress: ProgressCallback | None = None,
) -> CampaignReport:
    """Send `text` to every recipient once, in order, journaled so that a crashed run resumes.

    The `timelines_async.campaign` module documentation says how each step
    works; calling it again with the same arguments resumes the campaign.

    Args:
        client: The client to send through; `None` only for a dry run (then the
            quota is not checked).
        recipients: A CSV path with a header row and a `phone` or `chat_id`
            column, or a list of mappings with those keys (then `journal` is
            required).
        text: The template: `{column}` fields, `{{`/`}}` for literal braces.
        journal: The journal's path; default `<csv>.journal.sqlite` beside it.
        label: A label put on each chat as its message goes out.
        file: A file attached to every message, uploaded once.
        whatsapp_account_phone: The workspace's number to send from (for
            phones; a chat sends from its own number).
        dry_run: Check and render everything, read the journal and the quota,
            send nothing.
        send_what_fits: Send the first recipients the quota covers and report
            the rest as `skipped_quota`, instead of refusing the campaign.
        skip_invalid: Send the valid rows and report the others as `invalid`,
            instead of refusing the campaign.
        retry_failed: Send again to recipients the API refused in an earlier
            run.
        settle: Seconds a send in doubt waits before it is looked up (60).
        max_attempts: Sends per recipient and run (5).
        retry_base_delay: The first wait before a transient refusal is sent
            again, doubling (2 s).
        retry_max_delay: The longest such wait (120 s).
        progress: Called with a `CampaignProgress` at the start, on each outcome
            and before each wait.

    Returns:
        The `CampaignReport`: every recipient's outcome, in input order.

    Raises:
        InvalidRowsError: Bad rows (all listed), before anything is sent.
        InvalidCampaignError: A bad template or option, an unreadable file, a
            sending number the workspace lacks.
        InsufficientQuotaError: The quota does not cover the campaign.
        JournalMismatchError: The journal belongs to another campaign.
        JournalBusyError: Another run holds the journal.
        CampaignError: No client for a real run.
    """
    pacing = _pacing(settle, max_attempts, retry_base_delay, retry_max_delay)
    settings = check_settings(label=label, file=file, whatsapp_account_phone=whatsapp_account_phone)
    plan = load_plan(recipients, text, skip_invalid=skip_invalid, settings=settings)
    journal_path = _journal_path(plan, journal)
    if dry_run:
        return await _dry_run(client, plan, journal_path, retry_failed=retry_failed)
    if client is None:
        raise CampaignError("a client is needed to send (only a dry run can do without one)")
    with Journal.open(journal_path, plan) as journal_db:
        sender, quota, skipped = await _prepare(
            client, plan, journal_db, pacing, send_what_fits, retry_failed, progress
        )
        await sender.run(skipped)
        return _report(plan, journal_db.rows(), journal_path, quota, skipped, sender.stopped)


async def _prepare(
    client: TimelinesClient,
    plan: Plan,
    journal: Journal,
    pacing: Pacing,
    send_what_fits: bool,
    retry_failed: bool,
    progress: ProgressCallback | None,
) -> tuple[Sender, QuotaCheck, set[int]]:
    """Check the API side (sending number, quota), upload the file once, set up the sender."""
    rows = journal.rows()
    in_doubt = [row for row in rows if row.state in (State.SENDING, State.UNKNOWN)]
    fresh = [row for row in rows if _to_send(row, retry_failed=retry_failed)]
    quota, skipped = await _check_api(client, plan, pacing, in_doubt + fresh, send_what_fits)
    extras = Extras(
        label=plan.settings.label,
        file_uid=await _upload_once(client, journal, plan.settings),
        whatsapp_account_phone=plan.settings.whatsapp_account_phone,
    )
    done = len(rows) - len(in_doubt) - len(fresh)
    sender = Sender(
        client,
        journal,
        extras,
        pacing,
        in_doubt=in_doubt,
        fresh=fresh,
        done=done,
        total=len(rows) - len(skipped),
        quota=quota,
        progress=progress,
    )
    return sender, quota, skipped


def _pacing(
    settle: float, max_attempts: int, retry_base_delay: float, retry_max_delay: float
) -> Pacing:
    def seconds(field: str, value: float) -> float:
        return check_number(field, value, minimum=0, error=InvalidCampaignError)

    return Pacing(
        settle=seconds("settle", settle),
        max_attempts=check_integer(
            "max_attempts", max_attempts, minimum=1, error=InvalidCampaignError
        ),
        retry_base_delay=seconds("retry_base_delay", retry_base_delay),
        retry_max_delay=seconds("retry_max_delay", retry_max_delay),
    )


def _to_send(row: JournalRow, *, retry_failed: bool) -> bool:
    return row.state is State.PENDING or (retry_failed and row.state is State.FAILED)


async def _check_api(
    client: TimelinesClient,
    plan: Plan,
    pacing: Pacing,
    todo: list[JournalRow],
    send_what_fits: bool,
) -> tuple[QuotaCheck, set[int]]:
    """The sending number and the quota, before any send; the recipients the quota leaves out."""
    sender = plan.settings.whatsapp_account_phone
    await pacing.patiently(lambda: check_sending_number(client, sender))
    per_message = plan.settings.credits_per_message
    quota = await pacing.patiently(lambda: check_quota(client, len(todo), per_message=per_message))
    fit = quota.messages_that_fit
    if fit is None or quota.fits:
        return quota, set()
    if not send_what_fits:
        raise InsufficientQuotaError(needed=quota.needed, remaining=quota.remaining or 0)
    return quota, {row.position for row in todo[fit:]}


async def _upload_once(
    client: TimelinesClient, journal: Journal, settings: SendSettings
) -> str | None:
    """The campaign's file uid: uploaded before the first send, kept in the journal."""
    if settings.file is None or journal.file_uid is not None:
        return journal.file_uid
    uploaded = await client.files.upload(settings.file)
    journal.record_file_uid(uploaded.uid)
    return uploaded.uid


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
    quota: QuotaCheck | None = None
    skipped: set[int] = set()
    if client is not None:
        await check_sending_number(client, plan.settings.whatsapp_account_phone)
        quota = await check_quota(client, len(todo), per_message=plan.settings.credits_per_message)
        fit = quota.messages_that_fit
        if fit is not None and not quota.fits:
            skipped = {r.position for r in todo[fit:]}
    journal_rows = [by_position.get(r.position) or _pending_row(r) for r in plan.recipients]
    return _report(plan, journal_rows, journal_path, quota, skipped, None, dry_run=True)


def _pending_row(recipient: Recipient) -> JournalRow:
    return JournalRow(
        position=recipient.position,
        line=recipient.line,
        target=recipient.target,
        text=recipient.text,
        state=State.PENDING,
        message_uid=None,
        reason=None,
        attempts=0,
        attempt=None,
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
    results = [result_of(row, skipped=row.position in skipped) for row in rows]
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


def _journal_path(plan: Plan, journal: str | Path | None) -> Path:
    if journal is not None:
        return Path(journal)
    if plan.csv_path is None:
        raise CampaignError(
            "pass journal=PATH: a campaign from a list of recipients has no CSV to keep it beside"
        )
    return default_journal_path(plan.csv_path)
