"""Webhook events: parsing every shape TimelinesAI sends, rejecting what is not an event,
and dropping repeated deliveries.

The example payloads come from the production webhook spec, read where it lives
(`<repo>/../shared/openapi` or `$TIMELINES_OPENAPI_DIR`): each webhook's explicit
examples, if any, and the payload its schema's per-field examples compose. A new
webhook or example in the spec is covered without touching this file.
"""

from __future__ import annotations

import json
import os
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import timelines_async
from timelines_async import TimelinesError, WebhookEventType
from timelines_async import events as events_module
from timelines_async.events import (
    AccountEvent,
    AccountRef,
    CallEvent,
    ChatEvent,
    ChatRef,
    Deduplicator,
    Event,
    InvalidEventError,
    MessageEvent,
    Party,
    ReactionEvent,
    UnknownEvent,
    dedup_key,
    parse_event,
)

E = WebhookEventType

EXPECTED_CLASS: dict[str, type[Any]] = {
    E.MESSAGE_NEW: MessageEvent,
    E.MESSAGE_RECEIVED_NEW: MessageEvent,
    E.MESSAGE_SENT_NEW: MessageEvent,
    E.MESSAGE_REACTION: ReactionEvent,
    E.CHAT_NEW: ChatEvent,
    E.CHAT_INCOMING_NEW: ChatEvent,
    E.CHAT_OUTGOING_NEW: ChatEvent,
    E.CHAT_RESPONSIBLE_ASSIGNED: ChatEvent,
    E.CHAT_RESPONSIBLE_UNASSIGNED: ChatEvent,
    E.CALL_INCOMING_MISSED: CallEvent,
    E.CALL_INCOMING_ENDED: CallEvent,
    E.CALL_OUTGOING_ENDED: CallEvent,
    E.WHATSAPP_ACCOUNT_CONNECTED: AccountEvent,
    E.WHATSAPP_ACCOUNT_DISCONNECTED: AccountEvent,
    E.WHATSAPP_ACCOUNT_SUSPENDED: AccountEvent,
    E.WHATSAPP_ACCOUNT_RESUMED: AccountEvent,
}
EVENT_CLASSES = (MessageEvent, ReactionEvent, CallEvent, ChatEvent, AccountEvent, UnknownEvent)


# --- the production spec's examples ---------------------------------------------------------


def _spec_path() -> Path | None:
    env = os.environ.get("TIMELINES_OPENAPI_DIR")
    folder = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "openapi"
    path = folder / "webhook_spec.yaml"
    return path if path.is_file() else None


SPEC_PATH = _spec_path()
_NO_SPEC = "webhook_spec.yaml not found in <repo>/../shared/openapi; set TIMELINES_OPENAPI_DIR"
NEEDS_SPEC = pytest.mark.skipif(SPEC_PATH is None, reason=_NO_SPEC)
_MISSING = object()


def _load_spec() -> dict[str, Any]:
    import yaml

    assert SPEC_PATH is not None
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def _resolve(spec: Mapping[str, Any], node: Any) -> Any:
    """Follow `$ref`s (keeping sibling keys, as OpenAPI 3.1 allows)."""
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _compose(spec: Mapping[str, Any], schema: Any) -> Any:
    """A value for `schema` built from the examples the spec gives for it and its parts."""
    schema = _resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = _compose(spec, part)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        for option in schema.get(key, ()):
            value = _compose(spec, option)
            if value is not _MISSING:
                return value
    if "properties" in schema:
        composed = {name: _compose(spec, sub) for name, sub in schema["properties"].items()}
        return {name: value for name, value in composed.items() if value is not _MISSING}
    if schema.get("type") == "array":
        item = _compose(spec, schema.get("items", {}))
        return [] if item is _MISSING else [item]
    return _MISSING


