"""`FakeTimelines`: the in-memory TimelinesAI server, as an ASGI app and for in-process use.

Every request, over ASGI or through the in-process transport, goes through
`FakeTimelines.handle`: latency, an outage, the trailing-slash check,
routing, the fault draw, the request-rate limit, the token, the route's
handler, webhook delivery, and the request log. Faults that the HTTP layer
must act out (a dropped connection, a lost answer, a cut body) come back as
`Outcome.fault` for the ASGI adapter or the in-process transport to perform
(`_acting.py` says how).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from ._acting import Outcome, refusal, unavailable
from ._asgi import answer, read_request
from ._checks import check_query
from ._clock import FakeClock
from ._downloads import DOWNLOAD_PATH, DownloadLinks
from ._events import EventCallback, EventHub
from ._faults import Fault, FaultInjector, Faults, Outage, OutageWindow
from ._rate import RequestRate
from ._records import AccountRecord, ChatRecord, MessageRecord, RequestRecord, WebhookDelivery
from ._routes import Api
from ._state import WorkspaceState, international_phone
from ._transport import FakeClient
from ._wire import ApiFailure, Request, Response, plain_response

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
    - `latency`: seconds from a request's arrival to its answer. The request
      takes effect on arrival, as on the real API: one whose answer is cut
      short (a timeout, a cancelled task) has still been carried out.
    - `credits`: the messaging quota (1 a send, 2 with text and attachment).
    - `faults`: see `Faults`; `outage`: see `Outage`; `max_upload_size`:
      bigger uploads get 413.
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
        outage: Outage | None = None,
        max_upload_size: int = 100 * 1024 * 1024,
        status_delays: tuple[float, float, float] = (1.0, 3.0, 10.0),
        plain_text_401: bool = False,
        start: datetime | None = None,
        clock: Callable[[], float] = time.monotonic,
        webhook_client: httpx.AsyncClient | None = None,
        failing_phones: Iterable[str] = (),
        shared_contacts: float = 0.0,
    ) -> None:
        _check_settings(
            chats=chats,
            shared_contacts=shared_contacts,
            send_interval=send_interval,
            latency=latency,
            credits=credits,
            max_upload_size=max_upload_size,
            token=token,
            status_delays=status_delays,
        )
        self.token = token
        self.latency = latency
        self.plain_text_401 = plain_text_401
        self.base_url = FAKE_ORIGIN + API_PREFIX
        self.requests: list[RequestRecord] = []
        self.clock = FakeClock(start or datetime.now(UTC), clock)
        self._space = WorkspaceState(
            seed=seed,
            chats=chats,
            credits=credits,
            clock=self.clock,
            status_delays=status_delays,
            send_interval=send_interval,
            shared_contacts=shared_contacts,
        )
        self._space.failing_phones.update(_international_phones(failing_phones))
        self._links = DownloadLinks(self._space, FAKE_ORIGIN)
        self._hub = EventHub(self._space, self._links.url, webhook_client)
        self._api = Api(self._space, self._links, max_upload_size=max_upload_size)
        self._faults = faults or Faults()
        self._injector = FaultInjector(self._faults)
        self._rate = None if request_rate is None else RequestRate(request_rate, self.clock)
        self._outage: OutageWindow | None = None
        if outage is not None:
            self.set_outage(outage)

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
    def request_rate(self) -> float | None:
        """Requests per second beyond which every request gets 429; `None` = no limit."""
        return None if self._rate is None else self._rate.rate

    @request_rate.setter
    def request_rate(self, rate: float | None) -> None:
        self._rate = None if rate is None else RequestRate(rate, self.clock)

    @property
    def outage(self) -> Outage | None:
        """The outage set (under way, to come or over), if any (change it with `set_outage`)."""
        return None if self._outage is None else self._outage.outage

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
        """Faults drawn so far, by kind (`Faults` field names); `set_faults` starts anew."""
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

    def set_outage(self, outage: Outage | None) -> None:
        """Fail every request for a while, as when the API is down.

        Args:
            outage: When it begins (`after_requests` from now) and how long it
                lasts on the fake's clock; `None` ends any outage.
        """
        self._outage = None if outage is None else OutageWindow(outage, len(self.requests))

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
        settings = {"token": self.token, "send_interval": self.send_interval, **options}
        return FakeClient(self, base_url=self.base_url, **settings)

    # -- handling ------------------------------------------------------------

    async def handle(self, request: Request) -> Outcome:
        """Answer one request (its path still carries the API prefix), `latency` after it came."""
        answer_at = anyio.current_time() + self.latency
        path = request.path
        is_api = path.startswith(API_PREFIX + "/") and not path.endswith("/")
        if is_api:
            request.path = path[len(API_PREFIX) :]
            self._links.origin = request.origin
        if self._outage is not None and self._outage.covers(len(self.requests), self.clock.now()):
            outcome = Outcome(unavailable(self._faults), Fault.OUTAGE)
        elif path.startswith(DOWNLOAD_PATH):
            outcome = Outcome(self._links.serve(request, path[len(DOWNLOAD_PATH) :]))
        elif not is_api:
            outcome = Outcome(_html_404())
        else:
            outcome = await self._operation(request)
        self.requests.append(
            RequestRecord(
                request.method,
                request.path,
                request.query,
                outcome.status,
                self.clock.now(),
                outcome.fault,
            )
        )
        if self.latency:
            await anyio.sleep_until(answer_at)
        return outcome

    async def _operation(self, request: Request) -> Outcome:
        """An API operation: routing, the fault draw, the rate limit, the token, the handler."""
        try:
            route, args = self._api.route(request.method, request.path)
        except ApiFailure as failure:
            return Outcome(failure.response())
        fault = self._injector.draw(is_send=route.sends)
        refused = refusal(fault, self._faults)
        if refused is not None:
            return refused
        try:
            if self._rate is not None:
                self._rate.take()
            self._authenticate(request)
            self._space.api_calls_used += 1
            check_query(request.query)
            response = route.handler(request, args)
        except ApiFailure as failure:
            response = failure.response()
        if self._hub.has_pending:
            await self._hub.deliver()
        return Outcome(response, fault)

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
        return plain_response(401, "Unauthorized")


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


def _check_settings(
    *,
    chats: int,
    shared_contacts: float,
    send_interval: float,
    latency: float,
    credits: int,
    max_upload_size: int,
    token: str,
    status_delays: tuple[float, float, float],
) -> None:
    if chats < 0:
        raise ValueError("chats must be >= 0")
    if not 0.0 <= shared_contacts <= 1.0:
        raise ValueError("shared_contacts must be a share between 0 and 1")
    if send_interval < 0 or latency < 0 or credits < 0 or max_upload_size < 0:
        raise ValueError("send_interval, latency, credits and max_upload_size must be >= 0")
    if not token or any(c.isspace() for c in token):
        raise ValueError("token must be a non-empty string without spaces")
    sent, delivered, read = status_delays
    if not 0 <= sent <= delivered <= read:
        raise ValueError("status_delays must be (sent, delivered, read), non-decreasing")


def _international_phones(phones: Iterable[str]) -> set[str]:
    numbers = set()
    for phone in phones:
        number = international_phone(phone)
        if number is None:
            raise ValueError(f"failing_phones: {phone!r} is not an international phone number")
        numbers.add(number)
    return numbers
