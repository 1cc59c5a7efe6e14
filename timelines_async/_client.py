"""`TimelinesClient`: configuration, lifecycle, and the resources mounted lazily."""

from __future__ import annotations

import math
import os
from functools import cached_property
from types import TracebackType
from typing import Self

import httpx

from ._exceptions import ConfigurationError
from ._http import HTTPCore
from ._limits import InProcessSendLimiter, SendLimiter
from ._retry import DEFAULT_RETRY_BASE_DELAY, DEFAULT_RETRY_MAX_DELAY
from .resources.chats import Chats
from .resources.files import Files
from .resources.labels import Labels
from .resources.messages import Messages
from .resources.quotas import Quotas
from .resources.reactions import MessageReactions
from .resources.teammates import Teammates
from .resources.webhooks import Webhooks
from .resources.whatsapp_accounts import WhatsAppAccounts

__all__ = ["DEFAULT_BASE_URL", "TimelinesClient"]

DEFAULT_BASE_URL = "https://app.timelines.ai/integrations/api"
#: Defaults sized to the ~2 requests/s per workspace observed in production: sustained
#: faster traffic only earns 429s and backoff (docs/design/api.md, "Rate limits").
DEFAULT_MAX_CONCURRENCY = 4
DEFAULT_REQUESTS_PER_SECOND = 2.0
DEFAULT_SEND_INTERVAL = 2.0
DEFAULT_MAX_RETRIES = 4


class TimelinesClient:
    """The async client for the TimelinesAI Public API.

    Share one client between all the tasks of an application: the concurrency
    limit, the request pacing and the send spacing are the client's.

        async with TimelinesClient() as tl:    # token from TIMELINES_API_TOKEN
            async for chat in tl.chats.list(read=False):
                ...
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        requests_per_second: float | None = DEFAULT_REQUESTS_PER_SECOND,
        send_interval: float = DEFAULT_SEND_INTERVAL,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        send_limiter: SendLimiter | None = None,
        retry_base_delay: float = DEFAULT_RETRY_BASE_DELAY,
        retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY,
    ) -> None:
        token = token if token is not None else os.environ.get("TIMELINES_API_TOKEN")
        if token is not None and not isinstance(token, str):
            raise ConfigurationError(f"the API token must be a string, not {type(token).__name__}")
        if not token or not token.strip():
            raise ConfigurationError(
                "no API token: pass token=... or set TIMELINES_API_TOKEN "
                "(TimelinesAI app -> Integrations -> Public API)"
            )
        stripped = token.strip()
        # An HTTP header carries ASCII only: anything else is a copy-paste accident (and
        # httpx would fail later with an encoding error that holds the token).
        if not (stripped.isascii() and stripped.isprintable()) or " " in stripped:
            raise ConfigurationError(
                "the API token must be printable ASCII without spaces or control characters"
            )
        _require(
            base_url is None or isinstance(base_url, str),
            f"base_url must be a string, not {type(base_url).__name__}",
        )
        base_url = base_url or os.environ.get("TIMELINES_BASE_URL") or DEFAULT_BASE_URL
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base_url must be an http(s) URL, not {base_url!r}")
        _require(
            _integer(max_concurrency) and max_concurrency >= 1,
            f"max_concurrency must be an integer >= 1, not {max_concurrency!r}",
        )
        _require(
            requests_per_second is None or _positive(requests_per_second),
            f"requests_per_second must be > 0 or None, not {requests_per_second!r}",
        )
        _require(
            _positive(send_interval) or send_interval == 0,
            f"send_interval must be >= 0, not {send_interval!r}",
        )
        _require(
            _integer(max_retries) and max_retries >= 0,
            f"max_retries must be an integer >= 0, not {max_retries!r}",
        )
        _require(_positive(timeout), f"timeout must be > 0, not {timeout!r}")
        _require(
            (_positive(retry_base_delay) or retry_base_delay == 0)
            and (_positive(retry_max_delay) or retry_max_delay == 0)
            and retry_base_delay <= retry_max_delay,
            "retry_base_delay and retry_max_delay must be >= 0 with base <= max, not "
            f"{retry_base_delay!r} and {retry_max_delay!r}",
        )
        self.base_url = base_url.rstrip("/")
        self.send_interval = send_interval
        self._http = HTTPCore(
            token=stripped,
            base_url=self.base_url,
            timeout=timeout,
            max_concurrency=max_concurrency,
            requests_per_second=requests_per_second,
            max_retries=max_retries,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
            send_limiter=send_limiter or InProcessSendLimiter(send_interval),
            http_client=http_client,
        )

    def __repr__(self) -> str:
        return f"TimelinesClient(base_url={self.base_url!r}, token=<hidden>)"

    @property
    def max_concurrency(self) -> int:
        """Requests in flight at once: work fanned out over the client (several chats'
        histories, say) needs no more workers than this."""
        return self._http.max_concurrency

    @cached_property
    def chats(self) -> Chats:
        return Chats(self._http)

    @cached_property
    def labels(self) -> Labels:
        return Labels(self._http)

    @cached_property
    def messages(self) -> Messages:
        return Messages(self._http, self.chats)

    @cached_property
    def reactions(self) -> MessageReactions:
        return MessageReactions(self._http)

    @cached_property
    def files(self) -> Files:
        return Files(self._http)

    @cached_property
    def whatsapp_accounts(self) -> WhatsAppAccounts:
        return WhatsAppAccounts(self._http)

    @cached_property
    def teammates(self) -> Teammates:
        return Teammates(self._http)

    @cached_property
    def quotas(self) -> Quotas:
        return Quotas(self._http)

    @cached_property
    def webhooks(self) -> Webhooks:
        return Webhooks(self._http)

    async def aclose(self) -> None:
        """Close the connection pool (not an `http_client` you passed in: that one is yours)."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigurationError(message)
