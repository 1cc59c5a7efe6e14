"""`RedisDeduplicator`: one webhook delivery handled once by every replica, against a real Redis.

A redis-server is started on 127.0.0.1 (tests/_redis_server.py); without the
binary the tests skip, or fail when `CI=true`.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync
from redis.asyncio import Redis

from timelines_async import ConfigurationError
from timelines_async.events import Event, parse_event
from timelines_async.receiver import DeduplicatorUnavailable, WebhookReceiver
from timelines_async.redis import RedisDeduplicator

from ._net import free_port
from ._redis_server import RedisServer, no_retries

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

REPO_ROOT = Path(__file__).resolve().parents[1]
SECRET = "replica-secret_0123456789"


def delivery(uid: str = "m-1") -> dict[str, Any]:
    return {
        "event_type": "message:received:new",
        "chat": {"chat_id": 42},
        "message": {"message_uid": uid, "text": "hello"},
    }


def event(uid: str = "m-1") -> Event:
    return parse_event(delivery(uid))


@pytest.fixture
def prefix() -> str:
    return f"test:webhook:{uuid.uuid4().hex}:"


@pytest.fixture
async def dead_redis() -> AsyncIterator[Redis]:
    async with Redis(host="127.0.0.1", port=free_port(), retry=no_retries()) as dead:
        yield dead


async def test_a_delivery_taken_by_one_replica_is_a_repeat_for_another(
    redis_server: RedisServer, prefix: str
) -> None:
    async with Redis.from_url(redis_server.url) as one, Redis.from_url(redis_server.url) as two:
        first = RedisDeduplicator(one, prefix=prefix)
        second = RedisDeduplicator(two, prefix=prefix)
        assert await first.is_duplicate(event()) is False
        assert await second.is_duplicate(event()) is True
        assert await second.is_duplicate(event("m-2")) is False


async def test_one_key_per_delivery_expiring_after_ttl(redis: Redis, prefix: str) -> None:
    dedup = RedisDeduplicator(redis, prefix=prefix, ttl=timedelta(minutes=5))
    await dedup.is_duplicate(event())
    keys = [key async for key in redis.scan_iter(match=prefix + "*")]
    assert len(keys) == 1
    assert 299_000 < await redis.pttl(keys[0]) <= 300_000


async def test_a_forgotten_event_is_new_again_for_every_replica(redis: Redis, prefix: str) -> None:
    dedup = RedisDeduplicator(redis, prefix=prefix)
    await dedup.is_duplicate(event())
    await dedup.forget(event())
    assert await RedisDeduplicator(redis, prefix=prefix).is_duplicate(event()) is False


async def test_without_redis_it_processes_by_default_and_says_so(
    dead_redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = WebhookReceiver(SECRET, dedup=RedisDeduplicator(dead_redis))
    handled: list[Event] = []
    receiver.on()(_recorder(handled))

    async with receiver, _client(receiver) as client:
        answer = await client.post(f"/{SECRET}", json=delivery())

    assert answer.status_code == 200
    assert len(handled) == 1
    assert "Redis could not say whether a message:received:new event is a repeat" in caplog.text


async def test_without_redis_reject_answers_503_so_the_api_delivers_again(
    dead_redis: Redis,
) -> None:
    dedup = RedisDeduplicator(dead_redis, on_error="reject")
    receiver = WebhookReceiver(SECRET, dedup=dedup)
    handled: list[Event] = []
    receiver.on()(_recorder(handled))

    with pytest.raises(DeduplicatorUnavailable):
        await dedup.is_duplicate(event())
    async with receiver, _client(receiver) as client:
        answer = await client.post(f"/{SECRET}", json=delivery())

    assert answer.status_code == 503
    assert handled == []


async def test_forgetting_without_redis_is_logged_not_raised(
    dead_redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="timelines_async.redis"):
        await RedisDeduplicator(dead_redis).forget(event())
    assert "could not forget a message:received:new event" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ttl": 0}, "ttl"),
        ({"ttl": timedelta(seconds=-1)}, "ttl"),
        ({"on_error": "ignore"}, "on_error"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_bad_settings_are_configuration_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        RedisDeduplicator(Redis(), **kwargs)


def _recorder(handled: list[Event]) -> Any:
    async def record(event: Event) -> None:
        handled.append(event)

    return record


def _client(receiver: WebhookReceiver) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver), base_url="http://app")


# --- uvicorn --workers 2 ------------------------------------------------------------------


@pytest.mark.slow
def test_under_uvicorn_with_two_workers_a_repeated_delivery_is_handled_once(
    redis_server: RedisServer,
) -> None:
    """The same delivery posted on fresh connections until both workers have answered it."""
    counter = f"test:handled:{uuid.uuid4().hex}"
    port = free_port()
    env = {
        **os.environ,
        "TEST_REDIS_URL": redis_server.url,
        "TEST_WEBHOOK_SECRET": SECRET,
        "TEST_COUNTER_KEY": counter,
    }
    command = [sys.executable, "-m", "uvicorn", "tests._receiver_app:app", "--workers", "2"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/{SECRET}"
    workers: list[str] = []
    try:
        _wait_until_serving(url)
        while len(workers) < 3 or len(set(workers)) < 2:
            assert len(workers) < 40, f"the two workers did not both answer: {workers}"
            answer = httpx.post(url, json=delivery("replicated"))  # a new connection each time
            assert answer.status_code == 200
            workers.append(answer.headers["x-worker"])
    finally:
        server.terminate()  # graceful: each worker drains its handlers on shutdown
        server.wait(timeout=30)

    with redis_sync.Redis.from_url(redis_server.url) as redis:
        assert redis.get(counter) == b"1", f"posted {len(workers)} times to workers {workers}"


def _wait_until_serving(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 405:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("uvicorn did not start")
