"""The request pipeline: wait -> send -> classify -> retry -> decode.

Resources describe an API call as one `_Call` value; `HTTPCore.request` runs it:
it waits for a concurrency slot, the request pacer and (a send) the send
limiter, sends, translates httpx exceptions (in `_httpx_errors`, and nowhere
else), checks the JSON envelope, maps errors to the tree in `_exceptions`, and
retries what `_retry.should_retry` allows. A send whose outcome is unknown ends
in `_OutcomeUnknown`, which `messages` turns into the public `SendOutcomeUnknown`.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
)
from contextlib import asynccontextmanager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

import anyio
import anyio.lowlevel
import attrs
import httpx
import sniffio

from ._answers import damaged, decode_response
from ._auth import BearerAuth
from ._exceptions import (
    APIError,
    ConfigurationError,
    InvalidRequestError,
    ServerError,
    TransportError,
)
from ._limits import RequestPacer, RequestPacing, SendLimiter
from ._logs import LOGGER_NAME
from ._redact import fetching_signed_url
from ._retry import (
    DEFAULT_RETRY_BASE_DELAY,
    DEFAULT_RETRY_MAX_DELAY,
    Failure,
    RequestKind,
    retry_delay,
    should_retry,
    throttled,
)
from ._transport import USER_AGENT, build_http_client

__all__ = ["HTTPCore"]

logger = logging.getLogger(LOGGER_NAME)

#: Failures before the request was written: the server cannot have acted on it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Failures no retry can mend (a wrong URL, a malformed request).
_NOT_RETRYABLE = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)

#: A request body: bytes, text, or an async byte stream (a streamed multipart upload).
Content = bytes | str | AsyncIterable[bytes]


def _kind_of(call: _Call) -> RequestKind:
    """A POST may create something on each repeat; every other method is idempotent."""
    return RequestKind.UNSAFE if call.method == "POST" else RequestKind.IDEMPOTENT


@attrs.frozen
class _Call:
    """One API call as the resources describe it; `HTTPCore.request` runs it."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    json: object = None
    content: Content | None = None
    headers: Mapping[str, str] | None = None
    kind: RequestKind = attrs.field(default=attrs.Factory(_kind_of, takes_self=True))


class _OutcomeUnknown(Exception):
    """A send that may or may not have been taken; the failure is chained as `__cause__`."""

    def __init__(self, reason: str, attempted_at: datetime) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempted_at = attempted_at


class _AttemptFailed(Exception):
    """An httpx failure, judged by whether the request can have reached the server."""

    def __init__(self, failure: Failure, cause: httpx.HTTPError) -> None:
        super().__init__(str(cause))
        self.failure = failure
        self.cause = cause


@attrs.define(eq=False)
class _Shared:
    """What a client and its `with_options` copies share: the pool, the slots, their state."""

    client: httpx.AsyncClient
    owns_client: bool
    slots: anyio.Semaphore
    send_queue: anyio.Lock = attrs.Factory(anyio.Lock)
    closed: bool = False
    #: The event loop that first used the client (its connections belong to it).
    loop: asyncio.AbstractEventLoop | None = None


@contextmanager
def _httpx_errors(method: str, path: str) -> Iterator[None]:
    """Translate httpx's exceptions, in the form of httpx's own `map_httpcore_exceptions`.

    What no retry can mend becomes `TransportError`; every other failure becomes
    `_AttemptFailed`, saying whether the request can have reached the server.
    """
    try:
        yield
    except _NOT_RETRYABLE as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}", method=method, path=path) from exc
    except _NOT_SENT as exc:
        logger.debug("%s %s: not sent (%s)", method, path, type(exc).__name__)
        raise _AttemptFailed(Failure.NOT_SENT, exc) from exc
    except httpx.HTTPError as exc:
        logger.debug("%s %s: failed (%s)", method, path, type(exc).__name__)
        raise _AttemptFailed(Failure.MAYBE_SENT, exc) from exc


def _as_is(data: Any) -> Any:
    return data


def _retry_allowed(
    call: _Call, failed: _AttemptFailed | APIError, *, attempt: int, max_retries: int
) -> bool:
    if isinstance(failed, APIError) and not damaged(failed):
        return should_retry(
            call.kind,
            attempt=attempt,
            max_retries=max_retries,
            status=failed.status_code,
            error_code=failed.error_code,
        )
    # A damaged 2xx is judged like a connection dropped mid-answer.
    failure = failed.failure if isinstance(failed, _AttemptFailed) else Failure.MAYBE_SENT
    return should_retry(call.kind, attempt=attempt, max_retries=max_retries, failure=failure)


