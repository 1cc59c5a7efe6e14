"""`tl.teammates`: list, teams, me, invite and revoke an invitation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from tests.conftest import API_BASE
from timelines_async import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
    Team,
    Teammate,
    TimelinesClient,
    UnexpectedResponseError,
)

pytestmark = pytest.mark.anyio

BASE = API_BASE
MEMBER = {
    "user_id": 42,
    "display_name": "John Doe",
    "email": "admin@timelines.ai",
    "role": "owner",
    "team": "Default",
    "status": "Active",
    "created_at": "2026-02-22 00:00:00 +0100",
    "whatsapp_accounts": [{"id": "972501111111@s.whatsapp.net", "phone": "+972540000001"}],
}


def ok(data: object) -> httpx.Response:
    return httpx.Response(200, json={"status": "ok", "data": data})


async def test_list_returns_the_teammates(tl: TimelinesClient, router: respx.MockRouter) -> None:
    router.get(f"{BASE}/workspace/teammates").mock(
        return_value=ok({"teams": [{"title": "Default"}], "teammates": [MEMBER]})
    )
    (member,) = await tl.teammates.list()
    assert member.user_id == 42
    assert member.email == "admin@timelines.ai"
    assert member.created_at is not None
    assert member.whatsapp_accounts[0].id == "972501111111@s.whatsapp.net"


async def test_teams_returns_the_teams(tl: TimelinesClient, router: respx.MockRouter) -> None:
    router.get(f"{BASE}/workspace/teammates").mock(
        return_value=ok({"teams": [{"title": "Default"}, {"title": "Sales"}], "teammates": []})
    )
    assert await tl.teammates.teams() == [Team(title="Default"), Team(title="Sales")]


async def test_me_returns_the_token_owner(tl: TimelinesClient, router: respx.MockRouter) -> None:
    router.get(f"{BASE}/workspace/teammates/me").mock(return_value=ok(MEMBER))
    me = await tl.teammates.me()
    assert isinstance(me, Teammate)
    assert (me.user_id, me.role) == (42, "owner")


async def test_a_list_answer_without_teammates_is_an_unexpected_response(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/workspace/teammates").mock(return_value=ok({"teams": []}))
    with pytest.raises(UnexpectedResponseError, match="teammates"):
        await tl.teammates.list()


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        pytest.param({}, {"email": "new@example.com"}, id="email-only"),
        pytest.param(
            {"first_name": "Jo", "last_name": "Doe", "team_title": "Sales", "role": "Agent"},
            {
                "email": "new@example.com",
                "first_name": "Jo",
                "last_name": "Doe",
                "team_title": "Sales",
                "role": "agent",
            },
            id="everything-role-lowercased",
        ),
        pytest.param(
            {"role": "TEAM_SUPERVISOR"},
            {"email": "new@example.com", "role": "team_supervisor"},
            id="supervisor",
        ),
    ],
)
async def test_invite_posts_only_what_is_given(
    tl: TimelinesClient, router: respx.MockRouter, kwargs: dict[str, Any], body: dict[str, Any]
) -> None:
    route = router.post(f"{BASE}/workspace/invitations").mock(
        return_value=ok({**MEMBER, "user_id": 43, "status": "Invited"})
    )
    invited = await tl.teammates.invite("new@example.com", **kwargs)
    assert invited.user_id == 43
    assert json.loads(route.calls.last.request.content) == body


async def test_invite_is_not_repeated_after_a_server_error(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/workspace/invitations").mock(
        return_value=httpx.Response(502, text="bad gateway")
    )
    with pytest.raises(ServerError):
        await tl.teammates.invite("new@example.com")
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("email", "kwargs", "field"),
    [
        ("not-an-email", {}, "email"),
        ("a b@example.com", {}, "email"),
        ("", {}, "email"),
        ("x" * 250 + "@example.com", {}, "email"),
        (None, {}, "email"),
        ("new@example.com", {"role": "owner"}, "role"),
        ("new@example.com", {"role": "superuser"}, "role"),
        ("new@example.com", {"first_name": "x" * 151}, "first_name"),
        ("new@example.com", {"last_name": ""}, "last_name"),
        ("new@example.com", {"team_title": "a\x00"}, "team_title"),
    ],
)
async def test_a_bad_invitation_is_refused_before_sending(
    tl: TimelinesClient,
    router: respx.MockRouter,
    email: Any,
    kwargs: dict[str, Any],
    field: str,
) -> None:
    route = router.route().mock(return_value=ok(MEMBER))
    with pytest.raises(InvalidRequestError) as caught:
        await tl.teammates.invite(email, **kwargs)
    assert caught.value.field == field
    assert not route.called


@pytest.mark.parametrize("user_id", [42, "42"])
async def test_revoke_invitation_deletes_by_user_id(
    tl: TimelinesClient, router: respx.MockRouter, user_id: Any
) -> None:
    route = router.delete(f"{BASE}/workspace/invitations/42").mock(
        return_value=httpx.Response(
            200, json={"status": "ok", "message": "Invitation revoked successfully"}
        )
    )
    await tl.teammates.revoke_invitation(user_id)
    assert route.call_count == 1


@pytest.mark.parametrize(("status", "error"), [(404, NotFoundError), (409, ConflictError)])
async def test_revoke_invitation_errors_are_typed(
    tl: TimelinesClient, router: respx.MockRouter, status: int, error: type[Exception]
) -> None:
    router.delete(f"{BASE}/workspace/invitations/42").mock(
        return_value=httpx.Response(status, json={"status": "error", "message": "no"})
    )
    with pytest.raises(error):
        await tl.teammates.revoke_invitation(42)


@pytest.mark.parametrize("user_id", [0, -1, "abc", True, None, 4.2])
async def test_revoke_invitation_refuses_a_bad_user_id(
    tl: TimelinesClient, router: respx.MockRouter, user_id: Any
) -> None:
    route = router.route().mock(return_value=ok(None))
    with pytest.raises(InvalidRequestError) as caught:
        await tl.teammates.revoke_invitation(user_id)
    assert caught.value.field == "user_id"
    assert not route.called
