"""Incoming webhook events: parse a delivery into a typed event, and drop repeats.

```python
from timelines_async.events import Deduplicator, MessageEvent, parse_event

dedup = Deduplicator()
event = parse_event(body)              # bytes, str or an already decoded mapping
if not dedup.is_duplicate(event) and isinstance(event, MessageEvent):
    print(event.message.message_uid, event.message.text)
```

`parse_event` reads the nested shapes of the production webhook spec
(`{event_type, chat, whatsapp_account, message}` and its siblings) and also the
flat `{event_type, data: {...}}` envelope some guides describe, mapping what can
be mapped. An event type this version does not know (WABA events included)
becomes `UnknownEvent` with the raw payload; a body that is not a JSON object with
a string `event_type`, or a known event whose parts have the wrong types, raises
`InvalidEventError`.

TimelinesAI sends no event id and retries a delivery up to three times, so
`Deduplicator` recognises a repeat by what the event is about (see `dedup_key`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import attrs

from ._converter import STRUCTURE_ERRORS, converter
from ._exceptions import InvalidEventError
from .models._enums import WebhookEventType
from .models.events import (
    AccountEvent,
    AccountInfo,
    AccountRef,
    Attachment,
    CallDetails,
    CallEvent,
    ChatEvent,
    ChatInfo,
    ChatRef,
    Event,
    MessageDetails,
    MessageEvent,
    Party,
    ReactionDetails,
    ReactionEvent,
    UnknownEvent,
)

__all__ = [
    "AccountEvent",
    "AccountInfo",
    "AccountRef",
    "Attachment",
    "CallDetails",
    "CallEvent",
    "ChatEvent",
    "ChatInfo",
    "ChatRef",
    "Deduplicator",
    "Event",
    "InvalidEventError",
    "MessageDetails",
    "MessageEvent",
    "Party",
    "ReactionDetails",
    "ReactionEvent",
    "UnknownEvent",
    "dedup_key",
    "parse_event",
]

_E = WebhookEventType
#: Each core event type: its class and the key of the object that defines it.
_KINDS: dict[WebhookEventType, tuple[type[Any], str]] = {
    _E.MESSAGE_NEW: (MessageEvent, "message"),
    _E.MESSAGE_RECEIVED_NEW: (MessageEvent, "message"),
    _E.MESSAGE_SENT_NEW: (MessageEvent, "message"),
    _E.MESSAGE_REACTION: (ReactionEvent, "reaction"),
    _E.CHAT_NEW: (ChatEvent, "chat"),
    _E.CHAT_INCOMING_NEW: (ChatEvent, "chat"),
    _E.CHAT_OUTGOING_NEW: (ChatEvent, "chat"),
    _E.CHAT_RESPONSIBLE_ASSIGNED: (ChatEvent, "chat"),
    _E.CHAT_RESPONSIBLE_UNASSIGNED: (ChatEvent, "chat"),
    _E.CALL_INCOMING_MISSED: (CallEvent, "call_details"),
    _E.CALL_INCOMING_ENDED: (CallEvent, "call_details"),
    _E.CALL_OUTGOING_ENDED: (CallEvent, "call_details"),
    _E.WHATSAPP_ACCOUNT_CONNECTED: (AccountEvent, "whatsapp_account"),
    _E.WHATSAPP_ACCOUNT_DISCONNECTED: (AccountEvent, "whatsapp_account"),
    _E.WHATSAPP_ACCOUNT_SUSPENDED: (AccountEvent, "whatsapp_account"),
    _E.WHATSAPP_ACCOUNT_RESUMED: (AccountEvent, "whatsapp_account"),
}
_KNOWN = {member.value: member for member in _KINDS}


def parse_event(body: bytes | str | Mapping[str, Any]) -> Event:
    """Read one webhook delivery into a typed event.

    An unknown event type is not an error: it becomes `UnknownEvent`.

    Args:
        body: The raw request body (bytes or text), or the JSON object already
            decoded.

    Returns:
        A `MessageEvent`, `ReactionEvent`, `ChatEvent`, `CallEvent`,
        `AccountEvent` or `UnknownEvent`.

    Raises:
        InvalidEventError: The body is not a JSON object with a non-empty string
            `event_type`, or a known event's parts have the wrong types (a `chat`
            that is a list, a timestamp that is not one).
    """
    payload = _decode(body)
    event_type = payload.get("event_type")
    if not isinstance(event_type, str) or not event_type.strip():
        raise InvalidEventError(
            f"a webhook body needs a non-empty string `event_type`, got {event_type!r:.80}"
        )
    known = _KNOWN.get(event_type.strip().casefold())
    if known is None:
        return UnknownEvent(event_type=event_type, payload=payload)
    cls, core = _KINDS[known]
    nested = {**_nested(payload, core), "event_type": known}
    if not isinstance(nested.get(core), Mapping):
        raise InvalidEventError(
            f"a {event_type} event needs a `{core}` object, got {nested.get(core)!r:.80}"
        )
    try:
        event: Event = converter.structure(nested, cls)
    except STRUCTURE_ERRORS as exc:
        raise InvalidEventError(
            f"the {event_type} event does not have the expected shape ({type(exc).__name__}: "
            f"{exc!s:.200})"
        ) from exc
    return event


def _decode(body: object) -> dict[str, Any]:
    try:
        if isinstance(body, bytes | bytearray | memoryview):
            body = bytes(body).decode("utf-8-sig")
        if isinstance(body, str):
            data = json.loads(body)
        elif isinstance(body, Mapping):
            # A round trip checks that it is JSON data and copies it.
            data = json.loads(json.dumps(dict(body)))
        else:
            raise InvalidEventError(
                f"a webhook body is bytes, str or a mapping, not {type(body).__name__}"
            )
    except UnicodeDecodeError as exc:
        raise InvalidEventError(f"the webhook body is not UTF-8 text ({exc})") from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidEventError(f"the webhook body is not JSON ({exc!s:.200})") from exc
    if not isinstance(data, dict):
        raise InvalidEventError(f"a webhook body is a JSON object, not {_json_kind(data)}")
    return data


def _json_kind(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _nested(payload: dict[str, Any], core: str) -> dict[str, Any]:
    """The spec's nested shape of `payload`, rebuilt from a flat `data` envelope if need be."""
    data = payload.get("data")
    if core in payload or not isinstance(data, dict):
        return payload
    if core in data:  # {"event_type": ..., "data": {"chat": ..., "message": ...}}
        return data
    flat = dict(data)
    chat = _compact(
        chat_id=flat.get("chat_id"),
        full_name=flat.get("chat_name"),
        chat_url=flat.get("chat_url"),
        is_group=flat.get("is_group"),
        responsible_name=flat.get("responsible_name"),
        responsible_email=flat.get("responsible_email"),
    )
    # The flat envelope names the sending account by its JID, `whatsapp_account_id`.
    account = _compact(
        phone=flat.get("whatsapp_account_phone"),
        whatsapp_account_wid=flat.get("whatsapp_account_wid", flat.get("whatsapp_account_id")),
    )
    if core == "message":
        message = {
            **flat,
            "message_uid": flat.get("message_uid", flat.get("uid")),
            "sender": flat.get("sender") or _party(flat, "sender"),
            "recipient": flat.get("recipient") or _party(flat, "recipient"),
        }
        if "direction" not in flat and isinstance(flat.get("from_me"), bool):
            message["direction"] = "sent" if flat["from_me"] else "received"
        nested = {"message": message, "chat": chat, "whatsapp_account": account}
    elif core in ("reaction", "call_details"):
        nested = {core: flat, "chat": chat, "whatsapp_account": account}
    elif core == "chat":
        nested = {
            "chat": {**flat, "id": flat.get("id", flat.get("chat_id"))},
            "whatsapp_account": flat.get("whatsapp_account"),
        }
    else:  # whatsapp_account
        nested = {
            "whatsapp_account": {**flat, "id": flat.get("id", flat.get("whatsapp_account_id"))}
        }
    return nested


