"""Helpers shared by the core's tests: a transport-level mock wired into `HTTPCore`.

Everything is mocked at the transport (respx routes behind `httpx.MockTransport`);
sleeps are recorded, never slept, so retries cost no time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import httpx
import respx

from timelines_async._http import HTTPCore
from timelines_async._limits import InProcessSendLimiter, SendLimiter
from timelines_async.resources.chats import Chats
from timelines_async.resources.labels import Labels
from timelines_async.resources.messages import Messages

BASE = "https://api.example.test/integrations/api"
TOKEN = "tla_S3CRET-token-9f8e7d6c5b4a"


class RecordingSleep:
    """An injectable `sleep` that records each delay and only yields to the loop."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await anyio.lowlevel.checkpoint()


def router() -> respx.MockRouter:
    return respx.MockRouter(base_url=BASE, assert_all_called=False, assert_all_mocked=True)


def make_core(
    mock: respx.MockRouter | httpx.MockTransport,
    *,
    max_retries: int = 3,
    max_concurrency: int = 4,
    requests_per_second: float | None = None,
    send_limiter: SendLimiter | None = None,
    sleep: RecordingSleep | None = None,
    base_url: str = BASE,
    token: str = TOKEN,
    retry_base_delay: float = 0.5,
    retry_max_delay: float = 30.0,
) -> HTTPCore:
    transport = (
        mock if isinstance(mock, httpx.MockTransport) else httpx.MockTransport(mock.async_handler)
    )
    return HTTPCore(
        token=token,
        base_url=base_url,
        timeout=5.0,
        max_concurrency=max_concurrency,
        requests_per_second=requests_per_second,
        max_retries=max_retries,
        send_limiter=send_limiter or InProcessSendLimiter(0),
        http_client=httpx.AsyncClient(transport=transport),
        sleep=sleep or RecordingSleep(),
        retry_base_delay=retry_base_delay,
        retry_max_delay=retry_max_delay,
    )


def resources(core: HTTPCore) -> tuple[Chats, Labels, Messages]:
    chats = Chats(core)
    return chats, Labels(core), Messages(core, chats)


def ok(data: object = None, *, status: int = 200, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, json={"status": "ok", "data": data}, **kwargs)


def error(
    status: int,
    message: str = "something went wrong",
    *,
    error_code: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"status": "error", "message": message}
    if error_code is not None:
        body["error_code"] = error_code
    if errors is not None:
        body["errors"] = list(errors)
    return httpx.Response(status, json=body, headers=headers)


def chat_json(chat_id: int, **extra: Any) -> dict[str, Any]:
    return {"id": chat_id, "name": f"Chat {chat_id}", "phone": f"+1415555{chat_id:04d}", **extra}


def message_json(uid: str, chat_id: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "uid": uid,
        "chat_id": chat_id,
        "timestamp": "2026-01-08 10:35:18 +0000",
        "text": f"text of {uid}",
        "from_me": True,
        **extra,
    }