def _spec_examples() -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, payload) for every example of every webhook in the spec."""
    spec = _load_spec()
    for name, path_item in spec["webhooks"].items():
        for method, operation in path_item.items():
            content = _resolve(spec, operation["requestBody"])["content"]["application/json"]
            if "example" in content:
                yield f"{name}-{method}-example", content["example"]
            for key, example in content.get("examples", {}).items():
                yield f"{name}-{method}-{key}", _resolve(spec, example)["value"]
            composed = _compose(spec, content["schema"])
            # The deliveries of a webhook carry its own name (the shared schemas'
            # examples all say the first one, e.g. `message:new`).
            yield f"{name}-{method}-composed", {**composed, "event_type": name}


def _example_params() -> list[Any]:
    if SPEC_PATH is None:
        return [pytest.param("", {}, marks=pytest.mark.skip(reason=_NO_SPEC), id="no-spec")]
    return [pytest.param(key, payload, id=key) for key, payload in _spec_examples()]


EXAMPLES = _example_params()


def _assert_mirrors(model: Any, data: Mapping[str, Any], path: str) -> None:
    """Every field of `data` is an attribute of `model` with the same meaning."""
    for key, value in data.items():
        assert hasattr(model, key), f"{path} has no `{key}`, a field the spec names"
        _assert_same(getattr(model, key), value, f"{path}.{key}")


def _assert_same(attr: Any, value: Any, path: str) -> None:
    if attrs.has(type(attr)):
        _assert_mirrors(attr, value, path)
    elif isinstance(attr, tuple):
        assert len(attr) == len(value), path
        for index, (item, raw) in enumerate(zip(attr, value, strict=True)):
            _assert_same(item, raw, f"{path}[{index}]")
    elif isinstance(attr, datetime):
        assert attr.utcoffset() is not None, f"{path} is a naive datetime"
        assert attr == datetime.fromisoformat(value), path
    else:
        assert attr == value, path


@pytest.mark.parametrize(("key", "payload"), EXAMPLES)
def test_every_spec_example_parses_into_its_class_with_every_field(
    key: str, payload: dict[str, Any]
) -> None:
    event = parse_event(json.dumps(payload).encode())

    expected = EXPECTED_CLASS.get(payload["event_type"], UnknownEvent)
    assert type(event) is expected, key
    assert event.event_type == payload["event_type"]
    assert _conforms(event, type(event))
    if isinstance(event, UnknownEvent):
        assert event.payload == payload
    else:
        _assert_mirrors(event, payload, type(event).__name__)


def _typed_example(cls: type[Any]) -> tuple[str, dict[str, Any]]:
    for param in EXAMPLES:
        key, payload = param.values
        if EXPECTED_CLASS.get(payload["event_type"]) is cls:
            return key, payload
    raise AssertionError(f"the spec has no example for {cls.__name__}")


def _aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


@NEEDS_SPEC
@pytest.mark.parametrize(
    ("cls", "check"),
    [
        (
            MessageEvent,
            lambda e: (
                isinstance(e.message.message_uid, str)
                and type(e.chat.chat_id) is int
                and _aware(e.message.timestamp)
                and _aware(e.message.received_timestamp)
                and isinstance(e.message.sender.full_name, str)
            ),
        ),
        (
            ReactionEvent,
            lambda e: (
                isinstance(e.reaction.message_uid, str)
                and type(e.chat.chat_id) is int
                and _aware(e.reaction.timestamp)
                and all(type(count) is int for count in e.reaction.reactions.values())
            ),
        ),
        (
            CallEvent,
            lambda e: (
                isinstance(e.call_details.message_uid, str)
                and type(e.chat.chat_id) is int
                and _aware(e.call_details.timestamp)
            ),
        ),
        (
            ChatEvent,
            lambda e: (
                type(e.chat.id) is int
                and _aware(e.chat.created_timestamp)
                and _aware(e.whatsapp_account.connected_on)
            ),
        ),
        (
            AccountEvent,
            lambda e: (
                isinstance(e.whatsapp_account.id, str) and _aware(e.whatsapp_account.connected_on)
            ),
        ),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_spec_examples_carry_typed_ids_and_aware_timestamps(
    cls: type[Any], check: Callable[[Any], bool]
) -> None:
    _, payload = _typed_example(cls)
    assert check(parse_event(payload))


@NEEDS_SPEC
def test_the_spec_core_webhooks_are_exactly_the_modelled_types() -> None:
    names = set(_load_spec()["webhooks"])
    assert {name for name in names if not name.startswith("waba:")} == set(EXPECTED_CLASS)


# --- the flat `data` envelope and other tolerated variants ---------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [
        pytest.param(
            {
                "event_type": "message:received:new",
                "data": {
                    "chat_id": "42",
                    "chat_name": "Jane Doe",
                    "message_uid": "m-1",
                    "text": "hours?",
                    "sender_phone": "+14155551234",
                    "sender_name": "Jane Doe",
                    "from_me": False,
                    "timestamp": "2026-01-02 03:04:05 +0000",
                },
            },
            lambda e: (
                isinstance(e, MessageEvent)
                and e.chat == ChatRef(chat_id=42, full_name="Jane Doe")
                and e.message.message_uid == "m-1"
                and e.message.text == "hours?"
                and e.message.direction == "received"
                and e.message.sender == Party(full_name="Jane Doe", phone="+14155551234")
                and e.message.timestamp == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
            ),
            id="flat-message",
        ),
        pytest.param(
            {"event_type": "message:sent:new", "data": {"uid": "m-2", "from_me": True}},
            lambda e: e.message.message_uid == "m-2" and e.message.direction == "sent",
            id="flat-message-uid-alias",
        ),
        pytest.param(
            {
                "event_type": "message:new",
                "data": {"chat": {"chat_id": 7}, "message": {"message_uid": "m-3"}},
            },
            lambda e: e.chat.chat_id == 7 and e.message.message_uid == "m-3",
            id="data-wrapping-nested",
        ),
        pytest.param(
            {
                "event_type": "message:new",
                "message": {"message_uid": "nested"},
                "data": {"message_uid": "flat"},
            },
            lambda e: e.message.message_uid == "nested",
            id="nested-wins-over-data",
        ),
        pytest.param(
            {
                "event_type": "chat:responsible:assigned",
                "data": {"chat_id": 9, "responsible_email": "a@example.com", "labels": ["vip"]},
            },
            lambda e: (
                isinstance(e, ChatEvent)
                and e.chat.id == 9
                and e.chat.responsible_email == "a@example.com"
                and e.chat.labels == ("vip",)
            ),
            id="flat-chat",
        ),
        pytest.param(
            {"event_type": "whatsapp:account:suspended", "data": {"id": "1@s.whatsapp.net"}},
            lambda e: isinstance(e, AccountEvent) and e.whatsapp_account.id == "1@s.whatsapp.net",
            id="flat-account",
        ),
        pytest.param(
            {
                "event_type": "call:incoming:missed",
                "data": {"chat_id": 3, "message_uid": "c-1", "status": "Missed"},
            },
            lambda e: (
                isinstance(e, CallEvent)
                and e.call_details.message_uid == "c-1"
                and e.chat == ChatRef(chat_id=3)
            ),
            id="flat-call",
        ),
        pytest.param(
            {
                "event_type": "message:reaction",
                "data": {"chat_id": 3, "message_uid": "r-1", "emoji": "👍", "action": "set"},
            },
            lambda e: isinstance(e, ReactionEvent) and e.reaction.emoji == "👍",
            id="flat-reaction",
        ),
        pytest.param(
            {
                "event_type": "message:received:new",
                "data": {
                    "chat_id": 3,
                    "message_uid": "m-6",
                    "whatsapp_account_id": "14155550000@s.whatsapp.net",
                    "whatsapp_account_phone": "+14155550000",
                },
            },
            lambda e: (
                e.whatsapp_account
                == AccountRef(
                    phone="+14155550000", whatsapp_account_wid="14155550000@s.whatsapp.net"
                )
            ),
            id="flat-message-keeps-the-account-id",
        ),
        pytest.param(
            {"event_type": "Message:New", "message": {"message_uid": "m-4"}},
            lambda e: isinstance(e, MessageEvent) and e.event_type is E.MESSAGE_NEW,
            id="event-type-case-insensitive",
        ),
        pytest.param(
            {
                "event_type": "message:new",
                "message": {"message_uid": "m-5", "sender": None, "attachments": None},
                "chat": None,
                "surprise": {"new": "field"},
            },
            lambda e: e.chat is None and e.message.sender is None and e.message.attachments == (),
            id="nulls-and-unknown-fields",
        ),
        pytest.param(
            {"event_type": "chat:new", "chat": {"id": "123456", "labels": None}},
            lambda e: e.chat.id == 123456 and e.chat.labels == (),
            id="chat-id-string-to-int",
        ),
    ],
)
def test_tolerated_variants_map_what_can_be_mapped(
    body: dict[str, Any], check: Callable[[Any], bool]
) -> None:
    assert check(parse_event(body))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(json.dumps({"event_type": "message:new", "message": {}}), id="str"),
        pytest.param(json.dumps({"event_type": "message:new", "message": {}}).encode(), id="bytes"),
        pytest.param(b"\xef\xbb\xbf" + b'{"event_type": "message:new", "message": {}}', id="bom"),
        pytest.param(bytearray(b'{"event_type": "message:new", "message": {}}'), id="bytearray"),
        pytest.param({"event_type": "message:new", "message": {}}, id="mapping"),
    ],
)
def test_accepts_bytes_text_and_mappings(body: Any) -> None:
    assert isinstance(parse_event(body), MessageEvent)


@pytest.mark.parametrize(
    "event_type",
    ["waba:message:received", "waba:template:approved", "chat:created", "something:new"],
)
def test_unknown_event_types_are_kept_raw_not_rejected(event_type: str) -> None:
    body = {"event_type": event_type, "template": {"id": 501, "name": "x"}, "n": [1, None]}

    event = parse_event(json.dumps(body))

    assert event == UnknownEvent(event_type=event_type, payload=body)


def test_a_parsed_mapping_is_copied_not_aliased() -> None:
    body: dict[str, Any] = {"event_type": "waba:x", "nested": {"a": 1}}
    event = parse_event(body)
    body["nested"]["a"] = 2
    assert isinstance(event, UnknownEvent)
    assert event.payload["nested"] == {"a": 1}


@pytest.mark.parametrize(
    ("make", "part"),
    [
        (lambda: _message(), "message"),
        (lambda: _reaction(), "reaction"),
        (lambda: _call(), "call_details"),
        (lambda: _chat(), "chat"),
        (lambda: _account(), "whatsapp_account"),
        (lambda: _unknown(), "payload"),
    ],
    ids=[cls.__name__ for cls in EVENT_CLASSES],
)
def test_events_and_their_parts_are_frozen(make: Callable[[], Event], part: str) -> None:
    event = make()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.event_type = "changed"  # type: ignore[misc]
    inner = getattr(event, part)
    if attrs.has(type(inner)):
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(inner, attrs.fields(type(inner))[0].name, "changed")


# --- what is not an event ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "match"),
    [
        pytest.param(b"", "not JSON", id="empty"),
        pytest.param(b"event_type=message:new", "not JSON", id="form-encoded"),
        pytest.param(b'{"event_type": "message:new",', "not JSON", id="truncated"),
        pytest.param(b"\xff\xfe{}", "not UTF-8", id="invalid-utf8"),
        pytest.param("[" * 100_000, "not JSON", id="too-deep"),
        pytest.param(b'[{"event_type": "message:new"}]', "not an array", id="array"),
        pytest.param(b'"message:new"', "not a string", id="string"),
        pytest.param(b"null", "not null", id="null"),
        pytest.param(b"42", "not a number", id="number"),
        pytest.param(b"{}", "event_type", id="no-event-type"),
        pytest.param(b'{"event_type": null}', "event_type", id="null-event-type"),
        pytest.param(b'{"event_type": 7}', "event_type", id="number-event-type"),
        pytest.param(b'{"event_type": " "}', "event_type", id="blank-event-type"),
        pytest.param(b'{"event_type": ["message:new"]}', "event_type", id="list-event-type"),
        pytest.param(b'{"event_type": "message:new"}', "needs a `message`", id="no-message"),
        pytest.param(b'{"event_type": "chat:new", "chat": null}', "needs a `chat`", id="null-chat"),
        pytest.param(
            b'{"event_type": "message:new", "message": "hi"}', "needs a `message`", id="str-part"
        ),
        pytest.param(
            b'{"event_type": "message:new", "message": {}, "chat": []}',
            "expected shape",
            id="list-subpart",
        ),
        pytest.param(
            b'{"event_type": "chat:new", "chat": {"id": "abc"}}', "expected shape", id="bad-id"
        ),
        pytest.param(
            b'{"event_type": "message:new", "message": {"timestamp": "yesterday"}}',
            "expected shape",
            id="bad-timestamp",
        ),
        pytest.param(
            b'{"event_type": "message:new", "message": {"attachments": {"a": 1}}}',
            "expected shape",
            id="bad-attachments",
        ),
        pytest.param(
            b'{"event_type": "message:reaction", "reaction": {"reactions": {"x": "many"}}}',
            "expected shape",
            id="bad-reaction-count",
        ),
        pytest.param({"event_type": "waba:x", "at": object()}, "not JSON", id="mapping-not-json"),
        pytest.param(42, "bytes, str or a mapping", id="wrong-python-type"),
    ],
)
def test_a_body_that_is_not_an_event_raises_invalid_event_error(body: Any, match: str) -> None:
    with pytest.raises(InvalidEventError, match=match):
        parse_event(body)


def test_invalid_event_error_is_a_timelines_error_exported_at_top_level() -> None:
    assert issubclass(InvalidEventError, TimelinesError)
    assert timelines_async.InvalidEventError is InvalidEventError


def test_the_events_module_exports_what_it_lists() -> None:
    assert events_module.__all__ == sorted(events_module.__all__)
    for name in events_module.__all__:
        assert hasattr(events_module, name), name


# --- fuzzing: parse_event only ever raises InvalidEventError -------------------------------

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["2024-01-08 10:35:18 +0200", "2024-13-45", "123", "-7", "²", "", "1e9"]),
)
_json = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


def _parts_of(hint: Any) -> list[type[Any]]:
    found = [hint] if attrs.has(hint) else []
    for arg in typing.get_args(hint):
        found += _parts_of(arg)
    return found


def _shaped(cls: type[Any], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the field names of `cls`, holding anything JSON can hold."""
    hints = typing.get_type_hints(cls)
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in attrs.fields(cls):
        options: list[st.SearchStrategy[Any]] = [_json]
        if depth < 2:
            for part in _parts_of(hints[field.name]):
                sub = _shaped(part, depth + 1)
                options += [sub, st.lists(sub, max_size=2)]
        optional[field.name] = st.one_of(options)
    return st.fixed_dictionaries({}, optional=optional)


