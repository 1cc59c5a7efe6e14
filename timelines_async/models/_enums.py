"""Closed vocabularies of the API, as `StrEnum`s that still compare equal to plain strings.

Model fields typed `X | str` hold the enum member when the API sends a known
value (matched case-insensitively: the API writes both `"Note"` and `"note"`)
and the raw string when it sends one we do not know yet, so a new value on the
server never breaks a user's loop.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MessageStatus", "MessageType", "WebhookEventType"]


class MessageStatus(StrEnum):
    """Delivery status of a message (a call message carries a call status instead)."""

    PENDING = "Pending"
    SENDING = "Sending"
    SENT = "Sent"
    DELIVERED = "Delivered"
    READ = "Read"
    FAILED = "Failed"


class MessageType(StrEnum):
    WHATSAPP = "whatsapp"
    WHATSAPP_CALL = "whatsapp_call"
    NOTE = "note"
    EMAIL = "email"
    SUMMARY = "summary"


class WebhookEventType(StrEnum):
    """The event types a webhook subscription can name (core events; WABA ones are kept as text)."""

    MESSAGE_NEW = "message:new"
    MESSAGE_SENT_NEW = "message:sent:new"
    MESSAGE_RECEIVED_NEW = "message:received:new"
    MESSAGE_REACTION = "message:reaction"
    CHAT_NEW = "chat:new"
    CHAT_INCOMING_NEW = "chat:incoming:new"
    CHAT_OUTGOING_NEW = "chat:outgoing:new"
    CHAT_RESPONSIBLE_ASSIGNED = "chat:responsible:assigned"
    CHAT_RESPONSIBLE_UNASSIGNED = "chat:responsible:unassigned"
    CALL_INCOMING_MISSED = "call:incoming:missed"
    CALL_INCOMING_ENDED = "call:incoming:ended"
    CALL_OUTGOING_ENDED = "call:outgoing:ended"
    WHATSAPP_ACCOUNT_CONNECTED = "whatsapp:account:connected"
    WHATSAPP_ACCOUNT_DISCONNECTED = "whatsapp:account:disconnected"
    WHATSAPP_ACCOUNT_SUSPENDED = "whatsapp:account:suspended"
    WHATSAPP_ACCOUNT_RESUMED = "whatsapp:account:resumed"
