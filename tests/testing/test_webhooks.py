"""Webhook delivery: loopback URLs are POSTed to, others recorded as undeliverable."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.abc
import httpx
import pytest

from timelines_async import SendOutcomeUnknown
from timelines_async.testing import FakeTimelines, FakeTransport

pytestmark = pytest.mark.anyio


class Receiver:
    """A webhook endpoint behind `httpx.MockTransport`, answering `status` to every POST."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.posts.append((str(request.url), json.loads(request.content)))
        return httpx.Response(self.status)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def fake(receiver: Receiver) -> AsyncIterator[FakeTimelines]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as webhook_client:
        yield FakeTimelines(seed=2, chats=10, webhook_client=webhook_client)


async def test_events_are_posted_to_enabled_loopback_subscriptions_of_their_type(
    fake: FakeTimelines, receiver: Receiver
) -> None:
    chat_id = min(fake.chats)
    async with fake.client() as tl:
        await tl.webhooks.create("message:sent:new", "http://127.0.0.1:8080/sent")
        await tl.webhooks.create("message:received:new", "http://localhost:8080/received")
        off = await tl.webhooks.create("message:new", "http://127.0.0.1:8080/off", enabled=False)
        sent = await tl.messages.send(chat_id=chat_id, text="hello")
    assert [(url, body["event_type"]) for url, body in receiver.posts] == [
        ("http://127.0.0.1:8080/sent", "message:sent:new")
    ]
    assert receiver.posts[0][1]["message"]["message_uid"] == sent.message_uid
    assert all(delivery.webhook_id != off.id for delivery in fake.webhook_deliveries)


async def test_an_incoming_message_is_delivered_when_webhooks_are_flushed(
    fake: FakeTimelines, receiver: Receiver
) -> None:
    async with fake.client() as tl:
        await tl.webhooks.create("message:received:new", "http://127.0.0.1:9/in")
    fake.receive_message(min(fake.chats), "knock knock")
    assert receiver.posts == []
    await fake.deliver_webhooks()
    assert [body["message"]["text"] for _, body in receiver.posts] == ["knock knock"]
    assert fake.webhook_deliveries[0].outcome == "delivered"


async def test_a_failing_receiver_gets_three_attempts_and_the_errors_counter_grows(
    fake: FakeTimelines, receiver: Receiver
) -> None:
    receiver.status = 500
    async with fake.client() as tl:
        hook = await tl.webhooks.create("message:new", "http://127.0.0.1:9/broken")
        await tl.messages.send(chat_id=min(fake.chats), text="one")
        await tl.messages.send(chat_id=min(fake.chats), text="two")
        after = await tl.webhooks.get(hook.id)
    assert len(receiver.posts) == 6
    assert [d.outcome for d in fake.webhook_deliveries] == ["failed", "failed"]
    assert [d.attempts for d in fake.webhook_deliveries] == [3, 3]
    assert after.errors_counter == 2
    assert after.enabled is True  # never auto-disabled
    receiver.status = 200
    async with fake.client() as tl:
        await tl.messages.send(chat_id=min(fake.chats), text="three")
        assert (await tl.webhooks.get(hook.id)).errors_counter == 0


async def test_deliveries_cut_short_with_their_request_go_out_with_the_next() -> None:
    answer_posts = anyio.Event()
    posted: list[str] = []

    async def slow_receiver(request: httpx.Request) -> httpx.Response:
        posted.append(str(request.url))
        await answer_posts.wait()
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow_receiver)) as webhook_client:
        fake = FakeTimelines(seed=2, chats=10, webhook_client=webhook_client)
        async with fake.client(timeout=0.01, max_retries=0) as tl:
            await tl.webhooks.create("message:sent:new", "http://127.0.0.1:9/sent")
            await tl.webhooks.create("message:new", "http://127.0.0.1:9/new")
            with pytest.raises(SendOutcomeUnknown):  # its request timed out delivering
                await tl.messages.send(chat_id=min(fake.chats), text="hello")
        answer_posts.set()
        await fake.deliver_webhooks()
    assert [d.outcome for d in fake.webhook_deliveries] == ["delivered", "delivered"]
    assert posted == ["http://127.0.0.1:9/sent"] * 2 + ["http://127.0.0.1:9/new"]


