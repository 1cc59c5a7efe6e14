"""Shared fixtures: the anyio backend is pinned to asyncio (aiolimiter runs on asyncio only)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest
import respx

from timelines_async import TimelinesClient

from ._redis_server import RedisServer, require_redis_server
from ._wire import WIRES

if TYPE_CHECKING:
    from redis.asyncio import Redis

#: The base URL of the respx-mocked API that the `tl` fixture's client talks to.
API_BASE = "https://api.test/integrations/api"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=WIRES)
def wire(request: pytest.FixtureRequest) -> str:
    """How a test that asks for it reaches the fake: `TIMELINES_TEST_WIRE` (see `_wire`)."""
    return str(request.param)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """respx routes for the API; a request to no route fails the test."""
    with respx.mock(assert_all_called=False, using="httpx") as mock:
        yield mock


@pytest.fixture
async def tl(router: respx.MockRouter) -> AsyncIterator[TimelinesClient]:
    """A client on `API_BASE`, unpaced, retrying without backoff waits."""
    async with TimelinesClient(
        "tok", base_url=API_BASE, requests_per_second=None, retry_base_delay=0, retry_max_delay=0
    ) as client:
        yield client


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server for the module: each test works under its own random key.

    Skips without the binary, fails under `CI=true`.
    """
    with RedisServer(require_redis_server()) as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    from redis.asyncio import Redis

    async with Redis.from_url(redis_server.url) as client:
        yield client
