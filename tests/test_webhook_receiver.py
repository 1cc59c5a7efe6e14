"""The webhook receiver recipe (`examples/webhook_receiver.py`), driven in-process.

The app's lifespan (its task group) is entered as uvicorn would, and requests go
through httpx's ASGI transport; leaving the lifespan waits for background work.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import httpx
import pytest

from timelines_async.events import Event, MessageEvent, UnknownEvent

pytestmark = pytest.mark.anyio

SECRET = "s3cr3t-token_for-tests"
URL = f"/timelines/webhook/{SECRET}"


def _load_recipe() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "examples" / "webhook_receiver.py"
    spec = importlib.util.spec_from_file_location("webhook_receiver", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


recipe = _load_recipe()


def _message(uid: str = "m-1") -> bytes:
    body = {
        "event_type": "message:received:new",
        "chat": {"chat_id": 42, "full_name": "Jane"},
        "message": {"message_uid": uid, "text": "hello", "direction": "received"},
    }
    return json.dumps(body).encode()


class Recorder:
    """A handler that records what it processed; `gate` holds it until set."""

    def __init__(self, *, gated: bool = False) -> None:
        self.processed: list[Event] = []
        self.gate = anyio.Event()
        if not gated:
            self.gate.set()
        self.finished = anyio.Event()

    async def __call__(self, event: Event) -> None:
        await self.gate.wait()
        self.processed.append(event)
        self.finished.set()


@asynccontextmanager
async def serve(
    handler: Callable[[Event], Awaitable[None]], **options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = recipe.create_app(SECRET, handler, **options)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
            yield client


async def test_an_event_delivered_three_times_is_processed_once() -> None:
    recorder = Recorder()
    async with serve(recorder) as client:
        answers = [await client.post(URL, content=_message()) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert len(recorder.processed) == 1
    (event,) = recorder.processed
    assert isinstance(event, MessageEvent)
    assert event.message.message_uid == "m-1"


async def test_distinct_events_are_each_processed() -> None:
    recorder = Recorder()
    async with serve(recorder) as client:
        for uid in ("m-1", "m-2", "m-1", "m-3"):
            assert (await client.post(URL, content=_message(uid))).status_code == 200

    assert [e.message.message_uid for e in recorder.processed if isinstance(e, MessageEvent)] == [
        "m-1",
        "m-2",
        "m-3",
    ]


async def test_the_answer_comes_before_the_background_work_finishes() -> None:
    recorder = Recorder(gated=True)
    async with serve(recorder) as client:
        with anyio.fail_after(5):  # an app that awaited the handler would never answer
            answer = await client.post(URL, content=_message())
        assert answer.status_code == 200
        assert recorder.processed == []  # still held at the gate
        recorder.gate.set()
        with anyio.fail_after(5):
            await recorder.finished.wait()
    assert len(recorder.processed) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/timelines/webhook/wrong",
        f"/timelines/webhook/{SECRET}x",
        f"/timelines/webhook/{SECRET[:-1]}",
        f"/timelines/webhook/{SECRET.upper()}",
        "/timelines/webhook/s%C3%A9cret",
        "/timelines/webhook/",
        f"/timelines/webhook/{SECRET}/extra",
    ],
    ids=["wrong", "suffix", "prefix", "case", "non-ascii", "empty", "extra-segment"],
)
async def test_a_wrong_secret_gets_404_and_nothing_is_processed(path: str) -> None:
    recorder = Recorder()
    async with serve(recorder) as client:
        answer = await client.post(path, content=_message())
        garbage = await client.post(path, content=b"not json")

    assert (answer.status_code, garbage.status_code) == (404, 404)
    assert recorder.processed == []


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe", b"[]", b'{"event_type": 5}', b'{"event_type": "chat:new"}'],
    ids=["empty", "text", "invalid-utf8", "array", "numeric-type", "missing-chat"],
)
async def test_a_body_that_is_not_an_event_gets_400(body: bytes) -> None:
    recorder = Recorder()
    async with serve(recorder) as client:
        answer = await client.post(URL, content=body)

    assert answer.status_code == 400
    assert answer.text  # says what is wrong
    assert recorder.processed == []


async def test_an_unknown_event_type_is_accepted_and_handed_over_raw() -> None:
    recorder = Recorder()
    body = {"event_type": "waba:message:read", "account": {"id": 4821}}
    async with serve(recorder) as client:
        answer = await client.post(URL, json=body)

    assert answer.status_code == 200
    assert recorder.processed == [UnknownEvent(event_type="waba:message:read", payload=body)]


async def test_a_failing_handler_is_logged_and_does_not_stop_later_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    processed: list[str] = []

    async def flaky(event: Event) -> None:
        assert isinstance(event, MessageEvent)
        if event.message.message_uid == "boom":
            raise RuntimeError("handler bug")
        processed.append(str(event.message.message_uid))

    with caplog.at_level(logging.ERROR, logger="webhook_receiver"):
        async with serve(flaky) as client:
            for uid in ("boom", "ok"):
                assert (await client.post(URL, content=_message(uid))).status_code == 200

    assert processed == ["ok"]
    assert "processing a message:received:new event failed" in caplog.text


async def test_without_a_running_lifespan_deliveries_get_503_to_be_retried() -> None:
    recorder = Recorder()
    app = recipe.create_app(SECRET, recorder)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        answer = await client.post(URL, content=_message())
    assert answer.status_code == 503
    assert recorder.processed == []


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        recipe.create_app("")


def test_main_without_a_secret_exits_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIMELINES_WEBHOOK_SECRET", raising=False)
    with pytest.raises(SystemExit, match="TIMELINES_WEBHOOK_SECRET"):
        recipe.main()


def test_main_serves_on_localhost_without_logging_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uvicorn = pytest.importorskip("uvicorn", reason="uvicorn comes with the `cli` extra")
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setenv("TIMELINES_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: None)

    recipe.main()

    ((app, options),) = calls
    assert options == {"host": "127.0.0.1", "port": 8123, "access_log": False}
    assert app.routes[0].path == "/timelines/webhook/{secret}"
