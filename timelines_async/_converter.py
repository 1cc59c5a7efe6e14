"""The package's one cattrs converter and every hook it needs.

Lenient by design: unknown fields are ignored, `null` and absent both become
`None`, numeric-string ids become `int`, unknown enum values stay strings. A
schema drift on the server must never crash a user's loop; a body that cannot
be read at all becomes `UnexpectedResponseError` (see `structure`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs

from ._exceptions import UnexpectedResponseError
from ._model_hooks import make_list_hook, make_model_hook, make_tuple_hook
from .models import MessageStatus, MessageType, Reactions, ReactionUser, WebhookEventType

__all__ = [
    "STRUCTURE_ERRORS",
    "converter",
    "data_field",
    "make_converter",
    "parse_timestamp",
    "structure",
    "to_jsonable",
]

T = TypeVar("T")


def parse_timestamp(value: object) -> datetime | None:
    """`"2024-01-08 10:35:18 +0200"` (or ISO 8601) to an aware datetime; `""`/`None` to `None`.

    `datetime.fromisoformat` reads the API's format as is on Python 3.11+ and is
    much faster than `strptime`. A timestamp without an offset
    is taken as UTC.
    """
    if type(value) is str and value:  # the API's answers, checked first
        parsed = datetime.fromisoformat(value)
    elif value is None or value == "":
        return None
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value)
    else:
        raise TypeError(f"expected a timestamp string, got {type(value).__name__}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError(f"expected a boolean, got {value!r}")


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TypeError(f"expected an integer, got {value!r}")


def _structure_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _structure_optional_str(value: object, _: object) -> str | None:
    if value is None or type(value) is str:
        return value
    return _structure_str(value, str)


def _structure_optional_bool(value: object, _: object) -> bool | None:
    if value is None or type(value) is bool:
        return value
    return _structure_bool(value, bool)


def _structure_optional_int(value: object, _: object) -> int | None:
    if value is None or type(value) is int:
        return value
    return _structure_int(value, int)


def _structure_labels(value: object, _: object) -> tuple[str, ...]:
    """Labels as strings; some observed answers send `[{"name": ...}]` objects instead."""
    if value.__class__ is list:  # a list of strings, checked without a generator
        labels = tuple(value)
        for label in labels:
            if label.__class__ is not str:
                break
        else:
            return labels
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return tuple(
        _structure_str(item["name"] if isinstance(item, dict) and "name" in item else item, str)
        for item in value
    )


def _open_enum_hook(enum_type: type[StrEnum]) -> Any:
    by_folded = {member.value.casefold(): member for member in enum_type}

    def structure(value: object, _: object) -> StrEnum | str | None:
        if value is None:
            return None
        text = _structure_str(value, str)
        return by_folded.get(text.casefold(), text)

    return structure


def _reactions_hook(conv: cattrs.Converter) -> Callable[[object, object], Reactions]:
    users_hook: Callable[[object, object], tuple[ReactionUser, ...]] | None = None

    def structure_users(value: object) -> tuple[ReactionUser, ...]:
        nonlocal users_hook
        if value.__class__ is list and not value:  # the usual answer: nobody reacted
            return ()
        if users_hook is None:  # looked up once, on first use: the converter is complete then
            users_hook = conv.get_structure_hook(tuple[ReactionUser, ...])
        return users_hook(value, tuple[ReactionUser, ...])

    def structure(value: object, _: object) -> Reactions:
        if value.__class__ is dict and _nobody_reacted(value):  # most messages
            return Reactions()
        if not isinstance(value, dict):
            raise TypeError(f"expected a reactions object, got {type(value).__name__}")
        if "users" in value or "total" in value:
            users = structure_users(value.get("users"))
            counts = _counts(value.get("reactions") or {})
            total = value.get("total")
            return Reactions(
                users=users,
                reactions=counts,
                total=_structure_int(total, int) if total is not None else sum(counts.values()),
            )
        counts = _counts(value)
        return Reactions(reactions=counts, total=sum(counts.values()))

    return structure


def _nobody_reacted(value: dict[str, object]) -> bool:
    """`{"users": [], "reactions": {}, "total": 0}` exactly: told apart, nothing built."""
    total = value.get("total")
    return (
        total == 0
        and total.__class__ is int
        and value.get("users") == []
        and value.get("reactions") == {}
    )


def _counts(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object of counts, got {type(value).__name__}")
    return {str(k): _structure_int(v, int) for k, v in value.items()}


def _structure_datetime(value: object, _: object) -> datetime | None:
    return parse_timestamp(value)


def _is_homogeneous_tuple(annotation: object) -> bool:
    args = get_args(annotation)
    return get_origin(annotation) is tuple and len(args) == 2 and args[1] is Ellipsis


def _plain_str(value: object) -> object:
    """An open enum field's value: the member's string, or the unknown string as it came."""
    return value.value if isinstance(value, StrEnum) else value


def _is_tuple(annotation: object) -> bool:
    return annotation is tuple or get_origin(annotation) is tuple


def _is_list(annotation: object) -> bool:
    return get_origin(annotation) is list and len(get_args(annotation)) == 1


def _is(annotation: object) -> Callable[[Any], bool]:
    return lambda candidate: bool(candidate == annotation)


def make_converter() -> cattrs.Converter:
    """Build a converter with every hook registered here, and nowhere else.

    Hooks that structure what they contain (tuples, lists, models) look their
    items up in the converter being built, so two converters never share state.
    """
    conv = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
    conv.register_structure_hook_factory(attrs.has, make_model_hook(conv, parse_timestamp))
    conv.register_structure_hook_factory(_is_list, make_list_hook(conv))
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(Reactions, _reactions_hook(conv))

    conv.register_structure_hook_factory(_is_homogeneous_tuple, make_tuple_hook(conv))
    exact: dict[Any, Any] = {
        datetime | None: _structure_datetime,
        tuple[str, ...]: _structure_labels,
        # Optional scalars are most of every model: one call instead of cattrs'
        # generic optional handler plus the scalar hook.
        str | None: _structure_optional_str,
        bool | None: _structure_optional_bool,
        int | None: _structure_optional_int,
    }
    open_enums: list[Any] = []
    for enum_type in (MessageStatus, MessageType, WebhookEventType):
        hook = _open_enum_hook(enum_type)
        open_enums += [enum_type | str, enum_type | str | None]
        exact[enum_type | str] = hook
        exact[enum_type | str | None] = hook
    # Registered by equality, not by class: `X | None` and `tuple[str, ...]` are
    # not classes, and a class dispatch on `datetime | None` would match plain
    # `datetime` fields too.
    for annotation, hook in exact.items():
        conv.register_structure_hook_func(_is(annotation), hook)
    # The other way (`to_jsonable`): what `json.dumps` and web frameworks take as is.
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_unstructure_hook_func(lambda cls: cls in open_enums, _plain_str)
    conv.register_unstructure_hook_func(
        _is_tuple, lambda value: [conv.unstructure(item) for item in value]
    )
    return conv


converter = make_converter()

#: Whatever structuring an answer may raise: `structure` turns each into
#: `UnexpectedResponseError`, `parse_event` into `InvalidEventError`.
STRUCTURE_ERRORS: tuple[type[Exception], ...] = (
    cattrs.BaseValidationError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
)


def structure(data: object, cls: type[T], *, what: str) -> T:
    """Structure an API answer, turning any shape problem into `UnexpectedResponseError`."""
    try:
        return converter.structure(data, cls)
    except STRUCTURE_ERRORS as exc:
        raise UnexpectedResponseError(
            f"the answer for {what} does not have the expected shape ({type(exc).__name__}: {exc})",
            status_code=200,
        ) from exc


def to_jsonable(obj: object) -> Any:
    """A model (or a list, tuple or dict of them) as plain JSON-ready data.

    Dicts, lists, strings, numbers, booleans and `None`, under the API's own
    field names; timestamps as ISO 8601 strings with their offset, enum values
    as their strings. What `json.dumps` or a web framework's encoder takes as
    is, and what the models are read back from:

        return JSONResponse(to_jsonable(chat))          # or jsonable_encoder(...)
    """
    return converter.unstructure(obj)


def data_field(data: object, key: str, *, what: str) -> Any:
    """`data[key]` of an answer, or `UnexpectedResponseError` when the answer lacks it."""
    if not isinstance(data, dict) or data.get(key) is None:
        raise UnexpectedResponseError(
            f"the answer for {what} has no `{key}`: {data!r:.200}", status_code=200
        )
    return data[key]
