"""The pytest plugin (entry point `timelines_async`): a fresh fake workspace per test.

Imports only the core dependencies, so that installing timelines-async never
breaks a test run that does not use it.
"""

from __future__ import annotations

import pytest

from ._app import FakeTimelines

__all__ = ["timelines_fake"]


@pytest.fixture
def timelines_fake() -> FakeTimelines:
    """A fresh `FakeTimelines` with small defaults: seed 0, 20 chats, no spacing, no faults.

    Talk to it with `async with timelines_fake.client() as tl: ...`.
    """
    return FakeTimelines(seed=0, chats=20)
