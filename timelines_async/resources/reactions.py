"""`tl.reactions`: read a message's reactions and set or clear the workspace account's own."""

from __future__ import annotations

from .._converter import data_field, structure
from .._exceptions import InvalidRequestError
from .._http import HTTPCore, _Call
from .._validation import MAX_REACTION, check_text, check_uid
from ..models import Reactions

__all__ = ["MessageReactions"]


class MessageReactions:
    """`tl.reactions`: a message's reactions, and the workspace account's own."""

    def __init__(self, http: HTTPCore) -> None:
        self._http = http

    async def get(self, uid: str) -> Reactions:
        """Who reacted to the message and with what.

        Args:
            uid: The message's uid.

        Returns:
            `Reactions`: `reactions` maps each emoji to its count, `users` says who.

        Raises:
            InvalidRequestError: A bad uid.
            NotFoundError: No such message.
        """
        uid = check_uid("uid", uid)
        data = await self._http.request(_Call("GET", f"/messages/{uid}/reactions"))
        return structure(data, Reactions, what="a message's reactions")

    async def set(self, uid: str, emoji: str) -> str:
        """React to the message with `emoji`, replacing the account's previous reaction.

        Args:
            uid: The message's uid.
            emoji: One emoji (at most 50 characters, escapes included).

        Returns:
            The message's uid.

        Raises:
            InvalidRequestError: A bad uid or emoji.
            NotFoundError: No such message.
        """
        uid = check_uid("uid", uid)
        emoji = check_text("emoji", emoji, max_length=MAX_REACTION)
        if not emoji.strip():
            raise InvalidRequestError(
                "emoji", "must not be empty (use clear() to remove a reaction)"
            )
        return await self._patch(uid, emoji)

    async def clear(self, uid: str) -> str:
        """Remove the workspace account's reaction from the message.

        Args:
            uid: The message's uid.

        Returns:
            The message's uid.

        Raises:
            InvalidRequestError: A bad uid.
            NotFoundError: No such message.
        """
        return await self._patch(check_uid("uid", uid), "")

    async def _patch(self, uid: str, reaction: str) -> str:
        data = await self._http.request(
            _Call("PATCH", f"/messages/{uid}/reactions", json={"reaction": reaction})
        )
        if data is None:  # a bare `{"status": "ok"}`, as the spec allows
            return uid
        return structure(
            data_field(data, "message_uid", what="a reaction change"), str, what="a message uid"
        )