def _compact(**fields: Any) -> dict[str, Any] | None:
    """The fields that are set, or `None` when none is."""
    return {k: v for k, v in fields.items() if v is not None} or None


def _party(flat: Mapping[str, Any], role: str) -> dict[str, Any] | None:
    return _compact(full_name=flat.get(f"{role}_name"), phone=flat.get(f"{role}_phone"))


def dedup_key(event: Event) -> str:
    """A stable key for what an event is about: equal for a repeated delivery.

    - message and call events: the event type and the message uid;
    - reactions: the event type, the message uid, the action, the emoji, who
      reacted and when (so that a later set after a clear is news);
    - chat events: the chat id, the event type and the state it announces (the
      responsible and the previous one);
    - account events: the account id, the event type, its status and its
      connected/disconnected times;
    - `UnknownEvent`, and any event missing the ids above: its whole content.

    Use it to share de-duplication between processes, e.g. with Redis
    `SET key 1 NX EX ttl`; `Deduplicator` uses it within one process.

    Args:
        event: A parsed event.

    Returns:
        32 hex characters, the same in every process and run.
    """
    parts: tuple[object, ...] | None = None
    match event:
        case MessageEvent(message=MessageDetails(message_uid=str() as uid)):
            parts = ("message", event.event_type, uid)
        case CallEvent(call_details=CallDetails(message_uid=str() as uid)):
            parts = ("call", event.event_type, uid)
        case ReactionEvent(reaction=ReactionDetails(message_uid=str() as uid) as reaction):
            reactor = reaction.reactor or Party()
            parts = (
                "reaction",
                event.event_type,
                uid,
                reaction.action,
                reaction.emoji,
                reactor.phone,
                reactor.full_name,
                reaction.timestamp,
            )
        case ChatEvent(chat=ChatInfo(id=int() as chat_id) as chat):
            parts = (
                "chat",
                event.event_type,
                chat_id,
                chat.responsible_email,
                chat.responsible_name,
                chat.previous_responsible_email,
                chat.previous_responsible_name,
            )
        case AccountEvent(whatsapp_account=AccountInfo(id=str() as account_id) as account):
            parts = (
                "account",
                event.event_type,
                account_id,
                account.status,
                account.connected_on,
                account.disconnected_on,
            )
        case UnknownEvent():
            parts = ("unknown", event.payload)
        case _:
            parts = ("content", type(event).__name__, attrs.asdict(event))
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class Deduplicator:
    """Remembers recent events to drop repeated deliveries, in bounded memory.

    `is_duplicate(event)` is `False` the first time an event is seen and `True`
    for a repeat seen within `ttl` (seconds or a `timedelta`; `None` keeps keys
    until they are pushed out). At most `max_entries` keys are kept; past that,
    the least recently seen is forgotten first. A repeat refreshes its key.
    `clock` (monotonic seconds) is injectable for tests.

    De-duplication is at most once: an event whose processing failed is dropped
    when it is delivered again, unless `forget(event)` is called first (say,
    before answering 500 so that the API delivers it again).

    In-process only: with several workers, use `timelines_async.redis.RedisDeduplicator`.
    """

    def __init__(
        self,
        max_entries: int = 10_000,
        ttl: float | timedelta | None = 3600.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
        if seconds is not None and seconds <= 0:
            raise ValueError(f"ttl must be positive, got {ttl}")
        self.max_entries = max_entries
        self.ttl = seconds
        self._clock = clock
        #: key -> when it expires; ordered from least to most recently seen,
        #: which is also the order of expiry since every key lives `ttl`.
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def is_duplicate(self, event: Event) -> bool:
        """Whether this event was seen before (and not forgotten); records it either way.

        Args:
            event: A parsed event.

        Returns:
            `False` the first time, `True` for a repeat within `ttl`.
        """
        now = self._clock()
        self._expire(now)
        key = dedup_key(event)
        seen = key in self._seen
        self._seen[key] = now + self.ttl if self.ttl is not None else float("inf")
        self._seen.move_to_end(key)
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return seen

    def forget(self, event: Event) -> None:
        """Forget `event`, so that its next delivery is not a duplicate (nothing if unknown)."""
        self._seen.pop(dedup_key(event), None)

    def _expire(self, now: float) -> None:
        while self._seen:
            key, expires = next(iter(self._seen.items()))
            if expires > now:
                return
            del self._seen[key]
