"""`_http.HTTPCore`: auth, URL joining, envelope checks, error mapping and the retry loop."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from timelines_async import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TimelinesError,
    TransportError,
    UnexpectedResponseError,
    UnprocessableEntityError,
)
from timelines_async._http import HTTPCore, _Call, _OutcomeUnknown
from timelines_async._limits import InProcessSendLimiter
from timelines_async._retry import RequestKind

from ._core_support import BASE, TOKEN, RecordingSleep, error, make_core, ok, router

pytestmark = pytest.mark.anyio


async def test_every_request_carries_the_bearer_token() -> None:
    mock = router()
    route = mock.get("/workspace").mock(return_value=ok({"plan": "pro"}))
    core = make_core(mock)
    assert await core.request(_Call("GET", "/workspace")) == {"plan": "pro"}
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("base_url", [BASE, BASE + "/", BASE + "//"])
async def test_paths_are_joined_without_a_trailing_slash(base_url: str) -> None:
    """The API answers `/chats/` with an HTML 404: never add or keep a trailing slash."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return ok({"has_more_pages": False, "chats": []})

    core = make_core(httpx.MockTransport(handler), base_url=base_url)
    await core.request(_Call("GET", "/chats", params={"page": "1"}))
    await core.request(_Call("GET", "/chats/12/labels"))
    assert seen == [f"{BASE}/chats?page=1", f"{BASE}/chats/12/labels"]


@pytest.mark.parametrize(
    "body",
    [
        {"status": "ok", "data": None},
        {"status": "ok"},
    ],
)
async def test_an_ok_envelope_without_data_gives_none(body: dict[str, object]) -> None:
    mock = router()
    mock.delete("/files/abc").mock(return_value=httpx.Response(200, json=body))
    assert await make_core(mock).request(_Call("DELETE", "/files/abc")) is None


async def test_an_empty_2xx_body_gives_none() -> None:
    """Some DELETEs answer 200 with no content at all."""
    mock = router()
    mock.delete("/webhooks/7").mock(return_value=httpx.Response(200))
    assert await make_core(mock).request(_Call("DELETE", "/webhooks/7")) is None


@pytest.mark.parametrize("status", [200, 201])
async def test_status_error_on_a_2xx_raises_api_error(status: int) -> None:
    mock = router()
    mock.post("/messages").mock(
        return_value=httpx.Response(status, json={"status": "error", "message": "no account"})
    )
    with pytest.raises(APIError) as info:
        await make_core(mock).request(_Call("POST", "/messages", json={}))
    assert info.value.status_code == status
    assert info.value.message == "no account"


@pytest.mark.parametrize(
    ("error_code", "expected"),
    [
        ("not_found", NotFoundError),
        ("rate_limit_exceeded", RateLimitError),
        ("internal_error", ServerError),
        ("validation_error", BadRequestError),
        ("quota_exceeded", QuotaExceededError),
        ("invalid_token", AuthenticationError),
        ("permission_denied", PermissionDeniedError),
        ("service_window_closed", ConflictError),
        ("template_variables_mismatch", UnprocessableEntityError),
        ("not_supported", MethodNotAllowedError),
        ("something_new", APIError),
    ],
)
async def test_an_error_envelope_on_a_2xx_maps_by_its_error_code(
    error_code: str, expected: type[APIError]
) -> None:
    """One error tree whatever the status: the class the API documents for the code."""
    mock = router()
    mock.get("/chats/1").mock(return_value=error(200, "said no", error_code=error_code))
    with pytest.raises(APIError) as info:
        await make_core(mock, max_retries=0).request(_Call("GET", "/chats/1"))
    assert type(info.value) is expected
    assert (info.value.status_code, info.value.error_code) == (200, error_code)


@pytest.mark.parametrize("kind", [RequestKind.IDEMPOTENT, RequestKind.UNSAFE, RequestKind.SEND])
async def test_a_2xx_rate_limit_exceeded_is_retried_like_a_429(kind: RequestKind) -> None:
    mock = router()
    route = mock.post("/chats/1/messages").mock(
        side_effect=[
            error(200, "slow down", error_code="rate_limit_exceeded", headers={"Retry-After": "2"}),
            ok({"message_uid": "m1"}),
        ]
    )
    sleep = RecordingSleep()
    core = make_core(mock, sleep=sleep, requests_per_second=1000.0)
    call = _Call("POST", "/chats/1/messages", json={"text": "hi"}, kind=kind)
    assert await core.request(call) == {"message_uid": "m1"}
    assert route.call_count == 2
    assert sleep.delays[0] == 2.0  # the Retry-After (a pacer wait may follow)
    assert core.pacer.rate == pytest.approx(1000.0 / 2 + 1000.0 / 200)  # slowed, then recovering


