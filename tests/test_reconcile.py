"""`tl.messages.reconcile` on a workspace with several WhatsApp numbers, against the fake.

One contact then has a chat on each number. A send whose answer was lost went
into one of them; reconcile must find it there even when another of the
contact's chats is listed first (the most recently active one).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from timelines_async import SendAttempt, SendOutcomeUnknown, Target
from timelines_async.testing import FakeTimelines, Faults

pytestmark = pytest.mark.anyio

CONTACT = "+14155550123"
TEXT = "Your order shipped"


def contact_on_two_numbers(fake: FakeTimelines) -> dict[str, int]:
    """Give the contact a chat on the default sending number and on another; {number: chat}."""
    default = fake.workspace.default_account()
    other = next(account for account in fake.workspace.accounts if account.id != default.id)
    return {
        account.phone: fake.receive_message_from(
            CONTACT, "hi", whatsapp_account_phone=account.phone
        ).chat_id
        for account in (default, other)
    }


async def lose_the_answer(fake: FakeTimelines, sender: str | None = None) -> SendOutcomeUnknown:
    """Send (it goes out, from `sender` if given), and lose the answer."""
    fake.set_faults(Faults(lost_answer=1.0))
    async with fake.client() as tl:
        with pytest.raises(SendOutcomeUnknown) as caught:
            await tl.messages.send(phone=CONTACT, text=TEXT, whatsapp_account_phone=sender)
    fake.set_faults(Faults())
    return caught.value


@pytest.mark.parametrize("named", [False, True], ids=["default-number", "number-named"])
async def test_a_lost_send_is_found_in_its_own_chat_when_another_is_busier(named: bool) -> None:
    fake = FakeTimelines(seed=0, chats=10)
    chats = contact_on_two_numbers(fake)
    default, other = chats
    sender, busy = (other, default) if named else (default, other)
    err = await lose_the_answer(fake, sender if named else None)
    assert fake.sent[-1].chat_id == chats[sender]
    fake.advance(5)  # a new incoming message makes the contact's other chat the first listed
    fake.receive_message(chats[busy], "are you there?")
    assert fake.chats_with(CONTACT)[0].id == chats[busy]

    async with fake.client() as tl:
        found = await tl.messages.reconcile(err)

    assert err.whatsapp_account_phone == (sender if named else None)
    assert found is not None
    assert (found.uid, found.chat_id) == (fake.sent[-1].uid, chats[sender])


async def test_none_means_the_send_went_out_on_no_number() -> None:
    fake = FakeTimelines(seed=0, chats=10)
    contact_on_two_numbers(fake)
    attempt = SendAttempt(target=Target.phone(CONTACT), text=TEXT, attempted_at=datetime.now(UTC))
    async with fake.client() as tl:
        assert await tl.messages.reconcile(attempt) is None


async def test_a_named_sending_number_is_the_only_one_looked_at() -> None:
    """The same text sent from the other number is not what this attempt produced."""
    fake = FakeTimelines(seed=0, chats=10)
    chats = contact_on_two_numbers(fake)
    default, other = chats
    async with fake.client() as tl:
        await tl.messages.send(phone=CONTACT, text=TEXT)  # from the default number
        now = datetime.now(UTC)
        named = SendAttempt(
            target=Target.phone(CONTACT), whatsapp_account_phone=other, text=TEXT, attempted_at=now
        )
        unnamed = SendAttempt(target=Target.phone(CONTACT), text=TEXT, attempted_at=now)
        assert await tl.messages.reconcile(named) is None
        found = await tl.messages.reconcile(unnamed)
    assert found is not None
    assert found.chat_id == chats[default]


async def test_a_jid_send_is_found_on_its_number_too() -> None:
    fake = FakeTimelines(seed=0, chats=10)
    chats = contact_on_two_numbers(fake)
    _, other = chats
    jid = CONTACT[1:] + "@s.whatsapp.net"
    async with fake.client() as tl:
        await tl.messages.send(jid=jid, text=TEXT, whatsapp_account_phone=other)
        attempt = SendAttempt(
            target=Target.jid(jid),
            whatsapp_account_phone=other,
            text=TEXT,
            attempted_at=datetime.now(UTC),
        )
        found = await tl.messages.reconcile(attempt)
    assert found is not None
    assert found.chat_id == chats[other]


async def test_the_error_says_which_number_sent_it() -> None:
    fake = FakeTimelines(seed=0, chats=10)
    _, other = contact_on_two_numbers(fake)
    err = await lose_the_answer(fake, other)
    assert f"from {other}" in str(err)
    assert other in repr(err)
    assert fake.token not in str(err) + repr(err)
