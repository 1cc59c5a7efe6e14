"""The campaign tests' fake workspace."""

from __future__ import annotations

import pytest

from timelines_async.testing import FakeTimelines


@pytest.fixture
def fake() -> FakeTimelines:
    return FakeTimelines(seed=0, chats=20)
