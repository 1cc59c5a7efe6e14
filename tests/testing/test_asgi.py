"""The fake as a plain ASGI app: direct ASGI calls, and served by uvicorn over 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from timelines_async import TimelinesClient
from timelines_async.testing import FakeTimelines, Faults

pytestmark = pytest.mark.anyio


async def test_lifespan_messages_are_acknowledged() -> None:
    fake = FakeTimelines(chats=1)
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    outbox: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        outbox.append(message)

    await fake({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in outbox] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


async def test_an_asgi_request_is_answered_in_two_messages() -> None:
    fake = FakeTimelines(chats=2)
    outbox: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        outbox.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/integrations/api/workspace",
        "raw_path": b"/integrations/api/workspace",
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer fake-token"), (b"host", b"example.test")],
        "scheme": "http",
    }
    await fake(scope, receive, send)
    start, body = outbox
    assert start["status"] == 200
    assert (b"content-length", str(len(body["body"])).encode()) in start["headers"]
    assert body["body"].startswith(b'{"status":"ok"')


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeTimelines, str]]:
    """The fake with every fault at hand, served by uvicorn on an ephemeral 127.0.0.1 port."""
    uvicorn = pytest.importorskip("uvicorn")
    fake = FakeTimelines(chats=60)
    config = uvicorn.Config(
        fake, host="127.0.0.1", port=0, lifespan="on", log_level="critical", ws="none"
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await anyio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield fake, f"http://127.0.0.1:{port}"
        server.should_exit = True


async def test_a_client_pages_and_sends_over_real_sockets(
    served: tuple[FakeTimelines, str],
) -> None:
    fake, origin = served
    async with TimelinesClient(
        "fake-token",
        base_url=origin + "/integrations/api",
        requests_per_second=None,
        send_interval=0,
    ) as tl:
        chats = await tl.chats.list().collect()
        sent = await tl.messages.send(chat_id=chats[0].id, text="over the wire")
    assert len(chats) == 60
    assert fake.sent[0].uid == sent.message_uid


async def test_download_urls_point_back_at_the_serving_host(
    served: tuple[FakeTimelines, str],
) -> None:
    _, origin = served
    async with httpx.AsyncClient(
        base_url=origin + "/integrations/api", headers={"Authorization": "Bearer fake-token"}
    ) as http:
        uploaded = await http.post("/files_upload", files={"file": ("a.txt", b"hello")})
        url = uploaded.json()["data"]["temporary_download_url"]
        assert url.startswith(origin + "/")
        assert (await http.get(url)).content == b"hello"
        assert (await http.get("/chats/")).headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("faults", "was_sent"),
    [(Faults(dropped=1.0), False), (Faults(lost_answer=1.0), True)],
    ids=["dropped", "lost_answer"],
)
async def test_a_dropped_connection_is_a_protocol_error_over_http(
    served: tuple[FakeTimelines, str], faults: Faults, was_sent: bool
) -> None:
    fake, origin = served
    fake.set_faults(faults)
    async with httpx.AsyncClient(headers={"Authorization": "Bearer fake-token"}) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(
                f"{origin}/integrations/api/chats/{min(fake.chats)}/messages", json={"text": "x"}
            )
    assert len(fake.sent) == (1 if was_sent else 0)


async def test_a_truncated_answer_is_cut_json_over_http(served: tuple[FakeTimelines, str]) -> None:
    fake, origin = served
    fake.set_faults(Faults(truncated=1.0))
    async with httpx.AsyncClient(headers={"Authorization": "Bearer fake-token"}) as http:
        answer = await http.get(f"{origin}/integrations/api/workspace")
    assert answer.status_code == 200
    assert answer.content.startswith(b'{"status":"ok"')
    with pytest.raises(ValueError, match=r"."):
        answer.json()
