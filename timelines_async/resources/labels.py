"""`tl.labels`: a chat's labels.

`add` keeps the existing ones (PUT); `replace` sets the whole list (POST).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from .._converter import data_field, structure
from .._http import HTTPCore, _Call
from .._retry import RequestKind
from .._validation import check_chat_id, check_labels

__all__ = ["Labels"]


class Labels:
    """`tl.labels`: a chat's labels."""

    def __init__(self, http: HTTPCore) -> None:
        self._http = http

    async def list(self, chat_id: int) -> builtins.list[str]:
        """The chat's labels.

        Args:
            chat_id: The chat's id.

        Returns:
            The label names.

        Raises:
            InvalidRequestError: `chat_id` is not a positive integer.
            NotFoundError: No such chat.
        """
        chat_id = check_chat_id(chat_id)
        return _labels(await self._http.request(_Call("GET", f"/chats/{chat_id}/labels")))

    async def add(self, chat_id: int, labels: str | Iterable[str]) -> builtins.list[str]:
        """Add labels to the chat, keeping those it has.

        Unknown labels are created in the workspace.

        Args:
            chat_id: The chat's id.
            labels: One label or several (each at most 64 characters).

        Returns:
            The chat's labels after the change.

        Raises:
            InvalidRequestError: A bad chat id or label.
            NotFoundError: No such chat.
        """
        chat_id = check_chat_id(chat_id)
        body = {"labels": check_labels("labels", labels)}
        return _labels(
            await self._http.request(_Call("PUT", f"/chats/{chat_id}/labels", json=body))
        )

    async def replace(self, chat_id: int, labels: str | Iterable[str]) -> builtins.list[str]:
        """Set the chat's labels to exactly these; the others are removed.

        Takes and raises what `add` does; unknown labels are created in the
        workspace, and an empty list removes every label.

        Returns:
            The chat's labels after the change.
        """
        chat_id = check_chat_id(chat_id)
        body = {"labels": check_labels("labels", labels)}
        # POST, but setting the same list twice leaves the same state: safe to retry.
        data = await self._http.request(
            _Call("POST", f"/chats/{chat_id}/labels", json=body, kind=RequestKind.IDEMPOTENT)
        )
        return _labels(data)


def _labels(data: object) -> builtins.list[str]:
    return list(
        structure(data_field(data, "labels", what="labels"), tuple[str, ...], what="labels")
    )
