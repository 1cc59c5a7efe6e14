"""`timelines-async demo`: export a seeded fake workspace into SQLite, no token needed.

Runs the real export against the fake served in-process: a full run, three new
messages, an incremental run that reads only what changed, then a look at what
was stored.
"""

from __future__ import annotations

import argparse
import shlex
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import anyio
import attrs
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..export import SQLiteStore, StoreError, export_workspace, read_source
from ._common import export_progress, positive_int, summary_line

__all__ = ["register"]

DEFAULT_OUT = "timelines-demo.sqlite"
_NEW_MESSAGES = ("Hi! Is my order on its way?", "Thanks, received.", "Can we talk tomorrow?")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="export a seeded fake workspace into SQLite (no token needed)",
        description="Export a seeded fake workspace (in-process, no token, no network) into a "
        "SQLite file, then run again incrementally and show what was stored.",
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help=f"SQLite file to write (default {DEFAULT_OUT})"
    )
    parser.add_argument("--chats", type=positive_int, default=120, help="chats (default 120)")
    parser.add_argument("--seed", type=int, default=0, help="workspace seed (default 0)")
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    from ..testing import FakeTimelines  # here: the other commands do not need the fake

    out = Path(args.out)
    console = Console(highlight=False, soft_wrap=True)
    fake = FakeTimelines(seed=args.seed, chats=args.chats)
    async with fake.client() as client:
        await anyio.to_thread.run_sync(_replace_earlier_demo, out, client.base_url)
        console.print(
            f"[bold]TimelinesAI export demo[/]: a fake workspace of {args.chats} chats "
            f"(seed {args.seed}), served in-process: no token, no network.\n"
        )
        console.print(f"[bold]1.[/] Full export into {escape(str(out))}")
        with export_progress(console) as progress:
            first = await export_workspace(client, SQLiteStore(out), progress=progress)
        first_requests = len(fake.requests)
        console.print("   " + summary_line(first, str(out)), markup=False)

        changed = sorted(fake.chats)[: len(_NEW_MESSAGES)]
        for chat_id, text in zip(changed, _NEW_MESSAGES, strict=False):
            fake.receive_message(chat_id, text)
        console.print(
            f"\n[bold]2.[/] {len(changed)} new messages arrive; the same command runs again"
        )
        with export_progress(console) as progress:
            second = await export_workspace(client, SQLiteStore(out), progress=progress)
        console.print("   " + summary_line(second, str(out)), markup=False)
        console.print(
            f"   It made {len(fake.requests) - first_requests} requests; the full export "
            f"made {first_requests}."
        )

    report = await anyio.to_thread.run_sync(_Report.read, out)
    console.print(f"\n[bold]3.[/] What {escape(str(out))} holds")
    report.show(console)
    console.print(
        f"\nLook inside: sqlite3 {escape(shlex.quote(str(out)))} "
        '"SELECT name, labels FROM chats LIMIT 5"\n'
        "Your own workspace: TIMELINES_API_TOKEN=... timelines-async export --out workspace.sqlite"
    )
    return 0


def _replace_earlier_demo(out: Path, demo_source: str) -> None:
    """Start from scratch, but only ever replace a database an earlier demo wrote."""
    if not out.exists():
        return
    if read_source(out) != demo_source:
        raise StoreError(f"{out} exists and is not a demo database; choose another --out")
    for path in (out, Path(f"{out}-wal"), Path(f"{out}-shm")):
        path.unlink(missing_ok=True)


@attrs.frozen
class _Report:
    counts: dict[str, int]
    busiest: list[tuple[Any, ...]]
    newest: list[tuple[Any, ...]]

    @classmethod
    def read(cls, path: Path) -> _Report:
        with closing(sqlite3.connect(path)) as db:
            counts = {
                table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("chats", "messages", "sync_state")
            }
            busiest = db.execute(
                "SELECT c.name, c.labels, COUNT(m.uid) AS n FROM chats c "
                "JOIN messages m ON m.chat_id = c.id GROUP BY c.id ORDER BY n DESC, c.id LIMIT 3"
            ).fetchall()
            newest = db.execute(
                "SELECT m.timestamp, c.name, m.from_me, m.text FROM messages m "
                "JOIN chats c ON c.id = m.chat_id ORDER BY m.timestamp DESC, m.uid LIMIT 3"
            ).fetchall()
        return cls(counts, busiest, newest)

    def show(self, console: Console) -> None:
        console.print(
            "   " + ", ".join(f"{table}: {count:,} rows" for table, count in self.counts.items()),
            markup=False,
        )
        busiest = Table("chat", "labels", "messages", title="Busiest chats", title_justify="left")
        for name, labels, count in self.busiest:
            busiest.add_row(Text(name or ""), Text(labels or ""), f"{count:,}")
        newest = Table(
            "when (UTC)", "chat", "", "text", title="Newest messages", title_justify="left"
        )
        for timestamp, name, from_me, text in self.newest:
            when = (timestamp or "")[:19].replace("T", " ")
            newest.add_row(when, Text(name or ""), "→" if from_me else "←", Text(text or ""))
        console.print(
            Padding(busiest, (0, 0, 0, 3), expand=False),
            Padding(newest, (0, 0, 0, 3), expand=False),
        )
