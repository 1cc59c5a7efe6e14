"""`tl.teammates`: the workspace's members and teams, and invitations."""

from __future__ import annotations

import builtins
import re
from typing import Any

from .._converter import data_field, structure
from .._exceptions import InvalidRequestError
from .._http import HTTPCore, _Call
from .._validation import check_text
from ..models import Team, Teammate

__all__ = ["ROLES", "Teammates"]

#: The roles an invitation may give (the API's enum; it compares them case-insensitively).
ROLES = ("admin", "team_supervisor", "teammate", "agent", "collaborator")
MAX_EMAIL = 254
MAX_NAME = 150
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Teammates:
    def __init__(self, http: HTTPCore) -> None:
        self._http = http

    async def list(self) -> builtins.list[Teammate]:
        """Every member of the workspace, invited ones included."""
        data = await self._http.request(_Call("GET", "/workspace/teammates"))
        members = data_field(data, "teammates", what="the teammates")
        return structure(members, list[Teammate], what="the teammates")

    async def teams(self) -> builtins.list[Team]:
        """The workspace's teams (from the same answer as `list`)."""
        data = await self._http.request(_Call("GET", "/workspace/teammates"))
        return structure(data_field(data, "teams", what="the teams"), list[Team], what="the teams")

    async def me(self) -> Teammate:
        """The teammate the API token belongs to."""
        data = await self._http.request(_Call("GET", "/workspace/teammates/me"))
        return structure(data, Teammate, what="the current teammate")

    async def invite(
        self,
        email: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        team_title: str | None = None,
        role: str | None = None,
    ) -> Teammate:
        """Invite someone by email (auto-approved; they get a setup email).

        If they are already a member, their role and team are updated instead.
        `role` is one of `ROLES`; the API's default team is "Default team".
        """
        check_text("email", email, max_length=MAX_EMAIL, allow_empty=False)
        if not _EMAIL.fullmatch(email.strip()):
            raise InvalidRequestError("email", "is not an email address")
        body: dict[str, Any] = {"email": email.strip()}
        for field, value in (("first_name", first_name), ("last_name", last_name)):
            if value is not None:
                body[field] = check_text(field, value, max_length=MAX_NAME, allow_empty=False)
        if team_title is not None:
            body["team_title"] = check_text(
                "team_title", team_title, max_length=1024, allow_empty=False
            )
        if role is not None:
            check_text("role", role, max_length=64, allow_empty=False)
            if role.lower() not in ROLES:
                raise InvalidRequestError(
                    "role", f"must be one of {', '.join(ROLES)}, not {role!r}"
                )
            body["role"] = role.lower()
        # A repeated invitation updates the same member: harmless, but not promised
        # idempotent by the API, so it is retried only when provably not sent.
        data = await self._http.request(_Call("POST", "/workspace/invitations", json=body))
        return structure(data, Teammate, what="the invited teammate")

    async def revoke_invitation(self, user_id: int | str) -> None:
        """Withdraw a pending invitation.

        `NotFoundError` if the user is not in the workspace, `ConflictError` if they accepted.
        """
        user_id = _check_user_id(user_id)
        await self._http.request(_Call("DELETE", f"/workspace/invitations/{user_id}"))


def _check_user_id(value: object) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidRequestError("user_id", f"must be a positive integer user id, not {value!r}")
    return value
