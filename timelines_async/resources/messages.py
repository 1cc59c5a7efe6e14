"""`tl.messages`: read histories, send messages and files, and reconcile unknown sends."""

from __future__ import annotations

import builtins
import contextlib
import warnings
from collections.abc import AsyncGenerator, Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from .._converter import structure
from .._exceptions import InvalidRequestError, SendOutcomeUnknown
from .._fan_in import fan_in
from .._files import FileInput, multipart_body
from .._http import HTTPCore, _Call, _OutcomeUnknown
from .._pagination import Page, Pager, cursor_pages, page_from
from .._retry import RequestKind
from .._validation import (
    MAX_CAPTION,
    MAX_CHAT_NAME,
    MAX_LABEL,
    MAX_TEXT,
    check_bool_param,
    check_chat_id,
    check_phone,
    check_text,
    check_timestamp,
    check_uid,
)
from ..models import Message, MessageType, SentMessage, StatusChange

if TYPE_CHECKING:
    from .chats import Chats

__all__ = ["Messages"]

Order = Literal["asc", "desc"]
#: How far before the attempt `reconcile` looks, for clock skew between us and the API.
RECONCILE_SKEW = timedelta(minutes=5)
#: Message histories keep the ids of the last few pages only (cursors move forward).
_DEDUP_WINDOW = 500


