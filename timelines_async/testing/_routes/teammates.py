"""`/workspace/teammates` and invitations: the workspace's members."""

from __future__ import annotations

from .._checks import json_object, required_string, string_field
from .._records import TeammateRecord
from .._render import render_teammate
from .._state import WorkspaceState
from .._wire import ApiFailure, Request, Response, field_error, json_response, ok
from ._common import Route

__all__ = ["TeammateRoutes"]

ROLES = frozenset({"admin", "team_supervisor", "teammate", "agent", "collaborator"})


class TeammateRoutes:
    def __init__(self, space: WorkspaceState) -> None:
        self.space = space

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/workspace/teammates", self.teammates),
            Route("GET", "/teammates", self.teammates),
            Route("GET", "/workspace/teammates/me", self.me),
            Route("POST", "/workspace/invitations", self.invite),
            Route("DELETE", "/workspace/invitations/{}", self.revoke_invitation),
        ]

    def teammates(self, request: Request, args: tuple[str, ...]) -> Response:
        teams = sorted({teammate.team for teammate in self.space.teammates})
        return ok(
            {
                "teams": [{"title": title} for title in teams],
                "teammates": [render_teammate(self.space, t) for t in self.space.teammates],
            }
        )

    def me(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(render_teammate(self.space, self.space.me))

    def invite(self, request: Request, args: tuple[str, ...]) -> Response:
        body = json_object(request)
        email = required_string(body, "email", 254, allow_empty=False)
        if "@" not in email.strip("@"):
            raise field_error("email", "value is not a valid email address")
        first = string_field(body, "first_name", 150) or ""
        last = string_field(body, "last_name", 150) or ""
        team = string_field(body, "team_title", 256) or "Default team"
        role = (string_field(body, "role", 32) or "teammate").lower()
        if role not in ROLES:
            raise field_error("role", f"must be one of {', '.join(sorted(ROLES))}")
        teammate = self.space.teammate_by_email(email)
        if teammate is None:
            teammate = TeammateRecord(
                user_id=max(t.user_id for t in self.space.teammates) + 1,
                display_name=f"{first} {last}".strip() or email.split("@", 1)[0],
                email=email,
                role=role,
                team=team,
                status="Invited",
                invitation_status="Pending",
                created_at=self.space.clock.now(),
            )
            self.space.teammates.append(teammate)
        elif teammate.role != "owner":
            teammate.role, teammate.team = role, team
        return ok(render_teammate(self.space, teammate))

    def revoke_invitation(self, request: Request, args: tuple[str, ...]) -> Response:
        teammates = self.space.teammates
        found = [t for t in teammates if str(t.user_id) == args[0]]
        if not found:
            raise ApiFailure(404, "User is not a member of this workspace", "not_found")
        if found[0].invitation_status != "Pending":
            raise ApiFailure(409, "The invitation was already accepted")
        teammates.remove(found[0])
        return json_response({"status": "ok", "message": "Invitation revoked successfully"})
