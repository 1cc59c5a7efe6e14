"""Signed URLs out of logs and reprs: a file's temporary download URL is a credential.

Anyone holding it can fetch the file for 15 minutes, so the library shows only
its scheme, host and path (`https://host/path?<signed>`). httpx logs every
request's full URL at INFO; `install_url_filter()` puts a filter on the `httpx`
logger that redacts the URLs this library is fetching at that moment, and
leaves the application's own requests as they are.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fetching_signed_url", "install_url_filter", "redact_url", "repr_url"]

#: The signed URLs being fetched now (a counter: the same URL may be fetched twice at once).
_IN_FLIGHT: Counter[str] = Counter()


def redact_url(url: str | None) -> str | None:
    """`url` without its query string (`…?<signed>` in its place), or as is without one."""
    if url is None or "?" not in url:
        return url
    return url.split("?", 1)[0] + "?<signed>"


def repr_url(url: str | None) -> str:
    """The `repr` of a model's signed URL field: redacted, quoted."""
    return repr(redact_url(url))


@contextmanager
def fetching_signed_url(url: str) -> Iterator[None]:
    """While inside, httpx's log lines about `url` show it redacted."""
    _IN_FLIGHT[url] += 1
    try:
        yield
    finally:
        _IN_FLIGHT[url] -= 1
        if _IN_FLIGHT[url] <= 0:
            del _IN_FLIGHT[url]


class _SignedUrlFilter(logging.Filter):
    """Redacts, in httpx's records, the signed URLs this library is fetching."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _IN_FLIGHT and isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(str(arg)) if str(arg) in _IN_FLIGHT else arg for arg in record.args
            )
        return True


def install_url_filter() -> None:
    """Put the filter on the `httpx` logger, once however many clients are built."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _SignedUrlFilter) for f in logger.filters):
        logger.addFilter(_SignedUrlFilter())
