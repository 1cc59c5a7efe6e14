"""Receive TimelinesAI webhooks with aiohttp, on the library's `WebhookReceiver`.

The receiver's `aiohttp_handler` serves a route whose path ends in `{secret}`;
shutdown waits for the handlers in flight, and the access log masks the secret.

    TIMELINES_WEBHOOK_SECRET=... python examples/aiohttp_app.py
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable

from aiohttp import web

from timelines_async.events import Event
from timelines_async.receiver import RedactSecretFilter, WebhookReceiver

log = logging.getLogger("aiohttp_app")


async def handle_event(event: Event) -> None:
    """Your processing goes here; it may take longer than the API's 5 s."""
    log.info("%s", event.event_type)


def create_app(
    secret: str, handler: Callable[[Event], Awaitable[None]] = handle_event
) -> web.Application:
    """POST `/timelines/webhook/{secret}` hands each new event to `handler`."""
    receiver = WebhookReceiver(secret)
    receiver.on()(handler)
    app = web.Application()
    app.router.add_route("*", "/timelines/webhook/{secret}", receiver.aiohttp_handler)

    async def drain(_: web.Application) -> None:
        await receiver.drain()

    app.on_shutdown.append(drain)
    return app


def main() -> None:
    secret = os.environ.get("TIMELINES_WEBHOOK_SECRET")
    if not secret:
        raise SystemExit("set TIMELINES_WEBHOOK_SECRET")
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("aiohttp.access").addFilter(RedactSecretFilter(secret))
    port = int(os.environ.get("PORT", "8000"))
    web.run_app(create_app(secret), host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
