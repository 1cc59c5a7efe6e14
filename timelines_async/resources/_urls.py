"""The check shared by every method that hands the API a URL (webhooks, uploads from a URL)."""

from __future__ import annotations

from urllib.parse import urlsplit

from .._exceptions import InvalidRequestError
from .._validation import check_text

__all__ = ["MAX_URL", "check_http_url"]

#: The API's limit for webhook URLs, used for every URL we send.
MAX_URL = 4096


def check_http_url(field: str, value: object, *, max_length: int = MAX_URL) -> str:
    """An absolute `http://` or `https://` URL with a host, no spaces, at most `max_length` chars.

    The API rejects URLs "that would prevent a standard HTTP client from
    dispatching to them"; these are the shapes we can recognise before sending.
    Errors do not repeat the URL: webhook URLs often carry a secret token.
    """
    url = check_text(field, value, max_length=max_length, allow_empty=False)
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise InvalidRequestError(field, "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError as exc:
        raise InvalidRequestError(field, f"is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidRequestError(field, "must be an http:// or https:// URL")
    if not parts.hostname or not port_ok:
        raise InvalidRequestError(field, "has no valid host")
    if any(c in (parts.username or "") + (parts.password or "") for c in "+="):
        raise InvalidRequestError(field, "has an unescaped '+' or '=' in its user info")
    return url
