"""Models to plain JSON-ready values, shared by the SQLite and JSON Lines stores.

Every attrs field is kept. Timestamps become ISO 8601 in UTC, so that they sort
as text in SQLite; enums become their string value; nested models become objects.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import attrs

__all__ = ["json_text", "plain", "plain_values", "record"]

#: Values stored as they are; checked by exact type first, the common case by far.
_SCALARS = frozenset({str, int, float, bool, type(None)})

#: `json.dumps(value, ensure_ascii=False)` for both stores, without building an
#: encoder on every call as `json.dumps` does when given an option.
json_text = json.JSONEncoder(ensure_ascii=False).encode


def record(instance: Any) -> dict[str, Any]:
    """An attrs instance as a dict of plain values, field by field."""
    names, _ = _fields(instance.__class__)
    return dict(zip(names, plain_values(instance), strict=True))


def plain_values(instance: Any) -> list[Any]:
    """An attrs instance's field values, in field order, as plain values.

    One C-level `attrgetter` call reads every field; only the values that are
    not already scalars go through `plain`. An export stores tens of thousands
    of messages a minute, in the writer thread, whose Python work holds the GIL
    the event loop needs.
    """
    _, read = _fields(instance.__class__)
    return [value if value.__class__ in _SCALARS else plain(value) for value in read(instance)]


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    """The attrs class's field names, in order, and a function that reads them all."""
    names = tuple(field.name for field in attrs.fields(cls))
    if len(names) == 1:  # attrgetter of one name returns the value itself, not a tuple
        return names, lambda instance: (getattr(instance, names[0]),)
    return names, operator.attrgetter(*names)


def plain(value: Any) -> Any:
    """`value` as JSON-ready data: scalars as they are, the rest converted by type."""
    kind = value.__class__
    if kind in _SCALARS:
        return value
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter_for(kind)
    return convert(value)


def _converter_for(kind: type[Any]) -> Callable[[Any], Any]:
    """How `plain` converts a value of this type: chosen once per type, then looked up."""
    if issubclass(kind, datetime):
        return _utc_text
    if issubclass(kind, Enum):
        return operator.attrgetter("_value_")  # `.value` is a Python-level property
    if issubclass(kind, list | tuple):
        return lambda value: [plain(item) for item in value]
    if issubclass(kind, dict):
        return lambda value: {str(key): plain(item) for key, item in value.items()}
    if attrs.has(kind):
        return record
    return lambda value: value


def _utc_text(value: datetime) -> str:
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()


_CONVERTERS: dict[type[Any], Callable[[Any], Any]] = {}
