"""`TimelinesClient`: configuration, lifecycle, and the resources mounted lazily."""

from __future__ import annotations

import copy
from functools import cached_property
from types import TracebackType
from typing import Self

import httpx

from ._http import HTTPCore
from ._limits import InProcessSendLimiter, RequestPacing, SendLimiter
from ._logs import apply_log_switch
from ._options import (
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_REQUESTS_PER_SECOND,
    DEFAULT_SEND_INTERVAL,
    DEFAULT_TIMEOUT,
    _Options,
)
from ._redact import install_url_filter
from ._retry import DEFAULT_RETRY_BASE_DELAY, DEFAULT_RETRY_MAX_DELAY
from ._transport import TransportName, check_transport
from ._validation import check_integer, check_number, option_error
from .resources.chats import Chats
from .resources.files import Files
from .resources.labels import Labels
from .resources.messages import Messages
from .resources.quotas import Quotas
from .resources.reactions import MessageReactions
from .resources.teammates import Teammates
from .resources.webhooks import Webhooks
from .resources.whatsapp_accounts import WhatsAppAccounts

__all__ = ["TimelinesClient"]


class TimelinesClient:
    """The async client for the TimelinesAI Public API.

    Share one client between all the tasks of an application: the concurrency
    limit, the request pacing and the send spacing are the client's. Use it as
    `async with`, or close it with `await tl.aclose()`.

        async with TimelinesClient() as tl:    # token from TIMELINES_API_TOKEN
            async for chat in tl.chats.list(read=False):
                ...

    Args:
        token: The API token; else `TIMELINES_API_TOKEN`. Never shown in a
            repr, a log line or an error.
        base_url: Else `TIMELINES_BASE_URL`, else the production API.
        timeout: Seconds for each request's connect, read, write and pool
            timeouts.
        max_concurrency: Requests in flight at once, across every call.
        requests_per_second: The pace requests start at, halved on each `429`
            and recovered gradually; `None` or `0` turns pacing off.
        send_interval: The least time between two message sends, in seconds;
            `0` turns the spacing off.
        max_retries: Retries after the first attempt, for what is safe to retry.
        http_client: An `httpx.AsyncClient` you own, to send through (a proxy,
            HTTP/2, a test transport); never closed by this client.
        send_limiter: Replaces the in-process send spacing (e.g. a
            `RedisSendLimiter` shared by several processes).
        request_pacer: Replaces the in-process request pacing (e.g. a
            `RedisRequestPacer` that several processes share).
        retry_base_delay: The backoff before retry n is uniform in
            [0, min(retry_max_delay, retry_base_delay * 2**n)] seconds.
        retry_max_delay: The backoff's cap, in seconds.
        transport: `"auto"` (aiohttp's with the `speedups` extra, else httpx's),
            `"httpx"` or `"aiohttp"`; ignored with `http_client`.

    Raises:
        ConfigurationError: No token or a malformed one, or an option out of
            range.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        requests_per_second: float | None = DEFAULT_REQUESTS_PER_SECOND,
        send_interval: float = DEFAULT_SEND_INTERVAL,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        send_limiter: SendLimiter | None = None,
        request_pacer: RequestPacing | None = None,
        retry_base_delay: float = DEFAULT_RETRY_BASE_DELAY,
        retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY,
        transport: TransportName = "auto",
    ) -> None:
        apply_log_switch()
        install_url_filter()
        options = _Options(
            token=token,
            base_url=base_url,
            timeout=timeout,
            max_concurrency=max_concurrency,
            requests_per_second=requests_per_second,
            send_interval=send_interval,
            max_retries=max_retries,
            http_client=http_client,
            send_limiter=send_limiter,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
        )
        self.base_url = options.base_url
        self.send_interval = options.send_interval
        #: Tells workspaces apart (an export database records it) without holding the token.
        self.token_fingerprint = options.token_fingerprint
        self._http = HTTPCore(
            token=options.token,
            base_url=options.base_url,
            timeout=options.timeout,
            max_concurrency=options.max_concurrency,
            requests_per_second=options.requests_per_second,
            max_retries=options.max_retries,
            retry_base_delay=options.retry_base_delay,
            retry_max_delay=options.retry_max_delay,
            send_limiter=options.send_limiter or InProcessSendLimiter(options.send_interval),
            http_client=options.http_client,
            # `http_client` wins: the transport is the one it was built with.
            transport="httpx" if options.http_client is not None else check_transport(transport),
            request_pacer=request_pacer,
        )

    def __repr__(self) -> str:
        return f"TimelinesClient(base_url={self.base_url!r}, token=<hidden>)"

    def with_options(
        self, *, timeout: float | None = None, max_retries: int | None = None
    ) -> TimelinesClient:
        """This client with another `timeout` or `max_retries`, for the calls that need them.

        The copy shares this client's connection pool, concurrency limit,
        request pacing and send spacing; closing it leaves them open, closing
        this client closes the copy too.

            await tl.with_options(timeout=300).files.upload("recording.mp4")

        Args:
            timeout: The copy's timeout in seconds; `None` keeps this client's.
            max_retries: The copy's retry count; `None` keeps this client's.

        Returns:
            The copy.

        Raises:
            ConfigurationError: An option out of range.
        """
        if timeout is not None:
            check_number("timeout", timeout, exclusive=True, error=option_error)
        if max_retries is not None:
            check_integer("max_retries", max_retries, error=option_error)
        clone = copy.copy(self)
        for name in _MOUNTED:  # the copy's resources are mounted on the copy's pipeline
            clone.__dict__.pop(name, None)
        clone._http = self._http.with_options(
            timeout=self._http.timeout if timeout is None else timeout,
            max_retries=self._http.max_retries if max_retries is None else max_retries,
        )
        return clone

    @property
    def max_concurrency(self) -> int:
        """Requests in flight at once: work fanned out over the client (several chats'
        histories, say) needs no more workers than this."""
        return self._http.max_concurrency

    @cached_property
    def chats(self) -> Chats:
        """`tl.chats`: list, read and update chats, leave notes."""
        return Chats(self._http)

    @cached_property
    def labels(self) -> Labels:
        """`tl.labels`: a chat's labels."""
        return Labels(self._http)

    @cached_property
    def messages(self) -> Messages:
        """`tl.messages`: histories, sends and reconciliation."""
        return Messages(self._http, self.chats)

    @cached_property
    def reactions(self) -> MessageReactions:
        """`tl.reactions`: a message's reactions."""
        return MessageReactions(self._http)

    @cached_property
    def files(self) -> Files:
        """`tl.files`: uploads and downloads."""
        return Files(self._http)

    @cached_property
    def whatsapp_accounts(self) -> WhatsAppAccounts:
        """`tl.whatsapp_accounts`: the workspace's WhatsApp numbers."""
        return WhatsAppAccounts(self._http)

    @cached_property
    def teammates(self) -> Teammates:
        """`tl.teammates`: members, teams and invitations."""
        return Teammates(self._http)

    @cached_property
    def quotas(self) -> Quotas:
        """`tl.quotas`: the plan, seats and quotas."""
        return Quotas(self._http)

    @cached_property
    def webhooks(self) -> Webhooks:
        """`tl.webhooks`: webhook subscriptions."""
        return Webhooks(self._http)

    async def aclose(self) -> None:
        """Close the connection pool (not an `http_client` you passed in: that one is yours)."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        self._http.check_usable()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


#: The resources, mounted on first use (`cached_property`): a copy mounts its own.
_MOUNTED = tuple(
    name for name, value in vars(TimelinesClient).items() if isinstance(value, cached_property)
)
