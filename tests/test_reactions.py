"""`tl.reactions`: read a message's reactions, set or clear the workspace's own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from tests.conftest import API_BASE
from timelines_async import (
    InvalidRequestError,
    Reactions,
    ReactionUser,
    TimelinesClient,
    UnexpectedResponseError,
)

pytestmark = pytest.mark.anyio

BASE = API_BASE
UID = "a5bbb005-37f2-402c-96fa-e479a2e09b02"
REACTIONS = f"{BASE}/messages/{UID}/reactions"


def ok(data: object) -> httpx.Response:
    return httpx.Response(200, json={"status": "ok", "data": data})


async def test_get_reads_users_counts_and_total(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.get(REACTIONS).mock(
        return_value=ok(
            {
                "users": [
                    {"name": "Ann", "phone": "+14155550000", "reaction": "👍", "current": True}
                ],
                "reactions": {"👍": 2},
                "total": 2,
            }
        )
    )
    assert await tl.reactions.get(UID) == Reactions(
        users=(ReactionUser(name="Ann", phone="+14155550000", reaction="👍", current=True),),
        reactions={"👍": 2},
        total=2,
    )


async def test_get_reads_the_legacy_emoji_to_string_count_map(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.get(REACTIONS).mock(return_value=ok({"👍": "2", "❤️": "5"}))
    reactions = await tl.reactions.get(UID)
    assert reactions.reactions == {"👍": 2, "❤️": 5}
    assert reactions.total == 7


@pytest.mark.parametrize(
    ("call", "sent"),
    [
        pytest.param(lambda tl: tl.reactions.set(UID, "👍"), "👍", id="set"),
        pytest.param(
            lambda tl: tl.reactions.set(UID, "\\uD83D\\uDC4D"), "\\uD83D\\uDC4D", id="escape"
        ),
        pytest.param(lambda tl: tl.reactions.clear(UID), "", id="clear"),
    ],
)
async def test_set_and_clear_patch_the_reaction_and_return_the_message_uid(
    tl: TimelinesClient, router: respx.MockRouter, call: Any, sent: str
) -> None:
    route = router.patch(REACTIONS).mock(return_value=ok({"message_uid": UID}))
    assert await call(tl) == UID
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/json"
    assert httpx.Response(200, content=request.content).json() == {"reaction": sent}


async def test_an_answer_without_the_message_uid_is_an_unexpected_response(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.patch(REACTIONS).mock(return_value=ok({}))
    with pytest.raises(UnexpectedResponseError, match="message_uid"):
        await tl.reactions.set(UID, "👍")


@pytest.mark.parametrize(
    ("uid", "emoji", "field"),
    [
        (UID, "", "emoji"),
        (UID, "   ", "emoji"),
        (UID, "👍" * 51, "emoji"),
        (UID, "a\x00", "emoji"),
        (UID, 1, "emoji"),
        ("", "👍", "uid"),
        ("a/b", "👍", "uid"),
        (None, "👍", "uid"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    tl: TimelinesClient, router: respx.MockRouter, uid: Any, emoji: Any, field: str
) -> None:
    route = router.route().mock(return_value=ok({"message_uid": UID}))
    with pytest.raises(InvalidRequestError) as caught:
        await tl.reactions.set(uid, emoji)
    assert caught.value.field == field
    assert not route.called


@pytest.mark.parametrize("method", ["get", "clear"])
async def test_get_and_clear_refuse_a_bad_uid(
    tl: TimelinesClient, router: respx.MockRouter, method: str
) -> None:
    route = router.route().mock(return_value=ok({"message_uid": UID}))
    with pytest.raises(InvalidRequestError):
        await getattr(tl.reactions, method)("bad uid")
    assert not route.called


async def test_fifty_characters_are_accepted(tl: TimelinesClient, router: respx.MockRouter) -> None:
    route = router.patch(REACTIONS).mock(return_value=ok({"message_uid": UID}))
    await tl.reactions.set(UID, "x" * 50)
    assert route.called
