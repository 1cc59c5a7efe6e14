"""Real sockets on 127.0.0.1 for the transport tests: a scripted HTTP server, and the fake.

`ScriptedServer` acts out, byte by byte, what a server or a network can do to
a request (answer, drop the connection before or after reading it, reset it,
cut the answer short, stall, answer garbage), so that each transport meets the
real failure, never an exception made up by a test.

`TIMELINES_TEST_WIRE` (comma-separated: `in-process`, `httpx`, `aiohttp`) picks
how the reliability tests reach the fake: in-process (the default), or over
HTTP on one of the client's transports (CI runs them on both).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any, Self

from timelines_async import TimelinesClient
from timelines_async.testing import FakeTimelines, serve_http

__all__ = ["WIRES", "Act", "AnsweringServer", "Reply", "ScriptedServer", "fake_client"]

#: What a handler answers to a request: status, raw headers, body.
Reply = tuple[int, list[tuple[bytes, bytes]], bytes]

WIRES = tuple(
    wire.strip() for wire in os.environ.get("TIMELINES_TEST_WIRE", "in-process").split(",")
)
if not set(WIRES) <= {"in-process", "httpx", "aiohttp"}:
    raise RuntimeError(f"TIMELINES_TEST_WIRE names in-process, httpx, aiohttp; not {WIRES}")


@asynccontextmanager
async def fake_client(fake: FakeTimelines, wire: str, **options: Any) -> AsyncIterator[Any]:
    """A client on `fake`: in-process, or over HTTP through the named transport."""
    if wire == "in-process":
        async with fake.client(**options) as tl:
            yield tl
        return
    with serve_http(fake) as base_url:
        settings: dict[str, Any] = {
            "token": fake.token,
            "base_url": base_url,
            "requests_per_second": None,
            "send_interval": fake.send_interval,
            "transport": wire,
        }
        async with TimelinesClient(**(settings | options)) as tl:
            yield tl


class Act(StrEnum):
    ANSWER = "answer"  # a full 200 answer with the API's envelope
    CLOSE_AT_ONCE = "close at once"  # accept, then close before reading anything
    DROP_AFTER_REQUEST = "drop after request"  # read the request, close without a word
    RESET_AFTER_REQUEST = "reset after request"  # read the request, then a TCP reset
    CUT_ANSWER = "cut answer"  # headers and half the promised body, then close
    STALL = "stall"  # read the request, never answer
    GARBAGE = "garbage"  # answer something that is not HTTP


_SENT = json.dumps({"status": "ok", "data": {"message_uid": "wire-uid"}}).encode()


class _Server:
    """A TCP server on a free port of 127.0.0.1 that closes every connection on exit."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self._tls = tls
        self._server: asyncio.Server | None = None
        #: Connections still open: kept alive by the client, or stalled on purpose.
        self._open: set[asyncio.StreamWriter] = set()

    @property
    def origin(self) -> str:
        assert self._server is not None
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    @property
    def base_url(self) -> str:
        return self.origin + "/integrations/api"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self._tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._open:
            writer.close()
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
            if not await self._serve(reader, writer):
                return  # the connection is left as it is (stalled, or reset)
        self._open.discard(writer)
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one connection; `False` to leave it open (closed on exit)."""
        raise NotImplementedError


class ScriptedServer(_Server):
    """An HTTP/1.1 server acting out `acts` in turn, one per request; the last one repeats."""

    def __init__(self, *acts: Act, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(tls=tls)
        self.acts = list(acts)
        self.requests: list[bytes] = []
        #: Set once the first request has arrived.
        self.arrived = asyncio.Event()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        while True:
            act = self.acts[min(len(self.requests), len(self.acts) - 1)]
            if act is Act.CLOSE_AT_ONCE:
                self.requests.append(b"")
                return True
            request = await _read_request(reader)
            if request is None:
                return True
            self.requests.append(request)
            self.arrived.set()
            if act is not Act.ANSWER:
                return await self._fail(act, writer)
            writer.write(_head(200, len(_SENT)) + _SENT)
            await writer.drain()

    async def _fail(self, act: Act, writer: asyncio.StreamWriter) -> bool:
        if act is Act.RESET_AFTER_REQUEST:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        elif act is Act.CUT_ANSWER:
            writer.write(_head(200, len(_SENT)) + _SENT[: len(_SENT) // 2])
            await writer.drain()
        elif act is Act.GARBAGE:
            writer.write(b"SMTP ready, not HTTP\r\n\r\n")
            await writer.drain()
        return act not in (Act.STALL, Act.RESET_AFTER_REQUEST)


class AnsweringServer(_Server):
    """An HTTP/1.1 server whose every answer comes from `answer(method, path)`.

    The answer is written as is, with its own `content-length`, whatever the
    status: a body on a 204 breaks HTTP framing on purpose, as a broken server would.
    """

    def __init__(self, answer: Callable[[str, str], Reply]) -> None:
        super().__init__()
        self._answer = answer

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        while (request := await _read_request(reader)) is not None:
            method, target = request.split(b" ", 2)[:2]
            status, headers, body = self._answer(method.decode(), target.decode())
            head = [f"HTTP/1.1 {status} X".encode()]
            head += [name + b": " + value for name, value in headers]
            head.append(f"content-length: {len(body)}".encode())
            writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
            await writer.drain()
        return True


def _head(status: int, length: int) -> bytes:
    return (
        f"HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\n"
        f"content-length: {length}\r\n\r\n"
    ).encode()


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request (head and a `content-length` or chunked body); `None` at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    headers = head.decode("latin-1").lower()
    if "transfer-encoding: chunked" in headers:
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
        return head + body
    length = 0
    for line in headers.split("\r\n"):
        if line.startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    return head + await reader.readexactly(length)