_event_types = st.sampled_from([*EXPECTED_CLASS, "waba:message:failed", "MESSAGE:NEW"])
_typed_bodies = st.builds(
    lambda event_type, body, flat: (
        {"event_type": event_type, "data": body} if flat else {**body, "event_type": event_type}
    ),
    _event_types,
    st.one_of([_shaped(cls) for cls in EVENT_CLASSES[:-1]]),
    st.booleans(),
)


def _conforms(value: Any, hint: Any) -> bool:
    """`value` has the type its annotation promises, all the way down."""
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in args)
    if origin is tuple:
        return isinstance(value, tuple) and all(_conforms(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            _conforms(k, args[0]) and _conforms(v, args[1]) for k, v in value.items()
        )
    if attrs.has(hint):
        hints = typing.get_type_hints(hint)
        return isinstance(value, hint) and all(
            _conforms(getattr(value, f.name), hints[f.name]) for f in attrs.fields(hint)
        )
    if hint is datetime:
        return isinstance(value, datetime) and value.utcoffset() is not None
    if hint in (int, bool):
        return type(value) is hint
    return isinstance(value, hint)


def _parse_or_reject(body: Any) -> Event | None:
    try:
        event = parse_event(body)
    except InvalidEventError:
        return None
    assert _conforms(event, type(event)), event
    assert len(dedup_key(event)) == 32
    return event


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _parse_or_reject(body)


@FUZZ
@given(_json)
def test_fuzz_arbitrary_json(value: Any) -> None:
    _parse_or_reject(json.dumps(value))


@FUZZ
@given(_typed_bodies)
def test_fuzz_event_shaped_bodies(body: dict[str, Any]) -> None:
    event = _parse_or_reject(json.dumps(body))
    if event is not None:
        assert type(event) is EXPECTED_CLASS.get(body["event_type"].casefold(), UnknownEvent)


# --- de-duplication ---------------------------------------------------------------------


def _message(uid: str = "m-1", event_type: str = "message:new", **message: Any) -> Event:
    return parse_event({"event_type": event_type, "message": {"message_uid": uid, **message}})


def _reaction(**reaction: Any) -> Event:
    fields = {
        "message_uid": "m-1",
        "action": "set",
        "emoji": "👍",
        "reactor": {"full_name": "Jane", "phone": "+1"},
        "timestamp": "2024-01-08 10:35:18 +0200",
        **reaction,
    }
    return parse_event({"event_type": "message:reaction", "reaction": fields})


def _call(uid: str = "c-1", event_type: str = "call:incoming:missed") -> Event:
    return parse_event({"event_type": event_type, "call_details": {"message_uid": uid}})


def _chat(event_type: str = "chat:responsible:assigned", **chat: Any) -> Event:
    fields = {"id": 1, "responsible_email": "a@example.com", **chat}
    return parse_event({"event_type": event_type, "chat": fields})


def _account(event_type: str = "whatsapp:account:connected", **account: Any) -> Event:
    fields = {"id": "1@s.whatsapp.net", "status": "active", **account}
    return parse_event({"event_type": event_type, "whatsapp_account": fields})


def _unknown(**payload: Any) -> Event:
    return parse_event({"event_type": "waba:message:read", **payload})


@pytest.mark.parametrize(
    ("first", "repeat"),
    [
        pytest.param(_message(text="hi"), _message(text="hi"), id="message"),
        pytest.param(
            _message(received_timestamp="2024-01-08 10:35:18 +0200"),
            _message(received_timestamp="2024-01-08 10:35:19 +0200"),
            id="message-by-uid-not-content",
        ),
        pytest.param(_reaction(), _reaction(), id="reaction"),
        pytest.param(_call(), _call(), id="call"),
        pytest.param(_chat(read=False), _chat(read=True), id="chat-by-state-not-flags"),
        pytest.param(_account(), _account(), id="account"),
        pytest.param(_unknown(a=1, b=[1, 2]), _unknown(b=[1, 2], a=1), id="unknown-key-order"),
        pytest.param(
            parse_event(b'{"event_type":"message:new","message":{"message_uid":"m"}}'),
            parse_event(b'{ "message": {"message_uid": "m"},\n "event_type": "message:new" }'),
            id="same-json-other-bytes",
        ),
        pytest.param(
            parse_event({"event_type": "message:new", "message": {"text": "no uid"}}),
            parse_event({"event_type": "message:new", "message": {"text": "no uid"}}),
            id="message-without-uid-by-content",
        ),
    ],
)
def test_a_repeated_delivery_is_a_duplicate(first: Event, repeat: Event) -> None:
    dedup = Deduplicator()
    assert dedup.is_duplicate(first) is False
    assert dedup.is_duplicate(repeat) is True
    assert dedup.is_duplicate(first) is True


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param(_message("m-1"), _message("m-2"), id="message-uid"),
        pytest.param(
            _message(event_type="message:new"),
            _message(event_type="message:received:new"),
            id="message-event-type",
        ),
        pytest.param(_reaction(emoji="👍"), _reaction(emoji="❤️"), id="reaction-emoji"),
        pytest.param(_reaction(action="set"), _reaction(action="clear"), id="reaction-action"),
        pytest.param(
            _reaction(reactor={"phone": "+1"}), _reaction(reactor={"phone": "+2"}), id="reactor"
        ),
        pytest.param(
            _reaction(timestamp="2024-01-08 10:35:18 +0200"),
            _reaction(timestamp="2024-01-08 11:00:00 +0200"),
            id="reaction-set-again-later",
        ),
        pytest.param(_call("c-1"), _call("c-2"), id="call-uid"),
        pytest.param(_message("x"), _call("x"), id="message-vs-call-same-uid"),
        pytest.param(_chat(id=1), _chat(id=2), id="chat-id"),
        pytest.param(
            _chat(responsible_email="a@example.com"),
            _chat(responsible_email="b@example.com"),
            id="chat-new-responsible",
        ),
        pytest.param(
            _chat("chat:responsible:assigned"),
            _chat("chat:responsible:unassigned"),
            id="chat-event-type",
        ),
        pytest.param(_account(status="active"), _account(status="suspended"), id="account-status"),
        pytest.param(
            _account(connected_on="2024-01-08 10:35:18 +0200"),
            _account(connected_on="2024-02-08 10:35:18 +0200"),
            id="account-reconnected",
        ),
        pytest.param(
            _account("whatsapp:account:suspended"),
            _account("whatsapp:account:resumed"),
            id="account-event-type",
        ),
        pytest.param(_unknown(a=1), _unknown(a=2), id="unknown-payload"),
    ],
)
def test_different_events_are_not_duplicates(one: Event, other: Event) -> None:
    dedup = Deduplicator()
    assert dedup.is_duplicate(one) is False
    assert dedup.is_duplicate(other) is False
    assert dedup_key(one) != dedup_key(other)


