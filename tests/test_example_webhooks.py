"""The webhook examples (Starlette, FastAPI, aiohttp), each driven end to end."""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from timelines_async.events import Event
from timelines_async.receiver import RedactSecretFilter
from timelines_async.testing import FakeTimelines

from ._net import free_port

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))
try:
    webhook_receiver = importlib.import_module("webhook_receiver")
    fastapi_app = importlib.import_module("fastapi_app")
    aiohttp_app = importlib.import_module("aiohttp_app")
finally:
    sys.path.remove(str(EXAMPLES))

pytestmark = pytest.mark.anyio

SECRET = "example-secret_0123456789"
PATH = f"/timelines/webhook/{SECRET}"


def delivery(uid: str = "m-1") -> dict[str, Any]:
    return {
        "event_type": "message:received:new",
        "chat": {"chat_id": 42},
        "message": {"message_uid": uid, "text": "hello"},
    }


async def test_the_starlette_example_handles_a_triple_delivery_once() -> None:
    handled: list[Event] = []

    async def record(event: Event) -> None:
        await anyio.sleep(0.01)
        handled.append(event)

    app = webhook_receiver.create_app(SECRET, record)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://app") as http,
    ):
        statuses = [(await http.post(PATH, json=delivery())).status_code for _ in range(3)]
        assert (await http.post("/timelines/webhook/wrong", json=delivery())).status_code == 404
    # leaving the lifespan waited for the handler
    assert statuses == [200, 200, 200]
    assert len(handled) == 1


def test_the_starlette_example_masks_the_secret_in_the_access_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    monkeypatch.setenv("TIMELINES_WEBHOOK_SECRET", SECRET)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: None)
    monkeypatch.setattr(logging, "basicConfig", lambda **options: None)
    access = logging.getLogger("uvicorn.access")
    monkeypatch.setattr(access, "filters", [])

    webhook_receiver.main()

    assert any(isinstance(f, RedactSecretFilter) for f in access.filters)


async def test_the_fastapi_example_sends_reads_and_receives_with_one_client() -> None:
    fake = FakeTimelines(seed=4, chats=5)
    clients: list[Any] = []

    def client() -> Any:
        clients.append(fake.client())
        return clients[-1]

    app = fastapi_app.create_app(SECRET, client)
    chat_id = next(iter(fake.chats))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://app") as http,
    ):
        sent = await http.post("/notify", json={"phone": "+14155550123", "text": "Shipped"})
        chat = await http.get(f"/chats/{chat_id}")
        webhook = await http.post(PATH, json=delivery())

    assert sent.status_code == 200, sent.text
    assert sent.json()["message_uid"] == fake.sent[-1].uid
    assert chat.status_code == 200
    assert chat.json()["id"] == chat_id  # through FastAPI's jsonable_encoder
    assert isinstance(chat.json()["created_timestamp"], str)
    assert webhook.status_code == 200
    assert len(clients) == 1


async def test_the_aiohttp_example_answers_at_once_and_masks_its_secret_in_the_access_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from aiohttp import web

    handled: list[Event] = []

    async def record(event: Event) -> None:
        handled.append(event)

    access = logging.getLogger("aiohttp.access")
    mask = RedactSecretFilter(SECRET)
    access.addFilter(mask)
    runner = web.AppRunner(aiohttp_app.create_app(SECRET, record))
    await runner.setup()
    port = free_port()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        with caplog.at_level(logging.DEBUG):
            async with httpx.AsyncClient(base_url=base) as http:
                answers = [await http.post(PATH, json=delivery()) for _ in range(2)]
                answers.append(await http.get(PATH))
                answers.append(await http.post("/timelines/webhook/wrong", json=delivery()))
    finally:
        await runner.cleanup()  # shutdown drains the handlers
        access.removeFilter(mask)

    assert [a.status_code for a in answers] == [200, 200, 405, 404]
    assert len(handled) == 1
    access_lines = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert access_lines
    # The test's own httpx client (the sender) knows the secret; the server's logs must not.
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert all(SECRET not in record.getMessage() for record in server_side)
