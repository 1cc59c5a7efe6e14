"""`WebhookReceiver` in-process, alone and mounted in Starlette, through httpx's ASGI transport."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from timelines_async import ConfigurationError
from timelines_async.events import (
    ChatEvent,
    Deduplicator,
    Event,
    MessageEvent,
    UnknownEvent,
)
from timelines_async.receiver import RedactSecretFilter, WebhookReceiver

pytestmark = pytest.mark.anyio

SECRET = "s3cr3t-token_for-tests"
URL = f"/timelines/webhook/{SECRET}"


def message(uid: str = "m-1", event_type: str = "message:received:new") -> dict[str, Any]:
    return {
        "event_type": event_type,
        "chat": {"chat_id": 42, "full_name": "Jane"},
        "message": {"message_uid": uid, "text": "hello", "direction": "received"},
    }


def chat_event() -> dict[str, Any]:
    return {"event_type": "chat:new", "chat": {"id": 7, "name": "Jane"}}


@asynccontextmanager
async def mounted(receiver: WebhookReceiver) -> AsyncIterator[httpx.AsyncClient]:
    """The receiver mounted in Starlette under /timelines/webhook, drained on the way out."""
    app = Starlette(routes=[Mount("/timelines/webhook", app=receiver)])
    transport = httpx.ASGITransport(app=app)
    async with receiver, httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        yield client


async def test_the_answer_comes_before_a_slow_handler_finishes() -> None:
    receiver = WebhookReceiver(SECRET)
    gate, done = anyio.Event(), anyio.Event()

    @receiver.on()
    async def slow(event: Event) -> None:
        await gate.wait()
        done.set()

    async with mounted(receiver) as client:
        with anyio.fail_after(5):  # a receiver that awaited the handler would never answer
            answer = await client.post(URL, json=message())
        assert answer.status_code == 200
        assert not done.is_set()
        gate.set()
    assert done.is_set()
    assert receiver.stats.handled == 1


async def test_handlers_are_routed_by_type_string_by_class_and_for_all() -> None:
    receiver = WebhookReceiver(SECRET)
    seen: list[tuple[str, str]] = []

    @receiver.on("message:received:new")
    async def by_type(event: MessageEvent) -> None:
        seen.append(("type", str(event.event_type)))

    @receiver.on(ChatEvent)
    async def by_class(event: ChatEvent) -> None:
        seen.append(("class", str(event.event_type)))

    @receiver.on
    async def every(event: Event) -> None:
        seen.append(("all", str(event.event_type)))

    async with mounted(receiver) as client:
        for body in (message(), message("m-2", "message:sent:new"), chat_event()):
            assert (await client.post(URL, json=body)).status_code == 200
        await client.post(URL, json={"event_type": "waba:message:read", "x": 1})

    assert sorted(seen) == sorted(
        [
            ("type", "message:received:new"),
            ("all", "message:received:new"),
            ("all", "message:sent:new"),
            ("class", "chat:new"),
            ("all", "chat:new"),
            ("all", "waba:message:read"),
        ]
    )


async def test_an_unknown_event_reaches_a_handler_of_its_type_string_raw() -> None:
    receiver = WebhookReceiver(SECRET)
    got: list[Event] = []
    body = {"event_type": "waba:message:read", "account": {"id": 4821}}

    @receiver.on("waba:message:read")
    async def waba(event: UnknownEvent) -> None:
        got.append(event)

    async with mounted(receiver) as client:
        await client.post(URL, json=body)
    assert got == [UnknownEvent(event_type="waba:message:read", payload=body)]


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
async def test_a_wrong_secret_is_404_whatever_the_method_or_body(path: str) -> None:
    receiver = WebhookReceiver(SECRET)
    async with mounted(receiver) as client:
        answers = [
            await client.post(path, json=message()),
            await client.post(path, content=b"not json"),
            await client.get(path),
        ]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert receiver.stats.received == 0


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe", b"[]", b'{"event_type": 5}', b'{"event_type": "chat:new"}'],
    ids=["empty", "text", "invalid-utf8", "array", "numeric-type", "missing-chat"],
)
async def test_a_body_that_is_not_an_event_is_400_saying_why(body: bytes) -> None:
    receiver = WebhookReceiver(SECRET)
    async with mounted(receiver) as client:
        answer = await client.post(URL, content=body)
    assert answer.status_code == 400
    assert answer.text
    assert receiver.stats.received == 0


async def test_an_oversize_body_is_413_declared_or_streamed() -> None:
    receiver = WebhookReceiver(SECRET, max_body_bytes=100)
    big = json.dumps({**message(), "pad": "x" * 200}).encode()

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for start in range(0, len(big), 50):
            yield big[start : start + 50]

    async with mounted(receiver) as client:
        declared = await client.post(URL, content=big)
        streamed = await client.post(URL, content=chunks())
    assert (declared.status_code, streamed.status_code) == (413, 413)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_another_method_is_405_with_allow(method: str) -> None:
    receiver = WebhookReceiver(SECRET)
    async with mounted(receiver) as client:
        answer = await client.request(method, URL)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"


async def test_a_triple_delivery_is_handled_once() -> None:
    receiver = WebhookReceiver(SECRET)
    handled: list[Event] = []

    @receiver.on()
    async def record(event: Event) -> None:
        handled.append(event)

    async with mounted(receiver) as client:
        answers = [await client.post(URL, json=message()) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len(handled) == 1
    assert (receiver.stats.received, receiver.stats.duplicates) == (1, 2)


async def test_a_raising_handler_is_logged_and_counted_never_an_error_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = WebhookReceiver(SECRET)
    handled: list[str] = []

    @receiver.on()
    async def flaky(event: MessageEvent) -> None:
        if event.message.message_uid == "boom":
            raise RuntimeError("handler bug")
        handled.append(str(event.message.message_uid))

    with caplog.at_level(logging.ERROR, logger="timelines_async.receiver"):
        async with mounted(receiver) as client:
            statuses = [
                (await client.post(URL, json=message(u))).status_code for u in ("boom", "ok")
            ]

    assert statuses == [200, 200]
    assert handled == ["ok"]
    assert (receiver.stats.handled, receiver.stats.failed) == (1, 1)
    assert "flaky failed on a message:received:new event" in caplog.text
    assert "handler bug" in caplog.text
    assert SECRET not in caplog.text


async def test_by_default_a_failed_event_is_not_handled_again_when_redelivered() -> None:
    calls = await _deliver_a_failing_event_twice(WebhookReceiver(SECRET))
    assert calls == 1


async def test_forget_failed_hands_a_failed_event_over_again_on_redelivery() -> None:
    calls = await _deliver_a_failing_event_twice(WebhookReceiver(SECRET, forget_failed=True))
    assert calls == 2


async def _deliver_a_failing_event_twice(receiver: WebhookReceiver) -> int:
    calls = 0

    @receiver.on()
    async def failing(event: Event) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("downstream is down")

    async with mounted(receiver) as client:
        await client.post(URL, json=message())
        await receiver.drain()
        await client.post(URL, json=message())
    return calls


async def test_drain_waits_for_every_handler_in_flight_and_queued() -> None:
    receiver = WebhookReceiver(SECRET, max_concurrency=2)
    running = 0
    most = 0
    finished: list[str] = []

    @receiver.on()
    async def work(event: MessageEvent) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await anyio.sleep(0.01)
        running -= 1
        finished.append(str(event.message.message_uid))

    async with mounted(receiver) as client:
        for n in range(6):
            await client.post(URL, json=message(f"m-{n}"))
        assert len(finished) < 6
        await receiver.drain()
        assert len(finished) == 6
    assert most == 2


async def test_served_alone_its_lifespan_drains_on_shutdown() -> None:
    receiver = WebhookReceiver(SECRET)
    gate = anyio.Event()
    done: list[Event] = []

    @receiver.on()
    async def held(event: Event) -> None:
        await gate.wait()
        done.append(event)

    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        assert (await client.post(f"/{SECRET}", json=message())).status_code == 200
    to_server: list[dict[str, Any]] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        if to_server[0]["type"] == "lifespan.shutdown":
            gate.set()  # shutting down while the handler is held: it must finish first
        return to_server.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append({**message, "done": len(done)})

    await receiver({"type": "lifespan"}, receive, send)
    assert sent == [
        {"type": "lifespan.startup.complete", "done": 0},
        {"type": "lifespan.shutdown.complete", "done": 1},
    ]


async def test_an_in_process_deduplicator_can_be_shared_and_inspected() -> None:
    dedup = Deduplicator()
    receiver = WebhookReceiver(SECRET, dedup=dedup)
    async with mounted(receiver) as client:
        await client.post(URL, json=message())
    assert len(dedup) == 1
    assert receiver.dedup is dedup


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"secret": ""}, "secret"),
        ({"secret": "a/b"}, "secret"),
        ({"secret": "s", "max_concurrency": 0}, "max_concurrency"),
        ({"secret": "s", "max_body_bytes": True}, "max_body_bytes"),
    ],
)
def test_bad_settings_are_configuration_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        WebhookReceiver(**kwargs)


def test_handlers_must_be_async_and_kinds_strings_or_classes() -> None:
    receiver = WebhookReceiver(SECRET)

    def sync_handler(event: Event) -> None: ...

    with pytest.raises(ConfigurationError, match="async"):
        receiver.on()(sync_handler)  # type: ignore[type-var]
    with pytest.raises(ConfigurationError, match="event type strings"):
        receiver.on(42)  # type: ignore[call-overload]


def test_the_repr_hides_the_secret() -> None:
    receiver = WebhookReceiver(SECRET)
    assert SECRET not in repr(receiver)
    assert SECRET not in repr(RedactSecretFilter(SECRET))


def test_redact_secret_filter_masks_message_args_and_extras_keeping_the_shape() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", URL, "1.1", 200), None,
    )  # fmt: skip
    record.__dict__["first_request_line"] = f"POST {URL} HTTP/1.1"

    assert RedactSecretFilter(SECRET).filter(record) is True

    assert record.args == ("127.0.0.1:5000", "POST", "/timelines/webhook/<secret>", "1.1", 200)
    assert record.__dict__["first_request_line"] == "POST /timelines/webhook/<secret> HTTP/1.1"
    assert SECRET not in record.getMessage()


def test_it_needs_neither_starlette_nor_aiohttp_until_aiohttp_is_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules.update(starlette=None, aiohttp=None, fastapi=None)\n"
        "from timelines_async.receiver import WebhookReceiver\n"
        "WebhookReceiver('s')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
