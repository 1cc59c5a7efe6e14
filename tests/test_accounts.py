"""`tl.whatsapp_accounts.list()`: the connected WhatsApp numbers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
import respx

from tests.conftest import API_BASE
from timelines_async import TimelinesClient, UnexpectedResponseError, WhatsAppAccount

pytestmark = pytest.mark.anyio

BASE = API_BASE
ACCOUNT = {
    "id": "972501111111@s.whatsapp.net",
    "phone": "+972540000001",
    "connected_on": "2023-06-18 15:19:23 +0100",
    "status": "Active",
    "owner_name": "John Doe",
    "owner_email": "john.doe@acme.com",
    "account_name": "",
}


async def test_list_structures_every_account(tl: TimelinesClient, router: respx.MockRouter) -> None:
    router.get(f"{BASE}/whatsapp_accounts").mock(
        return_value=httpx.Response(
            200,
            json={
                "status": "ok",
                "data": {"whatsapp_accounts": [ACCOUNT, {**ACCOUNT, "id": "2@s.whatsapp.net"}]},
            },
        )
    )
    accounts = await tl.whatsapp_accounts.list()
    assert accounts[0] == WhatsAppAccount(
        id="972501111111@s.whatsapp.net",
        phone="+972540000001",
        connected_on=datetime(2023, 6, 18, 15, 19, 23, tzinfo=timezone(timedelta(hours=1))),
        status="Active",
        owner_name="John Doe",
        owner_email="john.doe@acme.com",
        account_name="",
    )
    assert [a.id for a in accounts] == ["972501111111@s.whatsapp.net", "2@s.whatsapp.net"]


async def test_an_empty_workspace_has_no_accounts(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/whatsapp_accounts").mock(
        return_value=httpx.Response(200, json={"status": "ok", "data": {"whatsapp_accounts": []}})
    )
    assert await tl.whatsapp_accounts.list() == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("nope", id="a-string-not-an-object"),
        pytest.param([{"phone": "+1"}], id="a-bare-list-with-an-account-without-id"),
        pytest.param({"accounts": []}, id="missing-key"),
        pytest.param({"whatsapp_accounts": [{"phone": "+1"}]}, id="account-without-id"),
        pytest.param({"whatsapp_accounts": "nope"}, id="not-a-list"),
    ],
)
async def test_a_malformed_answer_is_an_unexpected_response(
    tl: TimelinesClient, router: respx.MockRouter, data: object
) -> None:
    router.get(f"{BASE}/whatsapp_accounts").mock(
        return_value=httpx.Response(200, json={"status": "ok", "data": data})
    )
    with pytest.raises(UnexpectedResponseError):
        await tl.whatsapp_accounts.list()