async def test_a_2xx_internal_error_to_a_send_leaves_its_outcome_unknown() -> None:
    mock = router()
    route = mock.post("/chats/1/messages").mock(
        return_value=error(200, "Internal error, try again", error_code="internal_error")
    )
    call = _Call("POST", "/chats/1/messages", json={"text": "hi"}, kind=RequestKind.SEND)
    with pytest.raises(_OutcomeUnknown) as info:
        await make_core(mock, max_retries=3).request(call)
    assert route.call_count == 1
    assert isinstance(info.value.__cause__, ServerError)
    assert "200" in info.value.reason


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, PayloadTooLargeError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (405, MethodNotAllowedError),
        (410, NotFoundError),
        (418, APIError),
        (422, UnprocessableEntityError),
    ],
)
async def test_error_status_maps_to_its_class(status: int, expected: type[APIError]) -> None:
    mock = router()
    mock.get("/chats/1").mock(return_value=error(status, "nope", error_code="some_code"))
    with pytest.raises(expected) as info:
        await make_core(mock, max_retries=0).request(_Call("GET", "/chats/1"))
    assert type(info.value) is expected
    assert info.value.status_code == status


@pytest.mark.parametrize("status", [200, 403, 429])
async def test_quota_exceeded_maps_by_error_code_whatever_the_status(status: int) -> None:
    """A used-up quota is `QuotaExceededError` on a 403, a 429 or a 2xx, and is not retried."""
    mock = router()
    route = mock.get("/workspace").mock(
        return_value=error(status, "quota used up", error_code="quota_exceeded")
    )
    sleep = RecordingSleep()
    with pytest.raises(QuotaExceededError) as info:
        await make_core(mock, max_retries=3, sleep=sleep).request(_Call("GET", "/workspace"))
    assert info.value.error_code == "quota_exceeded"
    assert info.value.status_code == status
    assert route.call_count == 1
    assert sleep.delays == []


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(401, text="Unauthorized"),
        httpx.Response(401),
        httpx.Response(401, html="<html><body>401</body></html>"),
        httpx.Response(401, json={"status": "error", "message": "Invalid or expired token"}),
    ],
    ids=["plain-text", "no-body", "html", "json"],
)
async def test_any_401_is_an_authentication_error(response: httpx.Response) -> None:
    mock = router()
    mock.get("/workspace").mock(return_value=response)
    with pytest.raises(AuthenticationError) as info:
        await make_core(mock).request(_Call("GET", "/workspace"))
    assert info.value.status_code == 401


@pytest.mark.parametrize(
    ("status", "response"),
    [
        (404, httpx.Response(404, html="<!DOCTYPE html><html><h1>Page not found</h1></html>")),
        (200, httpx.Response(200, text='{"status": "ok", "data": {"id": 1, "na')),
        (400, httpx.Response(400, text='{"status": "error", "mess')),
        (200, httpx.Response(200, json=[1, 2, 3])),
        (200, httpx.Response(200, json={"chats": []})),
        (200, httpx.Response(200, text="OK")),
    ],
    ids=["html-404", "truncated-2xx", "truncated-400", "json-list", "no-envelope", "plain-2xx"],
)
async def test_a_body_that_is_not_the_envelope_is_unexpected(
    status: int, response: httpx.Response
) -> None:
    mock = router()
    mock.get("/chats").mock(return_value=response)
    with pytest.raises(UnexpectedResponseError) as info:
        await make_core(mock).request(_Call("GET", "/chats"))
    assert info.value.status_code == status
    assert "envelope" in str(info.value)


async def test_a_5xx_with_an_html_body_is_still_a_server_error() -> None:
    mock = router()
    mock.get("/chats").mock(return_value=httpx.Response(500, html="<h1>Bad gateway</h1>"))
    with pytest.raises(ServerError) as info:
        await make_core(mock).request(_Call("GET", "/chats"))
    assert info.value.status_code == 500


