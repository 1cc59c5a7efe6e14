"""`tl.chats`: list, read and update chats, and leave internal notes."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from datetime import datetime
from typing import Any

from .._converter import data_field, structure
from .._exceptions import InvalidRequestError
from .._http import HTTPCore, _Call
from .._pagination import Page, Pager, numbered_pages, raw_page, structured
from .._validation import (
    MAX_CHAT_NAME,
    MAX_NOTE,
    MAX_RESPONSIBLE,
    check_bool,
    check_bool_param,
    check_chat_id,
    check_csv,
    check_datetime,
    check_phone_filter,
    check_text,
)
from ..models import Chat

__all__ = ["Chats"]

StrOrMany = str | Iterable[str]


class Chats:
    """`tl.chats`: list, read and update chats, and leave internal notes."""

    def __init__(self, http: HTTPCore) -> None:
        self._http = http

    def list(
        self,
        *,
        label: StrOrMany | None = None,
        whatsapp_account_id: StrOrMany | None = None,
        responsible: StrOrMany | None = None,
        name: StrOrMany | None = None,
        whatsapp_phone: StrOrMany | None = None,
        group: bool | None = None,
        read: bool | None = None,
        closed: bool | None = None,
        chatgpt_autoresponse_enabled: bool | None = None,
        phone: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        with_msg: bool | None = None,
    ) -> Pager[Chat]:
        """Every chat matching all the filters given, 50 a page, pages read ahead.

        Filters naming several values (`label=["vip", "enterprise"]`) match any
        of them (a value may not hold a comma); different filters must all match.
        Nothing is requested until the pager is used.

        Args:
            label: Chats with any of these labels.
            whatsapp_account_id: Chats of any of these WhatsApp accounts (JIDs).
            responsible: Chats assigned to any of these teammates (emails).
            name: Chats whose name contains any of these, case-insensitively.
            whatsapp_phone: Chats with any of these contact numbers, groups they
                are a member of included.
            group: Only groups (`True`) or only direct chats (`False`).
            read: Only read or only unread chats.
            closed: Only closed or only open chats.
            chatgpt_autoresponse_enabled: Only chats with the AI agent on or off.
            phone: Direct chats with this one number: with a leading `+` exactly
                that number; without one, any number containing it (`"0501111111"`,
                leading zeros dropped).
            created_after: Chats created after this aware `datetime` or ISO string.
            created_before: Chats created before this aware `datetime` or ISO string.
            with_msg: Include each chat's full `last_message`.

        Returns:
            A `Pager` of `Chat`s, each chat once.

        Raises:
            InvalidRequestError: A bad filter, at once, before any request.
        """
        params: dict[str, str] = {}
        for field, many in (
            ("label", label),
            ("whatsapp_account_id", whatsapp_account_id),
            ("responsible", responsible),
            ("name", name),
            ("whatsapp_phone", whatsapp_phone),
        ):
            if many is not None:
                params[field] = check_csv(field, many)
        for field, flag in (
            ("group", group),
            ("read", read),
            ("closed", closed),
            ("chatgpt_autoresponse_enabled", chatgpt_autoresponse_enabled),
            ("with_msg", with_msg),
        ):
            if flag is not None:
                params[field] = check_bool_param(field, flag)
        if phone is not None:
            params["phone"] = check_phone_filter("phone", phone)
        if created_after is not None:
            params["created_after"] = check_datetime("created_after", created_after)
        if created_before is not None:
            params["created_before"] = check_datetime("created_before", created_before)

        async def fetch(page: int) -> Page[Any]:
            data = await self._http.request(
                _Call("GET", "/chats", params={**params, "page": str(page)})
            )
            return raw_page(data, "chats", what="a chats page")

        def finish(page: Page[Any]) -> Page[Chat]:
            return structured(page, Chat, what="a chats page")

        def source() -> AsyncGenerator[Page[Chat]]:
            return numbered_pages(fetch, concurrency=self._http.max_concurrency, finish=finish)

        return Pager(source, key=_chat_id)

    async def get(self, chat_id: int) -> Chat:
        """One chat by id.

        Args:
            chat_id: The chat's id.

        Returns:
            The `Chat`.

        Raises:
            InvalidRequestError: `chat_id` is not a positive integer.
            NotFoundError: No such chat in the workspace.
        """
        chat_id = check_chat_id(chat_id)
        data = await self._http.request(_Call("GET", f"/chats/{chat_id}"))
        return structure(data, Chat, what="a chat")

    async def update(
        self,
        chat_id: int,
        *,
        name: str | None = None,
        responsible: str | None = None,
        closed: bool | None = None,
        read: bool | None = None,
        chatgpt_autoresponse_enabled: bool | None = None,
    ) -> Chat:
        """Change only what is passed; `responsible=""` unassigns the chat.

        Args:
            chat_id: The chat's id.
            name: A new name, unique in the workspace (at most 256 characters).
            responsible: The email of the teammate to assign, or `""` to unassign.
            closed: Close (`True`) or reopen (`False`) the chat.
            read: Mark the chat read or unread.
            chatgpt_autoresponse_enabled: Turn the AI agent on or off.

        Returns:
            The updated `Chat`.

        Raises:
            InvalidRequestError: A bad argument, or nothing to change.
            NotFoundError: No such chat.
            BadRequestError: The API refused the change (a name already taken, say).
        """
        chat_id = check_chat_id(chat_id)
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = check_text("name", name, max_length=MAX_CHAT_NAME, allow_empty=False)
        if responsible is not None:
            body["responsible"] = check_text("responsible", responsible, max_length=MAX_RESPONSIBLE)
        for field, flag in (
            ("closed", closed),
            ("read", read),
            ("chatgpt_autoresponse_enabled", chatgpt_autoresponse_enabled),
        ):
            if flag is not None:
                body[field] = check_bool(field, flag)
        if not body:
            raise InvalidRequestError("update", "pass at least one field to change")
        data = await self._http.request(_Call("PATCH", f"/chats/{chat_id}", json=body))
        return structure(data, Chat, what="the updated chat")

    async def add_note(self, chat_id: int, text: str, *, private: bool = True) -> str | None:
        """Leave an internal note in the chat; it is not sent to WhatsApp.

        Notes are free (they use no messaging credit) and show in the chat's
        history as messages of type `note`.

        Args:
            chat_id: The chat's id.
            text: The note (at most 10,000 characters).
            private: Visible to the workspace only (the API's default).

        Returns:
            The note's message uid; `None` when the API took the note without
            saying its uid (a bare `{"status": "ok"}`, as the spec allows): the
            note exists, do not add it again.

        Raises:
            InvalidRequestError: A bad argument.
            NotFoundError: No such chat.
        """
        chat_id = check_chat_id(chat_id)
        body = {
            "text": check_text("text", text, max_length=MAX_NOTE, allow_empty=False),
            "is_private": check_bool("private", private),
        }
        data = await self._http.request(_Call("POST", f"/chats/{chat_id}/notes", json=body))
        if data is None or (isinstance(data, dict) and data.get("message_uid") is None):
            return None
        return structure(data_field(data, "message_uid", what="a new note"), str, what="a note uid")


def _chat_id(chat: Chat) -> int:
    return chat.id
