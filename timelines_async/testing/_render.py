"""Records to the API's JSON shapes (public_api_spec.yaml `ChatInfo`, `MessageInfo`, ...).

Optional fields whose value is unknown are left out rather than sent as
`null`: the spec types them as plain strings, and a client reads an absent
field as `None` all the same.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ._records import (
    AccountRecord,
    ChatRecord,
    FileRecord,
    MessageRecord,
    TeammateRecord,
    WebhookRecord,
)
from ._state import WorkspaceState
from ._wire import json_bytes

__all__ = [
    "ChatJsonCache",
    "MessageJsonCache",
    "render_account",
    "render_chat",
    "render_file",
    "render_message",
    "render_reactions",
    "render_teammate",
    "render_webhook",
]

CHAT_URL = "https://app.timelines.ai/chat/{}/messages/"
PHOTO_URL = "https://app.timelines.ai/static/avatars/{}.png"
ATTACHMENT_URL = "https://cdn.fake.timelines.test/attachments/{}/{}"


def render_chat(
    space: WorkspaceState, chat: ChatRecord, *, with_msg: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": chat.id,
        "name": chat.name,
        "jid": chat.jid,
        "is_group": chat.is_group,
        "closed": chat.closed,
        "read": chat.read,
        "labels": list(chat.labels),
        "chatgpt_autoresponse_enabled": chat.chatgpt_autoresponse_enabled,
        "whatsapp_account_id": chat.whatsapp_account_id,
        "chat_url": CHAT_URL.format(chat.id),
        "created_timestamp": space.clock.text(chat.created_at),
        "unattended": chat.unattended,
        "photo": PHOTO_URL.format(chat.id),
        "is_allowed_to_message": chat.is_allowed_to_message,
    }
    if chat.phone is not None:
        data["phone"] = chat.phone
    if chat.responsible_email is not None:
        data["responsible_email"] = chat.responsible_email
    if chat.responsible_name is not None:
        data["responsible_name"] = chat.responsible_name
    if chat.last_message_uid is not None and chat.last_message_at is not None:
        data["last_message_uid"] = chat.last_message_uid
        data["last_message_timestamp"] = space.clock.text(chat.last_message_at)
        if with_msg:
            last = space.message(chat.last_message_uid)
            data["last_message"] = render_message(space, last, reactions=False)
    if chat.is_group:
        data["group_members"] = [
            {"name": member.name, "role": member.role}
            | ({"phone": member.phone} if member.phone else {})
            | ({"chat_id": member.chat_id} if member.chat_id is not None else {})
            for member in chat.group_members
        ]
    return data


class ChatJsonCache:
    """Each chat's JSON text, kept until the chat changes (its `revision` moves).

    A page of 50 chats is then 50 lookups instead of 50 renders and a JSON
    encoding: the fake stays cheap next to the client a benchmark measures.
    """

    def __init__(self, space: WorkspaceState) -> None:
        self.space = space
        self._texts: dict[int, tuple[int, bytes]] = {}

    def __call__(self, chat: ChatRecord) -> bytes:
        cached = self._texts.get(chat.id)
        if cached is not None and cached[0] == chat.revision:
            return cached[1]
        text = json_bytes(render_chat(self.space, chat))
        self._texts[chat.id] = (chat.revision, text)
        return text


class MessageJsonCache:
    """Recent messages' JSON text, kept while the message and its status stay the same.

    As `ChatJsonCache` does for chats: a page of 50 messages is then mostly
    lookups (the fake's rendering had cost a full export 3 % of its time,
    benchmarks P1). A message with reactions is rendered every time: they
    change in place, and who reacted depends on the chat's account. At most
    `size` texts are kept, the oldest let go first, so that a fake of a
    million messages does not keep a second copy of them all.
    """

    def __init__(self, space: WorkspaceState, size: int = 1 << 16) -> None:
        self.space = space
        self.size = size
        self._texts: OrderedDict[str, tuple[int, str, bytes]] = OrderedDict()

    def __call__(self, message: MessageRecord) -> bytes:
        if message.reactions:
            return json_bytes(render_message(self.space, message))
        status = self.space.message_status(message)
        cached = self._texts.get(message.uid)
        if cached is not None and cached[0] == message.revision and cached[1] == status:
            return cached[2]
        text = json_bytes(render_message(self.space, message))
        self._texts[message.uid] = (message.revision, status, text)
        if len(self._texts) > self.size:
            self._texts.popitem(last=False)
        return text


def render_message(
    space: WorkspaceState, message: MessageRecord, *, reactions: bool = True
) -> dict[str, Any]:
    text = space.clock.text
    data: dict[str, Any] = {
        "uid": message.uid,
        "chat_id": message.chat_id,
        "timestamp": text(message.at),
        "received_timestamp": text(message.received_at),
        "sender_phone": message.sender_phone,
        "sender_name": message.sender_name,
        "recipient_phone": message.recipient_phone,
        "recipient_name": message.recipient_name,
        "from_me": message.from_me,
        "status": space.message_status(message),
        "origin": message.origin,
        "has_attachment": message.has_attachment,
        "message_type": message.message_type,
        "data": dict(message.data),
        "created_by": message.created_by,
    }
    if message.text is not None:
        data["text"] = message.text
    if message.has_attachment and message.attachment_filename is not None:
        data["attachment_filename"] = message.attachment_filename
        data["attachment_url"] = ATTACHMENT_URL.format(message.uid, message.attachment_filename)
    if reactions:
        data["reactions"] = render_reactions(space, message)
    return data


def render_reactions(space: WorkspaceState, message: MessageRecord) -> dict[str, Any]:
    if not message.reactions:
        return {"users": [], "reactions": {}, "total": 0}
    own_phone = space.account(space.chat(message.chat_id).whatsapp_account_id).phone
    users = []
    counts: dict[str, int] = {}
    for phone, (name, emoji) in message.reactions.items():
        users.append(
            {"name": name, "phone": phone, "reaction": emoji, "current": phone == own_phone}
        )
        counts[emoji] = counts.get(emoji, 0) + 1
    return {"users": users, "reactions": counts, "total": len(users)}


def render_account(space: WorkspaceState, account: AccountRecord) -> dict[str, Any]:
    return {
        "id": account.id,
        "phone": account.phone,
        "connected_on": space.clock.text(account.connected_on),
        "status": account.status,
        "owner_name": account.owner_name,
        "owner_email": account.owner_email,
        "account_name": account.account_name,
    }


def render_teammate(space: WorkspaceState, teammate: TeammateRecord) -> dict[str, Any]:
    return {
        "user_id": teammate.user_id,
        "display_name": teammate.display_name,
        "email": teammate.email,
        "role": teammate.role,
        "team": teammate.team,
        "status": teammate.status,
        "invitation_status": teammate.invitation_status,
        "created_at": space.clock.text(teammate.created_at),
        "whatsapp_accounts": [
            render_account(space, account)
            for account in space.accounts
            if account.owner_email == teammate.email
        ],
    }


def render_file(
    space: WorkspaceState, file: FileRecord, download_url: str | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uid": file.uid,
        "filename": file.filename,
        "size": file.size,
        "mimetype": file.mimetype,
        "uploaded_by_email": file.uploaded_by_email,
        "uploaded_at": space.clock.text(file.uploaded_at),
    }
    if download_url is not None:
        data["temporary_download_url"] = download_url
    return data


def render_webhook(webhook: WebhookRecord) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "event_type": webhook.event_type,
        "enabled": webhook.enabled,
        "url": webhook.url,
        "errors_counter": webhook.errors_counter,
    }
