"""Answers the production spec allows that are not the usual shape, each read as it allows."""

from __future__ import annotations

import httpx
import pytest
import respx

from timelines_async import Quota, Team, TimelinesClient, WhatsAppAccount

from .conftest import API_BASE

pytestmark = pytest.mark.anyio

UID = "5c7b2a10-0000-4000-8000-000000000001"
BARE_OK = httpx.Response(200, json={"status": "ok"})
ACCOUNT = {"id": "972501111111@s.whatsapp.net", "phone": "+972501111111", "status": "active"}


async def test_a_note_taken_without_its_uid_is_not_an_error(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    """A retry would make a second note: the caller must not believe it failed."""
    router.post(f"{API_BASE}/chats/3/notes").mock(return_value=BARE_OK)
    assert await tl.chats.add_note(3, "Called, will pay Friday") is None


@pytest.mark.parametrize("change", ["set", "clear"])
async def test_a_reaction_change_without_data_gives_the_message_uid(
    tl: TimelinesClient, router: respx.MockRouter, change: str
) -> None:
    router.patch(f"{API_BASE}/messages/{UID}/reactions").mock(return_value=BARE_OK)
    if change == "set":
        assert await tl.reactions.set(UID, "👍") == UID
    else:
        assert await tl.reactions.clear(UID) == UID


async def test_whatsapp_accounts_as_a_bare_list(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.get(f"{API_BASE}/whatsapp_accounts").mock(
        return_value=httpx.Response(200, json={"status": "ok", "data": [ACCOUNT]})
    )
    assert await tl.whatsapp_accounts.list() == [
        WhatsAppAccount(id=ACCOUNT["id"], phone="+972501111111", status="active")
    ]


@pytest.mark.parametrize("data", [{"teammates": []}, {"teammates": [], "teams": None}])
async def test_teams_absent_from_the_answer_are_none(
    tl: TimelinesClient, router: respx.MockRouter, data: dict[str, object]
) -> None:
    router.get(f"{API_BASE}/workspace/teammates").mock(
        return_value=httpx.Response(200, json={"status": "ok", "data": data})
    )
    teams: list[Team] = await tl.teammates.teams()
    assert teams == []


async def test_a_null_quota_total_or_use_is_none_and_leaves_remaining_unknown(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    workspace = {
        "messaging_quota": {"total": None, "used": 3},
        "api_calls_quota": {"total": 100, "used": None},
        "seats": {"total": 5, "used": 2},
    }
    router.get(f"{API_BASE}/workspace").mock(
        return_value=httpx.Response(200, json={"status": "ok", "data": workspace})
    )
    got = await tl.quotas.get()
    assert got.messaging_quota == Quota(total=None, used=3)
    assert got.api_calls_quota == Quota(total=100, used=None)
    assert got.messaging_quota.remaining is None
    assert got.api_calls_quota.remaining is None
    assert got.seats is not None
    assert got.seats.remaining == 3
