"""`tl.chats`: filters on the wire, get, partial update, notes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from timelines_async import (
    Chat,
    InvalidRequestError,
    NotFoundError,
    TransportError,
    UnexpectedResponseError,
)
from timelines_async.testing import FakeTimelines

from ._core_support import chat_json, error, make_core, ok, resources, router

pytestmark = pytest.mark.anyio


def one_page(*chats: dict[str, Any]) -> httpx.Response:
    return ok({"has_more_pages": False, "chats": list(chats)})


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {}),
        ({"label": ["vip", "enterprise"]}, {"label": "vip,enterprise"}),
        ({"label": "vip"}, {"label": "vip"}),
        ({"label": ("a", "b", "c")}, {"label": "a,b,c"}),
        (
            {"whatsapp_account_id": "972501111111@s.whatsapp.net"},
            {"whatsapp_account_id": "972501111111@s.whatsapp.net"},
        ),
        ({"responsible": ["a@x.io", "b@x.io"]}, {"responsible": "a@x.io,b@x.io"}),
        ({"name": "Acme"}, {"name": "Acme"}),
        ({"group": True}, {"group": "true"}),
        ({"read": False}, {"read": "false"}),
        ({"closed": True}, {"closed": "true"}),
        ({"chatgpt_autoresponse_enabled": False}, {"chatgpt_autoresponse_enabled": "false"}),
        ({"phone": "+1 (415) 555-1234"}, {"phone": "+14155551234"}),
        ({"phone": "050-111 1111"}, {"phone": "0501111111"}),  # national: a substring match
        ({"phone": "5551234"}, {"phone": "5551234"}),  # partial
        ({"phone": "+٩٧٢ ٥٠"}, {"phone": "+97250"}),
        (
            {"created_after": datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)},
            {"created_after": "2024-12-31T23:59:59+00:00"},
        ),
        (
            {"created_before": datetime(2025, 1, 31, 9, 30, tzinfo=timezone(timedelta(hours=2)))},
            {"created_before": "2025-01-31T09:30:00+02:00"},
        ),
        ({"created_before": "2025-01-31T00:00:00Z"}, {"created_before": "2025-01-31T00:00:00Z"}),
    ],
)
async def test_list_filters_are_sent_as_the_api_spells_them(
    filters: dict[str, Any], expected: dict[str, str]
) -> None:
    mock = router()
    route = mock.get("/chats").mock(return_value=one_page(chat_json(1)))
    chats, _, _ = resources(make_core(mock))
    assert [c.id for c in await chats.list(**filters).collect()] == [1]
    assert dict(route.calls.last.request.url.params) == {**expected, "page": "1"}


@pytest.mark.parametrize("phone", ["", "   ", "call me", "+1 415 CALL", "+", "12,34"])
def test_a_phone_filter_with_letters_or_nothing_is_refused(phone: str) -> None:
    chats, _, _ = resources(make_core(router()))
    with pytest.raises(InvalidRequestError) as info:
        chats.list(phone=phone)
    assert info.value.field == "phone"


@pytest.mark.parametrize("field", ["label", "name", "responsible", "whatsapp_account_id"])
@pytest.mark.parametrize("value", ["a,b", ["ok", "a,b"]], ids=["one-value", "in-a-list"])
def test_a_comma_inside_one_value_of_a_multi_value_filter_is_refused(
    field: str, value: object
) -> None:
    """The API splits on commas: `name="Acme, Inc"` would silently look for two names."""
    chats, _, _ = resources(make_core(router()))
    with pytest.raises(InvalidRequestError) as info:
        chats.list(**{field: value})  # type: ignore[arg-type]
    assert info.value.field == field
    assert "comma" in str(info.value)


async def test_a_national_phone_filter_finds_the_chats_of_the_fake_that_contain_it() -> None:
    fake = FakeTimelines(seed=0, chats=5)
    chat = next(iter(fake.chats.values()))
    assert chat.phone is not None
    national = "0" + chat.phone[-9:]  # a leading zero in place of the country code
    async with fake.client() as tl:
        found = await tl.chats.list(phone=national).collect()
    assert chat.id in [c.id for c in found]


async def test_list_pages_carry_the_same_filters() -> None:
    mock = router()
    route = mock.get("/chats").mock(
        side_effect=[
            ok({"has_more_pages": True, "chats": [chat_json(1)]}),
            ok({"has_more_pages": False, "chats": [chat_json(2)]}),
        ]
    )
    chats, _, _ = resources(make_core(mock, max_concurrency=1))
    assert [c.id for c in await chats.list(label="vip").collect()] == [1, 2]
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"label": "vip", "page": "1"},
        {"label": "vip", "page": "2"},
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"chats": [chat_json(1)]},
        {"has_more_pages": False},
        [chat_json(1)],
        None,
        {"has_more_pages": False, "chats": chat_json(1)},
        {"has_more_pages": False, "chats": [{"name": "no id"}]},
    ],
    ids=["no-has-more", "no-chats", "bare-list", "null", "chats-not-a-list", "chat-without-id"],
)
async def test_a_chats_page_without_its_fields_is_unexpected(data: object) -> None:
    mock = router()
    mock.get("/chats").mock(return_value=ok(data))
    chats, _, _ = resources(make_core(mock))
    with pytest.raises(UnexpectedResponseError):
        await chats.list().collect()


async def test_get_returns_the_chat() -> None:
    mock = router()
    mock.get("/chats/12").mock(
        return_value=ok(chat_json(12, labels=["vip"], is_group=False, closed=False))
    )
    chats, _, _ = resources(make_core(mock))
    chat = await chats.get(12)
    assert isinstance(chat, Chat)
    assert (chat.id, chat.labels, chat.is_group) == (12, ("vip",), False)


async def test_get_of_a_missing_chat_is_not_found() -> None:
    mock = router()
    mock.get("/chats/12").mock(return_value=error(404, "Whatsapp chat_id 12 not found"))
    chats, _, _ = resources(make_core(mock))
    with pytest.raises(NotFoundError, match="not found"):
        await chats.get(12)


@pytest.mark.parametrize(
    ("changes", "body"),
    [
        ({"name": "Acme Corp"}, {"name": "Acme Corp"}),
        ({"responsible": "ann@acme.io"}, {"responsible": "ann@acme.io"}),
        ({"responsible": ""}, {"responsible": ""}),  # unassigns
        ({"closed": True, "read": False}, {"closed": True, "read": False}),
        ({"chatgpt_autoresponse_enabled": False}, {"chatgpt_autoresponse_enabled": False}),
    ],
)
async def test_update_sends_only_what_is_passed(
    changes: dict[str, Any], body: dict[str, Any]
) -> None:
    mock = router()
    route = mock.patch("/chats/3").mock(return_value=ok(chat_json(3, **changes)))
    chats, _, _ = resources(make_core(mock))
    chat = await chats.update(3, **changes)
    assert chat.id == 3
    assert json.loads(route.calls.last.request.content) == body


async def test_update_is_retried_on_a_gateway_error() -> None:
    mock = router()
    route = mock.patch("/chats/3").mock(side_effect=[error(503, "busy"), ok(chat_json(3))])
    chats, _, _ = resources(make_core(mock))
    assert (await chats.update(3, closed=True)).id == 3
    assert route.call_count == 2


async def test_add_note_posts_a_private_note_and_returns_its_uid() -> None:
    mock = router()
    route = mock.post("/chats/3/notes").mock(return_value=ok({"message_uid": "note-1"}))
    chats, _, _ = resources(make_core(mock))
    assert await chats.add_note(3, "Called, will pay Friday") == "note-1"
    assert json.loads(route.calls.last.request.content) == {
        "text": "Called, will pay Friday",
        "is_private": True,
    }


async def test_add_note_is_not_retried_when_it_may_have_been_taken() -> None:
    """A repeated note would show twice in the chat: a read timeout is not retried."""
    mock = router()
    route = mock.post("/chats/3/notes").mock(side_effect=httpx.ReadTimeout("slow"))
    chats, _, _ = resources(make_core(mock, max_retries=3))
    with pytest.raises(TransportError):
        await chats.add_note(3, "hello")
    assert route.call_count == 1


@pytest.mark.parametrize("data", [{}, {"message_uid": None}])
async def test_a_note_taken_without_a_uid_gives_none(data: object) -> None:
    """The note exists: the caller must not be led to add it again."""
    mock = router()
    mock.post("/chats/3/notes").mock(return_value=ok(data))
    chats, _, _ = resources(make_core(mock))
    assert await chats.add_note(3, "hello") is None


@pytest.mark.parametrize("data", [["note-1"], "note-1", {"message_uid": ["x"]}])
async def test_add_note_with_a_malformed_answer_is_unexpected(data: object) -> None:
    mock = router()
    mock.post("/chats/3/notes").mock(return_value=ok(data))
    chats, _, _ = resources(make_core(mock))
    with pytest.raises(UnexpectedResponseError):
        await chats.add_note(3, "hello")
