"""`/whatsapp_accounts`: the workspace's connected WhatsApp numbers."""

from __future__ import annotations

from .._render import render_account
from .._state import WorkspaceState
from .._wire import Request, Response, ok
from ._common import Route

__all__ = ["WhatsAppAccountRoutes"]


class WhatsAppAccountRoutes:
    def __init__(self, space: WorkspaceState) -> None:
        self.space = space

    def routes(self) -> list[Route]:
        return [Route("GET", "/whatsapp_accounts", self.whatsapp_accounts)]

    def whatsapp_accounts(self, request: Request, args: tuple[str, ...]) -> Response:
        accounts = [render_account(self.space, account) for account in self.space.accounts]
        return ok({"whatsapp_accounts": accounts})
