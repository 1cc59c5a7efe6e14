"""Shared fixtures: the anyio backend is pinned to asyncio (aiolimiter runs on asyncio only)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
