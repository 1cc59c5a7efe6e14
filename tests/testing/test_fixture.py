"""The `timelines_fake` fixture the pytest plugin gives every test that asks for it."""

from __future__ import annotations

import pytest

from timelines_async.testing import FakeTimelines

pytestmark = pytest.mark.anyio


async def test_fixture_gives_a_small_fresh_fake_a_client_can_page_through(
    timelines_fake: FakeTimelines,
) -> None:
    async with timelines_fake.client() as tl:
        chats = await tl.chats.list().collect()
    assert isinstance(timelines_fake, FakeTimelines)
    assert [chat.id for chat in chats] != []
    assert {chat.id for chat in chats} == set(timelines_fake.chats)
    assert timelines_fake.sent == []
