"""A FastAPI app on timelines-async: one shared client, a route that sends, webhooks received.

- One `TimelinesClient` for the whole app, opened and closed in the lifespan
  (its concurrency, pacing and send spacing are shared by every request).
- `POST /notify` sends a WhatsApp message; `GET /chats/{chat_id}` returns a chat,
  made JSON-ready with `timelines_async.to_jsonable` (FastAPI's encoder alone
  cannot read the library's models).
- The `WebhookReceiver` is mounted at `/timelines/webhook`; the lifespan drains
  its handlers on shutdown, and the access log masks its secret.

Run it: `TIMELINES_API_TOKEN=... TIMELINES_WEBHOOK_SECRET=... uvicorn fastapi_app:app`
from the examples directory (or `python examples/fastapi_app.py`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel

from timelines_async import TimelinesClient, to_jsonable
from timelines_async.events import MessageEvent
from timelines_async.receiver import RedactSecretFilter, WebhookReceiver

log = logging.getLogger("fastapi_app")


class Notify(BaseModel):
    phone: str
    text: str


def create_app(secret: str, client: Callable[[], TimelinesClient] = TimelinesClient) -> FastAPI:
    """The app; `client` builds the shared client when the app starts (a fake one in tests)."""
    receiver = WebhookReceiver(secret)

    @receiver.on("message:received:new")
    async def on_message(event: MessageEvent) -> None:
        log.info("new message in chat %s", event.chat.chat_id if event.chat else None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with client() as tl, receiver:
            app.state.tl = tl
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/notify")
    async def notify(body: Notify, request: Request) -> Any:
        tl: TimelinesClient = request.app.state.tl
        sent = await tl.messages.send(phone=body.phone, text=body.text)
        return jsonable_encoder(to_jsonable(sent))

    @app.get("/chats/{chat_id}")
    async def chat(chat_id: int, request: Request) -> Any:
        tl: TimelinesClient = request.app.state.tl
        return jsonable_encoder(to_jsonable(await tl.chats.get(chat_id)))

    app.mount("/timelines/webhook", receiver)
    return app


def _app_from_environment() -> FastAPI | None:
    secret = os.environ.get("TIMELINES_WEBHOOK_SECRET")
    if not secret:
        return None
    logging.getLogger("uvicorn.access").addFilter(RedactSecretFilter(secret))
    return create_app(secret)


#: For `uvicorn fastapi_app:app`.
app = _app_from_environment()


def main() -> None:
    import uvicorn

    if app is None:
        raise SystemExit("set TIMELINES_WEBHOOK_SECRET (and TIMELINES_API_TOKEN)")
    logging.basicConfig(level=logging.INFO)
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))


if __name__ == "__main__":
    main()