async def test_other_urls_are_recorded_as_undeliverable_and_never_posted(
    fake: FakeTimelines, receiver: Receiver
) -> None:
    async with fake.client() as tl:
        await tl.webhooks.create("message:new", "https://hooks.example.com/in")
        await tl.messages.send(chat_id=min(fake.chats), text="hi")
    [delivery] = fake.webhook_deliveries
    assert (delivery.outcome, delivery.attempts, delivery.event_type) == (
        "undeliverable",
        0,
        "message:new",
    )
    assert receiver.posts == []


async def test_a_message_from_an_unknown_phone_opens_an_incoming_chat(
    fake: FakeTimelines,
) -> None:
    seen: list[dict[str, Any]] = []
    fake.on_event(seen.append)
    first = fake.receive_message_from("+1 415 555 0142", "hello?", name="Dana")
    second = fake.receive_message_from("14155550142", "anyone?")
    chat = fake.chats[first.chat_id]
    assert (chat.phone, chat.name, chat.read) == ("+14155550142", "Dana", False)
    assert second.chat_id == chat.id
    assert [p["event_type"] for p in seen] == [
        "chat:new",
        "chat:incoming:new",
        "message:received:new",
        "message:new",
        "message:received:new",
        "message:new",
    ]
    with pytest.raises(ValueError, match="international"):
        fake.receive_message_from("555-0142", "too short")


async def test_a_new_chat_fires_chat_events_and_assignment_fires_responsible_events(
    fake: FakeTimelines,
) -> None:
    seen: list[str] = []
    fake.on_event(lambda payload: seen.append(payload["event_type"]))
    teammate = fake.workspace.teammates[2]
    async with fake.client() as tl:
        await tl.messages.send(phone="+14155550199", text="first contact")
        chat_id = fake.sent[-1].chat_id
        await tl.chats.update(chat_id, responsible=teammate.email)
        await tl.chats.update(chat_id, responsible="")
    assert seen == [
        "chat:new",
        "chat:outgoing:new",
        "message:sent:new",
        "message:new",
        "chat:responsible:assigned",
        "chat:responsible:unassigned",
    ]


async def test_without_a_webhook_client_loopback_deliveries_use_a_real_socket() -> None:
    bodies: list[bytes] = []

    async def serve_one(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            request = b""
            while b"\r\n\r\n" not in request:
                request += await stream.receive()
            head, _, body = request.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                body += await stream.receive()
            bodies.append(body)
            await stream.send(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    fake = FakeTimelines(seed=2, chats=5)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, serve_one)
        async with fake.client() as tl:
            await tl.webhooks.create("message:sent:new", f"http://127.0.0.1:{port}/hook")
            sent = await tl.messages.send(chat_id=min(fake.chats), text="over loopback")
        group.cancel_scope.cancel()
    assert [json.loads(body)["message"]["message_uid"] for body in bodies] == [sent.message_uid]
    assert fake.webhook_deliveries[0].outcome == "delivered"


async def test_an_attachment_in_an_event_can_be_downloaded_from_the_fake(
    fake: FakeTimelines,
) -> None:
    seen: list[dict[str, Any]] = []
    fake.on_event(seen.append)
    async with fake.client() as tl:
        uploaded = await tl.files.upload(b"PNGDATA", filename="pic.png")
        await tl.messages.send(chat_id=min(fake.chats), text="look", file_uid=uploaded.uid)
    [attachment] = seen[0]["message"]["attachments"]
    assert (attachment["filename"], attachment["size"], attachment["mimetype"]) == (
        "pic.png",
        7,
        "image/png",
    )
    async with httpx.AsyncClient(transport=FakeTransport(fake)) as http:
        download = await http.get(attachment["temporary_download_url"])
    assert download.content == b"PNGDATA"
