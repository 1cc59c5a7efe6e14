"""The `httpx.AsyncClient` the client builds: httpx's own transport, or aiohttp's.

`transport="auto"` takes aiohttp's transport when the `speedups` extra is
installed: httpcore and h11 are pure Python, and with aiohttp's transport (and
orjson) the client spends a third to a half less CPU per listed page.
Everything above the transport (requests, errors, retries, streaming) stays
httpx's, so behaviour is the same on both.
"""

from __future__ import annotations

import functools
import importlib.util
import platform
import ssl
from typing import Literal, get_args

import httpx

from ._exceptions import ConfigurationError
from ._version import __version__

__all__ = [
    "USER_AGENT",
    "TransportName",
    "build_http_client",
    "check_transport",
    "speedups_installed",
    "verifying_ssl_context",
]

TransportName = Literal["auto", "httpx", "aiohttp"]
#: Every request's; a client of the package's own has it as a default header.
USER_AGENT = (
    f"timelines-async/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"
)
_NAMES: tuple[str, ...] = get_args(TransportName)


def speedups_installed() -> bool:
    """True when the `speedups` extra (httpx-aiohttp, which brings aiohttp) is importable."""
    return importlib.util.find_spec("httpx_aiohttp") is not None


def check_transport(transport: object) -> Literal["httpx", "aiohttp"]:
    """The transport `transport` names, `"auto"` resolved; `ConfigurationError` otherwise."""
    if not isinstance(transport, str) or transport not in _NAMES:
        raise ConfigurationError(
            f"transport must be one of {', '.join(map(repr, _NAMES))}, not {transport!r}"
        )
    if transport == "httpx" or (transport == "auto" and not speedups_installed()):
        return "httpx"
    if not speedups_installed():
        raise ConfigurationError(
            'transport="aiohttp" needs the speedups extra: pip install "timelines-async[speedups]"'
        )
    return "aiohttp"


def build_http_client(
    transport: Literal["httpx", "aiohttp"],
    *,
    timeout: httpx.Timeout,
    max_connections: int,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` on the named transport, its pool sized to `max_connections`."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    headers = {"User-Agent": USER_AGENT}
    verify = verifying_ssl_context()
    if transport == "httpx":
        return httpx.AsyncClient(timeout=timeout, limits=limits, headers=headers, verify=verify)
    from ._aiohttp import ExactAiohttpTransport  # imports aiohttp: only when asked for

    aiohttp_transport = ExactAiohttpTransport(limits=limits, verify=verify)
    return httpx.AsyncClient(
        timeout=timeout, transport=aiohttp_transport, headers=headers, verify=verify
    )


@functools.cache
def verifying_ssl_context() -> ssl.SSLContext:
    """httpx's default context (certificates and host names checked), built once a process.

    Building one reads the whole CA bundle, about 30 ms: every client of the
    package's own shares it, as aiohttp's connectors share theirs.
    """
    return httpx.create_ssl_context()