def test_dedup_key_is_stable_across_runs() -> None:
    """Keys may be shared between processes (e.g. in Redis), so they must not use `hash()`."""
    assert dedup_key(_message("m-1")) == "1d7dbca3a91e4aa06816adb903a53644"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("ttl", [60.0, timedelta(seconds=60)], ids=["seconds", "timedelta"])
def test_a_key_expires_after_ttl(ttl: float | timedelta) -> None:
    clock = FakeClock()
    dedup = Deduplicator(ttl=ttl, clock=clock)
    assert dedup.is_duplicate(_message()) is False
    clock.now += 59.9
    assert dedup.is_duplicate(_call()) is False
    clock.now += 0.2  # the message's key is now 60.1 s old, the call's 0.2 s
    assert len(dedup) == 2
    assert dedup.is_duplicate(_message()) is False
    assert dedup.is_duplicate(_call()) is True


def test_a_repeat_refreshes_its_key() -> None:
    clock = FakeClock()
    dedup = Deduplicator(ttl=60, clock=clock)
    dedup.is_duplicate(_message())
    for _ in range(3):
        clock.now += 50
        assert dedup.is_duplicate(_message()) is True


def test_expired_keys_are_dropped_from_memory() -> None:
    clock = FakeClock()
    dedup = Deduplicator(ttl=10, clock=clock)
    for uid in range(100):
        dedup.is_duplicate(_message(str(uid)))
    clock.now += 11
    dedup.is_duplicate(_call())
    assert len(dedup) == 1


