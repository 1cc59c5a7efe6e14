"""`timelines-async send-bulk FILE.csv --text TEMPLATE`: a journaled, resumable campaign.

Exit status: 0 when every recipient was sent (for `--dry-run`: every row is
valid and the quota is enough), 1 on an error or when some recipients failed
or were skipped, 3 when some outcomes are still unknown or the run stopped
early (run the same command again: it resumes and reconciles).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
)

from .. import campaign
from .._client import TimelinesClient
from .._options import DEFAULT_SEND_INTERVAL
from ..campaign import CampaignProgress, CampaignReport, InvalidRowsError, Outcome, QuotaCheck
from ._common import ProgressBars, add_client_options, non_negative, positive_int

__all__ = ["register"]

PROG = "timelines-async"
EXIT_INCOMPLETE = 3


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "send-bulk",
        help="send a templated message to every row of a CSV, resumably",
        description=(
            "Send TEMPLATE, filled from each row, to every recipient of FILE.csv (a header "
            "row with a 'phone' or a 'chat_id' column; the template names other columns as "
            "{column}). Every row is checked first; sends go out one at a time in CSV "
            "order, recorded in a journal (default FILE.csv.journal.sqlite) before each "
            "request, so re-running the same command after a crash resumes without "
            "messaging anyone twice. A transient error (a 5xx, a 429, a dropped "
            "connection) never ends the run: the recipient is tried again later in it; "
            "only what would fail every send (a refused token, an exhausted quota) stops it."
        ),
        epilog=(
            "exit status: 0 all sent; 1 an error, or some recipients failed or were skipped; "
            "3 some outcomes unknown or the run stopped early (run it again to resume)"
        ),
    )
    _add_message_options(parser)
    _add_run_options(parser)
    _add_pacing_options(parser)
    add_client_options(parser)
    parser.set_defaults(run=run)


def _add_message_options(parser: argparse.ArgumentParser) -> None:
    """Who gets what: the CSV, the template, the journal, the label, the file, the sender."""
    parser.add_argument("csv", metavar="FILE.csv", type=Path, help="the recipients")
    text = parser.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", metavar="TEMPLATE", help="the message, with {column} fields")
    text.add_argument(
        "--text-file", metavar="PATH", type=Path, help="read the template from a UTF-8 file"
    )
    parser.add_argument(
        "--journal",
        metavar="PATH",
        type=Path,
        help="journal file (default FILE.csv.journal.sqlite)",
    )
    parser.add_argument("--label", metavar="NAME", help="label each chat as its message goes out")
    parser.add_argument(
        "--file",
        metavar="PATH",
        type=Path,
        help="attach this file to every message (uploaded once; 2 credits a message)",
    )
    parser.add_argument(
        "--from",
        dest="whatsapp_account_phone",
        metavar="PHONE",
        help="send from this WhatsApp number of the workspace (phone rows only)",
    )


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """What this run does with a short quota, invalid rows, earlier refusals; its report."""
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check every row, render every message, check the quota; send nothing",
    )
    parser.add_argument(
        "--send-what-fits",
        action="store_true",
        help="when the quota is short, send the first recipients that fit and skip the rest",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="send the valid rows and report the invalid ones (default: send nothing)",
    )
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="send again to recipients the API refused in an earlier run",
    )
    parser.add_argument(
        "--report", metavar="PATH", type=Path, help="write every outcome to PATH (.json or .csv)"
    )


def _add_pacing_options(parser: argparse.ArgumentParser) -> None:
    """The spacing of sends, and how long and how often a send in doubt is tried."""
    parser.add_argument(
        "--send-interval",
        type=non_negative,
        metavar="SECONDS",
        help="least seconds between two sends (default 2)",
    )
    parser.add_argument(
        "--settle",
        type=non_negative,
        default=campaign.DEFAULT_SETTLE,
        metavar="SECONDS",
        help="age an in-doubt send must reach before 'not in the chat' is trusted "
        f"(default {campaign.DEFAULT_SETTLE:g})",
    )
    parser.add_argument(
        "--max-attempts",
        type=positive_int,
        default=campaign.DEFAULT_MAX_ATTEMPTS,
        metavar="N",
        help="sends per recipient in one run that did not go out (refused for a transient "
        f"reason, or in doubt and not found) before it is failed (default "
        f"{campaign.DEFAULT_MAX_ATTEMPTS})",
    )


async def run(args: argparse.Namespace) -> int:
    template = _template(args)
    if template is None:
        return 1
    client = _client(args)
    console = Console(stderr=True)
    interval = args.send_interval if args.send_interval is not None else DEFAULT_SEND_INTERVAL
    try:
        with _progress(console, enabled=not args.dry_run, interval=interval) as progress:
            report = await campaign.run(
                client,
                args.csv,
                text=template,
                journal=args.journal,
                label=args.label,
                file=args.file,
                whatsapp_account_phone=args.whatsapp_account_phone,
                dry_run=args.dry_run,
                send_what_fits=args.send_what_fits,
                skip_invalid=args.skip_invalid,
                retry_failed=args.retry_failed,
                settle=args.settle,
                max_attempts=args.max_attempts,
                progress=progress,
            )
    except InvalidRowsError as exc:
        _print_invalid_rows(exc)
        return 1
    finally:
        if client is not None:
            await client.aclose()
    _print_report(report, quota_checked=client is not None)
    if args.report is not None:
        try:
            written = report.write(args.report)
        except OSError as exc:
            print(
                f"{PROG}: error: cannot write the report {args.report}: {exc.strerror}",
                file=sys.stderr,
            )
            return 1
        print(f"Report: {written}")
    return _exit_status(report)


def _print_invalid_rows(exc: InvalidRowsError) -> None:
    count = len(exc.problems)
    print(
        f"{PROG}: error: {exc.field}: {count} invalid row{'s' if count != 1 else ''}, "
        "nothing was sent:",
        file=sys.stderr,
    )
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def _template(args: argparse.Namespace) -> str | None:
    if args.text is not None:
        return str(args.text)
    try:
        return args.text_file.read_text(encoding="utf-8").rstrip("\n")  # type: ignore[no-any-return]
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{PROG}: error: cannot read the template {args.text_file}: {exc}", file=sys.stderr)
        return None


def _client(args: argparse.Namespace) -> TimelinesClient | None:
    """The API client; for a dry run without a token, none (the quota is not checked)."""
    if args.dry_run and not os.environ.get("TIMELINES_API_TOKEN", "").strip():
        return None
    options: dict[str, Any] = {"base_url": args.base_url}
    for name in ("max_concurrency", "max_retries", "timeout", "send_interval"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.requests_per_second is not None:
        options["requests_per_second"] = args.requests_per_second or None
    return TimelinesClient(**options)


@contextlib.contextmanager
def _progress(
    console: Console, *, enabled: bool, interval: float
) -> Iterator[campaign.ProgressCallback | None]:
    """The quota line before the first send; on a terminal, a bar with the time left."""
    if not enabled:
        yield None
        return
    if not console.is_terminal:
        yield _QuotaLine()
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[left]}"),
    )
    with ProgressBars(*columns, console=console) as bars:
        task = bars.add_task("sending", total=None, left="")
        quota_line = _QuotaLine()

        def update(progress: CampaignProgress) -> None:
            quota_line(progress)
            bars.update(
                task,
                completed=progress.done,
                total=progress.total,
                description=_doing(progress),
                left=_time_left(progress, interval),
            )

        yield update


class _QuotaLine:
    """Prints the quota check once, when the campaign starts (before the first send)."""

    def __init__(self) -> None:
        self.printed = False

    def __call__(self, progress: CampaignProgress) -> None:
        if not self.printed and progress.quota is not None:
            self.printed = True
            line = _quota_line(progress.quota, dry_run=False)
            if line:
                print(line, flush=True)


def _doing(progress: CampaignProgress) -> str:
    """What the run is doing: sending, or waiting for sends in doubt or to retry."""
    if progress.waiting is not None and progress.in_doubt:
        count = progress.in_doubt
        return (
            f"checking {count} send{'s' if count != 1 else ''} in doubt in {progress.waiting:.0f} s"
        )
    if progress.waiting is not None and progress.retrying:
        return f"retrying {progress.retrying} in {progress.waiting:.0f} s"
    return "sending" + (f" ({progress.in_doubt} to check)" if progress.in_doubt else "")


def _time_left(progress: CampaignProgress, interval: float) -> str:
    """The sends still to make, spaced by `interval`, and the settle wait of those in doubt."""
    sends = max(progress.total - progress.done - progress.in_doubt, 0) * interval
    seconds = math.ceil(max(sends, progress.checks_due_in or 0.0))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d} left"


def _print_report(report: CampaignReport, *, quota_checked: bool) -> None:
    counts = report.counts
    invalid = counts[Outcome.INVALID]
    if report.dry_run:
        valid = len(report.results) - invalid
        already = counts[Outcome.SENT]
        print(
            f"Dry run: {valid} recipient{'s' if valid != 1 else ''}"
            + (f" ({already} already sent by an earlier run)" if already else "")
            + (f", {invalid} invalid rows left out" if invalid else "")
            + "; nothing was sent."
        )
        for result in [r for r in report.results if r.outcome is Outcome.PENDING][:3]:
            to = result.phone if result.phone is not None else f"chat {result.chat_id}"
            print(f"  line {result.line} -> {to}: {result.text!r}")
    if report.dry_run and report.quota is not None:
        line = _quota_line(report.quota, dry_run=True)
        if line:
            print(line)
    elif report.dry_run and not quota_checked:
        print("Quota: not checked (no TIMELINES_API_TOKEN).")
    for result in report.results:
        if result.outcome in (Outcome.FAILED, Outcome.UNKNOWN, Outcome.INVALID):
            print(f"  line {result.line}: {result.outcome.value}: {result.reason}")
    print(f"{'Would send' if report.dry_run else 'Done'}: {report.summary()}.")
    if report.journal is not None and not report.dry_run:
        print(f"Journal: {report.journal}")


def _quota_line(quota: QuotaCheck, *, dry_run: bool) -> str | None:
    """What the campaign needs against what the workspace has left (None: nothing to send)."""
    if not quota.needed:
        return None
    messages = quota.needed // quota.per_message
    what = _messages(messages)
    if quota.per_message > 1:
        what = f"{quota.needed} credits ({what} with a file)"
    if quota.remaining is None:
        return f"Quota: {what} to send; the API reports no messaging quota."
    fit = quota.messages_that_fit or 0
    if quota.fits:
        verdict = "enough"
    elif dry_run:
        verdict = f"not enough (--send-what-fits would send {fit})"
    else:
        verdict = f"not enough, {messages - fit} skipped"
    return f"Quota: {what} to send, {quota.remaining} left: {verdict}."


def _messages(count: int) -> str:
    return f"{count} message{'s' if count != 1 else ''}"


def _exit_status(report: CampaignReport) -> int:
    if report.ok:
        return 0
    counts = report.counts
    if not report.dry_run and (
        report.stopped or counts[Outcome.UNKNOWN] or counts[Outcome.PENDING]
    ):
        return EXIT_INCOMPLETE
    return 1
