"""Input checks that run before any request leaves the machine.

Each raises `InvalidRequestError` naming the argument at fault. The limits are
the API's own (docs/design/api.md, "Field limits"); catching them here saves a round trip and, for
sends, a message that would never go out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime

from ._exceptions import InvalidRequestError

__all__ = [
    "MAX_CAPTION",
    "MAX_CHAT_NAME",
    "MAX_LABEL",
    "MAX_NOTE",
    "MAX_TEXT",
    "bool_param",
    "check_chat_id",
    "check_phone_filter",
    "check_text",
    "check_uid",
    "csv_param",
    "datetime_param",
    "labels_list",
    "normalize_phone",
    "timestamp_param",
]

MAX_TEXT = 2000
MAX_LABEL = 64
MAX_NOTE = 10_000
MAX_CHAT_NAME = 256
MAX_CAPTION = 2000
MAX_FILENAME = 1024
MAX_CONTENT_TYPE = 140

_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_INTERNATIONAL_WITH_PLUS = re.compile(r"\+[1-9]\d{6,14}", re.ASCII)
#: Without a `+`, only a number long enough to carry a country code is taken as
#: international: `14155551234` passes, a national `415-555-1234` does not.
_INTERNATIONAL_DIGITS = re.compile(r"[1-9]\d{10,14}", re.ASCII)
#: A phone filter: digits, with a `+` in front for an exact match.
_PHONE_FILTER = re.compile(r"\+?\d+", re.ASCII)
#: Separators, escapes and control characters (httpx refuses the latter in a URL).
_UNSAFE_IN_PATH = re.compile(r"[\s/?#%\x00-\x1f\x7f]")


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


def normalize_phone(field: str, value: object) -> str:
    """An international phone number with spaces, dashes, dots and parentheses removed."""
    text = check_text(field, value, max_length=64)
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
    text = check_text(field, value, max_length=64, allow_empty=False)
    compact = _ascii_digits(_PHONE_SEPARATORS.sub("", text))
    if not _PHONE_FILTER.fullmatch(compact):
        raise InvalidRequestError(
            field,
            f"{text!r} is not a phone filter: give digits (a whole or partial number), "
            "with a leading + for an exact match",
        )
    return compact


def check_chat_id(value: object, field: str = "chat_id") -> int:
    """A chat id: a positive integer (a numeric string is accepted)."""
    if isinstance(value, bool):
        raise InvalidRequestError(field, "must be an integer chat id, not a bool")
    # isascii: "²" is a digit to isdigit() but not to int().
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        raise InvalidRequestError(field, f"must be a positive integer chat id, not {value!r}")
    return value


def check_uid(field: str, value: object) -> str:
    """A message or file uid: a non-empty string that is safe in a URL path."""
    text = check_text(field, value, max_length=256, allow_empty=False)
    # "." and ".." are dot segments: the URL would be resolved to another endpoint.
    if _UNSAFE_IN_PATH.search(text) or text in (".", ".."):
        raise InvalidRequestError(field, f"{text!r} is not a valid uid")
    return text


def _str_items(field: str, value: object) -> list[str]:
    """One string or an iterable of them, as a list (items are checked by the caller)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes | bytearray) or not isinstance(value, Iterable):
        raise InvalidRequestError(
            field, f"must be a string or an iterable of strings, not {type(value).__name__}"
        )
    return list(value)


def csv_param(field: str, value: str | Iterable[str]) -> str:
    """A filter that takes one or several strings, sent comma-joined in one parameter.

    A comma inside one value would silently split it into two: refused.
    """
    items = _str_items(field, value)
    if not items:
        raise InvalidRequestError(field, "must name at least one value")
    for item in items:
        check_text(field, item, max_length=4096, allow_empty=False)
        if "," in item:
            raise InvalidRequestError(
                field,
                f"{item!r} contains a comma, which the API reads as a separator between "
                "values; pass several values as a list",
            )
    return ",".join(items)


def bool_param(field: str, value: object) -> str:
    if not isinstance(value, bool):
        raise InvalidRequestError(field, f"must be True or False, not {value!r}")
    return "true" if value else "false"


def timestamp_param(field: str, value: object) -> str:
    """A datetime or date filter, sent in ISO format; a string is passed as given."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return check_text(field, value, max_length=64, allow_empty=False)
    raise InvalidRequestError(field, f"must be a datetime, a date or an ISO string, not {value!r}")


def datetime_param(field: str, value: object) -> str:
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
        return check_text(field, value, max_length=64, allow_empty=False)
    raise InvalidRequestError(field, f"must be an aware datetime or an ISO string, not {value!r}")


def labels_list(field: str, labels: str | Iterable[str]) -> list[str]:
    """One label or several, each at most 64 characters."""
    items = _str_items(field, labels)
    for label in items:
        check_text(field, label, max_length=MAX_LABEL, allow_empty=False)
    return items
