"""`tl.messages`: read histories, send messages and files, and reconcile unknown sends."""

from __future__ import annotations

import builtins
import contextlib
import functools
import warnings
from collections.abc import AsyncGenerator, Callable, Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from .._converter import structure
from .._exceptions import InvalidRequestError
from .._fan_in import fan_in
from .._files import FileInput, multipart_body
from .._http import HTTPCore, _Call, _OutcomeUnknown
from .._pagination import Page, Pager, cursor_pages, page_from
from .._retry import RequestKind
from .._send_attempt import SendAttempt, SendOutcomeUnknown, Target, TargetKind
from .._validation import (
    MAX_CAPTION,
    MAX_LABEL,
    MAX_TEXT,
    check_bool_param,
    check_chat_id,
    check_datetime,
    check_phone,
    check_text,
    check_uid,
)
from ..models import Chat, Message, MessageType, SentMessage, StatusChange

if TYPE_CHECKING:
    from .chats import Chats

__all__ = ["Messages"]

Order = Literal["asc", "desc"]
#: How far before the attempt `reconcile` looks, for clock skew between us and the API.
RECONCILE_SKEW = timedelta(minutes=5)
#: Message histories keep the ids of the last few pages only (cursors move forward).
_DEDUP_WINDOW = 500


class Messages:
    """`tl.messages`: read histories, send, and find out what an unknown send did."""

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

        Pages follow each other by cursor.

        Args:
            chat_id: The chat's id.
            from_me: Only outgoing (`True`) or only incoming (`False`) messages.
            after: From this time on (an aware `datetime`, a `date` or an ISO
                string; inclusive).
            before: Up to this time (inclusive).
            order: `"desc"` (newest first) or `"asc"`.
            after_message: Start after this message uid (exclusive).
            before_message: Start before this message uid (exclusive).

        Returns:
            A `Pager` of `Message`s, each once.

        Raises:
            InvalidRequestError: A bad argument, at once, before any request.
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

        Args:
            chat_ids: The chats' ids.
            from_me: As for `list`.
            after: As for `list`.
            before: As for `list`.
            order: As for `list`.

        Returns:
            An async iterator of `Message`s.

        Raises:
            InvalidRequestError: `chat_ids` is not an iterable of chat ids, or a
                bad filter.
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
        """One message by uid.

        Args:
            uid: The message's uid.

        Returns:
            The `Message`.

        Raises:
            InvalidRequestError: A bad uid.
            NotFoundError: No such message.
        """
        uid = check_uid("uid", uid)
        return structure(
            await self._http.request(_Call("GET", f"/messages/{uid}")), Message, what="a message"
        )

    async def status_history(self, uid: str) -> builtins.list[StatusChange]:
        """The message's delivery timeline, oldest first (may be empty right after sending).

        Args:
            uid: The message's uid.

        Returns:
            The `StatusChange`s (Pending, Sent, Delivered, Read, or Failed).

        Raises:
            InvalidRequestError: A bad uid.
            NotFoundError: No such message.
        """
        uid = check_uid("uid", uid)
        data = await self._http.request(_Call("GET", f"/messages/{uid}/status_history"))
        return structure(data, list[StatusChange], what="a status history")

    async def send(
        self,
        *,
        to: Target | None = None,
        phone: str | None = None,
        chat_id: int | None = None,
        jid: str | None = None,
        chat_name: str | None = None,
        text: str | None = None,
        file_uid: str | None = None,
        attachment_template_id: int | None = None,
        label: str | None = None,
        reply_to: str | None = None,
        whatsapp_account_phone: str | None = None,
    ) -> SentMessage:
        """Send a WhatsApp message to exactly one of `phone`, `chat_id` or `jid`.

        Sends are spaced by the client's `send_interval` and retried only when
        the API provably did not take them.

        Args:
            to: The recipient as a `Target`, instead of `phone`, `chat_id` or `jid`
                (as a `SendAttempt` holds it).
            phone: An international phone number; the chat is created if needed.
            chat_id: An existing chat; it sends from the chat's own number.
            jid: A WhatsApp JID (`...@s.whatsapp.net`, or `...@g.us` for a group).
            chat_name: With a recipient, the name of the chat the send creates;
                alone, sends into the chat of that name (deprecated by the API:
                warns with `DeprecationWarning`).
            text: The text (at most 2000 characters).
            file_uid: An uploaded file to attach (`tl.files.upload`).
            attachment_template_id: An attachment template of the workspace.
            label: A label to put on the chat (created if unknown).
            reply_to: The uid of the message this one answers.
            whatsapp_account_phone: The workspace's number to send from (for a
                phone or a JID; default: the most recently connected one).

        Returns:
            The `SentMessage` receipt: accepted for sending, not delivered
            (follow `status_history`).

        Raises:
            InvalidRequestError: No recipient or more than one, or a bad argument.
            SendOutcomeUnknown: The message may or may not have gone out; see
                `reconcile`.
            APIError: The API refused it (a bad number, an unknown chat, an
                exhausted quota, ...).
        """
        target = _target(to=to, phone=phone, chat_id=chat_id, jid=jid, chat_name=chat_name)
        body = _send_body(
            target, text=text, file_uid=file_uid, attachment_template_id=attachment_template_id,
            label=label, reply_to=reply_to, whatsapp_account_phone=whatsapp_account_phone,
            chat_name=None if target.kind is TargetKind.CHAT_NAME else chat_name,
        )  # fmt: skip
        if target.kind is TargetKind.CHAT_NAME:
            _warn_send_by_chat_name()
        attempt = _attempt_of_body(target, body)
        path = _SEND_PATHS[target.kind].format(target.value)
        return await self._send(_Call("POST", path, json=body, kind=RequestKind.SEND), attempt)

    async def send_file(
        self,
        chat_id: int,
        file: FileInput,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        caption: str | None = None,
    ) -> SentMessage:
        """Send a document to a chat (upload and send in one request).

        Args:
            chat_id: The chat's id.
            file: A path, bytes, a binary file object or an async iterator of
                bytes; streamed, never read whole into memory.
            filename: The name shown; defaults to the path's or file object's.
            content_type: The MIME type; guessed from the name unless given.
            caption: A text under the document (at most 2000 characters).

        Returns:
            The `SentMessage` receipt.

        Raises:
            InvalidRequestError: A bad argument, or a file that cannot be read.
            SendOutcomeUnknown: The message may or may not have gone out.
            PayloadTooLargeError: The API finds the file too large.
            APIError: The API refused it.
        """
        target = Target.chat_id(chat_id)
        fields: dict[str, str] = {}
        if caption is not None:
            fields["caption"] = check_text("caption", caption, max_length=MAX_CAPTION)
        attempt = functools.partial(SendAttempt, target=target, text=caption, attachment=True)
        with multipart_body(
            file, filename=filename, content_type=content_type, fields=fields
        ) as body:
            path = f"/chats/{target.value}/file_message"
            call = _Call("POST", path, content=body, headers=body.headers, kind=RequestKind.SEND)
            return await self._send(call, attempt)

    async def send_voice(
        self,
        chat_id: int,
        file: FileInput,
        *,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> SentMessage:
        """Send a voice note (ogg, oga or mp3) to a chat.

        Args:
            chat_id: The chat's id.
            file: As for `send_file`.
            filename: As for `send_file`.
            content_type: As for `send_file`.

        Returns:
            The `SentMessage` receipt.

        Raises:
            InvalidRequestError: A bad argument, or a file that cannot be read.
            SendOutcomeUnknown: The message may or may not have gone out.
            APIError: The API refused it.
        """
        target = Target.chat_id(chat_id)
        attempt = functools.partial(SendAttempt, target=target, attachment=True)
        with multipart_body(
            file, filename=filename, content_type=content_type, send_names=False
        ) as body:
            path = f"/chats/{target.value}/voice_message"
            call = _Call("POST", path, content=body, headers=body.headers, kind=RequestKind.SEND)
            return await self._send(call, attempt)

    async def _send(self, call: _Call, attempt: Callable[..., SendAttempt]) -> SentMessage:
        """Run a send; an unknown outcome becomes `SendOutcomeUnknown` with its attempt."""

        def receipt(data: object) -> SentMessage:
            return structure(data, SentMessage, what=f"POST {call.path}")

        try:
            sent: SentMessage = await self._http.request(call, decode=receipt)
        except _OutcomeUnknown as unknown:
            raise SendOutcomeUnknown(
                attempt=attempt(attempted_at=unknown.attempted_at), reason=unknown.reason
            ) from unknown.__cause__
        return sent

    async def reconcile(
        self, sent: SendOutcomeUnknown | SendAttempt, *, skew: timedelta = RECONCILE_SKEW
    ) -> Message | None:
        """Find the message a send whose outcome is unknown produced, if it went out.

        Looks in every chat the send may have gone to: for a phone or a JID, the
        contact's chat on the sending number when the send named one, else on
        every number of the workspace. In each, reads the outgoing messages from
        the newest back to a few minutes before the attempt, and returns the one
        with the same text (and attachment) closest in time to the attempt.

        Args:
            sent: The `SendOutcomeUnknown` the send raised, or its `SendAttempt`.
            skew: How far before the attempt to look, for clock differences; keep
                it short if the same text may have been sent to this contact just
                before.

        Returns:
            The `Message` that went out, or `None` if it went out nowhere: then
            sending again will not duplicate it (a chat that does not exist yet
            also gives `None`).

        Raises:
            InvalidRequestError: `sent` is neither, or a bad `skew`.
        """
        attempt = _attempt_of(sent)
        if not isinstance(skew, timedelta) or skew < timedelta(0):
            raise InvalidRequestError("skew", f"must be a timedelta >= 0, not {skew!r}")
        since = attempt.attempted_at - skew
        found = [
            message
            for chat_id in await self._chats_of(attempt)
            if (message := await self._closest_in(chat_id, attempt, since=since)) is not None
        ]
        return min(found, key=lambda message: _distance(message, attempt), default=None)

    async def _closest_in(
        self, chat_id: int, attempt: SendAttempt, *, since: datetime
    ) -> Message | None:
        """The chat's outgoing message since `since` that matches `attempt`, closest in time."""
        best: Message | None = None
        async with contextlib.aclosing(self.list(chat_id, from_me=True).__aiter__()) as history:
            async for message in history:
                if message.timestamp is not None and message.timestamp < since:
                    break
                # `<=`: on a tie keep the earlier message (the history comes newest first).
                if _matches(message, attempt) and (
                    best is None or _distance(message, attempt) <= _distance(best, attempt)
                ):
                    best = message
        return best

    async def _chats_of(self, attempt: SendAttempt) -> builtins.list[int]:
        """Every chat the send may have gone to (all pages of the chat list are read)."""
        target = attempt.target
        if target.kind is TargetKind.CHAT_ID:
            return [int(target.value)]
        value = str(target.value)
        if target.kind is TargetKind.CHAT_NAME:
            pager = self._chats.list(name=value)
        elif target.kind is TargetKind.PHONE:
            pager = self._chats.list(phone=value)
        elif value.endswith(_PHONE_JID):  # a person: their chats are found by phone
            pager = self._chats.list(phone="+" + value.removesuffix(_PHONE_JID))
        else:
            pager = self._chats.list()
        return [
            chat.id
            for chat in await pager.collect()
            if _is_target(chat, target) and _on_number(chat, attempt.whatsapp_account_phone)
        ]


#: The paths of a send by each kind of target.
_SEND_PATHS = {
    TargetKind.PHONE: "/messages",
    TargetKind.JID: "/messages/to_jid",
    TargetKind.CHAT_ID: "/chats/{}/messages",
    TargetKind.CHAT_NAME: "/messages/to_chat_name",
}
#: The JID suffix of a person's WhatsApp number (groups end in `@g.us`).
_PHONE_JID = "@s.whatsapp.net"


def _target(
    *,
    to: Target | None,
    phone: str | None,
    chat_id: int | None,
    jid: str | None,
    chat_name: str | None,
) -> Target:
    """The one target a send names; `chat_name` is one only when nothing else is given."""
    given = {"to": to, "phone": phone, "chat_id": chat_id, "jid": jid}
    named = [name for name, value in given.items() if value is not None]
    if len(named) > 1 or not (named or chat_name is not None):
        raise InvalidRequestError(
            "target",
            "pass exactly one of phone, chat_id, jid or to (or chat_name alone)"
            + (f" (got {', '.join(named)})" if named else ""),
        )
    if to is not None:
        if not isinstance(to, Target):
            raise InvalidRequestError("to", f"must be a Target, not {type(to).__name__}")
        return to
    if phone is not None:
        return Target.phone(phone)
    if chat_id is not None:
        return Target.chat_id(chat_id)
    if jid is not None:
        return Target.jid(jid)
    assert chat_name is not None
    return Target.chat_name(chat_name)


def _send_body(
    target: Target,
    *,
    text: str | None,
    file_uid: str | None,
    attachment_template_id: int | None,
    label: str | None,
    reply_to: str | None,
    whatsapp_account_phone: str | None,
    chat_name: str | None,
) -> dict[str, Any]:
    """The JSON body of a send, every field checked."""
    if text is None and file_uid is None and attachment_template_id is None:
        raise InvalidRequestError("text", "pass text, file_uid, attachment_template_id or some")
    body: dict[str, Any] = {}
    if text is not None:
        body["text"] = check_text("text", text, max_length=MAX_TEXT, allow_empty=False)
    if file_uid is not None:
        body["file_uid"] = check_uid("file_uid", file_uid)
    if attachment_template_id is not None:
        body["attachment_template_id"] = check_chat_id(
            attachment_template_id, "attachment_template_id"
        )
    if label is not None:
        body["label"] = check_text("label", label, max_length=MAX_LABEL, allow_empty=False)
    if chat_name is not None:
        body["chat_name"] = Target.chat_name(chat_name).value
    if reply_to is not None:
        if target.kind is TargetKind.PHONE:
            raise InvalidRequestError("reply_to", "is not available when sending to a phone")
        body["reply_to"] = check_uid("reply_to", reply_to)
    if whatsapp_account_phone is not None:
        if target.kind not in (TargetKind.PHONE, TargetKind.JID):
            raise InvalidRequestError(
                "whatsapp_account_phone",
                "only applies to sends by phone or jid (a chat always sends from its own account)",
            )
        number = check_phone("whatsapp_account_phone", whatsapp_account_phone)
        body["whatsapp_account_phone"] = "+" + number.removeprefix("+")
    if target.kind is not TargetKind.CHAT_ID:
        body[target.kind.value] = target.value
    return body


def _warn_send_by_chat_name() -> None:
    warnings.warn(
        "sending by chat_name uses POST /messages/to_chat_name, which the TimelinesAI "
        "API deprecated in 2026-02 and will remove; send by chat_id, phone or jid instead",
        DeprecationWarning,
        stacklevel=3,  # the line that called `send`
    )


def _attempt_of_body(target: Target, body: dict[str, Any]) -> Callable[..., SendAttempt]:
    """The `SendAttempt` of a send with this body, all but the time it leaves."""
    return functools.partial(
        SendAttempt,
        target=target,
        whatsapp_account_phone=body.get("whatsapp_account_phone"),
        text=body.get("text"),
        file_uid=body.get("file_uid"),
        attachment="file_uid" in body or "attachment_template_id" in body,
    )


def _attempt_of(sent: object) -> SendAttempt:
    if isinstance(sent, SendOutcomeUnknown):
        return sent.attempt
    if isinstance(sent, SendAttempt):
        return sent
    raise InvalidRequestError(
        "sent",
        "must be the SendOutcomeUnknown a send raised, or a SendAttempt, "
        f"not {type(sent).__name__}",
    )


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def _is_target(chat: Chat, target: Target) -> bool:
    """Whether a listed chat is the target's (the API's phone filter also matches parts)."""
    if target.kind is TargetKind.PHONE:
        return not chat.is_group and _digits(chat.phone or "") == _digits(str(target.value))
    if target.kind is TargetKind.JID:
        return chat.jid == target.value
    return chat.name == target.value


def _on_number(chat: Chat, sender: str | None) -> bool:
    """Whether the chat belongs to the sending number (any number when it is not known)."""
    if sender is None or chat.whatsapp_account_id is None:
        return True
    return _digits(chat.whatsapp_account_id.split("@", 1)[0]) == _digits(sender)


def _distance(message: Message, attempt: SendAttempt) -> timedelta:
    if message.timestamp is None:
        return timedelta.max
    return abs(message.timestamp - attempt.attempted_at)


def _matches(message: Message, attempt: SendAttempt) -> bool:
    # An internal note is "from me" too, but it is never what a send produced.
    if message.message_type == MessageType.NOTE:
        return False
    if attempt.text is not None and (message.text or "") != attempt.text:
        return False
    return not attempt.attachment or bool(message.has_attachment)


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
        params["after"] = check_datetime("after", after)
    if before is not None:
        params["before"] = check_datetime("before", before)
    if after_message is not None:
        params["after_message"] = check_uid("after_message", after_message)
    if before_message is not None:
        params["before_message"] = check_uid("before_message", before_message)
    return params