async def test_a_429_with_the_non_standard_rate_limit_body_is_a_rate_limit_error() -> None:
    """The rate-limits page shows `{"error": ..., "message": ...}` without `status`."""
    mock = router()
    mock.get("/chats").mock(
        return_value=httpx.Response(
            429, json={"error": "Too Many Requests", "message": "Rate limit exceeded."}
        )
    )
    with pytest.raises(RateLimitError) as info:
        await make_core(mock, max_retries=0).request(_Call("GET", "/chats"))
    assert info.value.message == "Rate limit exceeded."


async def test_errors_carry_status_code_error_code_message_and_errors() -> None:
    mock = router()
    field_errors = [{"fields": ["url"], "msg": "must be a valid http(s) URL"}]
    mock.post("/webhooks").mock(
        return_value=error(
            400, "Validation failed", error_code="validation_error", errors=field_errors
        )
    )
    with pytest.raises(BadRequestError) as info:
        await make_core(mock).request(_Call("POST", "/webhooks", json={"url": "x"}))
    err = info.value
    assert (err.status_code, err.error_code, err.message) == (
        400,
        "validation_error",
        "Validation failed",
    )
    assert err.errors == field_errors
    assert (err.method, err.path) == ("POST", "/webhooks")
    assert "validation_error" in str(err)
    assert "Validation failed" in str(err)


async def test_errors_without_error_code_or_errors_have_none_and_empty() -> None:
    mock = router()
    mock.get("/chats/5").mock(return_value=error(404, "Whatsapp chat_id 5 not found"))
    with pytest.raises(NotFoundError) as info:
        await make_core(mock).request(_Call("GET", "/chats/5"))
    assert info.value.error_code is None
    assert info.value.errors == []


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("connect timeout"),
        httpx.PoolTimeout("pool timeout"),
        httpx.ReadTimeout("read timeout"),
        httpx.WriteTimeout("write timeout"),
        httpx.ReadError("connection reset"),
        httpx.WriteError("broken pipe"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.UnsupportedProtocol("ftp?"),
        httpx.LocalProtocolError("bad header"),
        httpx.ProxyError("proxy said no"),
    ],
    ids=lambda exc: type(exc).__name__,
)
async def test_httpx_exceptions_never_escape(exc: httpx.HTTPError) -> None:
    mock = router()
    mock.get("/chats").mock(side_effect=exc)
    with pytest.raises(TimelinesError) as info:
        await make_core(mock, max_retries=1).request(_Call("GET", "/chats"))
    assert isinstance(info.value, TransportError)
    assert info.value.__cause__ is exc
    assert (info.value.method, info.value.path) == ("GET", "/chats")


# --- the retry loop -------------------------------------------------------------------------

RETRYABLE_FOR_READS = [
    pytest.param(httpx.ConnectError("refused"), id="connect-error"),
    pytest.param(httpx.ConnectTimeout("slow connect"), id="connect-timeout"),
    pytest.param(httpx.ReadTimeout("slow answer"), id="read-timeout"),
    pytest.param(httpx.RemoteProtocolError("dropped"), id="dropped"),
    pytest.param(error(429, "slow down"), id="429"),
    pytest.param(error(502, "bad gateway"), id="502"),
    pytest.param(error(503, "unavailable"), id="503"),
    pytest.param(error(504, "gateway timeout"), id="504"),
]


@pytest.mark.parametrize("failure", RETRYABLE_FOR_READS)
async def test_idempotent_requests_are_retried_up_to_max_retries(
    failure: httpx.Response | Exception,
) -> None:
    mock = router()
    route = mock.get("/chats/1").mock(
        side_effect=failure if isinstance(failure, Exception) else None,
        return_value=failure if isinstance(failure, httpx.Response) else None,
    )
    sleep = RecordingSleep()
    with pytest.raises(TimelinesError):
        await make_core(mock, max_retries=3, sleep=sleep).request(_Call("GET", "/chats/1"))
    assert route.call_count == 4
    assert len(sleep.delays) == 3


