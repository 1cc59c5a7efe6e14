"""`/chats` and `/chats/{id}`: the chat listing, one chat, its update, notes."""

from __future__ import annotations

from .._checks import (
    MAX_CHAT_NAME,
    MAX_NOTE,
    bool_field,
    bool_query,
    json_object,
    page_number,
    string_field,
)
from .._filters import CHAT_FILTERS, chat_filter
from .._records import ChatRecord, TeammateRecord
from .._render import ChatJsonCache, render_chat
from .._state import PAGE_SIZE, WorkspaceState
from .._wire import ApiFailure, Request, Response, field_error, ok, ok_page
from ._common import Route, chat_of

__all__ = ["ChatRoutes"]


class ChatRoutes:
    def __init__(self, space: WorkspaceState) -> None:
        self.space = space
        self._chat_json = ChatJsonCache(space)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/chats", self.list_chats),
            Route("GET", "/chats/{}", self.get_chat),
            Route("PATCH", "/chats/{}", self.update_chat),
            Route("POST", "/chats/{}/notes", self.add_note),
        ]

    def list_chats(self, request: Request, args: tuple[str, ...]) -> Response:
        query = request.query
        page = page_number(query)
        matches = chat_filter(query, self.space.clock)
        key = tuple((name, query[name]) for name in CHAT_FILTERS if name in query)
        listing = self.space.list_chats(key, matches)
        start = (page - 1) * PAGE_SIZE
        chats = listing[start : start + PAGE_SIZE]
        has_more = start + PAGE_SIZE < len(listing)
        if bool_query(query, "with_msg"):
            rendered = [render_chat(self.space, chat, with_msg=True) for chat in chats]
            return ok({"has_more_pages": has_more, "chats": rendered})
        return ok_page("chats", has_more, map(self._chat_json, chats))

    def get_chat(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(render_chat(self.space, chat_of(self.space, args[0])))

    def update_chat(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = chat_of(self.space, args[0])
        body = json_object(request)
        name = string_field(body, "name", MAX_CHAT_NAME, allow_empty=False)
        responsible = string_field(body, "responsible", 254)
        flags = {
            flag: bool_field(body, flag)
            for flag in ("closed", "read", "chatgpt_autoresponse_enabled")
        }
        teammate: TeammateRecord | None = None
        if responsible:
            teammate = self.space.teammate_by_email(responsible)
            if teammate is None:
                raise field_error("responsible", f"no teammate with the email {responsible!r}")
        if name is not None:
            self.space.rename(chat, name)
        for flag, value in flags.items():
            if value is not None:
                setattr(chat, flag, value)
        if responsible is not None:
            self._assign(chat, teammate)
        return ok(render_chat(self.space, chat))

    def _assign(self, chat: ChatRecord, teammate: TeammateRecord | None) -> None:
        previous = (chat.responsible_name, chat.responsible_email)
        new_email = teammate.email if teammate else None
        if new_email == chat.responsible_email:
            return
        chat.responsible_email = new_email
        chat.responsible_name = teammate.display_name if teammate else None
        extra = {}
        if previous[1] is not None:
            extra = {
                "previous_responsible_name": previous[0],
                "previous_responsible_email": previous[1],
            }
        event = "chat:responsible:assigned" if teammate else "chat:responsible:unassigned"
        self.space.fire(event, chat, **extra)

    def add_note(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = chat_of(self.space, args[0])
        if request.content_type == "text/plain":
            try:
                text: str | None = request.body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ApiFailure(400, str(exc), "validation_error") from exc
            if text is not None and "\x00" in text:
                raise field_error("text", "must not contain NUL (\\u0000) characters")
            if text is not None and len(text) > MAX_NOTE:
                raise field_error("text", f"ensure this value has at most {MAX_NOTE} characters")
        else:
            body = json_object(request)
            text = string_field(body, "text", MAX_NOTE, required=True)
            bool_field(body, "is_private")
        if not text or not text.strip():
            raise field_error("text", "must not be empty")
        return ok({"message_uid": self.space.add_note(chat, text).uid})
