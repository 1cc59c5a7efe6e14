"""A receiver for `uvicorn --workers 2` (tests/test_redis_dedup.py): Redis de-duplication.

Configured by the environment: TEST_REDIS_URL, TEST_WEBHOOK_SECRET and
TEST_COUNTER_KEY (a Redis counter every handled event increments). Each answer
names the worker process that gave it in `x-worker`.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

from redis.asyncio import Redis

from timelines_async.events import Event
from timelines_async.receiver import WebhookReceiver
from timelines_async.redis import RedisDeduplicator

redis = Redis.from_url(os.environ["TEST_REDIS_URL"])
receiver = WebhookReceiver(
    os.environ["TEST_WEBHOOK_SECRET"], dedup=RedisDeduplicator(redis, ttl=60)
)


@receiver.on()
async def count(event: Event) -> None:
    await redis.incr(os.environ["TEST_COUNTER_KEY"])


async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """The receiver, each answer saying which worker process gave it."""

    async def send_naming_the_worker(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message["headers"], (b"x-worker", str(os.getpid()).encode())]
        await send(message)

    await receiver(scope, receive, send_naming_the_worker)