async def test_backoff_stays_within_the_configured_base_and_cap() -> None:
    """Without `Retry-After`, retry n waits at most min(cap, base * 2**n) (full jitter)."""
    mock = router()
    mock.get("/chats/1").mock(return_value=httpx.Response(503, text="busy"))
    sleep = RecordingSleep()
    core = make_core(mock, max_retries=8, sleep=sleep, retry_base_delay=0.01, retry_max_delay=0.05)
    with pytest.raises(ServerError):
        await core.request(_Call("GET", "/chats/1"))
    assert len(sleep.delays) == 8
    assert all(0 <= d <= min(0.05, 0.01 * 2**n) for n, d in enumerate(sleep.delays))


@pytest.mark.parametrize("failure", RETRYABLE_FOR_READS)
async def test_idempotent_requests_succeed_after_transient_failures(
    failure: httpx.Response | Exception,
) -> None:
    mock = router()
    route = mock.put("/chats/1/labels").mock(
        side_effect=[failure, failure, ok({"labels": ["vip"]})]
    )
    core = make_core(mock, max_retries=2)
    assert await core.request(_Call("PUT", "/chats/1/labels", json={"labels": ["vip"]})) == {
        "labels": ["vip"]
    }
    assert route.call_count == 3


@pytest.mark.parametrize(
    "response",
    [error(500, "boom"), error(400, "bad"), error(404, "gone"), error(409, "conflict")],
    ids=["500", "400", "404", "409"],
)
async def test_definite_errors_are_not_retried(response: httpx.Response) -> None:
    mock = router()
    route = mock.get("/chats/1").mock(return_value=response)
    with pytest.raises(APIError):
        await make_core(mock, max_retries=3).request(_Call("GET", "/chats/1"))
    assert route.call_count == 1


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(status: int) -> None:
    mock = router()
    route = mock.get("/workspace").mock(
        side_effect=[
            error(status, "wait", headers={"Retry-After": "3"}),
            error(status, "wait", headers={"Retry-After": "1.5"}),
            ok({"plan": "pro"}),
        ]
    )
    sleep = RecordingSleep()
    assert await make_core(mock, sleep=sleep).request(_Call("GET", "/workspace")) == {"plan": "pro"}
    assert sleep.delays == [3.0, 1.5]
    assert route.call_count == 3


async def test_rate_limit_error_exposes_retry_after() -> None:
    mock = router()
    mock.get("/workspace").mock(return_value=error(429, "wait", headers={"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as info:
        await make_core(mock, max_retries=0).request(_Call("GET", "/workspace"))
    assert info.value.retry_after == 7.0


async def test_backoff_grows_and_stays_within_its_ceilings_without_retry_after() -> None:
    mock = router()
    mock.get("/chats/1").mock(return_value=error(503, "down"))
    sleep = RecordingSleep()
    with pytest.raises(ServerError):
        await make_core(mock, max_retries=4, sleep=sleep).request(_Call("GET", "/chats/1"))
    ceilings = [0.5, 1.0, 2.0, 4.0]
    assert len(sleep.delays) == 4
    assert all(0.0 <= d <= c for d, c in zip(sleep.delays, ceilings, strict=True))


@pytest.mark.parametrize("failure", RETRYABLE_FOR_READS)
async def test_max_retries_zero_turns_retries_off(failure: httpx.Response | Exception) -> None:
    mock = router()
    route = mock.get("/chats/1").mock(
        side_effect=failure if isinstance(failure, Exception) else None,
        return_value=failure if isinstance(failure, httpx.Response) else None,
    )
    sleep = RecordingSleep()
    with pytest.raises(TimelinesError):
        await make_core(mock, max_retries=0, sleep=sleep).request(_Call("GET", "/chats/1"))
    assert route.call_count == 1
    assert sleep.delays == []


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ReadTimeout("slow answer"), id="read-timeout"),
        pytest.param(error(502, "bad gateway"), id="502"),
        pytest.param(error(503, "unavailable"), id="503"),
    ],
)
async def test_idempotent_post_like_webhooks_is_retried(
    failure: httpx.Response | Exception,
) -> None:
    """`POST /webhooks` is idempotent on the server: RequestKind.IDEMPOTENT retries it."""
    mock = router()
    route = mock.post("/webhooks").mock(side_effect=[failure, ok({"id": 3})])
    core = make_core(mock)
    data = await core.request(
        _Call("POST", "/webhooks", json={"event_type": "chat:new"}, kind=RequestKind.IDEMPOTENT)
    )
    assert data == {"id": 3}
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("failure", "retried"),
    [
        pytest.param(httpx.ConnectError("refused"), True, id="connect-error"),
        pytest.param(error(429, "slow down"), True, id="429"),
        pytest.param(httpx.ReadTimeout("slow answer"), False, id="read-timeout"),
        pytest.param(error(503, "unavailable"), False, id="503"),
        pytest.param(error(502, "bad gateway"), False, id="502"),
    ],
)
async def test_plain_post_is_retried_only_when_provably_not_taken(
    failure: httpx.Response | Exception, retried: bool
) -> None:
    mock = router()
    route = mock.post("/chats/1/notes").mock(side_effect=[failure, ok({"message_uid": "n1"})])
    core = make_core(mock)
    if retried:
        assert await core.request(_Call("POST", "/chats/1/notes", json={"text": "x"})) == {
            "message_uid": "n1"
        }
        assert route.call_count == 2
    else:
        with pytest.raises(TimelinesError):
            await core.request(_Call("POST", "/chats/1/notes", json={"text": "x"}))
        assert route.call_count == 1


