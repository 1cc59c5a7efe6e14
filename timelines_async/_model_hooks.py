"""Structuring functions for the frozen attrs models, generated once per class.

cattrs' generated functions call one hook per field and gather the fields in
a dict before building the object. A listed chat has 22 fields, nearly all
`X | None`, and most arrive already of the right type. The function written
here reads each field with `dict.get` and checks its type inline, so that
only a value that needs converting (a numeric-string id, a timestamp, a
nested object) costs a call.

It does not call the class either: a frozen attrs `__init__` stores every
field through `object.__setattr__`, which cost more than all the reading
(about 3 µs a chat). The function fills a twin of the model instead, a
subclass that adds no slots and keeps plain attribute assignment, and then
gives the object its real class (`__class__` assignment, which CPython allows
between classes of the same layout). What comes out is an ordinary frozen
instance of the model; models with validators, converters or
`__attrs_post_init__` are refused, since nothing of `__init__` runs.

The leniency is the converter's own: absent and `null` both give the field's
default, and whatever the inline check does not accept goes to the hook the
converter has for the field's type. cattrs' detailed validation stays off;
instead a failure is raised as `StructureError` naming the class and field
(and, through lists, the item), e.g. `item 3: Chat.labels: expected a list`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, get_args

import attrs
import cattrs

__all__ = ["StructureError", "make_list_hook", "make_model_hook", "make_tuple_hook"]

Hook = Callable[[object, Any], Any]
#: `X | None` fields whose value passes as it is when it is already exactly an X.
_PLAIN = (str, bool, int)


_TEMPLATE = """\
def structure(o, _):
    if o.__class__ is not dict:
        o = obj(o, cls)
    get = o.get
    s = new(twin)
    f = None
    try:
{body}
    except Exception as exc:
        raise fail(cls, f, exc) from exc
    s.__class__ = cls
    return s
"""


class StructureError(ValueError):
    """An answer's value that cannot become its model field, named by its path."""


def make_model_hook(
    conv: cattrs.Converter, timestamp: Callable[[object], datetime | None]
) -> Callable[[type[Any]], Hook]:
    """A hook factory for `conv`: the structuring function of one attrs class.

    A timestamp field reads an ISO string with an offset (the API's own format)
    with `datetime.fromisoformat` inline; anything else goes to `timestamp`,
    which must agree with `fromisoformat` on such strings. The Python call
    around it cost more than the parsing itself.
    """

    def factory(cls: type[Any]) -> Hook:
        attrs.resolve_types(cls)
        fields = attrs.fields(cls)
        names: dict[str, Any] = {
            "cls": cls,
            "twin": _twin(cls),
            "new": object.__new__,
            "timestamp": timestamp,
            "fromiso": datetime.fromisoformat,
            "fail": _fail,
            "obj": _obj,
        }
        body = [
            "\n".join(_read(conv, field, names)) + f"\ns.{field.name} = v_{field.name}"
            for field in fields
        ]
        source = _TEMPLATE.format(body=textwrap.indent("\n".join(body), " " * 8))
        exec(compile(source, f"<model hook {cls.__qualname__}>", "exec"), names)
        function: Hook = names["structure"]
        return function

    return factory


def make_list_hook(conv: cattrs.Converter) -> Callable[[Any], Hook]:
    """A hook factory for `list[X]`: the items structured, a failure naming the item."""

    def factory(annotation: Any) -> Hook:
        (item_type,) = get_args(annotation)
        return _items_hook(conv, item_type, list)

    return factory


def make_tuple_hook(conv: cattrs.Converter) -> Callable[[Any], Hook]:
    """A hook factory for `tuple[X, ...]` fields: as lists, and `null` is an empty tuple."""

    def factory(annotation: Any) -> Hook:
        (item_type, _) = get_args(annotation)
        items = _items_hook(conv, item_type, tuple)
        return lambda value, _: () if value is None else items(value, _)

    return factory


