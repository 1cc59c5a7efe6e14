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


def record(instance: Any) -> dict[str, Any]:
    """An attrs instance as a dict of plain values, field by field."""
    return {
        field.name: plain(getattr(instance, field.name)) for field in attrs.fields(type(instance))
    }


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return value.value
    if attrs.has(type(value)):
        return record(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return value
