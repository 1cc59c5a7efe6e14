"""Receive TimelinesAI webhooks with Starlette, on the library's `WebhookReceiver`.

TimelinesAI signs nothing and sends no headers of its own, so the subscription URL
carries a secret (`/timelines/webhook/<secret>`); a wrong secret gets 404. The
receiver answers each delivery 200 at once (the API delivers again after 5 s),
drops repeats, and runs the handler in the background; shutdown waits for it.
The secret sits in the path, so the access log gets `RedactSecretFilter`.

Run it (uvicorn on 127.0.0.1:8000, or $PORT):

    export TIMELINES_WEBHOOK_SECRET=$(python -c "import secrets; print(secrets.token_urlsafe(32))")
    python examples/webhook_receiver.py

and subscribe `https://<your public host>/timelines/webhook/<secret>`, e.g. through
a tunnel while developing. Replace `handle_event` with your own processing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Mount

from timelines_async.events import Deduplicator, Event, MessageEvent
from timelines_async.receiver import RedactSecretFilter, WebhookReceiver

log = logging.getLogger("webhook_receiver")

Handler = Callable[[Event], Awaitable[None]]


async def handle_event(event: Event) -> None:
    """Your processing goes here; it may take longer than the API's 5 s."""
    if isinstance(event, MessageEvent):
        chat_id = event.chat.chat_id if event.chat else None
        log.info("%s in chat %s: %r", event.event_type, chat_id, event.message.text)
    else:
        log.info("%s", event.event_type)


def create_app(
    secret: str,
    handler: Handler = handle_event,
    *,
    dedup: Deduplicator | None = None,
    max_concurrency: int = 10,
) -> Starlette:
    """The app: POST `/timelines/webhook/{secret}` hands each new event to `handler`."""
    receiver = WebhookReceiver(secret, dedup=dedup, max_concurrency=max_concurrency)
    receiver.on()(handler)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with receiver:  # leaving waits for the handlers in flight
            yield

    return Starlette(routes=[Mount("/timelines/webhook", app=receiver)], lifespan=lifespan)


def main() -> None:
    import uvicorn

    secret = os.environ.get("TIMELINES_WEBHOOK_SECRET")
    if not secret:
        raise SystemExit(
            "set TIMELINES_WEBHOOK_SECRET, e.g. to "
            "$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("uvicorn.access").addFilter(RedactSecretFilter(secret))
    port = int(os.environ.get("PORT", "8000"))
    uvicorn.run(create_app(secret), host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
