"""Assign every open chat that has no responsible teammate, by its labels.

`enterprise` and `vip` chats go to a senior teammate (an owner, admin or team
supervisor), `support` and `billing` chats to the Support team, everything else
to sales (everyone else); within a group chats are dealt out in turn. Missing a
group, the chats go to everyone. Run it:

    python examples/route_new_chats.py --fake     # or with TIMELINES_API_TOKEN set
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import anyio
from _common import client_from_args, parser

from timelines_async import APIError, Chat, Teammate, TimelinesClient

SENIOR_ROLES = {"owner", "admin", "team_supervisor"}
SENIOR_LABELS = {"enterprise", "vip"}
SUPPORT_LABELS = {"support", "billing"}


def routing(teammates: Sequence[Teammate]) -> dict[str, Iterator[str]]:
    """For each group (`senior`, `support`, `sales`), the emails to deal its chats to, in turn."""
    active = [t for t in teammates if t.email and (t.status or "active").lower() == "active"]
    everyone = [t.email for t in active if t.email]
    if not everyone:
        raise SystemExit("no active teammate to assign chats to")
    senior = [t.email for t in active if t.email and (t.role or "").lower() in SENIOR_ROLES]
    support = [t.email for t in active if t.email and (t.team or "").lower() == "support"]
    sales = [email for email in everyone if email not in senior + support]
    groups = {"senior": senior, "support": support, "sales": sales}
    return {name: itertools.cycle(emails or everyone) for name, emails in groups.items()}


def group_of(chat: Chat) -> str:
    labels = {label.lower() for label in chat.labels}
    if labels & SENIOR_LABELS:
        return "senior"
    return "support" if labels & SUPPORT_LABELS else "sales"


async def route(tl: TimelinesClient) -> dict[int, str]:
    """Assign the open unassigned chats; returns chat id -> the email it was given to."""
    groups = routing(await tl.teammates.list())
    # Read the whole listing first, then change chats: changing chats while
    # paging through a listing can shift its pages under the reader.
    waiting = [chat async for chat in tl.chats.list(closed=False) if not chat.responsible_email]
    assigned: dict[int, str] = {}

    async def assign(chat: Chat, email: str) -> None:
        try:
            await tl.chats.update(chat.id, responsible=email)
        except APIError as exc:  # one refused chat must not stop the others
            print(f"chat {chat.id}: not assigned ({exc})")
        else:
            assigned[chat.id] = email

    # One task per chat; the client's concurrency limit bounds the requests in flight.
    async with anyio.create_task_group() as tasks:
        for chat in waiting:
            tasks.start_soon(assign, chat, next(groups[group_of(chat)]))
    return assigned


async def run(argv: Sequence[str] | None) -> None:
    args = parser(__doc__).parse_args(argv)
    tl, _ = client_from_args(args)
    async with tl:
        assigned = await route(tl)
    for chat_id, email in sorted(assigned.items()):
        print(f"chat {chat_id} -> {email}")
    print(f"{len(assigned)} chats assigned")


def main(argv: Sequence[str] | None = None) -> None:
    anyio.run(run, argv)


if __name__ == "__main__":
    main()
