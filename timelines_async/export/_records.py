"""Models to plain JSON-ready values, shared by the SQLite and JSON Lines stores.

Every attrs field is kept. Timestamps become ISO 8601 in UTC, so that they sort
as text in SQLite; enums become their string value; nested models become objects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import attrs

__all__ = ["plain", "record"]

#: Values stored as they are; checked by exact type first, the common case by far.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def record(instance: Any) -> dict[str, Any]:
    """An attrs instance as a dict of plain values, field by field."""
    return {
        field.name: plain(getattr(instance, field.name)) for field in attrs.fields(type(instance))
    }


def plain(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, datetime):
        return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if attrs.has(type(value)):
        return record(value)
    return value
