"""Both transports over real sockets: the choice, send safety on the wire, streaming.

Every failure here is acted out by a server on 127.0.0.1 (`tests/_wire.py`), so
each transport meets it as it would on a network. "Failed before the request
was written" (nothing listening, no connection free in time) must allow a
send to be tried again; everything after it must make the outcome unknown,
on aiohttp's transport exactly as on httpx's.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import httpx
import pytest
import trustme

from timelines_async import (
    ConfigurationError,
    SendOutcomeUnknown,
    TimelinesClient,
    TransportError,
)
from timelines_async._transport import (
    build_http_client,
    check_transport,
    verifying_ssl_context,
)
from timelines_async.testing import FakeTimelines, serve_http

from ._net import free_port
from ._wire import Act, ScriptedServer

pytestmark = pytest.mark.anyio

Transport = Literal["httpx", "aiohttp"]
TRANSPORTS: list[Transport] = ["httpx", "aiohttp"]
TOKEN = "wire-token"


def client(base_url: str, transport: Transport, **options: object) -> TimelinesClient:
    settings: dict[str, object] = {
        "base_url": base_url,
        "transport": transport,
        "requests_per_second": None,
        "send_interval": 0,
        "retry_base_delay": 0,
        "retry_max_delay": 0,
        "max_retries": 2,
        "timeout": 2.0,
    }
    return TimelinesClient(TOKEN, **(settings | options))  # type: ignore[arg-type]


# -- choosing the transport ---------------------------------------------------------------


def test_auto_takes_aiohttp_when_the_speedups_extra_is_installed() -> None:
    assert check_transport("auto") == "aiohttp"
    assert check_transport("httpx") == "httpx"
    assert check_transport("aiohttp") == "aiohttp"


def test_without_the_extra_auto_is_httpx_and_aiohttp_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "httpx_aiohttp", None)  # as if not installed
    assert check_transport("auto") == "httpx"
    with pytest.raises(ConfigurationError, match=r"timelines-async\[speedups\]"):
        TimelinesClient(TOKEN, transport="aiohttp")


@pytest.mark.parametrize("transport", ["requests", "", None, 1, "AIOHTTP"])
def test_an_unknown_transport_is_a_configuration_error(transport: object) -> None:
    with pytest.raises(ConfigurationError, match="transport must be one of"):
        TimelinesClient(TOKEN, transport=transport)  # type: ignore[arg-type]


async def test_a_given_http_client_wins_over_the_transport_option() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "ok", "data": {"message_uid": "u"}})

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as mine,
        TimelinesClient(TOKEN, http_client=mine, transport="aiohttp", send_interval=0) as tl,
    ):
        await tl.messages.send(chat_id=1, text="hi")
    assert len(seen) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_pool_holds_max_concurrency_connections(transport: Transport) -> None:
    """A request that finds every connection busy waits for one, and gives up before
    writing anything (a pool or connect timeout: a send may go again)."""
    async with ScriptedServer(Act.STALL) as server:
        http = build_http_client(
            transport,
            timeout=httpx.Timeout(5.0, pool=0.2),
            max_connections=1,
        )
        async with http:
            busy = asyncio.create_task(http.get(server.base_url))
            await server.arrived.wait()
            with pytest.raises((httpx.ConnectTimeout, httpx.PoolTimeout)):
                await http.get(server.base_url)
            busy.cancel()
            with pytest.raises(asyncio.CancelledError):
                await busy
        assert len(server.requests) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_certificate_nobody_vouches_for_is_refused(transport: Transport) -> None:
    """Both transports check certificates through the one context they share."""
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(server_tls)
    async with (
        ScriptedServer(Act.ANSWER, tls=server_tls) as server,
        client(server.base_url, transport) as tl,
    ):
        with pytest.raises(TransportError, match=r"(?i)certificate verify failed"):
            await tl.chats.get(1)
    assert server.requests == []


def test_every_client_of_the_package_shares_one_verifying_context() -> None:
    """Building a context reads the CA bundle (about 30 ms): it is built once a process."""
    context = verifying_ssl_context()
    assert context is verifying_ssl_context()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


# -- send safety on the wire ----------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_send_nobody_listened_to_is_retried_then_reported_as_not_sent(
    transport: Transport,
) -> None:
    base_url = f"http://127.0.0.1:{free_port()}/integrations/api"
    async with client(base_url, transport) as tl:
        with pytest.raises(TransportError, match="nothing was sent"):
            await tl.messages.send(chat_id=1, text="hi")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    "act",
    [
        Act.CLOSE_AT_ONCE,
        Act.DROP_AFTER_REQUEST,
        Act.RESET_AFTER_REQUEST,
        Act.CUT_ANSWER,
        Act.STALL,
        Act.GARBAGE,
    ],
)
async def test_a_send_that_may_have_reached_the_server_is_never_sent_twice(
    transport: Transport, act: Act
) -> None:
    async with ScriptedServer(act) as server, client(server.base_url, transport, timeout=0.3) as tl:
        with pytest.raises(SendOutcomeUnknown) as caught:
            await tl.messages.send(chat_id=1, text="hi")
    assert len(server.requests) == 1
    assert isinstance(caught.value.__cause__, TransportError | httpx.TransportError)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_send_goes_through_and_keeps_its_connection(transport: Transport) -> None:
    async with ScriptedServer(Act.ANSWER) as server, client(server.base_url, transport) as tl:
        first = await tl.messages.send(chat_id=1, text="one")
        await tl.messages.send(chat_id=1, text="two")
    assert first.message_uid == "wire-uid"
    assert len(server.requests) == 2
    assert b"authorization: bearer wire-token" in server.requests[0].lower()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_read_is_asked_again_after_a_dropped_connection(transport: Transport) -> None:
    async with (
        ScriptedServer(Act.DROP_AFTER_REQUEST, Act.RESET_AFTER_REQUEST, Act.ANSWER) as server,
        client(server.base_url, transport) as tl,
    ):
        # A webhook delete is idempotent: retried after a failure mid-answer.
        await tl.webhooks.delete(5)
    assert len(server.requests) == 3


# -- the fake over HTTP: listing, streamed uploads and downloads -------------------------------


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 1000):
        yield data[start : start + 1000]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_lists_uploads_and_downloads_over_http(transport: Transport, tmp_path: Path) -> None:
    fake = FakeTimelines(chats=120)
    payload = bytes(range(256)) * 400  # 100 KB
    source = tmp_path / "report.bin"
    source.write_bytes(payload)
    with serve_http(fake) as base_url:
        async with TimelinesClient(
            fake.token, base_url=base_url, transport=transport, requests_per_second=None
        ) as tl:
            chats = await tl.chats.list().collect()
            assert sorted(chat.id for chat in chats) == sorted(fake.chats)
            with source.open("rb") as opened:
                uploaded = [
                    await tl.files.upload(source),
                    await tl.files.upload(opened),
                    await tl.files.upload(_chunks(payload), filename="stream.bin"),
                ]
            for n, info in enumerate(uploaded):
                assert info.size == len(payload)
                await tl.files.download(info.uid, tmp_path / f"back{n}.bin")
                assert (tmp_path / f"back{n}.bin").read_bytes() == payload
