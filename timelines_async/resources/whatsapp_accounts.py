"""`tl.whatsapp_accounts`: the WhatsApp numbers connected to the workspace."""

from __future__ import annotations

import builtins

from .._converter import data_field, structure
from .._http import HTTPCore, _Call
from ..models import WhatsAppAccount

__all__ = ["WhatsAppAccounts"]


class WhatsAppAccounts:
    """`tl.whatsapp_accounts`: the WhatsApp numbers connected to the workspace."""

    def __init__(self, http: HTTPCore) -> None:
        self._http = http

    async def list(self) -> builtins.list[WhatsAppAccount]:
        """Every connected account.

        Returns:
            The `WhatsAppAccount`s; `status` is `active` or `disconnected` (its case
            varies: compare case-insensitively).
        """
        data = await self._http.request(_Call("GET", "/whatsapp_accounts"))
        # The spec allows the list itself as `data`, or wrapped in `whatsapp_accounts`.
        accounts = (
            data
            if isinstance(data, list)
            else data_field(data, "whatsapp_accounts", what="the WhatsApp accounts")
        )
        return structure(accounts, list[WhatsAppAccount], what="the WhatsApp accounts")
