"""`tl.chats`: list, read and update chats, and leave internal notes."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from datetime import datetime
from typing import Any

from .._converter import data_field, structure
from .._exceptions import InvalidRequestError
from .._http import HTTPCore, _Call
from .._pagination import Page, Pager, numbered_pages, page_from
from .._validation import (
    MAX_CHAT_NAME,
    MAX_NOTE,
    bool_param,
    check_chat_id,
    check_text,
    csv_param,
    datetime_param,
    normalize_phone,
)
from ..models import Chat

__all__ = ["Chats"]

StrOrMany = str | Iterable[str]


class Chats:
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
        of them; different filters must all match. Nothing is requested until
        the pager is used; bad filters raise `InvalidRequestError` at once.
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
                params[field] = csv_param(field, many)
        for field, flag in (
            ("group", group),
            ("read", read),
            ("closed", closed),
            ("chatgpt_autoresponse_enabled", chatgpt_autoresponse_enabled),
            ("with_msg", with_msg),
        ):
            if flag is not None:
                params[field] = bool_param(field, flag)
        if phone is not None:
            params["phone"] = normalize_phone("phone", phone)
        if created_after is not None:
            params["created_after"] = datetime_param("created_after", created_after)
        if created_before is not None:
            params["created_before"] = datetime_param("created_before", created_before)

        async def fetch(page: int) -> Page[Chat]:
            data = await self._http.request(
                _Call("GET", "/chats", params={**params, "page": str(page)})
            )
            return page_from(data, "chats", Chat, what="a chats page")

        def source() -> AsyncGenerator[Page[Chat]]:
            return numbered_pages(fetch, concurrency=self._http.max_concurrency)

        return Pager(source, key=_chat_id)

    async def get(self, chat_id: int) -> Chat:
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
        """Change only what is passed; `responsible=""` unassigns the chat."""
        chat_id = check_chat_id(chat_id)
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = check_text("name", name, max_length=MAX_CHAT_NAME, allow_empty=False)
        if responsible is not None:
            body["responsible"] = check_text("responsible", responsible, max_length=254)
        for field, flag in (
            ("closed", closed),
            ("read", read),
            ("chatgpt_autoresponse_enabled", chatgpt_autoresponse_enabled),
        ):
            if flag is not None:
                bool_param(field, flag)
                body[field] = flag
        if not body:
            raise InvalidRequestError("update", "pass at least one field to change")
        data = await self._http.request(_Call("PATCH", f"/chats/{chat_id}", json=body))
        return structure(data, Chat, what="the updated chat")

    async def add_note(self, chat_id: int, text: str, *, private: bool = True) -> str:
        """Leave an internal note in the chat (not sent to WhatsApp); returns its message uid."""
        chat_id = check_chat_id(chat_id)
        check_text("text", text, max_length=MAX_NOTE, allow_empty=False)
        bool_param("private", private)
        data = await self._http.request(
            _Call("POST", f"/chats/{chat_id}/notes", json={"text": text, "is_private": private})
        )
        return structure(data_field(data, "message_uid", what="a new note"), str, what="a note uid")


def _chat_id(chat: Chat) -> int:
    return chat.id
