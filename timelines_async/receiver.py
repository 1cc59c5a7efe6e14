"""Receive TimelinesAI webhook deliveries: an ASGI app, and a handler for aiohttp.

```python
from timelines_async.events import MessageEvent
from timelines_async.receiver import WebhookReceiver

receiver = WebhookReceiver(secret=os.environ["TIMELINES_WEBHOOK_SECRET"])

@receiver.on("message:received:new")
async def on_message(event: MessageEvent) -> None:
    ...

app.mount("/timelines/webhook", receiver)   # deliveries go to /timelines/webhook/<secret>
```

TimelinesAI signs nothing and sends no header of its own, so the subscription
URL carries a secret; a wrong one is answered 404. The API waits 5 s for an
answer and then delivers again, so a delivery is answered 200 before any handler
runs, the handlers run in the background, and a repeat is dropped by the
de-duplicator. De-duplication is at most once: an event whose handler failed is
not handled again when it is delivered again, unless `forget_failed=True`.

The secret sits in the request path, which every access log prints: put
`RedactSecretFilter(secret)` on the `uvicorn.access` or `aiohttp.access` logger.
Only the core dependencies are needed; aiohttp is imported when its handler is used.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar, overload

import attrs

from ._exceptions import ConfigurationError, InvalidEventError, TimelinesError
from .events import Deduplicator, Event, parse_event

if TYPE_CHECKING:
    from aiohttp import web

__all__ = [
    "AsyncDeduplicator",
    "DeduplicatorUnavailable",
    "Handler",
    "ReceiverStats",
    "RedactSecretFilter",
    "WebhookReceiver",
]

logger = logging.getLogger("timelines_async.receiver")

Handler = Callable[[Any], Awaitable[None]]
_H = TypeVar("_H", bound=Handler)
#: An ASGI receive/send pair, typed loosely: the receiver depends on no framework.
_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class DeduplicatorUnavailable(TimelinesError):
    """A shared de-duplicator could not answer and was told to reject (answered 503)."""


class AsyncDeduplicator(Protocol):
    """A de-duplicator shared between processes (`timelines_async.redis.RedisDeduplicator`)."""

    async def is_duplicate(self, event: Event) -> bool: ...

    async def forget(self, event: Event) -> None: ...


@attrs.define
class ReceiverStats:
    """What the receiver has done: deliveries taken, repeats dropped, handler runs."""

    received: int = 0
    duplicates: int = 0
    handled: int = 0
    failed: int = 0


class WebhookReceiver:
    """TimelinesAI webhook deliveries to `POST /<secret>`, handed to the handlers in the background.

    An ASGI app (mount it where deliveries arrive) and, through
    `aiohttp_handler`, an aiohttp handler.

    Args:
        secret: The last path segment the subscription URL ends with.
        dedup: A `Deduplicator` (in-process, the default) or a shared one such as
            `RedisDeduplicator`, for several processes or replicas.
        max_concurrency: Handler runs at once; further deliveries wait their
            turn.
        max_body_bytes: Bigger bodies are answered 413.
        forget_failed: When a handler raises, forget the event, so that a later
            delivery of it is handled again (by default it is dropped as a
            repeat).

    Raises:
        ConfigurationError: An empty secret or one holding `/`, or an option
            out of range.
    """

    def __init__(
        self,
        secret: str,
        *,
        dedup: Deduplicator | AsyncDeduplicator | None = None,
        max_concurrency: int = 16,
        max_body_bytes: int = 1_048_576,
        forget_failed: bool = False,
    ) -> None:
        if not isinstance(secret, str) or not secret or "/" in secret:
            raise ConfigurationError("the webhook secret must be a non-empty string without '/'")
        if not _positive_int(max_concurrency) or not _positive_int(max_body_bytes):
            raise ConfigurationError("max_concurrency and max_body_bytes must be integers >= 1")
        self._secret = secret.encode()
        self.dedup = dedup if dedup is not None else Deduplicator()
        self.max_concurrency = max_concurrency
        self.max_body_bytes = max_body_bytes
        self.forget_failed = forget_failed
        self.stats = ReceiverStats()
        self._routes: list[tuple[frozenset[str], tuple[type[Any], ...], Handler]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None

    def __repr__(self) -> str:
        return f"WebhookReceiver(secret=<hidden>, handlers={len(self._routes)}, {self.stats})"

    # -- registering handlers ----------------------------------------------------------

    @overload
    def on(self, handler: _H, /) -> _H: ...
    @overload
    def on(self, *kinds: str | type[Event]) -> Callable[[_H], _H]: ...
    def on(self, *kinds: Any) -> Any:
        """Register an async handler for event type strings and/or Event classes.

        `@receiver.on("message:received:new", ChatEvent)`; `@receiver.on()` or
        `@receiver.on` without arguments: every event. A delivery runs each matching
        handler once, in the order they were registered.

        Args:
            *kinds: Event type strings and `Event` classes; none for every event.

        Returns:
            The handler itself (used bare), or a decorator that registers one.

        Raises:
            ConfigurationError: A kind that is neither a non-blank string nor a class.
        """
        if len(kinds) == 1 and callable(kinds[0]) and not isinstance(kinds[0], type):
            return self.on()(kinds[0])
        types = frozenset(k for k in kinds if isinstance(k, str))
        classes = tuple(k for k in kinds if isinstance(k, type))
        if any(
            not isinstance(k, str | type) or (isinstance(k, str) and not k.strip()) for k in kinds
        ):
            raise ConfigurationError("on() takes event type strings and Event classes")

        def register(handler: _H) -> _H:
            if not _is_async(handler):
                raise ConfigurationError(f"{handler!r} must be an async function")
            self._routes.append((types, classes, handler))
            return handler

        return register

    def handlers_for(self, event: Event) -> list[Handler]:
        """The handlers a delivery of `event` runs, in registration order.

        Args:
            event: A parsed event.

        Returns:
            The matching handlers.
        """
        event_type = str(event.event_type)
        return [
            handler
            for types, classes, handler in self._routes
            if (not types and not classes) or event_type in types or isinstance(event, classes)
        ]

    # -- answering a delivery ----------------------------------------------------------

    async def answer(
        self, method: str, secret: str, read_body: Callable[[int], Awaitable[bytes | None]]
    ) -> tuple[int, str]:
        """The status and text for one request; schedules the handlers of a new event.

        `read_body(limit)` returns the body, or `None` once it is longer than `limit`.
        """
        if not hmac.compare_digest(secret.encode(), self._secret):
            return 404, "Not Found"
        if method != "POST":
            return 405, "Method Not Allowed"
        body = await read_body(self.max_body_bytes)
        if body is None:
            return 413, f"the body is over {self.max_body_bytes} bytes"
        try:
            event = parse_event(body)
        except InvalidEventError as exc:
            return 400, str(exc)
        try:
            duplicate = await self._is_duplicate(event)
        except DeduplicatorUnavailable as exc:
            return 503, str(exc)  # the API delivers again later
        if duplicate:
            self.stats.duplicates += 1
            return 200, "OK (a repeat)"
        self.stats.received += 1
        task = asyncio.get_running_loop().create_task(self._run_handlers(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return 200, "OK"

    async def _is_duplicate(self, event: Event) -> bool:
        if isinstance(self.dedup, Deduplicator):
            return self.dedup.is_duplicate(event)
        return await self.dedup.is_duplicate(event)

    async def _forget(self, event: Event) -> None:
        if isinstance(self.dedup, Deduplicator):
            self.dedup.forget(event)
        else:
            await self.dedup.forget(event)

    async def _run_handlers(self, event: Event) -> None:
        if self._slots is None:  # created on the running loop, never at import
            self._slots = asyncio.Semaphore(self.max_concurrency)
        async with self._slots:
            failed = False
            for handler in self.handlers_for(event):
                try:
                    await handler(event)
                except Exception:  # one failed handler must not stop the others
                    failed = True
                    self.stats.failed += 1
                    logger.exception(
                        "webhook handler %s failed on a %s event",
                        getattr(handler, "__qualname__", handler),
                        event.event_type,
                    )
                else:
                    self.stats.handled += 1
            if failed and self.forget_failed:
                await self._forget(event)

    # -- shutting down -----------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until every handler in flight (and queued) has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.drain()

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """The ASGI app: the path below where it is mounted is `/<secret>`."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = dict(scope.get("headers") or [])

        async def read_body(limit: int) -> bytes | None:
            declared = headers.get(b"content-length", b"")
            if declared.isdigit() and int(declared) > limit:
                return None
            return await _read_asgi_body(receive, limit)

        secret = _route_path(scope).removeprefix("/")
        status, text = await self.answer(scope["method"], secret, read_body)
        extra = [(b"allow", b"POST")] if status == 405 else []
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": text.encode()})

    async def _lifespan(self, receive: _Receive, send: _Send) -> None:
        """Served on its own: start at once, and drain the handlers on shutdown."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.drain()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- aiohttp -------------------------------------------------------------------------

    async def aiohttp_handler(self, request: web.Request) -> web.Response:
        """An aiohttp handler for a route whose path ends in `{secret}`.

        `app.router.add_route("*", "/timelines/webhook/{secret}", receiver.aiohttp_handler)`
        """
        from aiohttp import web

        async def read_body(limit: int) -> bytes | None:
            if request.content_length is not None and request.content_length > limit:
                return None
            body = await request.content.read(limit + 1)
            return None if len(body) > limit else body

        secret = request.match_info.get("secret", "")
        status, text = await self.answer(request.method, secret, read_body)
        headers = {"Allow": "POST"} if status == 405 else None
        return web.Response(status=status, text=text, headers=headers)


class RedactSecretFilter(logging.Filter):
    """Masks `secret` in every log record it sees; always lets the record through.

    Put it on the loggers that print request paths:
    `logging.getLogger("uvicorn.access").addFilter(RedactSecretFilter(secret))`
    (or `aiohttp.access`, `gunicorn.access`). The record keeps its shape (uvicorn's
    access formatter reads its arguments as a tuple), only the secret becomes `<secret>`.
    """

    MASK = "<secret>"

    def __init__(self, secret: str) -> None:
        super().__init__()
        if not secret:
            raise ConfigurationError("RedactSecretFilter needs a non-empty secret")
        self._secret = secret

    def __repr__(self) -> str:
        return "RedactSecretFilter(<hidden>)"

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in list(vars(record).items()):
            if isinstance(value, str) and self._secret in value:
                setattr(record, name, self._mask(value))
        if isinstance(record.args, tuple):
            record.args = tuple(self._mask_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: self._mask_arg(arg) for key, arg in record.args.items()}
        return True

    def _mask(self, text: str) -> str:
        return text.replace(self._secret, self.MASK)

    def _mask_arg(self, arg: object) -> object:
        if isinstance(arg, str):
            return self._mask(arg)
        if isinstance(arg, bytes | int | float) or arg is None:
            return arg
        text = str(arg)
        return self._mask(text) if self._secret in text else arg


async def _read_asgi_body(receive: _Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _route_path(scope: _Scope) -> str:
    """The path below the mount point (Starlette keeps the full path in `path`)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :]
    return path


def _is_async(handler: object) -> bool:
    return inspect.iscoroutinefunction(handler)


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