def _final_error(
    call: _Call, failed: _AttemptFailed | APIError, attempted_at: datetime
) -> Exception:
    """What the caller gets once no retry is left or allowed; the cause is chained."""
    send = call.kind is RequestKind.SEND
    error: Exception
    if isinstance(failed, _AttemptFailed):
        cause: BaseException = failed.cause
        name = type(cause).__name__
        if send and failed.failure is Failure.MAYBE_SENT:
            error = _OutcomeUnknown(f"{name} after the request was sent", attempted_at)
        else:
            unsent = " (nothing was sent)" if send else ""
            error = TransportError(f"{name}: {cause}{unsent}", method=call.method, path=call.path)
    elif send and (isinstance(failed, ServerError) or damaged(failed)):
        cause = failed
        error = _OutcomeUnknown(
            f"the server answered {failed.status_code} ({failed.message})", attempted_at
        )
    else:
        return failed
    error.__cause__ = cause
    return error


class HTTPCore:
    """Owns the httpx client (unless given one), the pacing state and the retry loop."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        timeout: float,
        max_concurrency: int,
        requests_per_second: float | None,
        max_retries: int,
        send_limiter: SendLimiter,
        http_client: httpx.AsyncClient | None,
        transport: Literal["httpx", "aiohttp"] = "httpx",
        retry_base_delay: float = DEFAULT_RETRY_BASE_DELAY,
        retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY,
        request_pacer: RequestPacing | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.timeout = timeout
        self.retry_base_delay = retry_base_delay
        self.retry_max_delay = retry_max_delay
        self.send_limiter = send_limiter
        self.max_concurrency = max_concurrency
        # 0 turns pacing off, as None does (and as the command line's 0 does).
        self.pacer = request_pacer or RequestPacer(requests_per_second or None, sleep=sleep)
        self._auth = BearerAuth(token)
        self._timeout = httpx.Timeout(timeout)
        self._shared = _Shared(
            client=http_client
            or build_http_client(transport, timeout=self._timeout, max_connections=max_concurrency),
            owns_client=http_client is None,
            # fast_acquire: a free slot is taken without a trip through the event loop.
            slots=anyio.Semaphore(max_concurrency, fast_acquire=True),
        )
        self._is_copy = False
        self._sleep = sleep
        self._rng = rng

    def __repr__(self) -> str:
        return f"HTTPCore(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        """Close the pool (a `with_options` copy leaves it to the client it was made from)."""
        if self._is_copy:
            return
        self._shared.closed = True
        if self._shared.owns_client:
            await self._shared.client.aclose()

    def with_options(self, *, timeout: float, max_retries: int) -> HTTPCore:
        """A copy with another timeout and retry count, sharing the pool and the limits."""
        clone = copy.copy(self)
        clone.timeout, clone._timeout = timeout, httpx.Timeout(timeout)
        clone.max_retries = max_retries
        clone._is_copy = True
        return clone

    async def request(self, call: _Call, *, decode: Callable[[Any], Any] = _as_is) -> Any:
        """Run one API call with retries; return the envelope's `data`, passed through `decode`.

        `decode` raising `UnexpectedResponseError` makes the answer damaged, like
        a truncated body. A send whose outcome is unknown raises `_OutcomeUnknown`.
        """
        attempt = 0
        while True:
            request = self._build(call)
            try:
                # The slot is held for the exchange only: decoding the answer
                # (a page of 50 chats, say) would keep another caller waiting.
                async with self._turn(call.kind):
                    attempted_at = datetime.now(UTC)
                    response, body = await self._exchange(call, request)
                # No slot free just after ours was released: it went straight to a
                # caller waiting with its request built. A read lets that request go
                # out before decoding its own answer; a POST does not, since a
                # cancellation here would drop an answer it cannot ask for again.
                if self._shared.slots.value == 0 and call.kind is RequestKind.IDEMPOTENT:
                    await anyio.lowlevel.checkpoint()
                return self._answer(call, response, body, decode)
            except (_AttemptFailed, APIError) as exc:
                failed = exc
            if not _retry_allowed(call, failed, attempt=attempt, max_retries=self.max_retries):
                raise _final_error(call, failed, attempted_at)
            delay = retry_delay(
                attempt,
                retry_after=failed.retry_after if isinstance(failed, APIError) else None,
                rate_limited=isinstance(failed, APIError)
                and throttled(failed.status_code, failed.error_code),
                retry_base_delay=self.retry_base_delay,
                retry_max_delay=self.retry_max_delay,
                rng=self._rng,
            )
            logger.debug(
                "retrying %s %s in %.2f s (retry %d)", call.method, call.path, delay, attempt + 1
            )
            await self._sleep(delay)
            attempt += 1

    @asynccontextmanager
    async def stream_url(self, url: str) -> AsyncIterator[httpx.Response]:
        """GET a URL outside the API (a file's temporary download URL) as a stream.

        The token is not sent: the URL is signed and may point to another host.
        """
        self.check_usable()
        path = "(download URL)"
        async with self._shared.slots:
            try:
                with _httpx_errors("GET", path), fetching_signed_url(url):
                    async with self._shared.client.stream(
                        "GET", url, timeout=self._timeout
                    ) as response:
                        yield response
            except _AttemptFailed as failed:
                raise _final_error(_Call("GET", path), failed, datetime.now(UTC)) from failed.cause

    def check_usable(self) -> None:
        """Refuse a closed client, an event loop other than asyncio's, or a second loop.

        The send limiter and the pool's connections belong to the asyncio loop
        that first used them: under trio, or in a later `asyncio.run`, they would
        fail deep inside with "no running event loop" or "Event loop is closed".
        """
        shared = self._shared
        if shared.closed:
            raise ConfigurationError("the client is closed: create a new TimelinesClient")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            library = sniffio.current_async_library()
            raise ConfigurationError(
                f"timelines-async runs on asyncio, not {library}: use asyncio.run(), "
                "or anyio.run() with its asyncio backend"
            ) from None
        if shared.loop is None:
            shared.loop = loop
        elif loop is not shared.loop:
            which = "has been closed" if shared.loop.is_closed() else "is another one"
            raise ConfigurationError(
                f"this client belongs to an event loop that {which} (a second asyncio.run?): "
                "create the TimelinesClient inside the asyncio.run that uses it"
            )

    def _build(self, call: _Call) -> httpx.Request:
        self.check_usable()
        headers = call.headers
        if not self._shared.owns_client:  # a client of the caller's own: the User-Agent each time
            headers = {"User-Agent": USER_AGENT, **(headers or {})}
        try:
            # The URL parsed once, query included: httpx's `params=` parses it
            # twice, and merging per-request headers costs as much again.
            query = "?" + urlencode(call.params) if call.params else ""
            return self._shared.client.build_request(
                call.method,
                httpx.URL(self.base_url + call.path + query),
                json=call.json,
                content=call.content,
                headers=headers,
                timeout=self._timeout,
            )
        except (httpx.InvalidURL, httpx.HTTPError, UnicodeEncodeError, TypeError) as exc:
            # The resources validate their input; this is the last line for whatever
            # slipped through (a URL httpx refuses, an unencodable header, a body
            # that is not JSON): nothing has been sent.
            raise InvalidRequestError(
                "request",
                f"{call.method} {call.path} cannot be built: {type(exc).__name__}: {exc}",
            ) from exc

    @asynccontextmanager
    async def _turn(self, kind: RequestKind) -> AsyncIterator[None]:
        """Wait for a concurrency slot, the request pacer and, for a send, the send limiter.

        The send slot comes last, so that sends reach the wire `send_interval`
        apart whatever else waited before them. Sends queue before taking a
        concurrency slot: at most one holds a slot while the limiter makes it
        wait, and other requests go on around it.
        """
        send, slots = kind is RequestKind.SEND, self._shared.slots
        async with self._shared.send_queue if send else nullcontext():
            await slots.acquire()
            try:
                await self.pacer.wait()
                if send:
                    await self.send_limiter.acquire()
            except BaseException:
                slots.release()
                raise
        try:
            yield
        finally:
            slots.release()

    async def _exchange(self, call: _Call, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        """One request and its whole answer read. Raises `_AttemptFailed`."""
        started = time.perf_counter()
        with _httpx_errors(call.method, call.path):
            response = await self._shared.client.send(request, auth=self._auth)
            try:
                body = await response.aread()
            finally:
                await response.aclose()
        elapsed_ms = (time.perf_counter() - started) * 1e3
        logger.debug(
            "%s %s -> %d (%.1f ms)", call.method, call.path, response.status_code, elapsed_ms
        )
        return response, body

    def _answer(
        self, call: _Call, response: httpx.Response, body: bytes, decode: Callable[[Any], Any]
    ) -> Any:
        """The answer's `data`, passed through `decode`. Raises `APIError` for an error answer."""
        status = response.status_code
        try:
            data = decode_response(
                status, body, response.headers, method=call.method, path=call.path
            )
        except APIError as error:
            self._auth.redact_error(error)
            self._adapt_pace(throttled=throttled(status, error.error_code))
            raise
        self._adapt_pace(throttled=False)
        return decode(data)

    def _adapt_pace(self, *, throttled: bool) -> None:
        """Slow the request pacer down on a 429; let it recover on any other answer."""
        if throttled:
            self.pacer.on_throttled()
        else:
            self.pacer.on_success()
