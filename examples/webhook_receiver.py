"""Receive TimelinesAI webhooks with Starlette: check, answer at once, process in the background.

TimelinesAI signs nothing and sends no headers of its own, so the subscription URL
carries a secret (`/timelines/webhook/<secret>`); a wrong secret gets 404. The API
waits 5 s for an answer and then retries (three attempts in all), so a delivery is
answered 200 at once, a repeat is dropped with `Deduplicator`, and the work runs
in a task group that lives as long as the app (shutdown waits for it). A body that
is not an event gets 400.

Run it (uvicorn on 127.0.0.1:8000, or $PORT):

    export TIMELINES_WEBHOOK_SECRET=$(python -c "import secrets; print(secrets.token_urlsafe(32))")
    python examples/webhook_receiver.py

and subscribe `https://<your public host>/timelines/webhook/<secret>`, e.g. through
a tunnel while developing. Replace `handle_event` with your own processing.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from anyio.abc import TaskGroup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from timelines_async.events import Deduplicator, Event, InvalidEventError, MessageEvent, parse_event

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
    """The receiver app: POST `/timelines/webhook/{secret}` hands each new event to `handler`."""
    if not secret:
        raise ValueError("the webhook secret must not be empty")
    expected = secret.encode()
    seen = dedup if dedup is not None else Deduplicator()
    limiter = anyio.CapacityLimiter(max_concurrency)
    tasks: TaskGroup | None = None

    async def process(event: Event) -> None:
        async with limiter:
            try:
                await handler(event)
            except Exception:  # one failed event must not stop the others
                log.exception("processing a %s event failed", event.event_type)

    async def receive(request: Request) -> PlainTextResponse:
        given = str(request.path_params["secret"]).encode()
        if not hmac.compare_digest(given, expected):
            return PlainTextResponse("Not Found", status_code=404)
        try:
            event = parse_event(await request.body())
        except InvalidEventError as exc:
            return PlainTextResponse(str(exc), status_code=400)
        if tasks is None:  # the lifespan is not running: let the API retry later
            return PlainTextResponse("not ready", status_code=503)
        if not seen.is_duplicate(event):
            tasks.start_soon(process, event)
        return PlainTextResponse("OK")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal tasks
        async with anyio.create_task_group() as group:
            tasks = group
            try:
                yield
            finally:
                tasks = None  # refuse new work; leaving the group waits for running work

    route = Route("/timelines/webhook/{secret}", receive, methods=["POST"])
    return Starlette(routes=[route], lifespan=lifespan)


def main() -> None:
    import uvicorn

    secret = os.environ.get("TIMELINES_WEBHOOK_SECRET")
    if not secret:
        raise SystemExit(
            "set TIMELINES_WEBHOOK_SECRET, e.g. to "
            "$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    logging.basicConfig(level=logging.INFO)
    port = int(os.environ.get("PORT", "8000"))
    # No access log: the request path holds the secret.
    uvicorn.run(create_app(secret), host="127.0.0.1", port=port, access_log=False)


if __name__ == "__main__":
    main()
