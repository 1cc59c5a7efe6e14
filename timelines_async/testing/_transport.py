"""The in-process wiring: an httpx transport that hands requests to the fake, no sockets.

`FakeTransport` performs the faults the HTTP layer must act out with the
exceptions httpx itself raises in those cases, so that the client under test
meets exactly what it would meet on a network: an answer later than the
request's read timeout (the fake's `latency`) is `httpx.ReadTimeout`, and the
request has been carried out all the same.
"""

from __future__ import annotations

from typing import Any, Protocol

import anyio
import httpx

from .._client import TimelinesClient
from ._acting import Outcome
from ._wire import Request, parse_query

__all__ = ["FakeClient", "FakeTransport", "RequestHandler"]


class RequestHandler(Protocol):
    """What answers the requests: `FakeTimelines`, or anything with its `handle`."""

    async def handle(self, request: Request) -> Outcome: ...


class FakeTransport(httpx.AsyncBaseTransport):
    """Sends every request to `handler.handle` in the same event loop."""

    def __init__(self, handler: RequestHandler) -> None:
        self.handler = handler

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
        url = request.url
        fake_request = Request(
            method=request.method,
            path=raw_path,
            query=parse_query(raw_query),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=await request.aread(),
            origin=f"{url.scheme}://{url.netloc.decode('ascii')}",
        )
        read_timeout = request.extensions.get("timeout", {}).get("read")
        with anyio.move_on_after(read_timeout) as waiting:  # None: no limit
            outcome = await self.handler.handle(fake_request)
        if waiting.cancelled_caught:
            raise httpx.ReadTimeout("no answer within the read timeout", request=request)
        if outcome.withheld:
            raise outcome.transport_error(request)
        return httpx.Response(
            outcome.status,
            headers=outcome.response.headers,
            content=outcome.body(),
            request=request,
        )


class FakeClient(TimelinesClient):
    """A `TimelinesClient` whose requests go to `handler` in-process.

    `token`, `base_url` and `send_interval` are the fake's; `options` are any
    other `TimelinesClient` options. It owns its in-process `httpx.AsyncClient`
    (`transport_client`, unless `http_client` was given) and closes it with itself.
    """

    def __init__(
        self,
        handler: RequestHandler,
        *,
        token: str,
        base_url: str,
        send_interval: float,
        **options: Any,
    ) -> None:
        settings: dict[str, Any] = {
            "token": token,
            "requests_per_second": None,
            "send_interval": send_interval,
            "base_url": base_url,
        }
        settings.update(options)
        self.transport_client: httpx.AsyncClient | None = None
        if settings.get("http_client") is None:
            self.transport_client = httpx.AsyncClient(transport=FakeTransport(handler))
            settings["http_client"] = self.transport_client
        super().__init__(**settings)

    async def aclose(self) -> None:
        await super().aclose()
        if self.transport_client is not None:
            await self.transport_client.aclose()
