"""The one place that calls httpx: pace -> send -> classify -> retry -> decode.

`HTTPCore.request` runs every API call: it waits for a concurrency slot and the
request pacer, sends, translates httpx exceptions (here and nowhere else),
checks the JSON envelope, maps errors to the tree in `_exceptions`, and retries
what `_retry.should_retry` allows. `HTTPCore.send` does the same for message
sends, which first take a slot from the send limiter and turn every failure
whose outcome is unknown into `SendOutcomeUnknown`.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Mapping,
)
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx

from ._converter import structure
from ._exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    SendOutcomeUnknown,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from ._limits import RequestPacer, SendLimiter
from ._retry import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    Failure,
    RequestKind,
    parse_retry_after,
    retry_delay,
    should_retry,
)
from .models import SentMessage

__all__ = ["HTTPCore", "error_from_response"]

logger = logging.getLogger("timelines_async")

_STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
}
#: Statuses whose meaning does not depend on the body (a proxy's HTML page on a
#: 502 is still a server error; a bare "Unauthorized" is still a 401).
_STATUS_SPEAKS_FOR_ITSELF = frozenset({401, 413, 429})
#: Failures before the request was written: the server cannot have acted on it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Failures no retry can mend (a wrong URL, a malformed request).
_NOT_RETRYABLE = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)

_MISSING = object()

#: A request body: bytes, text, or an async byte stream (a streamed multipart upload).
Content = bytes | str | AsyncIterable[bytes]


class _AttemptFailed(Exception):
    def __init__(self, failure: Failure, cause: httpx.HTTPError) -> None:
        super().__init__(str(cause))
        self.failure = failure
        self.cause = cause


class _BearerAuth(httpx.Auth):
    """The `Authorization: Bearer` header, added as the request goes out.

    Kept in an object whose `repr` hides the token, never in a dict or a local
    variable of the pipeline: error trackers record frames' locals.
    """

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "_BearerAuth(<hidden>)"

    def redact(self, value: Any) -> Any:
        return _scrub(value, self._token)

    def appears_in(self, text: str) -> bool:
        return self._token in text

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer " + self._token
        yield request


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", "replace").strip()
    return text + ("..." if len(body) > limit else "") if text else "(empty body)"


def _decode_json(body: bytes) -> object:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or absurdly nested
        return _MISSING


def error_from_response(
    status: int, body: bytes, headers: Mapping[str, str], *, method: str, path: str
) -> APIError:
    """The error for an answer that is an error: a 4xx/5xx, or a 2xx whose envelope says `error`."""
    payload = _decode_json(body)
    envelope = payload if isinstance(payload, dict) else None
    context: dict[str, Any] = {
        "status_code": status,
        "method": method,
        "path": path,
        "retry_after": parse_retry_after(headers.get("retry-after")),
    }
    if envelope is not None and ("message" in envelope or "status" in envelope):
        message = str(envelope.get("message") or envelope.get("error") or "no message")
        error_code = envelope.get("error_code")
        context["error_code"] = error_code if isinstance(error_code, str) else None
        errors = envelope.get("errors")
        if isinstance(errors, list):
            context["errors"] = [item for item in errors if isinstance(item, dict)]
    else:
        message = _snippet(body)
        if status < 500 and status not in _STATUS_SPEAKS_FOR_ITSELF:
            return UnexpectedResponseError(
                f"the answer is not the API's JSON envelope: {message}", **context
            )
    if context.get("error_code") == "quota_exceeded":
        return QuotaExceededError(message, **context)
    if status >= 500:
        return ServerError(message, **context)
    return _STATUS_ERRORS.get(status, APIError)(message, **context)


def _damaged(error: APIError) -> bool:
    """A 2xx whose body is not the envelope (cut short, a proxy's page): damaged on the way.

    The server did act on the request, so it is no definite refusal: a read may
    ask again, and a send's outcome is unknown.
    """
    return isinstance(error, UnexpectedResponseError) and 200 <= error.status_code < 300


def _scrub(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, "<hidden>")
    if isinstance(value, list):
        return [_scrub(item, secret) for item in value]
    if isinstance(value, dict):
        return {_scrub(k, secret): _scrub(v, secret) for k, v in value.items()}
    return value


def _redact(error: APIError, auth: _BearerAuth) -> None:
    """Blank the token out of an error built from the server's words.

    The API never echoes it, but a proxy's debug page or a misconfigured gateway
    might; the token must not reach an exception message, a log or a traceback.
    """
    if not auth.appears_in(repr((error.args, error.message, error.errors))):
        return
    error.args = tuple(auth.redact(arg) for arg in error.args)
    error.message = auth.redact(error.message)
    error.errors = auth.redact(error.errors)


def decode_response(
    status: int, body: bytes, headers: Mapping[str, str], *, method: str, path: str
) -> Any:
    """The envelope's `data` for a successful answer; raises the mapped `APIError` otherwise.

    A 2xx with an empty body (some DELETEs) or no `data` gives `None`.
    """
    payload = _decode_json(body)
    is_error_envelope = isinstance(payload, dict) and payload.get("status") == "error"
    if status >= 300 or is_error_envelope:
        raise error_from_response(status, body, headers, method=method, path=path)
    if payload is None:
        return None
    if not isinstance(payload, dict) or payload.get("status") != "ok":
        raise UnexpectedResponseError(
            f"the answer is not the API's JSON envelope: {_snippet(body)}",
            status_code=status,
            method=method,
            path=path,
        )
    return payload.get("data")


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
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self.send_limiter = send_limiter
        self.max_concurrency = max_concurrency
        self.pacer = RequestPacer(requests_per_second, sleep=sleep)
        self._auth = _BearerAuth(token)
        self._timeout = httpx.Timeout(timeout)
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(
            timeout=self._timeout,
            limits=httpx.Limits(
                max_connections=max_concurrency, max_keepalive_connections=max_concurrency
            ),
        )
        # fast_acquire: a free slot is taken without a trip through the event loop.
        self._slots = anyio.Semaphore(max_concurrency, fast_acquire=True)
        self._sleep = sleep
        self._rng = rng
        self._closed = False

    def __repr__(self) -> str:
        return f"HTTPCore(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_client:
            await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        kind: RequestKind | None = None,
        params: Mapping[str, str] | None = None,
        json: object = None,
        content: Content | None = None,
        files: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Run one API call with retries; return the envelope's `data`."""
        if kind is None:
            kind = RequestKind.UNSAFE if method == "POST" else RequestKind.IDEMPOTENT
        attempt = 0
        while True:
            try:
                return await self._attempt(
                    method, path, params=params, json=json, content=content,
                    files=files, data=data, headers=headers,
                )  # fmt: skip
            except _AttemptFailed as failed:
                if not should_retry(
                    kind, attempt=attempt, max_retries=self.max_retries, failure=failed.failure
                ):
                    raise TransportError(
                        f"{type(failed.cause).__name__}: {failed.cause}", method=method, path=path
                    ) from failed.cause
                delay = self._delay(attempt, retry_after=None)
            except APIError as error:
                if _damaged(error):  # judged like a connection dropped mid-answer
                    retry = should_retry(
                        kind, attempt=attempt, max_retries=self.max_retries,
                        failure=Failure.MAYBE_SENT,
                    )  # fmt: skip
                else:
                    retry = should_retry(
                        kind, attempt=attempt, max_retries=self.max_retries,
                        status=error.status_code, error_code=error.error_code,
                    )  # fmt: skip
                if not retry:
                    raise
                delay = self._delay(attempt, retry_after=error.retry_after)
            logger.debug("retrying %s %s in %.2f s (retry %d)", method, path, delay, attempt + 1)
            await self._sleep(delay)
            attempt += 1

    async def send(
        self,
        path: str,
        *,
        target: Mapping[str, str | int],
        text: str | None,
        file_uid: str | None = None,
        attachment: bool = False,
        json: object = None,
        files: Any = None,
        data: Mapping[str, str] | None = None,
        content: Content | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SentMessage:
        """Send a message: spaced by the send limiter, never retried once the outcome is unknown."""
        attempt = 0
        while True:
            await self.send_limiter.acquire()
            attempted_at = datetime.now(UTC)
            try:
                result = await self._attempt(
                    "POST", path, json=json, files=files, data=data, content=content,
                    headers=headers,
                )  # fmt: skip
                return structure(result, SentMessage, what=f"POST {path}")
            except _AttemptFailed as failed:
                if should_retry(
                    RequestKind.SEND,
                    attempt=attempt,
                    max_retries=self.max_retries,
                    failure=failed.failure,
                ):
                    delay = self._delay(attempt, retry_after=None)
                elif failed.failure is Failure.MAYBE_SENT:
                    raise SendOutcomeUnknown(
                        target=target, text=text, file_uid=file_uid, attachment=attachment,
                        attempted_at=attempted_at,
                        reason=f"{type(failed.cause).__name__} after the request was sent",
                    ) from failed.cause  # fmt: skip
                else:
                    raise TransportError(
                        f"{type(failed.cause).__name__}: {failed.cause} (nothing was sent)",
                        method="POST",
                        path=path,
                    ) from failed.cause
            except APIError as error:
                if should_retry(
                    RequestKind.SEND,
                    attempt=attempt,
                    max_retries=self.max_retries,
                    status=error.status_code,
                    error_code=error.error_code,
                ):
                    delay = self._delay(attempt, retry_after=error.retry_after)
                elif isinstance(error, ServerError) or _damaged(error):
                    raise SendOutcomeUnknown(
                        target=target, text=text, file_uid=file_uid, attachment=attachment,
                        attempted_at=attempted_at,
                        reason=f"the server answered {error.status_code} ({error.message})",
                    ) from error  # fmt: skip
                else:
                    raise
            logger.debug("retrying send to %s in %.2f s (retry %d)", path, delay, attempt + 1)
            await self._sleep(delay)
            attempt += 1

    def _delay(self, attempt: int, *, retry_after: float | None) -> float:
        """The wait before the next attempt: the server's `Retry-After`, else backoff."""
        return retry_delay(
            attempt,
            retry_after=retry_after,
            base=self._backoff_base,
            cap=self._backoff_cap,
            rng=self._rng,
        )

    @asynccontextmanager
    async def stream_url(self, url: str) -> AsyncIterator[httpx.Response]:
        """GET a URL outside the API (a file's temporary download URL) as a stream.

        The token is not sent: the URL is signed and may point to another host.
        """
        if self._closed:
            raise ConfigurationError("the client is closed: create a new TimelinesClient")
        async with self._slots:
            try:
                async with self._client.stream("GET", url, timeout=self._timeout) as response:
                    yield response
            except _NOT_SENT + _NOT_RETRYABLE as exc:
                raise TransportError(str(exc), method="GET", path="(download URL)") from exc
            except httpx.HTTPError as exc:
                raise TransportError(
                    f"{type(exc).__name__}: {exc}", method="GET", path="(download URL)"
                ) from exc

    async def _attempt(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
        content: Content | None = None,
        files: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One attempt: slot, pace, send, read, decode. Raises `_AttemptFailed` or `APIError`."""
        if self._closed:
            raise ConfigurationError("the client is closed: create a new TimelinesClient")
        try:
            request = self._client.build_request(
                method, self.base_url + path, params=params, json=json, content=content,
                files=files, data=data, headers=headers, timeout=self._timeout,
            )  # fmt: skip
        except (httpx.InvalidURL, httpx.HTTPError, UnicodeEncodeError, TypeError) as exc:
            # The resources validate their input; this is the last line for whatever
            # slipped through (a URL httpx refuses, an unencodable header, a body
            # that is not JSON): nothing has been sent.
            raise InvalidRequestError(
                "request", f"{method} {path} cannot be built: {type(exc).__name__}: {exc}"
            ) from exc
        async with self._slots:
            await self.pacer.wait()
            started = time.perf_counter()
            try:
                response = await self._client.send(request, auth=self._auth)
                try:
                    body = await response.aread()
                finally:
                    await response.aclose()
            except _NOT_RETRYABLE as exc:
                raise TransportError(
                    f"{type(exc).__name__}: {exc}", method=method, path=path
                ) from exc
            except _NOT_SENT as exc:
                logger.debug("%s %s: not sent (%s)", method, path, type(exc).__name__)
                raise _AttemptFailed(Failure.NOT_SENT, exc) from exc
            except httpx.HTTPError as exc:
                logger.debug("%s %s: failed (%s)", method, path, type(exc).__name__)
                raise _AttemptFailed(Failure.MAYBE_SENT, exc) from exc
        status = response.status_code
        logger.debug(
            "%s %s -> %d (%.1f ms)", method, path, status, (time.perf_counter() - started) * 1e3
        )
        if status == 429:
            self.pacer.on_throttled()
        else:
            self.pacer.on_success()
        try:
            return decode_response(status, body, response.headers, method=method, path=path)
        except APIError as error:
            _redact(error, self._auth)
            raise
