"""The `timelines_fake` fixture the pytest plugin gives every test that asks for it."""

from __future__ import annotations

import pytest

from timelines_async.testing import FakeTimelines

pytestmark = pytest.mark.anyio
pytest_plugins = ("pytester",)


async def test_fixture_gives_a_small_fresh_fake_a_client_can_page_through(
    timelines_fake: FakeTimelines,
) -> None:
    async with timelines_fake.client() as tl:
        chats = await tl.chats.list().collect()
    assert isinstance(timelines_fake, FakeTimelines)
    assert [chat.id for chat in chats] != []
    assert {chat.id for chat in chats} == set(timelines_fake.chats)
    assert timelines_fake.sent == []


def test_each_test_of_a_user_suite_gets_its_own_fake(pytester: pytest.Pytester) -> None:
    """From a user's suite: the fixture needs no import, and state never leaks between tests."""
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.anyio

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.parametrize("attempt", [1, 2])
        async def test_send_once(timelines_fake, attempt):
            assert timelines_fake.sent == []
            async with timelines_fake.client() as tl:
                await tl.messages.send(chat_id=min(timelines_fake.chats), text="hi")
            assert len(timelines_fake.sent) == 1
        """
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-W", "error"
    )
    result.assert_outcomes(passed=2)