async def test_retries_are_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    mock = router()
    mock.get("/chats/1").mock(side_effect=[error(503, "down"), ok({"id": 1})])
    with caplog.at_level("DEBUG", logger="timelines_async"):
        await make_core(mock).request(_Call("GET", "/chats/1"))
    assert any("retrying GET /chats/1" in r.getMessage() for r in caplog.records)


async def test_a_429_slows_the_request_pacer_and_successes_recover_it() -> None:
    mock = router()
    mock.get("/chats/1").mock(side_effect=[error(429, "slow"), ok({"id": 1}), ok({"id": 1})])
    core = make_core(mock, requests_per_second=1000.0)
    await core.request(_Call("GET", "/chats/1"))
    assert core.pacer.rate == pytest.approx(1000.0 / 2 + 1000.0 / 200)
    await core.request(_Call("GET", "/chats/1"))
    assert core.pacer.rate == pytest.approx(1000.0 / 2 + 2 * 1000.0 / 200)


async def test_a_caller_owned_http_client_is_not_closed() -> None:
    mock = router()
    mock.get("/workspace").mock(return_value=ok({}))
    async with httpx.AsyncClient(transport=httpx.MockTransport(mock.async_handler)) as mine:
        core = HTTPCore(
            token=TOKEN, base_url=BASE, timeout=1.0, max_concurrency=1,
            requests_per_second=None, max_retries=0,
            send_limiter=InProcessSendLimiter(0), http_client=mine,
        )  # fmt: skip
        await core.request(_Call("GET", "/workspace"))
        await core.aclose()
        assert not mine.is_closed
        assert (await mine.get(f"{BASE}/workspace")).status_code == 200  # still the owner's


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000, b"\xff\xfe not utf-8", b"\x00\x01\x02"],
    ids=["deeply-nested", "bad-utf8", "binary"],
)
async def test_an_unreadable_body_never_escapes_as_a_python_error(body: bytes) -> None:
    mock = router()
    mock.get("/chats").mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(UnexpectedResponseError):
        await make_core(mock).request(_Call("GET", "/chats"))


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/messages/a\x01b", {}),
        ("/chats", {"json": {"when": object()}}),
        ("/chats", {"headers": {"X-Note": "café ☕"}}),
    ],
    ids=["control-char-in-url", "body-not-json", "header-not-ascii"],
)
async def test_a_request_httpx_cannot_build_is_an_invalid_request_and_nothing_is_sent(
    path: str, kwargs: dict[str, object]
) -> None:
    mock = router()
    route = mock.route().mock(return_value=ok({}))
    with pytest.raises(InvalidRequestError) as info:
        await make_core(mock).request(_Call("POST", path, **kwargs))  # type: ignore[arg-type]
    assert info.value.field == "request"
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("method", "kind", "retried"),
    [
        ("GET", None, True),
        ("PATCH", None, True),
        ("POST", RequestKind.IDEMPOTENT, True),
        ("POST", None, False),  # a note or an upload: it may have been taken
    ],
)
async def test_a_damaged_2xx_is_retried_only_when_a_repeat_is_harmless(
    method: str, kind: RequestKind | None, retried: bool
) -> None:
    mock = router()
    route = mock.route(method=method, path="/thing").mock(
        side_effect=[httpx.Response(200, text='{"status": "ok", "da'), ok({"id": 1})]
    )
    core = make_core(mock)
    call = _Call(method, "/thing") if kind is None else _Call(method, "/thing", kind=kind)
    if retried:
        assert await core.request(call) == {"id": 1}
        assert route.call_count == 2
    else:
        with pytest.raises(UnexpectedResponseError):
            await core.request(call)
        assert route.call_count == 1


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.UnsupportedProtocol("ftp")],
    ids=lambda exc: type(exc).__name__,
)
async def test_stream_url_maps_httpx_exceptions_like_any_request(exc: httpx.HTTPError) -> None:
    """One mapping for the API and the storage host: a `TransportError`, the cause chained."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    core = make_core(httpx.MockTransport(handler))
    with pytest.raises(TransportError) as info:
        async with core.stream_url("https://storage.example/file?signature=abc"):
            pass
    assert info.value.__cause__ is exc
    assert "signature" not in str(info.value)  # the signed URL is not repeated


async def test_the_concurrency_slot_is_free_while_an_answer_is_decoded() -> None:
    """Decoding a page is not a request in flight: another caller may use the slot meanwhile."""
    mock = router()
    mock.get("/chats").mock(return_value=ok({"has_more_pages": False, "chats": []}))
    core = make_core(mock, max_concurrency=1)
    free_slots: list[int] = []

    def decode(data: object) -> object:
        free_slots.append(core._shared.slots.value)
        return data

    await core.request(_Call("GET", "/chats"), decode=decode)
    assert free_slots == [1]


class _HeldFirst:
    """A transport whose answer to `/first` waits until `release` is set; logs each arrival."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.arrived = anyio.Event()
        self.release = anyio.Event()
        self.on_second: Callable[[], None] = lambda: None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rsplit("/", 1)[1]
        self.events.append(f"sent /{path}")
        if path == "first":
            self.arrived.set()
            await self.release.wait()
        else:
            self.on_second()
        return ok({"path": path})


