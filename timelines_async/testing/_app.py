"""`FakeTimelines`: the in-memory TimelinesAI server, as an ASGI app and for in-process use.

Every request, over ASGI or through the in-process transport, goes through
`FakeTimelines.handle`: latency, the trailing-slash check, routing, the fault
draw, the request-rate limit, the token, the route's handler, webhook
delivery, and the request log. Faults that the HTTP layer must act out (a
dropped connection, a lost answer, a cut body) come back as `Outcome.fault`
for the ASGI adapter or the in-process transport to perform.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import anyio
import httpx

from ._asgi import answer, read_request
from ._checks import check_query
from ._clock import FakeClock
from ._events import EventCallback, EventHub
from ._faults import FaultInjector, Faults
from ._records import AccountRecord, ChatRecord, MessageRecord, RequestRecord, WebhookDelivery
from ._routes import DOWNLOAD_PATH, Api
from ._state import WorkspaceState, international_phone
from ._wire import ApiFailure, Outcome, Request, Response, error_body, json_response

if TYPE_CHECKING:
    from .._client import TimelinesClient

__all__ = ["API_PREFIX", "FAKE_ORIGIN", "FakeTimelines"]

API_PREFIX = "/integrations/api"
FAKE_ORIGIN = "http://fake.timelines.test"
_NOT_FOUND_HTML = (
    b"<!DOCTYPE html><html><head><title>404 | TimelinesAI</title></head>"
    b"<body><h1>Page not found</h1><p>The page you are looking for does not exist.</p>"
    b"</body></html>"
)
#: Faults decided before the handler runs: the request is not acted upon.
_BEFORE = frozenset({"not_sent", "dropped", "server_error", "rate_limited", "status_error"})


class FakeTimelines:
    """An in-memory TimelinesAI workspace that speaks the Public API.

    Use it in-process through `fake.client()` (no sockets), or serve it as an
    ASGI app (`uvicorn` or `timelines-async fake-server`).

    - `seed`, `chats`: the seeded workspace (histories are generated lazily).
      It has three WhatsApp numbers; `shared_contacts` is the share of direct
      chats that are with a contact who also has a chat on another number
      (0 by default: each contact on one number).
    - `token`: the bearer token accepted; others get 401 (`plain_text_401`
      answers a plain-text `Unauthorized` instead of the JSON envelope).
    - `send_interval`: sends closer together on the fake's clock get 429.
    - `request_rate`: requests per second beyond which every request gets 429.
    - `latency`: seconds added to every request.
    - `credits`: the messaging quota (1 a send, 2 with text and attachment).
    - `faults`: see `Faults`; `max_upload_size`: bigger uploads get 413.
    - `status_delays`: when a send turns Sent, Delivered, Read;
      `failing_phones`: sends to these numbers turn Failed and are refunded.
    - `start`, `clock`: the wall-clock time at 0 and the time source under
      the fake's clock (which `advance` moves forward).
    - `webhook_client`: the httpx client webhooks to loopback URLs go through.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        chats: int = 120,
        token: str = "fake-token",
        send_interval: float = 0.0,
        request_rate: float | None = None,
        latency: float = 0.0,
        credits: int = 10_000,
        faults: Faults | None = None,
        max_upload_size: int = 100 * 1024 * 1024,
        status_delays: tuple[float, float, float] = (1.0, 3.0, 10.0),
        plain_text_401: bool = False,
        start: datetime | None = None,
        clock: Callable[[], float] = time.monotonic,
        webhook_client: httpx.AsyncClient | None = None,
        failing_phones: Iterable[str] = (),
        shared_contacts: float = 0.0,
    ) -> None:
        if chats < 0:
            raise ValueError("chats must be >= 0")
        if not 0.0 <= shared_contacts <= 1.0:
            raise ValueError("shared_contacts must be a share between 0 and 1")
        if send_interval < 0 or latency < 0 or credits < 0 or max_upload_size < 0:
            raise ValueError("send_interval, latency, credits and max_upload_size must be >= 0")
        if request_rate is not None and request_rate <= 0:
            raise ValueError("request_rate must be > 0 or None")
        if not token or any(c.isspace() for c in token):
            raise ValueError("token must be a non-empty string without spaces")
        sent, delivered, read = status_delays
        if not 0 <= sent <= delivered <= read:
            raise ValueError("status_delays must be (sent, delivered, read), non-decreasing")
        self.token = token
        self.request_rate = request_rate
        self.latency = latency
        self._faults = faults or Faults()
        self.plain_text_401 = plain_text_401
        self.base_url = FAKE_ORIGIN + API_PREFIX
        self.requests: list[RequestRecord] = []
        self.clock = FakeClock(start or datetime.now(UTC), clock)
        self._injector = FaultInjector(self._faults)
        #: Where the latest request was addressed: webhook attachment URLs point there.
        self._origin = FAKE_ORIGIN
        self._hub = EventHub(lambda uid: self._api.download_url(uid, self._origin), webhook_client)
        self._space = WorkspaceState(
            seed=seed,
            chats=chats,
            credits=credits,
            clock=self.clock,
            status_delays=status_delays,
            send_interval=send_interval,
            on_event=self._hub.emit,
            shared_contacts=shared_contacts,
        )
        self._hub.space = self._space
        for phone in failing_phones:
            number = international_phone(phone)
            if number is None:
                raise ValueError(f"failing_phones: {phone!r} is not an international phone number")
            self._space.failing_phones.add(number)
        self._api = Api(self._space, max_upload_size=max_upload_size)
        self._bucket = max(request_rate or 0.0, 1.0)  # starts full
        self._bucket_at = 0.0

    def __repr__(self) -> str:
        return f"FakeTimelines(chats={len(self._space.chats)}, base_url={self.base_url!r})"

    # -- what tests look at --------------------------------------------------

    @property
    def send_interval(self) -> float:
        """Sends closer together than this (on the fake's clock) get 429; 0 = not enforced."""
        return self._space.send_interval

    @send_interval.setter
    def send_interval(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("send_interval must be >= 0")
        self._space.send_interval = seconds

    @property
    def faults(self) -> Faults:
        """The fault knobs in force (change them with `set_faults`)."""
        return self._faults

    @property
    def chats(self) -> dict[int, ChatRecord]:
        return self._space.chats

    @property
    def sent(self) -> list[MessageRecord]:
        """Every message accepted through a send, in order (also when its answer was lost)."""
        return self._space.sent

    @property
    def faults_injected(self) -> Counter[str]:
        """Faults injected so far, by kind (`Faults` field names); `set_faults` starts anew."""
        return self._injector.injected

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return self._hub.deliveries

    @property
    def credits_used(self) -> int:
        return self._space.credits_used

    @property
    def workspace(self) -> WorkspaceState:
        """The whole state (accounts, teammates, files, webhooks), for tests that need more."""
        return self._space

    def messages_of(self, chat_id: int) -> list[MessageRecord]:
        """The chat's messages, oldest first, notes included.

        Args:
            chat_id: The chat's id.

        Returns:
            The chat's `MessageRecord`s.
        """
        return list(self._space.history(self._space.chat(chat_id)))

    def chats_with(self, phone: str) -> list[ChatRecord]:
        """The contact's chats on every number of the workspace, most recently active first.

        Args:
            phone: The contact's international number.

        Returns:
            The `ChatRecord`s (none if the contact has no chat).

        Raises:
            ValueError: `phone` is not an international number.
        """
        number = international_phone(phone)
        if number is None:
            raise ValueError(f"{phone!r} is not an international phone number")
        return self._space.direct_chats(number)

    def message(self, uid: str) -> MessageRecord:
        """One message by uid.

        Args:
            uid: The message's uid.

        Returns:
            The `MessageRecord`.
        """
        return self._space.message(uid)

    def status_of(self, uid: str) -> str:
        """The message's status now, on the fake's clock.

        Args:
            uid: The message's uid.

        Returns:
            `"Pending"`, `"Sent"`, `"Delivered"`, `"Read"` or `"Failed"`.
        """
        return self._space.message_status(self._space.message(uid))

    def timestamp(self, at: float) -> str:
        """The API's timestamp text for a time on the fake's clock."""
        return self.clock.text(at)

    # -- what tests do -------------------------------------------------------

    def set_faults(self, faults: Faults) -> None:
        """Change the fault knobs from now on (the draw restarts from `faults.seed`)."""
        self._faults = faults
        self._injector = FaultInjector(faults)

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward: statuses progress, download URLs expire.

        Args:
            seconds: How far, in seconds (no real waiting).
        """
        self.clock.advance(seconds)

    def on_event(self, callback: EventCallback) -> None:
        """Call `callback(payload)` with every webhook event, whatever the subscriptions.

        Args:
            callback: Called with each event's JSON payload (a `dict`), in process.
        """
        self._hub.callbacks.append(callback)

    def receive_message(
        self, chat_id: int, text: str, *, sender_name: str | None = None
    ) -> MessageRecord:
        """Simulate an incoming WhatsApp message in a chat (fires the webhook events).

        Args:
            chat_id: The chat's id.
            text: The message's text.
            sender_name: Who sent it (default: the chat's contact).

        Returns:
            The new `MessageRecord`.
        """
        return self._space.receive(self._space.chat(chat_id), text, sender_name=sender_name)

    def receive_message_from(
        self,
        phone: str,
        text: str,
        *,
        name: str | None = None,
        whatsapp_account_phone: str | None = None,
    ) -> MessageRecord:
        """Simulate an incoming message from a phone number, opening a chat if there is none.

        It arrives on the number `whatsapp_account_phone` (default: the
        account sends go out from by default), in the contact's chat on that
        number. A new chat fires `chat:new` and `chat:incoming:new` before the
        message's events.
        """
        number = international_phone(phone)
        if number is None:
            raise ValueError(f"{phone!r} is not an international phone number")
        account = self._receiving_account(whatsapp_account_phone)
        chat = self._space.direct_chat(number, account)
        if chat is None:
            jid = number[1:] + "@s.whatsapp.net"
            chat = self._space.create_chat(phone=number, jid=jid, name=name, account=account)
            self._space.fire("chat:new", chat)
            self._space.fire("chat:incoming:new", chat)
        return self._space.receive(chat, text, sender_name=name)

    def _receiving_account(self, phone: str | None) -> AccountRecord:
        if phone is None:
            return self._space.default_account()
        number = international_phone(phone)
        account = None if number is None else self._space.account_by_phone(number)
        if account is None:
            raise ValueError(f"{phone!r} is not a WhatsApp number of this workspace")
        return account

    async def deliver_webhooks(self) -> None:
        """POST the queued webhook deliveries now (requests do it as they finish)."""
        await self._hub.deliver()

    def client(self, **options: Any) -> TimelinesClient:
        """A `TimelinesClient` wired to this fake in-process; no sockets.

        The client owns the in-process transport: close the client and it is
        closed too.

        Args:
            **options: `TimelinesClient` options, over the defaults
                `token=fake.token`, `requests_per_second=None` (the fake has no rate
                limit unless `request_rate` is set) and
                `send_interval=fake.send_interval`.

        Returns:
            The client, to use as `async with fake.client() as tl:`.
        """
        from ._transport import FakeClient

        return FakeClient(self, **options)

    # -- handling ------------------------------------------------------------

    async def handle(self, request: Request) -> Outcome:
        """Answer one request (its path still carries the API prefix)."""
        if self.latency:
            await anyio.sleep(self.latency)
        path = request.path
        if path.startswith(DOWNLOAD_PATH):
            return self._log(request, Outcome(self._download(request, path[len(DOWNLOAD_PATH) :])))
        if not path.startswith(API_PREFIX + "/") or path.endswith("/"):
            return self._log(request, Outcome(_html_404()))
        request.path = path[len(API_PREFIX) :]
        self._origin = request.origin
        try:
            handler, args = self._api.route(request.method, request.path)
        except ApiFailure as failure:
            return self._log(request, Outcome(failure.response()))
        fault = self._injector.draw(is_send=handler in self._api.send_handlers)
        if fault in _BEFORE:
            return self._log(request, self._before_fault(fault))
        try:
            self._check_rate()
            self._authenticate(request)
            self._space.api_calls_used += 1
            check_query(request.query)
            response = handler(request, args)
        except ApiFailure as failure:
            response = failure.response()
        if self._hub.has_pending:
            await self._hub.deliver()
        return self._log(request, Outcome(response, fault))

    def _before_fault(self, fault: str | None) -> Outcome:
        """The answer to a request a fault stops before the fake acts on it."""
        if fault == "server_error":
            failure = ApiFailure(503, "Service temporarily unavailable", "internal_error")
            return Outcome(failure.response(), fault)
        if fault == "rate_limited":
            retry_after = [("retry-after", f"{self._faults.retry_after:g}")]
            failure = ApiFailure(
                429, "Rate limit exceeded", "rate_limit_exceeded", headers=retry_after
            )
            return Outcome(failure.response(), fault)
        if fault == "status_error":
            body = error_body("Internal error, try again", "internal_error")
            return Outcome(json_response(body), fault)
        return Outcome(Response(0, b""), fault)  # dropped or not sent: no answer at all

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip() == self.token:
            return
        if self.plain_text_401:
            raise _PlainUnauthorized()
        if not header:
            raise ApiFailure(401, "Authorization header is missing", "missing_credentials")
        raise ApiFailure(401, "Invalid or expired token", "invalid_token")

    def _check_rate(self) -> None:
        """A token bucket of `request_rate` per second (bursts up to one second's worth)."""
        if self.request_rate is None:
            return
        now = self.clock.now()
        rate = self.request_rate
        self._bucket = min(max(rate, 1.0), self._bucket + (now - self._bucket_at) * rate)
        self._bucket_at = now
        if self._bucket >= 1.0:
            self._bucket -= 1.0
            return
        wait = (1.0 - self._bucket) / rate
        raise ApiFailure(
            429,
            "Rate limit exceeded. Please retry after a short delay.",
            "rate_limit_exceeded",
            headers=[("retry-after", f"{math.ceil(wait * 1000) / 1000:g}")],
        )

    def _download(self, request: Request, uid: str) -> Response:
        """The file behind a download URL: 403 once expired or forged, 410 once deleted."""
        query = request.query
        expires_text = query.get("expires", "")
        file = self._space.files.get(uid)
        if (
            file is None
            or not expires_text.isdigit()
            or query.get("signature") != self._api.signature(uid, int(expires_text))
        ):
            return _plain(403, "Access denied: invalid signature")
        if self.clock.now() > int(expires_text):
            return _plain(403, "Access denied: the link has expired")
        if file.deleted:
            return _plain(410, "Gone: the file was deleted")
        return Response(
            200,
            file.content,
            [
                ("content-type", file.mimetype),
                ("content-disposition", f"attachment; filename*=UTF-8''{quote(file.filename)}"),
            ],
        )

    def _log(self, request: Request, outcome: Outcome) -> Outcome:
        status = (
            0
            if outcome.fault in ("dropped", "not_sent", "lost_answer")
            else outcome.response.status
        )
        self.requests.append(
            RequestRecord(
                request.method, request.path, request.query, status, self.clock.now(), outcome.fault
            )
        )
        return outcome

    # -- ASGI ----------------------------------------------------------------

    async def __call__(self, scope: Mapping[str, Any], receive: Any, send: Any) -> None:
        """The ASGI entry point: HTTP requests are answered, lifespan events acknowledged."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        outcome = await self.handle(await read_request(scope, receive))
        await answer(outcome, send)


class _PlainUnauthorized(ApiFailure):
    def __init__(self) -> None:
        super().__init__(401, "Unauthorized")

    def response(self) -> Response:
        return _plain(401, "Unauthorized")


def _plain(status: int, text: str) -> Response:
    return Response(status, text.encode(), [("content-type", "text/plain; charset=utf-8")])


def _html_404() -> Response:
    return Response(404, _NOT_FOUND_HTML, [("content-type", "text/html; charset=utf-8")])


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
