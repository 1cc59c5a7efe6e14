"""A workspace with several WhatsApp numbers: one chat per number with the same contact."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from timelines_async import SendOutcomeUnknown
from timelines_async.testing import AccountRecord, FakeTimelines, FakeTransport, Faults

pytestmark = pytest.mark.anyio

CONTACT = "+14155550142"


def raw(fake: FakeTimelines) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {fake.token}"}
    return httpx.AsyncClient(transport=FakeTransport(fake), base_url=fake.base_url, headers=headers)


def numbers(fake: FakeTimelines) -> tuple[AccountRecord, AccountRecord]:
    """(the default sending account, another one)."""
    default = fake.workspace.default_account()
    other = next(a for a in fake.workspace.accounts if a.id != default.id)
    return default, other


def two_chats(fake: FakeTimelines) -> tuple[int, int]:
    """The contact's chats on the default number and on another, the other one busier."""
    default, other = numbers(fake)
    on_default = fake.receive_message_from(CONTACT, "hi", whatsapp_account_phone=default.phone)
    fake.advance(1)
    on_other = fake.receive_message_from(CONTACT, "hello", whatsapp_account_phone=other.phone)
    return on_default.chat_id, on_other.chat_id


async def listed_ids(http: httpx.AsyncClient, **query: Any) -> list[int]:
    answer = await http.get("/chats", params=query)
    return [chat["id"] for chat in answer.json()["data"]["chats"]]


def test_shared_contacts_gives_contacts_a_chat_on_several_numbers() -> None:
    fake = FakeTimelines(seed=4, chats=300, shared_contacts=0.3)
    by_phone: dict[str, list[str]] = {}
    for chat in fake.chats.values():
        if chat.phone is not None:
            by_phone.setdefault(chat.phone, []).append(chat.whatsapp_account_id)
    shared = [accounts for accounts in by_phone.values() if len(accounts) > 1]
    assert len(shared) > 30
    assert all(len(set(accounts)) == len(accounts) for accounts in shared), "one chat per number"
    assert len({chat.name for chat in fake.chats.values()}) == 300


def test_without_shared_contacts_every_contact_is_on_one_number_and_the_rest_is_unchanged() -> None:
    plain = FakeTimelines(seed=4, chats=200)
    phones = [chat.phone for chat in plain.chats.values() if chat.phone]
    assert len(phones) == len(set(phones))
    shared = FakeTimelines(seed=4, chats=200, shared_contacts=0.2)
    same = [c for c in shared.chats.values() if c == plain.chats[c.id]]
    assert len(same) > 120, "only the shared chats differ from the workspace without them"


def test_shared_contacts_must_be_a_share() -> None:
    with pytest.raises(ValueError, match="shared_contacts"):
        FakeTimelines(chats=1, shared_contacts=1.5)


async def test_the_phone_filter_lists_the_contacts_chat_on_every_number_most_recent_first() -> None:
    fake = FakeTimelines(seed=1, chats=10)
    on_default, on_other = two_chats(fake)
    async with raw(fake) as http:
        assert await listed_ids(http, phone=CONTACT) == [on_other, on_default]
        fake.advance(1)
        fake.receive_message(on_default, "me again")
        assert await listed_ids(http, phone=CONTACT) == [on_default, on_other]
    assert [chat.id for chat in fake.chats_with(CONTACT)] == [on_default, on_other]


async def test_a_send_naming_its_number_goes_to_that_numbers_chat() -> None:
    fake = FakeTimelines(seed=1, chats=10)
    on_default, on_other = two_chats(fake)
    _, other = numbers(fake)
    async with raw(fake) as http:
        body = {"phone": CONTACT, "text": "yo", "whatsapp_account_phone": other.phone}
        answer = await http.post("/messages", json=body)
    uid = answer.json()["data"]["message_uid"]
    assert fake.message(uid).chat_id == on_other
    assert fake.messages_of(on_default)[-1].text == "hi"


@pytest.mark.parametrize("target", ["phone", "jid"])
async def test_a_send_without_a_number_goes_to_the_default_numbers_chat(target: str) -> None:
    """The most recently connected number sends, even when another chat is busier."""
    fake = FakeTimelines(seed=1, chats=10)
    on_default, _ = two_chats(fake)
    body = {"phone": CONTACT} if target == "phone" else {"jid": CONTACT[1:] + "@s.whatsapp.net"}
    path = "/messages/to_jid" if target == "jid" else "/messages"
    async with raw(fake) as http:
        answer = await http.post(path, json={**body, "text": "yo"})
    assert fake.message(answer.json()["data"]["message_uid"]).chat_id == on_default
    assert fake.sent[-1].sender_phone == numbers(fake)[0].phone


@pytest.mark.parametrize("target", ["phone", "jid"])
async def test_a_send_from_a_number_without_a_chat_with_the_contact_opens_one(target: str) -> None:
    fake = FakeTimelines(seed=1, chats=10)
    default, other = numbers(fake)
    fake.receive_message_from(CONTACT, "hi", whatsapp_account_phone=default.phone)
    events: list[str] = []
    fake.on_event(lambda payload: events.append(payload["event_type"]))
    body = {"phone": CONTACT} if target == "phone" else {"jid": CONTACT[1:] + "@s.whatsapp.net"}
    path = "/messages/to_jid" if target == "jid" else "/messages"
    async with raw(fake) as http:
        sent = {**body, "text": "yo", "whatsapp_account_phone": other.phone}
        assert (await http.post(path, json=sent)).status_code == 200
    chats = fake.chats_with(CONTACT)
    assert [chat.whatsapp_account_id for chat in chats] == [other.id, default.id]
    assert events[:2] == ["chat:new", "chat:outgoing:new"]


def test_an_incoming_message_on_a_number_the_workspace_lacks_is_refused() -> None:
    fake = FakeTimelines(seed=1, chats=10)
    with pytest.raises(ValueError, match="not a WhatsApp number of this workspace"):
        fake.receive_message_from(CONTACT, "hi", whatsapp_account_phone="+15550000000")


async def test_a_lost_answer_leaves_the_message_in_the_default_numbers_chat() -> None:
    """The case a reconcile must get right: the send's chat is not the first one listed."""
    fake = FakeTimelines(seed=1, chats=10)
    on_default, on_other = two_chats(fake)
    fake.set_faults(Faults(lost_answer=1.0))
    async with fake.client() as tl:
        with pytest.raises(SendOutcomeUnknown):
            await tl.messages.send(phone=CONTACT, text="exactly once")
    fake.set_faults(Faults())
    fake.advance(5)
    fake.receive_message(on_other, "busier now")
    assert [(m.chat_id, m.text) for m in fake.sent] == [(on_default, "exactly once")]
    async with raw(fake) as http:
        assert await listed_ids(http, phone=CONTACT) == [on_other, on_default]
