"""Close the open chats whose last message is older than N days.

A chat without any message counts from its creation. `--dry-run` prints what
would be closed and changes nothing. Run it:

    python examples/close_inactive_chats.py --fake --days 90 --dry-run
    python examples/close_inactive_chats.py --days 90     # with TIMELINES_API_TOKEN set
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import anyio
from _common import client_from_args, parser

from timelines_async import APIError, Chat, TimelinesClient


def last_activity(chat: Chat) -> datetime | None:
    return chat.last_message_timestamp or chat.created_timestamp


async def close_inactive(
    tl: TimelinesClient, *, days: float, dry_run: bool = False, now: datetime | None = None
) -> list[Chat]:
    """Close (or with `dry_run` only find) the inactive open chats; returns them."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    # Read the whole listing first: closing chats while paging through the open
    # ones would shift the later pages, and some chats would be skipped.
    inactive = [
        chat
        async for chat in tl.chats.list(closed=False)
        if (last := last_activity(chat)) is not None and last < cutoff
    ]
    if dry_run:
        return inactive
    closed: list[Chat] = []

    async def close(chat: Chat) -> None:
        try:
            await tl.chats.update(chat.id, closed=True)
        except APIError as exc:  # one refused chat must not stop the others
            print(f"chat {chat.id}: not closed ({exc})")
        else:
            closed.append(chat)

    # One task per chat; the client's concurrency limit bounds the requests in flight.
    async with anyio.create_task_group() as tasks:
        for chat in inactive:
            tasks.start_soon(close, chat)
    return closed


async def run(argv: Sequence[str] | None) -> None:
    cli = parser(__doc__)
    cli.add_argument("--days", type=float, default=90.0, help="inactive for longer (default 90)")
    cli.add_argument("--dry-run", action="store_true", help="only print what would be closed")
    args = cli.parse_args(argv)
    if args.days < 0:
        cli.error("--days must be >= 0")
    tl, _ = client_from_args(args)
    async with tl:
        chats = await close_inactive(tl, days=args.days, dry_run=args.dry_run)
    verb = "would close" if args.dry_run else "closed"
    for chat in sorted(chats, key=lambda chat: chat.id):
        print(f"{verb} chat {chat.id} ({chat.name}), last active {last_activity(chat):%Y-%m-%d}")
    print(f"{len(chats)} chats {'to close' if args.dry_run else 'closed'}")


def main(argv: Sequence[str] | None = None) -> None:
    anyio.run(run, argv)


if __name__ == "__main__":
    main()
