"""`tl.teammates`: the workspace's members and teams, and invitations."""

from __future__ import annotations

import builtins
import re
from typing import Any

from .._converter import data_field, structure
from .._exceptions import InvalidRequestError
from .._http import HTTPCore, _Call
from .._validation import (
    MAX_EMAIL,
    MAX_PERSON_NAME,
    MAX_ROLE,
    MAX_TEAM_TITLE,
    check_id,
    check_text,
)
from ..models import Team, Teammate

__all__ = ["ROLES", "Teammates"]

#: The roles an invitation may give (the API's enum; it compares them case-insensitively).
ROLES = ("admin", "team_supervisor", "teammate", "agent", "collaborator")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Teammates:
    """`tl.teammates`: the workspace's members and teams, and invitations."""

    def __init__(self, http: HTTPCore) -> None:
        self._http = http

    async def list(self) -> builtins.list[Teammate]:
        """Every member of the workspace, invited ones included.

        Returns:
            The `Teammate`s.
        """
        data = await self._http.request(_Call("GET", "/workspace/teammates"))
        members = data_field(data, "teammates", what="the teammates")
        return structure(members, list[Teammate], what="the teammates")

    async def teams(self) -> builtins.list[Team]:
        """The workspace's teams (from the same answer as `list`).

        Returns:
            The `Team`s; none when the answer names none.
        """
        data = await self._http.request(_Call("GET", "/workspace/teammates"))
        if isinstance(data, dict) and data.get("teams") is None:
            return []
        return structure(data_field(data, "teams", what="the teams"), list[Team], what="the teams")

    async def me(self) -> Teammate:
        """The teammate the API token belongs to.

        Returns:
            The token's `Teammate`.
        """
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

        Args:
            email: Their email address.
            first_name: Their first name (at most 150 characters).
            last_name: Their last name (at most 150 characters).
            team_title: The team to put them in (the API's default: "Default team").
            role: One of `ROLES`: `admin`, `team_supervisor`, `teammate`, `agent`,
                `collaborator`.

        Returns:
            The invited `Teammate`.

        Raises:
            InvalidRequestError: A bad email, name, team or role.
        """
        email = check_text("email", email, max_length=MAX_EMAIL, allow_empty=False).strip()
        if not _EMAIL.fullmatch(email):
            raise InvalidRequestError("email", "is not an email address")
        body: dict[str, Any] = {"email": email}
        for field, value, limit in (
            ("first_name", first_name, MAX_PERSON_NAME),
            ("last_name", last_name, MAX_PERSON_NAME),
            ("team_title", team_title, MAX_TEAM_TITLE),
        ):
            if value is not None:
                body[field] = check_text(field, value, max_length=limit, allow_empty=False)
        if role is not None:
            body["role"] = _check_role(role)
        # A repeated invitation updates the same member: harmless, but not promised
        # idempotent by the API, so it is retried only when provably not sent.
        data = await self._http.request(_Call("POST", "/workspace/invitations", json=body))
        return structure(data, Teammate, what="the invited teammate")

    async def revoke_invitation(self, user_id: int | str) -> None:
        """Withdraw a pending invitation.

        Args:
            user_id: The invited teammate's `user_id`.

        Raises:
            InvalidRequestError: `user_id` is not a positive integer.
            NotFoundError: The user is not in the workspace.
            ConflictError: They have already accepted.
        """
        user_id = check_id("user_id", user_id, what="user")
        await self._http.request(_Call("DELETE", f"/workspace/invitations/{user_id}"))


def _check_role(value: object) -> str:
    """One of `ROLES`, in any case; sent in lower case."""
    role = check_text("role", value, max_length=MAX_ROLE, allow_empty=False).lower()
    if role not in ROLES:
        raise InvalidRequestError("role", f"must be one of {', '.join(ROLES)}, not {value!r}")
    return role
