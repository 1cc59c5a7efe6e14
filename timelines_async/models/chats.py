"""Chats (`GET /chats`, `GET /chats/{chat_id}`)."""

from __future__ import annotations

from datetime import datetime

import attrs

from .messages import Message

__all__ = ["Chat", "GroupMember"]


@attrs.frozen(kw_only=True)
class GroupMember:
    name: str | None = None
    phone: str | None = None
    role: str | None = None
    #: The member's one-to-one chat, when one exists.
    chat_id: int | None = None


@attrs.frozen(kw_only=True)
class Chat:
    """A WhatsApp chat (direct or group) as the API describes it."""

    id: int
    name: str | None = None
    #: International phone number; `None` for groups.
    phone: str | None = None
    jid: str | None = None
    is_group: bool | None = None
    closed: bool | None = None
    read: bool | None = None
    labels: tuple[str, ...] = ()
    chatgpt_autoresponse_enabled: bool | None = None
    responsible_email: str | None = None
    responsible_name: str | None = None
    #: The JID of the WhatsApp account that owns the chat.
    whatsapp_account_id: str | None = None
    chat_url: str | None = None
    created_timestamp: datetime | None = None
    last_message_uid: str | None = None
    last_message_timestamp: datetime | None = None
    #: Present only when listed with `with_msg=True`.
    last_message: Message | None = None
    unattended: bool | None = None
    photo: str | None = None
    group_members: tuple[GroupMember, ...] = ()
    is_allowed_to_message: bool | None = None