def test_a_forgotten_event_is_new_again_and_others_stay_remembered() -> None:
    dedup = Deduplicator(clock=FakeClock())
    dedup.is_duplicate(_message("a"))
    dedup.is_duplicate(_message("b"))

    dedup.forget(_message("a"))
    dedup.forget(_call())  # never seen: nothing happens

    assert dedup.is_duplicate(_message("a")) is False
    assert dedup.is_duplicate(_message("a")) is True
    assert dedup.is_duplicate(_message("b")) is True


def test_without_ttl_keys_stay_until_pushed_out() -> None:
    clock = FakeClock()
    dedup = Deduplicator(max_entries=2, ttl=None, clock=clock)
    dedup.is_duplicate(_message("a"))
    clock.now += 10**9
    assert dedup.is_duplicate(_message("a")) is True


def test_entries_are_bounded_and_the_least_recently_seen_goes_first() -> None:
    dedup = Deduplicator(max_entries=3, clock=FakeClock())
    for uid in ("a", "b", "c"):
        dedup.is_duplicate(_message(uid))
    dedup.is_duplicate(_message("a"))  # "a" seen again: "b" is now the oldest
    dedup.is_duplicate(_message("d"))

    assert len(dedup) == 3
    assert [dedup.is_duplicate(_message(uid)) for uid in ("a", "c", "d")] == [True] * 3
    assert dedup.is_duplicate(_message("b")) is False


def test_memory_stays_bounded_under_many_distinct_events() -> None:
    dedup = Deduplicator(max_entries=50, clock=FakeClock())
    assert not any(dedup.is_duplicate(_message(str(uid))) for uid in range(500))
    assert len(dedup) == 50


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_entries": 0}, "max_entries"),
        ({"max_entries": -1}, "max_entries"),
        ({"ttl": 0}, "ttl"),
        ({"ttl": -5.0}, "ttl"),
        ({"ttl": timedelta(0)}, "ttl"),
    ],
)
def test_deduplicator_rejects_nonsense_limits(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Deduplicator(**kwargs)
