"""Reading messages: a chat's history, one message, its status history."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .._checks import bool_query, page_number
from .._records import ChatRecord, MessageRecord
from .._render import MessageJsonCache, render_message
from .._state import PAGE_SIZE, WorkspaceState
from .._wire import ApiFailure, Request, Response, field_error, ok, ok_page
from ._common import Route, chat_of

__all__ = ["MessageRoutes"]


class MessageRoutes:
    def __init__(self, space: WorkspaceState) -> None:
        self.space = space
        self._message_json = MessageJsonCache(space)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/chats/{}/messages", self.list_messages),
            Route("GET", "/messages/{}", self.get_message),
            Route("GET", "/messages/{}/status_history", self.status_history),
        ]

    def list_messages(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = chat_of(self.space, args[0])
        query = request.query
        order = query.get("sorting_order", "desc").lower()
        if order not in ("asc", "desc"):
            raise field_error("sorting_order", "must be 'asc' or 'desc'")
        history = self.space.history(chat)
        window = _Window(
            ascending=order == "asc",
            from_me=bool_query(query, "from_me"),
            after=self._time_bound(query, "after"),
            before=self._time_bound(query, "before"),
        )
        # `page` is undocumented on messages but used by other clients: skip whole pages.
        skip = (page_number(query) - 1) * PAGE_SIZE
        page, has_more = window.page(history, _candidates(chat, query, window.ascending), skip)
        return ok_page("messages", has_more, map(self._message_json, page))

    def _time_bound(self, query: Mapping[str, str], name: str) -> float | None:
        if not query.get(name):
            return None
        bound = self.space.clock.from_text(query[name])
        if bound is None:
            raise field_error(name, "invalid date or datetime")
        return bound

    def get_message(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(render_message(self.space, self.space.message(args[0])))

    def status_history(self, request: Request, args: tuple[str, ...]) -> Response:
        message = self.space.message(args[0])
        text = self.space.clock.text
        steps = self.space.status_history(message)
        return ok([{"status": status, "timestamp": text(at)} for status, at in steps])


def _candidates(chat: ChatRecord, query: Mapping[str, str], ascending: bool) -> range:
    """The history's indexes between `after_message` and `before_message`, in the order asked."""
    low, high = 0, len(chat.history or ())
    for name, keep_after in (("after_message", True), ("before_message", False)):
        uid = query.get(name)
        if uid:
            position = chat.positions.get(uid)
            if position is None:
                raise ApiFailure(404, f"Message uid {uid} not found", "not_found")
            if keep_after:
                low = max(low, position + 1)
            else:
                high = min(high, position)
    return range(low, high) if ascending else range(high - 1, low - 1, -1)


@attrs.frozen(kw_only=True)
class _Window:
    """Which messages a listing keeps: by direction and time, walked in the listing's order."""

    ascending: bool
    from_me: bool | None
    after: float | None
    before: float | None

    def page(
        self, history: list[MessageRecord], indexes: range, skip: int
    ) -> tuple[list[MessageRecord], bool]:
        """One page of the messages kept, after skipping `skip`; and whether more follow."""
        page: list[MessageRecord] = []
        for index in indexes:
            message = history[index]
            if self.from_me is not None and message.from_me is not self.from_me:
                continue
            second = message.at // 1  # the API's timestamps have whole seconds
            if self.after is not None and second < self.after:
                if self.ascending:
                    continue
                break
            if self.before is not None and second > self.before:
                if not self.ascending:
                    continue
                break
            if skip:
                skip -= 1
                continue
            if len(page) == PAGE_SIZE:
                return page, True
            page.append(message)
        return page, False
