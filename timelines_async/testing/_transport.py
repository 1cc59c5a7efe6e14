"""The in-process wiring: an httpx transport that hands requests to the fake, no sockets.

`FakeTransport` performs the faults the HTTP layer must act out with the
exceptions httpx itself raises in those cases, so that the client under test
meets exactly what it would meet on a network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from .._client import TimelinesClient
from ._wire import Request, parse_query

if TYPE_CHECKING:
    from ._app import FakeTimelines

__all__ = ["FakeClient", "FakeTransport"]


class FakeTransport(httpx.AsyncBaseTransport):
    """Sends every request to `fake.handle` in the same event loop."""

    def __init__(self, fake: FakeTimelines) -> None:
        self.fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
        url = request.url
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        fake_request = Request(
            method=request.method,
            path=raw_path,
            query=parse_query(raw_query),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=await request.aread(),
            origin=origin,
        )
        outcome = await self.fake.handle(fake_request)
        if outcome.fault == "not_sent":
            raise httpx.ConnectError("[fake] connection refused", request=request)
        if outcome.fault == "dropped":
            raise httpx.RemoteProtocolError(
                "[fake] server disconnected without sending a response", request=request
            )
        if outcome.fault == "lost_answer":
            raise httpx.ReadTimeout("[fake] the answer was lost", request=request)
        response = outcome.response
        body = response.body
        if outcome.fault == "truncated":
            body = body[: len(body) // 2]
        return httpx.Response(
            response.status, headers=response.headers, content=body, request=request
        )


class FakeClient(TimelinesClient):
    """A `TimelinesClient` whose requests go to a `FakeTimelines` in-process.

    It owns its in-process `httpx.AsyncClient` (`transport_client`, unless
    `http_client` was given) and closes it with itself.
    """

    def __init__(self, fake: FakeTimelines, **options: Any) -> None:
        settings: dict[str, Any] = {
            "token": fake.token,
            "requests_per_second": None,
            "send_interval": fake.send_interval,
            "base_url": fake.base_url,
        }
        settings.update(options)
        self.transport_client: httpx.AsyncClient | None = None
        if settings.get("http_client") is None:
            self.transport_client = httpx.AsyncClient(transport=FakeTransport(fake))
            settings["http_client"] = self.transport_client
        super().__init__(**settings)

    async def aclose(self) -> None:
        await super().aclose()
        if self.transport_client is not None:
            await self.transport_client.aclose()