async def _first_then_second(
    core: HTTPCore, transport: _HeldFirst, first: Callable[[], Coroutine[Any, Any, None]]
) -> None:
    """`/first` in flight on the only slot, `/second` waiting for it; then `/first` answers."""
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(first)
        await transport.arrived.wait()
        tasks.start_soon(core.request, _Call("GET", "/second"))
        for _ in range(50):  # until `/second` waits for the slot
            if core._shared.slots.statistics().tasks_waiting:
                break
            await anyio.lowlevel.checkpoint()
        assert core._shared.slots.statistics().tasks_waiting == 1
        transport.release.set()


async def test_a_freed_slot_sends_the_waiting_request_before_the_answer_is_decoded() -> None:
    """The caller waiting for the slot has its request built: it goes out first, and the
    answer that freed the slot is decoded meanwhile, so the slot does not sit idle."""
    transport = _HeldFirst()
    core = make_core(httpx.MockTransport(transport), max_concurrency=1)

    def decode(data: object) -> object:
        transport.events.append("decoded /first")
        return data

    async def first() -> None:
        await core.request(_Call("GET", "/first"), decode=decode)

    await _first_then_second(core, transport, first)
    assert transport.events == ["sent /first", "sent /second", "decoded /first"]


@pytest.mark.parametrize("kind", [RequestKind.SEND, RequestKind.UNSAFE])
async def test_a_post_does_not_hand_its_slot_on_so_no_cancellation_drops_its_answer(
    kind: RequestKind,
) -> None:
    """Only reads let a waiting request go first: a cancellation there would drop the
    answer in hand, which a POST (a send's message_uid) cannot ask for again."""
    transport = _HeldFirst()
    core = make_core(httpx.MockTransport(transport), max_concurrency=1)
    answers: list[object] = []
    scope = anyio.CancelScope()
    transport.on_second = scope.cancel  # runs during the hand-over

    async def first() -> None:
        with scope:
            answers.append(await core.request(_Call("POST", "/first", kind=kind)))
            await anyio.lowlevel.checkpoint()  # the cancellation lands here

    await _first_then_second(core, transport, first)
    assert answers == [{"path": "first"}]
    assert scope.cancel_called
