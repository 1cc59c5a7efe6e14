"""`tl.messages.reconcile` on a workspace with several WhatsApp numbers, against the fake.

One contact then has a chat on each number. A send whose answer was lost went
into one of them; reconcile must find it there even when another of the
contact's chats is listed first (the most recently active one).
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from timelines_async import SendAttempt, SendOutcomeUnknown, Target, TimelinesClient
from timelines_async.testing import FakeTimelines, FakeTransport

pytestmark = pytest.mark.anyio

CONTACT = "+14155550123"


class LosesSendAnswers(FakeTransport):
    """Hands every send to the fake (it goes out), then loses the answer."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST":
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def number_of(fake: FakeTimelines, chat_id: int) -> str:
    """The WhatsApp number that owns a chat."""
    return "+" + fake.chats[chat_id].whatsapp_account_id.split("@")[0]


def chat_on(fake: FakeTimelines, number: str) -> int:
    """The contact's chat on `number`."""
    return next(
        chat.id
        for chat in fake.chats.values()
        if chat.phone == CONTACT and number_of(fake, chat.id) == number
    )


async def contact_on_two_numbers(fake: FakeTimelines, tl: TimelinesClient) -> tuple[str, str]:
    """Give the contact a chat on two numbers; (the number a send uses by default, another)."""
    await tl.messages.send(phone=CONTACT, text="first hello")
    default = number_of(fake, fake.sent[-1].chat_id)
    numbers = [account.phone for account in await tl.whatsapp_accounts.list()]
    other = next(number for number in numbers if number is not None and number != default)
    await tl.messages.send(phone=CONTACT, text="hello again", whatsapp_account_phone=other)
    assert len(await tl.chats.list(phone=CONTACT).collect()) == 2
    return default, other


async def lose_a_send(fake: FakeTimelines, **kwargs: object) -> SendOutcomeUnknown:
    async with httpx.AsyncClient(transport=LosesSendAnswers(fake)) as http:
        lossy = fake.client(http_client=http)
        with pytest.raises(SendOutcomeUnknown) as caught:
            await lossy.messages.send(phone=CONTACT, text="Your order shipped", **kwargs)
    return caught.value


@pytest.mark.parametrize("named", [False, True], ids=["default-number", "number-named"])
async def test_a_lost_send_is_found_in_its_own_chat_when_another_is_busier(named: bool) -> None:
    fake = FakeTimelines(seed=0, chats=10)
    async with fake.client() as tl:
        default, other = await contact_on_two_numbers(fake, tl)
        sender, busy = (other, default) if named else (default, other)
        err = await lose_a_send(fake, **({"whatsapp_account_phone": sender} if named else {}))
        went_to = fake.sent[-1].chat_id
        assert went_to == chat_on(fake, sender)
        # A new incoming message makes the contact's other chat the first one listed.
        fake.receive_message(chat_on(fake, busy), "are you there?")
        listed = await tl.chats.list(phone=CONTACT).collect()
        assert listed[0].id != went_to

        found = await tl.messages.reconcile(err)

    assert err.whatsapp_account_phone == (sender if named else None)
    assert found is not None
    assert (found.uid, found.chat_id) == (fake.sent[-1].uid, went_to)


async def test_none_means_the_send_went_out_on_no_number() -> None:
    fake = FakeTimelines(seed=0, chats=10)
    async with fake.client() as tl:
        await contact_on_two_numbers(fake, tl)
        attempt = SendAttempt(
            target=Target.phone(CONTACT), text="Your order shipped", attempted_at=datetime.now(UTC)
        )
        assert await tl.messages.reconcile(attempt) is None


async def test_a_named_sending_number_is_the_only_one_looked_at() -> None:
    """The same text sent from the other number is not what this attempt produced."""
    fake = FakeTimelines(seed=0, chats=10)
    async with fake.client() as tl:
        default, other = await contact_on_two_numbers(fake, tl)
        await tl.messages.send(phone=CONTACT, text="Your order shipped")  # from `default`
        attempt = SendAttempt(
            target=Target.phone(CONTACT),
            whatsapp_account_phone=other,
            text="Your order shipped",
            attempted_at=datetime.now(UTC),
        )
        assert await tl.messages.reconcile(attempt) is None
        unnamed = SendAttempt(
            target=Target.phone(CONTACT), text="Your order shipped", attempted_at=datetime.now(UTC)
        )
        found = await tl.messages.reconcile(unnamed)
    assert found is not None
    assert found.chat_id == chat_on(fake, default)


async def test_the_error_says_which_number_sent_it() -> None:
    fake = FakeTimelines(seed=0, chats=10)
    async with fake.client() as tl:
        _, other = await contact_on_two_numbers(fake, tl)
    err = await lose_a_send(fake, whatsapp_account_phone=other)
    assert f"from {other}" in str(err)
    assert other in repr(err)
    assert fake.token not in str(err) + repr(err)
