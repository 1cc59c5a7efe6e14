"""Fixtures for the fake's own tests: a fake, and a raw httpx client wired to it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from timelines_async.testing import FakeTimelines, FakeTransport

TOKEN = "fake-token"


@pytest.fixture
def fake() -> FakeTimelines:
    """A small fake workspace: 60 chats, no spacing, no faults."""
    return FakeTimelines(seed=3, chats=60)


@pytest.fixture
async def http(fake: FakeTimelines) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the fake (the API's own paths and bodies), with the right token."""
    async with httpx.AsyncClient(
        transport=FakeTransport(fake),
        base_url=fake.base_url,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client