def _items_hook(conv: cattrs.Converter, item_type: Any, collection: type[Any]) -> Hook:
    item = conv.get_structure_hook(item_type)

    def structure(value: object, _: object) -> Any:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        try:
            return collection([item(element, item_type) for element in value])
        except Exception as exc:
            index = _first_failing(value, item, item_type)
            raise StructureError(f"item {index}: {exc}") from exc

    return structure


def _read(conv: cattrs.Converter, field: attrs.Attribute[Any], names: dict[str, Any]) -> list[str]:
    """The lines that read `field` from `o` into `v_<name>`.

    The field's name is noted in `f`, for the error, only where something can
    raise: reading a required field, or a value that needs converting.
    """
    name, annotation, value = field.name, field.type, f"v_{field.name}"
    members = get_args(annotation)
    optional = len(members) == 2 and type(None) in members and field.default is None
    target = next(m for m in members if m is not type(None)) if optional else annotation
    names[f"h_{name}"], names[f"t_{name}"] = conv.get_structure_hook(target), target
    names[f"p_{name}"], names[f"d_{name}"] = target, field.default
    convert = f"    f = {name!r}; {value} = h_{name}({value}, t_{name})"
    if field.default is attrs.NOTHING:  # required: a missing key is an error
        read = [f"f = {name!r}", f"{value} = o[{name!r}]"]
        if target not in _PLAIN:
            return [*read, convert.strip()]
        return [*read, f"if {value}.__class__ is not p_{name}:", convert]
    read = [f"{value} = get({name!r})"]
    if optional and target is datetime:
        return [
            *read,
            f"if {value}.__class__ is str and {value}:",
            f"    f = {name!r}; parsed = fromiso({value})",
            f"    {value} = parsed if parsed.tzinfo is not None else timestamp({value})",
            f"elif {value} is not None:",
            f"    f = {name!r}; {value} = timestamp({value})",
        ]
    if optional and target in _PLAIN:
        return [*read, f"if {value}.__class__ is not p_{name} and {value} is not None:", convert]
    if field.default is None:
        return [*read, f"if {value} is not None:", convert]
    # A collection, or any other default of its own: absent or null give the default.
    default = f"d_{name}.factory()" if isinstance(field.default, attrs.Factory) else f"d_{name}"  # type: ignore[arg-type]
    return [*read, f"if {value} is None:", f"    {value} = {default}", "else:", convert]


def _twin(cls: type[Any]) -> type[Any]:
    """A subclass of `cls` with its layout and plain attribute assignment, to fill, then retype."""
    runs_code = (
        hasattr(cls, "__attrs_pre_init__")
        or hasattr(cls, "__attrs_post_init__")
        or any(field.validator or field.converter for field in attrs.fields(cls))
    )
    if runs_code:
        raise TypeError(f"{cls.__qualname__}: a model whose __init__ runs code cannot be filled")
    plain = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,  # both decide tp_setattro: no Python hook at all
    }
    return type(f"_{cls.__name__}Twin", (cls,), plain)


def _obj(value: object, cls: type[Any]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{cls.__name__}: expected an object, got {type(value).__name__}")
    return dict(value)


def _fail(cls: type[Any], field: str | None, exc: Exception) -> StructureError:
    where = cls.__name__ if field is None else f"{cls.__name__}.{field}"
    if isinstance(exc, KeyError) and field is not None:
        return StructureError(f"{where} is missing")
    if isinstance(exc, StructureError):
        return StructureError(f"{where}: {exc}")
    return StructureError(f"{where}: {exc} ({type(exc).__name__})")


def _first_failing(values: list[Any] | tuple[Any, ...], item: Hook, item_type: Any) -> int:
    for index, element in enumerate(values):
        try:
            item(element, item_type)
        except Exception:
            return index
    return -1  # pragma: no cover - the same items failed a moment ago
