"""The API token never shows: not in a repr, an exception (chain included), or a log line."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable

import httpcore
import httpx
import pytest

from timelines_async import (
    ConfigurationError,
    InvalidRequestError,
    TimelinesClient,
    TimelinesError,
)
from timelines_async._http import HTTPCore
from timelines_async._limits import InProcessSendLimiter

from ._core_support import BASE, TOKEN, RecordingSleep, error, make_core, resources, router

pytestmark = pytest.mark.anyio


def full_text(exc: BaseException) -> str:
    """Everything a user could see of an exception: str, repr, args and the whole chain."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: BaseException | None = exc
    while seen is not None:
        parts += [str(seen), repr(seen), repr(seen.args), repr(vars(seen))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def test_repr_and_str_of_the_client_hide_the_token() -> None:
    client = TimelinesClient(TOKEN, base_url=BASE)
    for text in (repr(client), str(client), repr(client._http), repr(client.messages)):
        assert TOKEN not in text


def test_configuration_errors_do_not_echo_the_token() -> None:
    for bad in (f"{TOKEN} extra", f"{TOKEN}\x00", f"{TOKEN}é"):
        with pytest.raises(ConfigurationError) as info:
            TimelinesClient(bad)
        assert TOKEN not in full_text(info.value)


FAILURES: list[object] = [
    pytest.param(httpx.Response(401, text="Unauthorized"), id="401-text"),
    pytest.param(error(401, "Invalid or expired token", error_code="invalid_token"), id="401"),
    pytest.param(error(400, "bad", errors=[{"fields": ["x"], "msg": "no"}]), id="400"),
    pytest.param(error(500, "boom"), id="500"),
    pytest.param(error(429, "slow", headers={"Retry-After": "1"}), id="429"),
    pytest.param(httpx.Response(404, html="<h1>Not found</h1>"), id="html-404"),
    pytest.param(httpx.Response(200, text='{"status": "ok", "da'), id="truncated"),
    pytest.param(httpx.ConnectError("refused"), id="connect"),
    pytest.param(httpx.ReadTimeout("slow"), id="read-timeout"),
    pytest.param(httpx.RemoteProtocolError("dropped"), id="dropped"),
    pytest.param(httpx.LocalProtocolError("bad request"), id="local-protocol"),
]
ECHOES: list[object] = [
    # a misbehaving proxy that echoes the request headers back in its error page
    pytest.param(httpx.Response(502, text=f"upstream said no to Bearer {TOKEN}"), id="echo-502"),
    pytest.param(error(403, f"token {TOKEN} may not do this"), id="echo-403"),
    pytest.param(
        error(400, "bad", errors=[{"fields": ["Authorization"], "msg": f"Bearer {TOKEN}"}]),
        id="echo-errors",
    ),
    pytest.param(httpx.Response(200, html=f"<pre>Authorization: Bearer {TOKEN}</pre>"), id="echo"),
]


@pytest.mark.parametrize("failure", FAILURES + ECHOES)
@pytest.mark.parametrize("operation", ["read", "send"])
async def test_no_exception_carries_the_token(
    failure: httpx.Response | Exception, operation: str
) -> None:
    mock = router()
    kwargs = (
        {"side_effect": failure} if isinstance(failure, Exception) else {"return_value": failure}
    )
    mock.get("/chats/1").mock(**kwargs)
    mock.post("/chats/1/messages").mock(**kwargs)
    chats, _, messages = resources(make_core(mock, max_retries=1))
    call: Callable[[], Awaitable[object]] = (
        (lambda: chats.get(1))
        if operation == "read"
        else (lambda: messages.send(chat_id=1, text="x"))
    )
    with pytest.raises(TimelinesError) as info:
        await call()
    assert TOKEN not in full_text(info.value)


async def test_input_errors_do_not_carry_the_token() -> None:
    _, _, messages = resources(make_core(router()))
    with pytest.raises(InvalidRequestError) as info:
        await messages.send(chat_id=1, text="x" * 3000)
    assert TOKEN not in full_text(info.value)


def _http_response(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


def _httpcore_transport(responses: list[bytes]) -> httpx.AsyncHTTPTransport:
    """A real httpx/httpcore stack (with their DEBUG logging) over a scripted socket."""
    transport = httpx.AsyncHTTPTransport()
    transport._pool = httpcore.AsyncConnectionPool(
        network_backend=httpcore.AsyncMockBackend(responses), max_connections=1
    )
    return transport


async def test_no_log_record_at_debug_carries_the_token(caplog: pytest.LogCaptureFixture) -> None:
    ok_chat = b'{"status": "ok", "data": {"id": 1, "name": "A"}}'
    transport = _httpcore_transport(
        [
            _http_response(200, ok_chat),  # a request
            _http_response(503, b'{"status": "error", "message": "busy"}'),  # a retry...
            _http_response(200, ok_chat),  # ...that succeeds
            _http_response(401, b"Unauthorized", "text/plain"),  # an error
            _http_response(500, b'{"status": "error", "message": "boom"}'),  # an unknown send
        ]
    )
    sleep = RecordingSleep()
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records
    async with httpx.AsyncClient(transport=transport) as http:
        core = HTTPCore(
            token=TOKEN, base_url=BASE, timeout=5.0, max_concurrency=1,
            requests_per_second=None, max_retries=2,
            send_limiter=InProcessSendLimiter(0), http_client=http, sleep=sleep,
        )  # fmt: skip
        chats, _, messages = resources(core)
        assert (await chats.get(1)).id == 1
        assert (await chats.get(1)).id == 1
        with pytest.raises(TimelinesError):
            await chats.get(1)
        with pytest.raises(TimelinesError):
            await messages.send(chat_id=1, text="hello")
    assert sleep.delays  # the retry happened
    names = {record.name for record in caplog.records}
    assert {"timelines_async", "httpx"} <= names
    assert any(name.startswith("httpcore") for name in names)
    for record in caplog.records:
        text = f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        assert TOKEN not in text, record.name
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("failure", FAILURES)
async def test_tracebacks_with_captured_locals_do_not_carry_the_token(
    failure: httpx.Response | Exception,
) -> None:
    """Error trackers (Sentry, rich) record each frame's local variables by default.

    (A server that echoes the token puts it in the body it sent, which is then in
    the locals; the client itself must never hold it in a plain local.)
    """
    mock = router()
    kwargs = (
        {"side_effect": failure} if isinstance(failure, Exception) else {"return_value": failure}
    )
    mock.get("/chats/1").mock(**kwargs)
    chats, _, _ = resources(make_core(mock, max_retries=1))
    with pytest.raises(TimelinesError) as info:
        await chats.get(1)
    text = "".join(
        traceback.TracebackException.from_exception(info.value, capture_locals=True).format()
    )
    assert TOKEN not in text