class Messages:
    def __init__(self, http: HTTPCore, chats: Chats) -> None:
        self._http = http
        self._chats = chats

    def list(
        self,
        chat_id: int,
        *,
        from_me: bool | None = None,
        after: datetime | date | str | None = None,
        before: datetime | date | str | None = None,
        order: Order = "desc",
        after_message: str | None = None,
        before_message: str | None = None,
    ) -> Pager[Message]:
        """A chat's messages (notes and calls included), newest first unless `order="asc"`.

        `after`/`before` bound the time (inclusive); `after_message`/
        `before_message` start after or before a message uid (exclusive).
        Pages follow each other by cursor.
        """
        chat_id = check_chat_id(chat_id)
        params = _history_params(from_me, after, before, order, after_message, before_message)
        cursor_param = "before_message" if order == "desc" else "after_message"
        path = f"/chats/{chat_id}/messages"

        async def fetch(cursor: str | None) -> Page[Message]:
            query = dict(params) if cursor is None else {**params, cursor_param: cursor}
            data = await self._http.request(_Call("GET", path, params=query))
            return page_from(data, "messages", Message, what="a messages page")

        def source() -> AsyncGenerator[Page[Message]]:
            return cursor_pages(fetch, cursor_of=_uid)

        return Pager(source, key=_uid, dedup_window=_DEDUP_WINDOW)

    def list_many(
        self,
        chat_ids: Iterable[int],
        *,
        from_me: bool | None = None,
        after: datetime | date | str | None = None,
        before: datetime | date | str | None = None,
        order: Order = "desc",
    ) -> AsyncGenerator[Message]:
        """The messages of several chats, read concurrently within the client's concurrency.

        Each chat's messages come in order; different chats' interleave. Closing
        the iterator (`contextlib.aclosing`) cancels the histories still being read.
        """
        if isinstance(chat_ids, str | bytes) or not isinstance(chat_ids, Iterable):
            raise InvalidRequestError(
                "chat_ids", f"must be an iterable of chat ids, not {type(chat_ids).__name__}"
            )
        pagers = [
            self.list(chat_id, from_me=from_me, after=after, before=before, order=order)
            for chat_id in chat_ids
        ]
        return fan_in((pager.__aiter__ for pager in pagers), concurrency=self._http.max_concurrency)

    async def get(self, uid: str) -> Message:
        uid = check_uid("uid", uid)
        return structure(
            await self._http.request(_Call("GET", f"/messages/{uid}")), Message, what="a message"
        )

    async def status_history(self, uid: str) -> builtins.list[StatusChange]:
        """The message's delivery timeline, oldest first (may be empty right after sending)."""
        uid = check_uid("uid", uid)
        data = await self._http.request(_Call("GET", f"/messages/{uid}/status_history"))
        return structure(data, list[StatusChange], what="a status history")

    async def send(
        self,
        *,
        phone: str | None = None,
        chat_id: int | None = None,
        jid: str | None = None,
        chat_name: str | None = None,
        text: str | None = None,
        file_uid: str | None = None,
        label: str | None = None,
        reply_to: str | None = None,
        whatsapp_account_phone: str | None = None,
    ) -> SentMessage:
        """Send a WhatsApp message to exactly one of `phone`, `chat_id`, `jid` or `chat_name`.

        Sends are spaced by the client's `send_interval` and retried only when
        the API provably did not take them; when the outcome is unknown this
        raises `SendOutcomeUnknown` (see `reconcile`). The returned receipt means
        "accepted for sending", not delivered: follow `status_history`.
        """
        targets = {
            key: value
            for key, value in (
                ("phone", phone), ("chat_id", chat_id), ("jid", jid), ("chat_name", chat_name)
            )
            if value is not None
        }  # fmt: skip
        if len(targets) != 1:
            raise InvalidRequestError(
                "target",
                "pass exactly one of phone, chat_id, jid or chat_name"
                + (f" (got {', '.join(targets)})" if targets else ""),
            )
        if text is None and file_uid is None:
            raise InvalidRequestError("text", "pass text, file_uid or both")
        body: dict[str, Any] = {}
        if text is not None:
            body["text"] = check_text("text", text, max_length=MAX_TEXT, allow_empty=False)
        if file_uid is not None:
            body["file_uid"] = check_uid("file_uid", file_uid)
        if label is not None:
            body["label"] = check_text("label", label, max_length=MAX_LABEL, allow_empty=False)
        if reply_to is not None:
            if phone is not None:
                raise InvalidRequestError("reply_to", "is not available when sending to a phone")
            body["reply_to"] = check_uid("reply_to", reply_to)
        if whatsapp_account_phone is not None:
            if phone is None and jid is None:
                raise InvalidRequestError(
                    "whatsapp_account_phone",
                    "only applies to sends by phone or jid "
                    "(a chat always sends from its own account)",
                )
            body["whatsapp_account_phone"] = check_phone(
                "whatsapp_account_phone", whatsapp_account_phone
            )
        if phone is not None:
            body["phone"] = check_phone("phone", phone)
            path, target = "/messages", {"phone": body["phone"]}
        elif jid is not None:
            body["jid"] = check_uid("jid", jid)
            path, target = "/messages/to_jid", {"jid": body["jid"]}
        elif chat_id is not None:
            checked_id = check_chat_id(chat_id)
            path, target = f"/chats/{checked_id}/messages", {"chat_id": checked_id}
        else:
            body["chat_name"] = check_text(
                "chat_name", chat_name, max_length=MAX_CHAT_NAME, allow_empty=False
            )
            path, target = "/messages/to_chat_name", {"chat_name": body["chat_name"]}
            warnings.warn(
                "sending by chat_name uses POST /messages/to_chat_name, which the TimelinesAI "
                "API deprecated in 2026-02 and will remove; send by chat_id, phone or jid instead",
                DeprecationWarning,
                stacklevel=2,
            )
        call = _Call("POST", path, json=body, kind=RequestKind.SEND)
        return await self._send(call, target=target, text=text, file_uid=file_uid)

    async def send_file(
        self,
        chat_id: int,
        file: FileInput,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        caption: str | None = None,
    ) -> SentMessage:
        """Send a document to a chat (multipart upload and send in one request).

        `file` is a path, bytes, a binary file object or an async iterator of
        bytes; it is streamed, never read whole into memory.
        """
        chat_id = check_chat_id(chat_id)
        fields: dict[str, str] = {}
        if caption is not None:
            fields["caption"] = check_text("caption", caption, max_length=MAX_CAPTION)
        with multipart_body(
            file, filename=filename, content_type=content_type, fields=fields
        ) as body:
            path = f"/chats/{chat_id}/file_message"
            call = _Call("POST", path, content=body, headers=body.headers, kind=RequestKind.SEND)
            return await self._send(
                call, target={"chat_id": chat_id}, text=caption, attachment=True
            )

    async def send_voice(self, chat_id: int, file: FileInput) -> SentMessage:
        """Send a voice note (ogg/oga/mp3) to a chat."""
        chat_id = check_chat_id(chat_id)
        with multipart_body(file, send_names=False) as body:
            path = f"/chats/{chat_id}/voice_message"
            call = _Call("POST", path, content=body, headers=body.headers, kind=RequestKind.SEND)
            return await self._send(call, target={"chat_id": chat_id}, text=None, attachment=True)

    async def _send(
        self,
        call: _Call,
        *,
        target: dict[str, str | int],
        text: str | None,
        file_uid: str | None = None,
        attachment: bool = False,
    ) -> SentMessage:
        """Run a send; an unknown outcome becomes `SendOutcomeUnknown`."""

        def receipt(data: object) -> SentMessage:
            return structure(data, SentMessage, what=f"POST {call.path}")

        try:
            sent: SentMessage = await self._http.request(call, decode=receipt)
        except _OutcomeUnknown as unknown:
            raise SendOutcomeUnknown(
                target=target,
                text=text,
                file_uid=file_uid,
                attachment=attachment,
                attempted_at=unknown.attempted_at,
                reason=unknown.reason,
            ) from unknown.__cause__
        return sent

    async def reconcile(
        self, error: SendOutcomeUnknown, *, skew: timedelta = RECONCILE_SKEW
    ) -> Message | None:
        """Find the message a `SendOutcomeUnknown` send produced, if it went out.

        Reads the target chat's outgoing messages from the newest back to a few
        minutes before the attempt, and returns the one with the same text (and
        attachment) that is closest in time to the attempt; `None` when none is found,
        in which case sending again will not duplicate it. A chat that does not
        exist yet (a first message to a phone that never arrived) also gives `None`.
        `skew` widens the window for clock differences; keep it short if the same
        text may have been sent to this chat just before.
        """
        if not isinstance(error, SendOutcomeUnknown):
            raise InvalidRequestError(
                "error", f"must be the SendOutcomeUnknown a send raised, not {type(error).__name__}"
            )
        if not isinstance(skew, timedelta) or skew < timedelta(0):
            raise InvalidRequestError("skew", f"must be a timedelta >= 0, not {skew!r}")
        chat_id = await self._chat_of(error.target)
        if chat_id is None:
            return None
        since = error.attempted_at - skew
        best: Message | None = None
        best_distance = timedelta.max
        async with contextlib.aclosing(self.list(chat_id, from_me=True).__aiter__()) as history:
            async for message in history:
                if message.timestamp is not None and message.timestamp < since:
                    break
                if not _matches(message, error):
                    continue
                distance = (
                    abs(message.timestamp - error.attempted_at)
                    if message.timestamp is not None
                    else timedelta.max
                )
                # `<=`: on a tie keep the earlier message (the history comes newest first).
                if best is None or distance <= best_distance:
                    best, best_distance = message, distance
        return best

    async def _chat_of(self, target: dict[str, str | int]) -> int | None:
        ((key, value),) = target.items()
        if key == "chat_id":
            return int(value)
        if key == "phone":
            found = await self._chats.list(phone=str(value)).first()
            return found.id if found else None
        pager = self._chats.list(name=str(value)) if key == "chat_name" else self._chats.list()
        # aclosing: returning early must stop the read-ahead at once, not at garbage collection.
        async with contextlib.aclosing(pager.__aiter__()) as chats:
            async for chat in chats:
                if (key == "jid" and chat.jid == value) or (
                    key == "chat_name" and chat.name == value
                ):
                    return chat.id
        return None


def _matches(message: Message, error: SendOutcomeUnknown) -> bool:
    # An internal note is "from me" too, but it is never what a send produced.
    if message.message_type == MessageType.NOTE:
        return False
    if error.text is not None and (message.text or "") != error.text:
        return False
    return not error.attachment or bool(message.has_attachment)


def _uid(message: Message) -> str:
    return message.uid


def _history_params(
    from_me: bool | None,
    after: datetime | date | str | None,
    before: datetime | date | str | None,
    order: str,
    after_message: str | None,
    before_message: str | None,
) -> dict[str, str]:
    if order not in ("asc", "desc"):
        raise InvalidRequestError("order", f"must be 'asc' or 'desc', not {order!r}")
    params = {"sorting_order": order}
    if from_me is not None:
        params["from_me"] = check_bool_param("from_me", from_me)
    if after is not None:
        params["after"] = check_timestamp("after", after)
    if before is not None:
        params["before"] = check_timestamp("before", before)
    if after_message is not None:
        params["after_message"] = check_uid("after_message", after_message)
    if before_message is not None:
        params["before_message"] = check_uid("before_message", before_message)
    return params
