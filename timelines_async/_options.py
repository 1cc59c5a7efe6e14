"""`_Options`: the client's settings, each checked once when the client is built.

A frozen value, so a copy with a few settings changed (`attrs.evolve`) goes
through the same checks. The token is kept out of its `repr`.
"""

from __future__ import annotations

import os
from typing import Any

import attrs
import httpx

from ._auth import token_fingerprint
from ._exceptions import ConfigurationError
from ._limits import SendLimiter
from ._retry import DEFAULT_RETRY_BASE_DELAY, DEFAULT_RETRY_MAX_DELAY
from ._validation import check_integer, check_number, option_error

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_REQUESTS_PER_SECOND",
    "DEFAULT_SEND_INTERVAL",
    "DEFAULT_TIMEOUT",
]

DEFAULT_BASE_URL = "https://app.timelines.ai/integrations/api"
#: Defaults sized to the ~2 requests/s per workspace observed in production: sustained
#: faster traffic only earns 429s and backoff (docs/design/api.md, "Rate limits").
DEFAULT_MAX_CONCURRENCY = 4
DEFAULT_REQUESTS_PER_SECOND = 2.0
DEFAULT_SEND_INTERVAL = 2.0
DEFAULT_MAX_RETRIES = 5
DEFAULT_TIMEOUT = 30.0


def _token(value: object) -> str:
    """The token given, else `TIMELINES_API_TOKEN`; without surrounding whitespace.

    Errors never repeat it.
    """
    token = value if value is not None else os.environ.get("TIMELINES_API_TOKEN")
    if token is not None and not isinstance(token, str):
        raise ConfigurationError(f"the API token must be a string, not {type(token).__name__}")
    if not token or not token.strip():
        raise ConfigurationError(
            "no API token: set TIMELINES_API_TOKEN or pass token=... "
            "(TimelinesAI app -> Integrations -> Public API)"
        )
    token = token.strip()
    # An HTTP header carries ASCII only: anything else is a copy-paste accident (and
    # httpx would fail later with an encoding error that holds the token).
    if not (token.isascii() and token.isprintable()) or " " in token:
        raise ConfigurationError(
            "the API token must be printable ASCII without spaces or control characters"
        )
    return token


def _base_url(value: object) -> str:
    """The URL given, else `TIMELINES_BASE_URL`, else production; without a trailing `/`."""
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(f"base_url must be a string, not {type(value).__name__}")
    url = value or os.environ.get("TIMELINES_BASE_URL") or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base_url must be an http(s) URL, not {url!r}")
    return url.rstrip("/")


def _at_least(minimum: float, *, exclusive: bool = False) -> Any:
    """An attrs validator: a number at or above `minimum`, a `ConfigurationError` if not."""

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        check_number(
            attribute.name, value, minimum=minimum, exclusive=exclusive, error=option_error
        )

    return validate


def _integer_at_least(minimum: int) -> Any:
    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        check_integer(attribute.name, value, minimum=minimum, error=option_error)

    return validate


def _rate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_number(attribute.name, value, minimum=0, error=option_error)


@attrs.frozen(kw_only=True)
class _Options:
    """What `TimelinesClient(...)` was given, checked; a `ConfigurationError` names the culprit."""

    token: str = attrs.field(converter=_token, repr=False)
    base_url: str = attrs.field(default=None, converter=_base_url)
    timeout: float = attrs.field(default=DEFAULT_TIMEOUT, validator=_at_least(0, exclusive=True))
    max_concurrency: int = attrs.field(
        default=DEFAULT_MAX_CONCURRENCY, validator=_integer_at_least(1)
    )
    #: `None` or 0: requests are not paced.
    requests_per_second: float | None = attrs.field(
        default=DEFAULT_REQUESTS_PER_SECOND, validator=_rate
    )
    send_interval: float = attrs.field(default=DEFAULT_SEND_INTERVAL, validator=_at_least(0))
    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=_integer_at_least(0))
    retry_base_delay: float = attrs.field(default=DEFAULT_RETRY_BASE_DELAY, validator=_at_least(0))
    retry_max_delay: float = attrs.field(default=DEFAULT_RETRY_MAX_DELAY, validator=_at_least(0))
    http_client: httpx.AsyncClient | None = None
    send_limiter: SendLimiter | None = None

    @property
    def token_fingerprint(self) -> str:
        """The first 16 hex digits of the token's SHA-256: which token, never the token."""
        return token_fingerprint(self.token)

    def __attrs_post_init__(self) -> None:
        if self.retry_base_delay > self.retry_max_delay:
            raise ConfigurationError(
                "retry_base_delay must not exceed retry_max_delay, not "
                f"{self.retry_base_delay!r} > {self.retry_max_delay!r}"
            )
