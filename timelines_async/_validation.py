"""Input checks that run before any request leaves the machine.

Every check is `check_*(field, value, ...)` and returns the value to send (a
phone number without its separators, a flag as the query string spells it).
Request arguments raise `InvalidRequestError` naming the argument at fault; the
number checks also serve options (the client's, the campaign's, the CLI's),
each of which passes the error type its callers expect. The limits are the
API's own (docs/design/api.md, "Field limits"): catching them here saves a
round trip and, for sends, a message that would never go out.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime
from urllib.parse import urlsplit

from ._exceptions import ConfigurationError, InvalidRequestError

__all__ = [
    "MAX_CAPTION",
    "MAX_CHAT_NAME",
    "MAX_CONTENT_TYPE",
    "MAX_EMAIL",
    "MAX_FILENAME",
    "MAX_FILTER_VALUE",
    "MAX_LABEL",
    "MAX_NOTE",
    "MAX_PERSON_NAME",
    "MAX_REACTION",
    "MAX_RESPONSIBLE",
    "MAX_ROLE",
    "MAX_TEAM_TITLE",
    "MAX_TEXT",
    "MAX_UID",
    "MAX_URL",
    "ErrorFactory",
    "check_bool",
    "check_bool_param",
    "check_chat_id",
    "check_csv",
    "check_datetime",
    "check_http_url",
    "check_id",
    "check_integer",
    "check_labels",
    "check_number",
    "check_phone",
    "check_phone_filter",
    "check_text",
    "check_timestamp",
    "check_uid",
    "option_error",
]

#: A message's text.
MAX_TEXT = 2000
MAX_LABEL = 64
MAX_NOTE = 10_000
MAX_CHAT_NAME = 256
MAX_CAPTION = 2000
MAX_FILENAME = 1024
MAX_CONTENT_TYPE = 140
#: The API's limit for webhook URLs, used for every URL we send.
MAX_URL = 4096
#: A reaction: one emoji, possibly written as escapes.
MAX_REACTION = 50
#: The email a chat is assigned to.
MAX_RESPONSIBLE = 254
MAX_EMAIL = 254
#: A teammate's first or last name.
MAX_PERSON_NAME = 150
MAX_TEAM_TITLE = 1024
MAX_ROLE = 64
#: Message, file and WhatsApp ids: the API sets no limit, this one only stops garbage early.
MAX_UID = 256
#: One value of a listing filter (a label, an account id, a name).
MAX_FILTER_VALUE = 4096
#: A phone number as typed, separators included.
_MAX_PHONE_TEXT = 64
#: A timestamp filter given as a string.
_MAX_TIMESTAMP_TEXT = 64

#: Builds the error a check raises from the field's name and what is wrong with it.
ErrorFactory = Callable[[str, str], Exception]

_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_INTERNATIONAL_WITH_PLUS = re.compile(r"\+[1-9]\d{6,14}", re.ASCII)
#: Without a `+`, only a number long enough to carry a country code is taken as
#: international: `14155551234` passes, a national `415-555-1234` does not.
_INTERNATIONAL_DIGITS = re.compile(r"[1-9]\d{10,14}", re.ASCII)
#: A phone filter: digits, with a `+` in front for an exact match.
_PHONE_FILTER = re.compile(r"\+?\d+", re.ASCII)
#: Separators, escapes and control characters (httpx refuses the latter in a URL).
_UNSAFE_IN_PATH = re.compile(r"[\s/?#%\x00-\x1f\x7f]")


def option_error(field: str, message: str) -> ConfigurationError:
    """The error of a bad option: `ConfigurationError("timeout must be ...")`."""
    return ConfigurationError(f"{field} {message}")


def check_number(
    field: str,
    value: object,
    *,
    minimum: float = 0,
    exclusive: bool = False,
    error: ErrorFactory = InvalidRequestError,
) -> float:
    """A finite int or float (a bool is not a number here) at or above `minimum`.

    Above it, strictly, when `exclusive`.
    """
    bound = f"> {minimum:g}" if exclusive else f">= {minimum:g}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < minimum
        or (exclusive and value == minimum)
    ):
        raise error(field, f"must be a number {bound}, not {value!r}")
    return value


def check_integer(
    field: str, value: object, *, minimum: int = 0, error: ErrorFactory = InvalidRequestError
) -> int:
    """An int (not a bool) at or above `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise error(field, f"must be an integer >= {minimum}, not {value!r}")
    return value


def check_text(field: str, value: object, *, max_length: int, allow_empty: bool = True) -> str:
    """A string argument: a `str`, no NUL character, at most `max_length` characters."""
    if not isinstance(value, str):
        raise InvalidRequestError(field, f"must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise InvalidRequestError(field, "must not contain a NUL character")
    if len(value) > max_length:
        raise InvalidRequestError(
            field, f"is {len(value)} characters long; the API accepts at most {max_length}"
        )
    if not allow_empty and not value.strip():
        raise InvalidRequestError(field, "must not be empty")
    return value


def check_phone(field: str, value: object) -> str:
    """An international phone number with spaces, dashes, dots and parentheses removed."""
    text = check_text(field, value, max_length=_MAX_PHONE_TEXT)
    compact = _ascii_digits(_PHONE_SEPARATORS.sub("", text))
    if _INTERNATIONAL_WITH_PLUS.fullmatch(compact) or _INTERNATIONAL_DIGITS.fullmatch(compact):
        return compact
    raise InvalidRequestError(
        field,
        f"{text!r} is not an international phone number; write it with the country code, "
        "as in +14155551234",
    )


def _ascii_digits(text: str) -> str:
    """Digits typed in another script ("+١ ٤١٥ ...") are still digits: send them as ASCII."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def check_phone_filter(field: str, value: object) -> str:
    """A phone to filter chats by, separators removed: whole or partial, national or not.

    With a leading `+` the API matches the number exactly; without one it drops
    leading zeros and matches any number that contains the rest (`0501111111`).
    Only what cannot be a phone filter is refused: letters, or nothing at all.
    """
    text = check_text(field, value, max_length=_MAX_PHONE_TEXT, allow_empty=False)
    compact = _ascii_digits(_PHONE_SEPARATORS.sub("", text))
    if not _PHONE_FILTER.fullmatch(compact):
        raise InvalidRequestError(
            field,
            f"{text!r} is not a phone filter: give digits (a whole or partial number), "
            "with a leading + for an exact match",
        )
    return compact


def check_id(field: str, value: object, *, what: str) -> int:
    """A positive integer id of a `what` ("chat", "webhook", ...); a numeric string is accepted."""
    if isinstance(value, bool):
        raise InvalidRequestError(field, f"must be an integer {what} id, not a bool")
    # isascii: "²" is a digit to isdigit() but not to int().
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        raise InvalidRequestError(field, f"must be a positive integer {what} id, not {value!r}")
    return value


def check_chat_id(value: object, field: str = "chat_id") -> int:
    """A chat id: a positive integer (a numeric string is accepted)."""
    return check_id(field, value, what="chat")


def check_uid(field: str, value: object) -> str:
    """A message or file uid: a non-empty string that is safe in a URL path."""
    text = check_text(field, value, max_length=MAX_UID, allow_empty=False)
    # "." and ".." are dot segments: the URL would be resolved to another endpoint.
    if _UNSAFE_IN_PATH.search(text) or text in (".", ".."):
        raise InvalidRequestError(field, f"{text!r} is not a valid uid")
    return text


def check_bool(field: str, value: object) -> bool:
    """`True` or `False`, nothing truthy: `"false"` would read as true."""
    if not isinstance(value, bool):
        raise InvalidRequestError(field, f"must be True or False, not {value!r}")
    return value


def check_bool_param(field: str, value: object) -> str:
    """A flag as a query parameter spells it: `"true"` or `"false"`."""
    return "true" if check_bool(field, value) else "false"


def _str_items(field: str, value: object) -> list[str]:
    """One string or an iterable of them, as a list (items are checked by the caller)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes | bytearray) or not isinstance(value, Iterable):
        raise InvalidRequestError(
            field, f"must be a string or an iterable of strings, not {type(value).__name__}"
        )
    return list(value)


def check_csv(field: str, value: str | Iterable[str]) -> str:
    """A filter that takes one or several strings, sent comma-joined in one parameter.

    A comma inside one value would silently split it into two: refused.
    """
    items = _str_items(field, value)
    if not items:
        raise InvalidRequestError(field, "must name at least one value")
    for item in items:
        check_text(field, item, max_length=MAX_FILTER_VALUE, allow_empty=False)
        if "," in item:
            raise InvalidRequestError(
                field,
                f"{item!r} contains a comma, which the API reads as a separator between "
                "values; pass several values as a list",
            )
    return ",".join(items)


def check_labels(field: str, labels: str | Iterable[str]) -> list[str]:
    """One label or several, each at most `MAX_LABEL` characters."""
    items = _str_items(field, labels)
    for label in items:
        check_text(field, label, max_length=MAX_LABEL, allow_empty=False)
    return items


def check_timestamp(field: str, value: object) -> str:
    """A datetime or date filter, sent in ISO format; a string is passed as given."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return check_text(field, value, max_length=_MAX_TIMESTAMP_TEXT, allow_empty=False)
    raise InvalidRequestError(field, f"must be a datetime, a date or an ISO string, not {value!r}")


def check_datetime(field: str, value: object) -> str:
    """A date-time filter (RFC 3339): a timezone-aware datetime, or an ISO string as given.

    A naive datetime or a bare date is refused: the API reads the value as an
    instant, and guessing the timezone (UTC? the workspace's? this machine's?)
    would silently shift the filter by hours.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidRequestError(
                field,
                f"{value!r} has no timezone; pass an aware datetime, "
                "e.g. datetime(2024, 1, 1, tzinfo=UTC)",
            )
        return value.isoformat()
    if isinstance(value, date):
        raise InvalidRequestError(
            field,
            f"{value!r} is a date; pass an aware datetime, e.g. datetime(2024, 1, 1, tzinfo=UTC)",
        )
    if isinstance(value, str):
        return check_text(field, value, max_length=_MAX_TIMESTAMP_TEXT, allow_empty=False)
    raise InvalidRequestError(field, f"must be an aware datetime or an ISO string, not {value!r}")


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
