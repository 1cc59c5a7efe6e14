"""`/messages/{uid}/reactions`: a message's reactions, and ours set or cleared."""

from __future__ import annotations

from .._checks import MAX_REACTION, json_object, required_string
from .._render import render_reactions
from .._state import WorkspaceState
from .._wire import Request, Response, ok

__all__ = ["ReactionRoutes"]

from ._common import Route


class ReactionRoutes:
    def __init__(self, space: WorkspaceState) -> None:
        self.space = space

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/messages/{}/reactions", self.get_reactions),
            Route("PATCH", "/messages/{}/reactions", self.set_reaction),
        ]

    def get_reactions(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(render_reactions(self.space, self.space.message(args[0])))

    def set_reaction(self, request: Request, args: tuple[str, ...]) -> Response:
        message = self.space.message(args[0])
        body = json_object(request)
        emoji = required_string(body, "reaction", MAX_REACTION)
        chat = self.space.chat(message.chat_id)
        account = self.space.account(chat.whatsapp_account_id)
        if emoji:
            message.reactions[account.phone] = (account.account_name, emoji)
        else:
            message.reactions.pop(account.phone, None)
        counts = render_reactions(self.space, message)["reactions"]
        self.space.fire(
            "message:reaction",
            chat,
            message_uid=message.uid,
            action="set" if emoji else "clear",
            emoji=emoji,
            reactor={"full_name": account.account_name, "phone": account.phone.lstrip("+")},
            timestamp=self.space.clock.text(self.space.clock.now()),
            reactions=counts,
        )
        return ok({"message_uid": message.uid})
