"""`tl.quotas`: the workspace's plan, seats and quotas.

`GET /workspace` is current; an older deployment that answers it 404 is asked
the legacy `GET /workspace/quotas`, which has the quotas but no identity or plan.
"""

from __future__ import annotations

import logging

from .._converter import structure
from .._exceptions import APIError
from .._http import HTTPCore, _Call
from ..models import Workspace

__all__ = ["Quotas"]

logger = logging.getLogger("timelines_async")


class Quotas:
    """`tl.quotas`: the workspace's plan, seats and quotas."""

    def __init__(self, http: HTTPCore) -> None:
        self._http = http

    async def get(self) -> Workspace:
        """Plan, seats, messaging and API-call quotas, and the non-recurring balance.

        Reads `GET /workspace`; on an older deployment without it, falls back to
        the legacy `GET /workspace/quotas` (the same quotas, no plan or name).

        Returns:
            The `Workspace`: `workspace.messaging_quota.remaining` is what is left to
            send this period.
        """
        try:
            data = await self._http.request(_Call("GET", "/workspace"))
        except APIError as error:
            # An older deployment has no /workspace: a 404, with the API's envelope
            # or a bare HTML page.
            if error.status_code != 404:
                raise
            logger.debug("GET /workspace answered 404; falling back to /workspace/quotas")
            data = await self._http.request(_Call("GET", "/workspace/quotas"))
            return structure(data, Workspace, what="the workspace quotas (legacy)")
        return structure(data, Workspace, what="the workspace")
