"""`timelines-async export`: every chat and message of the workspace into SQLite or JSON Lines."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.console import Console

from .._job_retry import DEFAULT_GIVE_UP_AFTER
from ..export import GaveUpError, JSONLStore, SQLiteStore, Store, export_workspace
from ._common import (
    add_client_options,
    client_from_args,
    describe,
    export_progress,
    positive,
    summary_line,
)

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="export every chat and message into SQLite (incremental) or JSON Lines",
        description=(
            "Export every chat and message of the workspace. Into SQLite (--out) a second "
            "run reads only the chats that changed and an interrupted run resumes; "
            "JSON Lines (--jsonl) is always a full export, replacing a regular file when "
            "done; a pipe or a device is written as the export goes, '-' is standard output."
        ),
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", metavar="FILE.sqlite", help="SQLite database to create or update")
    target.add_argument("--jsonl", metavar="FILE", help="JSON Lines file to write ('-': stdout)")
    parser.add_argument(
        "--force-merge",
        action="store_true",
        help="export into a database that holds another workspace's export (mixes the two)",
    )
    parser.add_argument(
        "--give-up-after",
        type=positive,
        metavar="SECONDS",
        default=DEFAULT_GIVE_UP_AFTER,
        help=(
            "an outage of the API is waited out; give up (exit 3) only when nothing has "
            "succeeded for this long (default %(default)g s)"
        ),
    )
    add_client_options(parser)
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """0 when the export is complete; 3 when it gave up waiting for the API (a rerun resumes)."""
    store = _store(args)
    # With the lines on standard output, the bars and the summary go to standard error.
    console = Console(soft_wrap=True, stderr=args.jsonl == "-")
    try:
        async with client_from_args(args) as client:
            with export_progress(console) as progress:
                summary = await export_workspace(
                    client, store, progress=progress, give_up_after=args.give_up_after
                )
    except GaveUpError as error:
        again = (
            "run the same command again to resume"
            if args.out
            else "run it again to start over (JSON Lines is always a full export)"
        )
        print(f"timelines-async: gave up: {describe(error, args)}; {again}", file=sys.stderr)
        return 3
    where = "standard output" if args.jsonl == "-" else args.out or args.jsonl
    console.print(summary_line(summary, where), markup=False, highlight=False)
    return 0


def _store(args: argparse.Namespace) -> Store:
    if args.out:
        return SQLiteStore(args.out, force_merge=args.force_merge)
    return JSONLStore(sys.stdout.buffer if args.jsonl == "-" else args.jsonl)
