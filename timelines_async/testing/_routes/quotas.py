"""`/workspace` and `/quotas`: the workspace and the use of its quotas."""

from __future__ import annotations

from typing import Any

from .._state import WorkspaceState
from .._wire import Request, Response, ok
from ._common import Route

__all__ = ["QuotaRoutes"]


class QuotaRoutes:
    def __init__(self, space: WorkspaceState) -> None:
        self.space = space

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/workspace", self.workspace),
            Route("GET", "/workspace/quotas", self.quotas),
            Route("GET", "/quotas", self.quotas),
        ]

    def workspace(self, request: Request, args: tuple[str, ...]) -> Response:
        info = {"workspace_id": "acme-fake", "display_name": "Acme (fake)", "plan": "Business"}
        return ok({**info, **self._quotas()})

    def quotas(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(self._quotas())

    def _quotas(self) -> dict[str, Any]:
        space = self.space
        period = {
            "period_start": space.clock.text(-15 * 86_400.0),
            "period_end": space.clock.text(15 * 86_400.0),
        }
        return {
            "seats": {"total": 10, "used": len(space.teammates), **period},
            "messaging_quota": {"total": space.credits_total, "used": space.credits_used, **period},
            "api_calls_quota": {"total": 200_000, "used": space.api_calls_used, **period},
            "non_recurring_quota": {
                "remaining_balance": 0,
                "last_updated_at": space.clock.text(-30 * 86_400.0),
            },
        }
