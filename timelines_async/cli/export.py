"""`timelines-async export`: every chat and message of the workspace into SQLite or JSON Lines."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from ..export import JSONLStore, SQLiteStore, Store, export_workspace
from ._common import add_client_options, client_from_args, export_progress, summary_line

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="export every chat and message into SQLite (incremental) or JSON Lines",
        description=(
            "Export every chat and message of the workspace. Into SQLite (--out) a second "
            "run reads only the chats that changed and an interrupted run resumes; "
            "JSON Lines (--jsonl) is always a full export, replacing the file when done."
        ),
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", metavar="FILE.sqlite", help="SQLite database to create or update")
    target.add_argument("--jsonl", metavar="FILE", help="JSON Lines file to write")
    add_client_options(parser)
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    store: Store = SQLiteStore(args.out) if args.out else JSONLStore(args.jsonl)
    console = Console(soft_wrap=True)
    async with client_from_args(args) as client:
        with export_progress(console) as progress:
            summary = await export_workspace(client, store, progress=progress)
    console.print(summary_line(summary, args.out or args.jsonl), markup=False, highlight=False)
    return 0
