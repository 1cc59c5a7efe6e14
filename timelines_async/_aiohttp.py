"""aiohttp's transport under `httpx.AsyncClient` (the `speedups` extra), with exact errors.

httpx-aiohttp's own mapping turns every `aiohttp.ClientConnectionError` into
`httpx.ConnectTimeout`: a server that drops the connection after reading a
request would look like one that was never reached, and a send would be
retried although the server may have taken it. This transport maps aiohttp's
errors again from the aiohttp error itself, so that "failed before the request
was written" and "after" are told apart exactly as on httpx's own transport:

- no connection (refused, DNS, TLS handshake, proxy), or none in time
  (connect or pool wait): `httpx.ConnectError` / `httpx.ConnectTimeout`;
- anything once connected (a drop, a reset, a read timeout, a body cut short,
  a malformed answer): the read/protocol errors httpx raises in those cases.

aiohttp itself repeats a request once on a reused connection that turns out
closed, but only for idempotent methods, never for a POST.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

__all__ = ["ExactAiohttpTransport", "exact_error"]

#: First match wins: subclasses before their bases.
_EXACT: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    # Before the request was written.
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    # After: the server may have the request.
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.ClientConnectionError, httpx.ReadError),
    (aiohttp.ClientError, httpx.NetworkError),
    (TimeoutError, httpx.ReadTimeout),
)


def exact_error(origin: BaseException, request: httpx.Request) -> httpx.TransportError | None:
    """The httpx error for an aiohttp one (`None` for what is not aiohttp's)."""
    for aiohttp_error, httpx_error in _EXACT:
        if isinstance(origin, aiohttp_error):
            return httpx_error(f"{type(origin).__name__}: {origin}", request=request)
    return None


@contextmanager
def _mapped(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except httpx.HTTPError as exc:
        # httpx-aiohttp's mapping: judged again from the aiohttp error it wraps.
        exact = exact_error(exc.__cause__, request) if exc.__cause__ is not None else None
        if exact is None:
            raise
        raise exact from exc.__cause__
    except (aiohttp.ClientError, TimeoutError) as exc:  # what httpx-aiohttp lets through
        exact = exact_error(exc, request)
        assert exact is not None
        raise exact from exc


class _MappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped(self._request):
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        with _mapped(self._request):
            await self._inner.aclose()


class ExactAiohttpTransport(AiohttpTransport):
    """httpx-aiohttp's transport whose errors say whether the request can have been sent."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _mapped(request):
            response = await super().handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _MappedStream(response.stream, request)
        return response
