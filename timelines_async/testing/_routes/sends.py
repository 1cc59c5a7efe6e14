"""Sending messages: into a chat, to a phone, a JID or a chat name, files and voice notes.

These are the operations that can lose their answer (`Route.sends`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._checks import MAX_CHAT_NAME, MAX_LABEL, MAX_TEXT, json_object, required_string, string_field
from .._records import AccountRecord, ChatRecord, MessageRecord
from .._state import Attachment, WorkspaceState, international_phone
from .._wire import ApiFailure, Request, Response, field_error, ok
from ._common import Route, chat_of, read_upload

__all__ = ["SendRoutes"]


def sent(message: MessageRecord) -> Response:
    return ok({"message_uid": message.uid})


class SendRoutes:
    def __init__(self, space: WorkspaceState, *, max_upload_size: int) -> None:
        self.space = space
        self.max_upload_size = max_upload_size

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/chats/{}/messages", self.send_to_chat, sends=True),
            Route("POST", "/chats/{}/file_message", self.send_file, sends=True),
            Route("POST", "/chats/{}/voice_message", self.send_voice, sends=True),
            Route("POST", "/messages", self.send_to_phone, sends=True),
            Route("POST", "/messages/to_jid", self.send_to_jid, sends=True),
            Route("POST", "/messages/to_chat_name", self.send_to_chat_name, sends=True),
        ]

    def send_to_chat(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = chat_of(self.space, args[0])
        body = json_object(request)
        text, attachment, label, reply_to = self._common_send_fields(body, chat)
        self._check_can_message(chat)
        return sent(
            self.space.send(chat, text=text, attachment=attachment, label=label, reply_to=reply_to)
        )

    def send_to_phone(self, request: Request, args: tuple[str, ...]) -> Response:
        """A send to the contact's chat on the sending number, created if there is none.

        The sending number is `whatsapp_account_phone`, else the most recently
        connected account (the API's documented default): with several numbers,
        a send without one goes to that account's chat with the contact, even
        when the contact's chat on another number is more recently active.
        """
        body = json_object(request)
        raw_phone = required_string(body, "phone", 64)
        phone = international_phone(raw_phone)
        if phone is None:
            raise field_error("phone", "invalid phone number format")
        account = self._sender(body)
        text, attachment, label, _ = self._common_send_fields(body, None)
        chat = self.space.direct_chat(phone, account)
        if chat is None:
            cost = 2 if text and attachment else 1
            self.space.check_send_allowed(cost)
            chat = self.space.create_chat(
                phone=phone,
                jid=phone[1:] + "@s.whatsapp.net",
                name=string_field(body, "chat_name", MAX_CHAT_NAME),
                account=account,
            )
            self._chat_created(chat)
        return sent(self.space.send(chat, text=text, attachment=attachment, label=label))

    def send_to_jid(self, request: Request, args: tuple[str, ...]) -> Response:
        body = json_object(request)
        jid = required_string(body, "jid", 256, allow_empty=False)
        account = self._sender(body)
        chat = self._jid_chat(jid, account)
        text, attachment, label, reply_to = self._common_send_fields(body, chat)
        if chat is None:
            user, _, server = jid.partition("@")
            if server != "s.whatsapp.net" or international_phone("+" + user) is None:
                raise ApiFailure(404, f"Chat with jid {jid} not found", "not_found")
            self.space.check_send_allowed(2 if text and attachment else 1)
            chat = self.space.create_chat(phone="+" + user, jid=jid, name=None, account=account)
            self._chat_created(chat)
        self._check_can_message(chat)
        message = self.space.send(
            chat, text=text, attachment=attachment, label=label, reply_to=reply_to
        )
        return sent(message)

    def send_to_chat_name(self, request: Request, args: tuple[str, ...]) -> Response:
        body = json_object(request)
        name = required_string(body, "chat_name", MAX_CHAT_NAME, allow_empty=False)
        chat = self.space.chat_by_name(name)
        if chat is None:
            raise ApiFailure(404, f"Chat named {name!r} not found", "not_found")
        text, attachment, label, reply_to = self._common_send_fields(body, chat)
        self._check_can_message(chat)
        return sent(
            self.space.send(chat, text=text, attachment=attachment, label=label, reply_to=reply_to)
        )

    def send_file(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = chat_of(self.space, args[0])
        upload = read_upload(request, self.max_upload_size)
        self._check_can_message(chat)
        caption = upload.fields.get("caption") or None
        return sent(self.space.send(chat, text=caption, attachment=upload.attachment))

    def send_voice(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = chat_of(self.space, args[0])
        upload = read_upload(request, self.max_upload_size)
        self._check_can_message(chat)
        return sent(self.space.send(chat, text=None, attachment=upload.attachment, kind="voice"))

    def _common_send_fields(
        self, body: Mapping[str, Any], chat_hint: ChatRecord | None
    ) -> tuple[str | None, Attachment | None, str | None, str | None]:
        """(text, attachment, label, reply_to) of a JSON send, checked as the API does."""
        text = string_field(body, "text", MAX_TEXT)
        label = string_field(body, "label", MAX_LABEL)
        string_field(body, "chat_name", MAX_CHAT_NAME)
        file_uid = string_field(body, "file_uid", 256)
        template = body.get("attachment_template_id")
        if template is not None and (not isinstance(template, int) or isinstance(template, bool)):
            raise field_error("attachment_template_id", "value is not a valid integer")
        reply_to = string_field(body, "reply_to", 256) or None
        attachment: Attachment | None = None
        if file_uid:
            file = self.space.files.get(file_uid)
            if file is None or file.deleted:
                raise ApiFailure(404, f"File uid {file_uid} not found", "not_found")
            attachment = (file.filename, file.mimetype, file.size, file.uid)
        elif template is not None:
            attachment = (f"template-{template}", "application/octet-stream", 0, None)
        if not text and attachment is None:
            raise ApiFailure(
                400,
                "A message needs text, file_uid or attachment_template_id",
                "validation_error",
                errors=[{"fields": ["text"], "msg": "text, file_uid or attachment_template_id"}],
            )
        if reply_to is not None:
            replied = self.space.message(reply_to)
            if chat_hint is not None and replied.chat_id != chat_hint.id:
                raise field_error("reply_to", "the message replied to is in another chat")
        return text or None, attachment, label or None, reply_to

    def _check_can_message(self, chat: ChatRecord) -> None:
        if not chat.is_allowed_to_message:
            raise ApiFailure(
                400, "Sending messages to this chat is not allowed", "validation_error"
            )

    def _sender(self, body: Mapping[str, Any]) -> AccountRecord:
        """The account a phone or JID send goes out from: the one named, else the default."""
        raw = string_field(body, "whatsapp_account_phone", 64)
        if not raw:
            return self.space.default_account()
        phone = international_phone(raw)
        if phone is None:
            raise field_error("whatsapp_account_phone", "invalid phone number format")
        account = self.space.account_by_phone(phone)
        if account is not None:
            return account
        raise ApiFailure(
            404, f"WhatsApp account with phone {raw} not found in the workspace", "not_found"
        )

    def _chat_created(self, chat: ChatRecord) -> None:
        self.space.fire("chat:new", chat)
        self.space.fire("chat:outgoing:new", chat)

    def _jid_chat(self, jid: str, account: AccountRecord) -> ChatRecord | None:
        """A group by its JID; a contact's JID names its chat on the sending number."""
        if jid.endswith("@s.whatsapp.net"):
            return self.space.direct_chat("+" + jid.partition("@")[0], account)
        return self.space.chat_by_jid(jid)
