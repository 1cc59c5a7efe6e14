"""Input checks as the API makes them: each failure is a 400 `validation_error` naming its field.

The limits are the API's own (docs/design/api.md, "Field limits"); a NUL character is refused
anywhere, in a body or a query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._wire import ApiFailure, Request, field_error

__all__ = [
    "MAX_CAPTION",
    "MAX_CHAT_NAME",
    "MAX_CONTENT_TYPE",
    "MAX_FILENAME",
    "MAX_LABEL",
    "MAX_NOTE",
    "MAX_REACTION",
    "MAX_TEXT",
    "MAX_URL",
    "bool_field",
    "bool_query",
    "check_query",
    "csv_query",
    "json_object",
    "page_number",
    "required_string",
    "string_field",
]

MAX_TEXT = 2000
MAX_LABEL = 64
MAX_NOTE = 10_000
MAX_CHAT_NAME = 256
MAX_FILENAME = 1024
MAX_CONTENT_TYPE = 140
MAX_CAPTION = 2000
MAX_URL = 4096
MAX_REACTION = 50


def _has_nul(value: object, path: list[str | int]) -> list[str | int] | None:
    """The path to the first string (or key) holding a NUL character, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in str(key):
                return [*path, str(key)]
            found = _has_nul(item, [*path, str(key)])
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _has_nul(item, [*path, index])
            if found is not None:
                return found
    return None


def check_query(query: Mapping[str, str]) -> None:
    """No NUL character in any query parameter."""
    for name, value in query.items():
        if "\x00" in name or "\x00" in value:
            raise field_error(name, "must not contain NUL (\\u0000) characters")


def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, with no NUL character anywhere in it."""
    body = request.json()
    if not isinstance(body, dict):
        raise ApiFailure(400, "The request body must be a JSON object", "validation_error")
    found = _has_nul(body, [])
    if found is not None:
        raise field_error(found or ["body"], "must not contain NUL (\\u0000) characters")
    return body


def string_field(
    body: Mapping[str, Any],
    name: str,
    max_length: int,
    *,
    required: bool = False,
    allow_empty: bool = True,
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise field_error(name, "field required")
        return None
    if not isinstance(value, str):
        raise field_error(name, "str type expected")
    if len(value) > max_length:
        raise field_error(name, f"ensure this value has at most {max_length} characters")
    if not allow_empty and not value.strip():
        raise field_error(name, "must not be empty")
    return value


def required_string(
    body: Mapping[str, Any], name: str, max_length: int, *, allow_empty: bool = True
) -> str:
    value = string_field(body, name, max_length, required=True, allow_empty=allow_empty)
    if value is None:  # string_field raised already; this satisfies the type checker
        raise field_error(name, "field required")
    return value


def bool_field(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise field_error(name, "value could not be parsed to a boolean")


def bool_query(query: Mapping[str, str], name: str) -> bool | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    folded = value.lower()
    if folded in ("true", "1"):
        return True
    if folded in ("false", "0"):
        return False
    raise field_error(name, "value could not be parsed to a boolean")


def csv_query(query: Mapping[str, str], name: str) -> list[str] | None:
    value = query.get(name)
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or None


def page_number(query: Mapping[str, str]) -> int:
    text = query.get("page", "1")
    if not text.isdigit() or int(text) < 1:
        raise field_error("page", "must be an integer >= 1")
    return int(text)
