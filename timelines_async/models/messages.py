"""Messages, their status history, reactions and send receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ._enums import MessageStatus, MessageType

__all__ = ["Message", "ReactionUser", "Reactions", "SentMessage", "StatusChange"]


@attrs.frozen(kw_only=True)
class ReactionUser:
    name: str | None = None
    phone: str | None = None
    reaction: str | None = None
    #: True when the reaction was placed by the workspace's own account.
    current: bool | None = None


@attrs.frozen(kw_only=True)
class Reactions:
    """Reactions on a message.

    Older API versions sent a bare `{"👍": "2"}` map; it is read into the same
    shape (`reactions` with integer counts, `users` empty, `total` the sum).
    """

    users: tuple[ReactionUser, ...] = ()
    reactions: dict[str, int] = attrs.field(factory=dict)
    total: int = 0


@attrs.frozen(kw_only=True)
class Message:
    """A message in a chat's history: WhatsApp messages, calls and internal notes alike."""

    uid: str
    chat_id: int | None = None
    timestamp: datetime | None = None
    received_timestamp: datetime | None = None
    sender_phone: str | None = None
    sender_name: str | None = None
    recipient_phone: str | None = None
    recipient_name: str | None = None
    #: True for messages sent by the workspace's account: use it for direction.
    from_me: bool | None = None
    text: str | None = None
    attachment_url: str | None = None
    attachment_filename: str | None = None
    status: MessageStatus | str | None = None
    origin: str | None = None
    has_attachment: bool | None = None
    message_type: MessageType | str | None = None
    reactions: Reactions | None = None
    data: dict[str, Any] | None = None
    created_by: str | None = None
    failure_reason: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class StatusChange:
    """One step of a message's delivery timeline."""

    status: MessageStatus | str
    timestamp: datetime | None = None
    failure_reason: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class SentMessage:
    """The API's receipt for a send: accepted for sending, not yet delivered."""

    message_uid: str
