"""Keep a local SQLite "CRM" in step with incoming WhatsApp messages, from webhooks.

For each `message:received:new` delivery the sender is upserted into the
`contacts` table, and the chat is labelled `crm-synced` and assigned (to
`--owner`, by default you) unless someone has it. The receiving (secret URL,
answer at once, work in the background, repeats dropped) is the library's
`WebhookReceiver`, through `create_app` from examples/webhook_receiver.py. Run it:

    TIMELINES_WEBHOOK_SECRET=... python examples/crm_sync.py --db crm.sqlite
    python examples/crm_sync.py --fake    # a demo: deliveries (one repeated) posted in-process
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
from collections.abc import Sequence
from contextlib import closing, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
from _common import client_from_args, parser
from starlette.applications import Starlette
from webhook_receiver import Handler, create_app

from timelines_async import TimelinesClient
from timelines_async.events import Event, MessageEvent, Party
from timelines_async.receiver import RedactSecretFilter
from timelines_async.testing import FakeTimelines

LABEL = "crm-synced"
SCHEMA = """CREATE TABLE IF NOT EXISTS contacts (phone TEXT PRIMARY KEY, name TEXT,
    chat_id INTEGER, messages INTEGER NOT NULL, last_message TEXT, last_seen TEXT)"""
#: Deliveries may come out of order: the last message is kept only if it is newer.
UPSERT = """INSERT INTO contacts VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (phone) DO UPDATE SET
    name = excluded.name, chat_id = excluded.chat_id, messages = messages + 1,
    last_message = CASE WHEN excluded.last_seen >= last_seen
        THEN excluded.last_message ELSE last_message END,
    last_seen = max(excluded.last_seen, last_seen)"""


def upsert_contact(db: Path, row: tuple[object, ...]) -> None:
    """Insert or update one contact: (phone, name, chat_id, last_message, last_seen)."""
    with closing(sqlite3.connect(db)) as connection, connection:  # commits on success
        connection.execute(SCHEMA)
        connection.execute(UPSERT, row)


def crm_handler(tl: TimelinesClient, db: Path, owner: str) -> Handler:
    """The background work for one event (the receiver has answered the webhook already)."""

    async def sync(event: Event) -> None:
        if not isinstance(event, MessageEvent) or event.event_type != "message:received:new":
            return
        chat, message = event.chat, event.message
        if chat is None or chat.chat_id is None:
            return
        sender = message.sender or Party()
        if phone := sender.phone or chat.phone:
            name, seen = sender.full_name or chat.full_name, message.timestamp or datetime.now(UTC)
            row = (phone, name, chat.chat_id, message.text, seen.astimezone(UTC).isoformat())
            await anyio.to_thread.run_sync(upsert_contact, db, row)  # off the event loop
        if not chat.responsible_email:
            await tl.chats.update(chat.chat_id, responsible=owner)
        await tl.labels.add(chat.chat_id, [LABEL])

    return sync


async def demo(fake: FakeTimelines, app: Starlette, secret: str) -> None:
    """Three customers write in; their deliveries are posted to the app, the first one twice."""
    events: list[dict[str, Any]] = []
    fake.on_event(events.append)
    open_direct = [c for c in fake.chats.values() if not (c.closed or c.is_group)]
    for chat in open_direct[:3]:
        fake.receive_message(chat.id, "Hi! Could you send me a quote?")
    received = [e for e in events if e["event_type"] == "message:received:new"]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport) as http:
        for payload in [*received, received[0]]:  # the API retries: a repeat is dropped
            await http.post(f"http://crm/timelines/webhook/{secret}", json=payload)


async def run(argv: Sequence[str] | None) -> None:
    cli = parser(__doc__)
    cli.add_argument("--db", type=Path, default=Path("crm.sqlite"), help="the CRM's SQLite file")
    cli.add_argument("--owner", help="email of the teammate new chats go to (default: yours)")
    args = cli.parse_args(argv)
    secret = secrets.token_urlsafe() if args.fake else os.environ.get("TIMELINES_WEBHOOK_SECRET")
    if not secret:
        cli.error("set TIMELINES_WEBHOOK_SECRET (see examples/webhook_receiver.py)")
    tl, fake = client_from_args(args)
    async with tl:
        owner = args.owner or (await tl.teammates.me()).email or cli.error("pass --owner")
        app = create_app(secret, crm_handler(tl, args.db, owner))
        if fake is not None:
            await demo(fake, app, secret)
            with closing(sqlite3.connect(args.db)) as connection:
                print(*connection.execute("SELECT * FROM contacts ORDER BY phone"), sep="\n")
            return
        import uvicorn

        # The request path holds the secret: the access log shows it masked.
        logging.getLogger("uvicorn.access").addFilter(RedactSecretFilter(secret))
        port = int(os.environ.get("PORT", "8000"))
        config = uvicorn.Config(app, host="127.0.0.1", port=port)
        await uvicorn.Server(config).serve()


def main(argv: Sequence[str] | None = None) -> None:
    with suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has shut down (and re-raised it)
        anyio.run(run, argv)


if __name__ == "__main__":
    main()
