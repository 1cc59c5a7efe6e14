"""`/chats/{id}/labels`: a chat's labels, read, added to or replaced."""

from __future__ import annotations

from .._checks import MAX_LABEL, json_object
from .._state import WorkspaceState
from .._wire import Request, Response, field_error, ok
from ._common import Route, chat_of

__all__ = ["LabelRoutes"]


class LabelRoutes:
    def __init__(self, space: WorkspaceState) -> None:
        self.space = space

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/chats/{}/labels", self.get_labels),
            Route("PUT", "/chats/{}/labels", self.add_labels),
            Route("POST", "/chats/{}/labels", self.replace_labels),
        ]

    def _labels_body(self, request: Request) -> list[str]:
        body = json_object(request)
        labels = body.get("labels")
        if not isinstance(labels, list):
            raise field_error("labels", "value is not a valid list")
        for index, label in enumerate(labels):
            if not isinstance(label, str) or not label.strip():
                raise field_error(["labels", index], "must be a non-empty string")
            if len(label) > MAX_LABEL:
                raise field_error(
                    ["labels", index], f"ensure this value has at most {MAX_LABEL} characters"
                )
        return labels

    def get_labels(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok({"labels": list(chat_of(self.space, args[0]).labels)})

    def add_labels(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = chat_of(self.space, args[0])
        self.space.add_labels(chat, self._labels_body(request))
        return ok({"labels": list(chat.labels)})

    def replace_labels(self, request: Request, args: tuple[str, ...]) -> Response:
        chat = chat_of(self.space, args[0])
        self.space.replace_labels(chat, self._labels_body(request))
        return ok({"labels": list(chat.labels)})
