"""Triage new incoming messages: label each by topic, assign the chat, and note why.

For every open unread chat, the customer's latest message is matched against
the keywords of `CATEGORIES` (the first category with a match wins, else
`general`). The chat gets that label, goes to the Support team in turn unless
someone has it already, and an internal note records the reason. Chats that
already carry a category label are left alone, so a second run changes nothing.

    python examples/support_triage.py --fake      # or with TIMELINES_API_TOKEN set
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import anyio
from _common import client_from_args, parser

from timelines_async import APIError, Chat, TimelinesClient

CATEGORIES = {
    "billing": ("invoice", "payment", "refund", "price", "pricing", "discount", "seats"),
    "shipping": ("order", "delivery", "package", "shipping", "address", "tracking"),
    "scheduling": ("call", "meeting", "visit", "tomorrow", "reschedule"),
}
GENERAL = "general"


def categorize(text: str) -> tuple[str, list[str]]:
    """The category of a message and the keywords that decided it."""
    words = set(re.findall(r"\w+", text.lower()))
    for category, keywords in CATEGORIES.items():
        if found := [keyword for keyword in keywords if keyword in words]:
            return category, found
    return GENERAL, []


async def triage(tl: TimelinesClient) -> dict[int, str]:
    """Triage the open unread chats; returns chat id -> the note left in it."""
    members = await tl.teammates.list()
    desk = [t.email for t in members if t.email and (t.team or "").lower() == "support"]
    assignees = itertools.cycle(desk or [t.email for t in members if t.email])
    done = {*CATEGORIES, GENERAL}  # a chat with one of these labels was triaged already
    chats = [
        chat
        async for chat in tl.chats.list(read=False, closed=False)
        if not done & {label.lower() for label in chat.labels}
    ]
    triaged: dict[int, str] = {}

    async def handle(chat: Chat) -> None:
        try:
            message = await tl.messages.list(chat.id, from_me=False).first()
            if message is None:
                return
            category, found = categorize(message.text or "")
            reason = f"matched {', '.join(found)}" if found else "no keyword matched"
            note = f"Triage: {category} ({reason}) in {message.text or '(no text)'!r:.120}"
            await tl.labels.add(chat.id, [category])
            if not chat.responsible_email:
                assignee = next(assignees)
                await tl.chats.update(chat.id, responsible=assignee)
                note += f"; assigned to {assignee}"
            await tl.chats.add_note(chat.id, note)
        except APIError as exc:  # one refused chat must not stop the others
            print(f"chat {chat.id}: not triaged ({exc})")
        else:
            triaged[chat.id] = note

    # One task per chat; the client's concurrency limit bounds the requests in flight.
    async with anyio.create_task_group() as tasks:
        for chat in chats:
            tasks.start_soon(handle, chat)
    return triaged


async def run(argv: Sequence[str] | None) -> None:
    tl, _ = client_from_args(parser(__doc__).parse_args(argv))
    async with tl:
        triaged = await triage(tl)
    for chat_id, note in sorted(triaged.items()):
        print(f"chat {chat_id}: {note}")
    print(f"{len(triaged)} chats triaged")


def main(argv: Sequence[str] | None = None) -> None:
    anyio.run(run, argv)


if __name__ == "__main__":
    main()
