"""Webhook events (what TimelinesAI POSTs to a subscribed URL), as frozen attrs classes.

Attribute names are the webhook spec's own field names (`webhook_spec.yaml`), so the
spec reads as the model reference. As everywhere in the package, a field the payload
leaves out or sends as `null` is `None`, and unknown fields are ignored.

The parts of a message, call or reaction event describe the chat and the account
briefly (`ChatRef`, `AccountRef`); chat and account events carry them in full
(`ChatInfo`, `AccountInfo`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias

import attrs

from .._redact import repr_url
from ._enums import WebhookEventType

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
    "Event",
    "MessageDetails",
    "MessageEvent",
    "Party",
    "ReactionDetails",
    "ReactionEvent",
    "UnknownEvent",
]


@attrs.frozen(kw_only=True)
class Party:
    """A sender, recipient, caller or reactor."""

    full_name: str | None = None
    phone: str | None = None


@attrs.frozen(kw_only=True)
class Attachment:
    #: Valid for 15 minutes; fetch the file through the API after that.
    temporary_download_url: str | None = attrs.field(default=None, repr=repr_url)
    filename: str | None = None
    size: int | None = None
    mimetype: str | None = None


@attrs.frozen(kw_only=True)
class ChatRef:
    """The chat a message, call or reaction belongs to."""

    chat_id: int | None = None
    full_name: str | None = None
    chat_url: str | None = None
    #: Message events only; call and reaction events say `chat_type` instead.
    is_group: bool | None = None
    #: `"direct"` or `"group"` (call and reaction events).
    chat_type: str | None = None
    platform: str | None = None
    #: `+`-prefixed in message events; bare digits (`""` for groups) in call and
    #: reaction events.
    phone: str | None = None
    responsible_name: str | None = None
    responsible_email: str | None = None


@attrs.frozen(kw_only=True)
class AccountRef:
    """The WhatsApp account a message, call or reaction went through."""

    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    #: The account's JID (call and reaction events).
    whatsapp_account_wid: str | None = None


@attrs.frozen(kw_only=True)
class ChatInfo:
    """A chat as chat events describe it."""

    id: int | None = None
    name: str | None = None
    phone: str | None = None
    jid: str | None = None
    is_group: bool | None = None
    closed: bool | None = None
    read: bool | None = None
    labels: tuple[str, ...] = ()
    unattended_customer: bool | None = None
    chatgpt_autoresponse_enabled: bool | None = None
    #: The JID of the WhatsApp account that owns the chat.
    whatsapp_account_id: str | None = None
    chat_url: str | None = None
    created_timestamp: datetime | None = None
    last_message_uid: str | None = None
    last_message_timestamp: datetime | None = None
    responsible_name: str | None = None
    responsible_email: str | None = None
    previous_responsible_name: str | None = None
    previous_responsible_email: str | None = None


@attrs.frozen(kw_only=True)
class AccountInfo:
    """A WhatsApp account as chat and account events describe it."""

    #: The account's JID, e.g. `"123456789@s.whatsapp.net"`.
    id: str | None = None
    phone: str | None = None
    connected_on: datetime | None = None
    disconnected_on: datetime | None = None
    status: str | None = None
    account_name: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None


@attrs.frozen(kw_only=True)
class MessageDetails:
    message_uid: str | None = None
    text: str | None = None
    #: `"sent"` or `"received"`, relative to the WhatsApp account.
    direction: str | None = None
    origin: str | None = None
    #: WhatsApp's time for the message.
    timestamp: datetime | None = None
    #: When TimelinesAI received it.
    received_timestamp: datetime | None = None
    reply_to_uid: str | None = None
    sender: Party | None = None
    recipient: Party | None = None
    attachments: tuple[Attachment, ...] = ()


@attrs.frozen(kw_only=True)
class CallDetails:
    #: The uid of the call's entry in the chat history.
    message_uid: str | None = None
    #: Seconds; `None` when not known.
    duration: int | None = None
    #: `"incoming"` or `"outgoing"`.
    direction: str | None = None
    is_video: bool | None = None
    #: `Missed`, `Answered`, `Rejected`, `No Answer` or `Ended`.
    status: str | None = None
    timestamp: datetime | None = None
    caller: Party | None = None
    recipient: Party | None = None


@attrs.frozen(kw_only=True)
class ReactionDetails:
    #: The uid of the message reacted to.
    message_uid: str | None = None
    #: `"set"` or `"clear"`.
    action: str | None = None
    emoji: str | None = None
    reactor: Party | None = None
    timestamp: datetime | None = None
    #: The message's reaction counts after this change, e.g. `{"👍": 2}`.
    reactions: dict[str, int] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class MessageEvent:
    """`message:new`, `message:received:new`, `message:sent:new`."""

    event_type: WebhookEventType | str
    message: MessageDetails
    chat: ChatRef | None = None
    whatsapp_account: AccountRef | None = None


@attrs.frozen(kw_only=True)
class ReactionEvent:
    """`message:reaction`: a reaction set or cleared (never delivered on `message:new`)."""

    event_type: WebhookEventType | str
    reaction: ReactionDetails
    chat: ChatRef | None = None
    whatsapp_account: AccountRef | None = None


@attrs.frozen(kw_only=True)
class CallEvent:
    """`call:incoming:missed`, `call:incoming:ended`, `call:outgoing:ended` (after the call)."""

    event_type: WebhookEventType | str
    call_details: CallDetails
    chat: ChatRef | None = None
    whatsapp_account: AccountRef | None = None


@attrs.frozen(kw_only=True)
class ChatEvent:
    """`chat:new`, `chat:incoming:new`, `chat:outgoing:new`, `chat:responsible:(un)assigned`."""

    event_type: WebhookEventType | str
    chat: ChatInfo
    whatsapp_account: AccountInfo | None = None


@attrs.frozen(kw_only=True)
class AccountEvent:
    """`whatsapp:account:connected|disconnected|suspended|resumed`."""

    event_type: WebhookEventType | str
    whatsapp_account: AccountInfo


@attrs.frozen(kw_only=True)
class UnknownEvent:
    """An event type this version does not model (WABA events included), kept raw."""

    event_type: str
    #: The whole body as decoded JSON, `event_type` included.
    payload: dict[str, Any]


#: Whatever `parse_event` returns; narrow it with `isinstance` or `match`.
Event: TypeAlias = (
    MessageEvent | ReactionEvent | CallEvent | ChatEvent | AccountEvent | UnknownEvent
)
