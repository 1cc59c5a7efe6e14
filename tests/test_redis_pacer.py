"""`RedisRequestPacer`: one request rate for every process on a key, against a real Redis.

A redis-server is started on 127.0.0.1 (tests/_redis_server.py); without the
binary the tests skip, or fail when `CI=true`.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
import uuid
from typing import Any

import anyio
import httpx
import pytest
from redis.asyncio import Redis

from timelines_async import ConfigurationError, RequestPacing, TimelinesClient
from timelines_async.redis import REQUEST_RATE_PREFIX, RedisRequestPacer, RequestPacerError
from timelines_async.testing import FakeTimelines, serve_http

from ._net import free_port
from ._redis_server import RedisServer, no_retries
from ._workers import run_in_step

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

TOKEN = "4d2d0239-e28c-4f4a-8a4d-3a3ca40056b8"


@pytest.fixture
def key() -> str:
    return f"test:request-rate:{uuid.uuid4().hex}"


async def start_times(pacers: list[RedisRequestPacer], count: int) -> list[float]:
    """`count` waits spread over `pacers` at once; when each returned, after the start.

    The first item is the start (a late wake-up can only delay a return).
    """
    times = [time.monotonic()]

    async def one(pacer: RedisRequestPacer) -> None:
        await pacer.wait()
        times.append(time.monotonic())

    async with anyio.create_task_group() as group:
        for pacer in itertools.islice(itertools.cycle(pacers), count):
            group.start_soon(one, pacer)
    return sorted(times)


async def test_pacers_on_separate_connections_share_one_rate(
    redis_server: RedisServer, key: str
) -> None:
    async with Redis.from_url(redis_server.url) as one, Redis.from_url(redis_server.url) as two:
        pacers = [RedisRequestPacer(r, key=key, requests_per_second=50) for r in (one, two)]
        times = await start_times(pacers, 21)

    # 21 starts at 50/s take at least 20 intervals, whichever process asked.
    assert times[-1] - times[0] >= 20 / 50


async def test_separate_keys_do_not_wait_for_each_other(redis: Redis) -> None:
    pacers = [
        RedisRequestPacer(redis, key=f"test:{uuid.uuid4().hex}", requests_per_second=1)
        for _ in range(5)
    ]
    with anyio.fail_after(0.5):  # one start each: none waits for another's second
        await start_times(pacers, 5)


async def test_a_429_seen_by_one_process_halves_the_rate_of_all(
    redis_server: RedisServer, key: str
) -> None:
    async with Redis.from_url(redis_server.url) as one, Redis.from_url(redis_server.url) as two:
        a = RedisRequestPacer(one, key=key, requests_per_second=40)
        b = RedisRequestPacer(two, key=key, requests_per_second=40)
        await a.wait()
        a.on_throttled()
        await a.wait()  # reports the 429
        b.on_throttled()  # the same congestion episode: no second cut
        times = await start_times([b], 11)

    assert a.rate == b.rate == 20
    assert times[-1] - times[0] >= 10 / 20


async def test_the_shared_rate_climbs_back_with_successes(redis: Redis, key: str) -> None:
    pacer = RedisRequestPacer(redis, key=key, requests_per_second=100)
    pacer.on_throttled()
    await pacer.wait()
    assert pacer.rate == 50
    for _ in range(80):
        pacer.on_success()
    await pacer.wait()
    assert pacer.rate == pytest.approx(90)  # 80 successes of top / 200 to 90 % of 100
    for _ in range(10):
        pacer.on_success()
    await pacer.wait()
    assert pacer.rate == pytest.approx(90.5)  # then a tenth of that each
    for _ in range(300):
        pacer.on_success()
    await pacer.wait()
    assert pacer.rate == 100  # and never beyond the top


async def test_it_paces_the_client_and_sends_nothing_without_redis() -> None:
    requests: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"status": "ok", "data": []})

    async with (
        Redis(host="127.0.0.1", port=free_port(), retry=no_retries()) as dead,
        httpx.AsyncClient(transport=httpx.MockTransport(api)) as http,
        TimelinesClient(
            TOKEN,
            base_url="http://api.test/integrations/api",
            http_client=http,
            request_pacer=RedisRequestPacer.for_token(dead, TOKEN, requests_per_second=5),
        ) as tl,
    ):
        with pytest.raises(RequestPacerError, match="the request was not sent") as caught:
            await tl.whatsapp_accounts.list()

    assert requests == []
    assert TOKEN not in str(caught.value)
    assert caught.value.key.startswith(REQUEST_RATE_PREFIX)


def test_it_is_a_request_pacing_and_hides_nothing_secret() -> None:
    pacer = RedisRequestPacer.for_token(Redis(), TOKEN, requests_per_second=2)
    assert isinstance(pacer, RequestPacing)
    assert TOKEN not in repr(pacer)
    assert TOKEN not in pacer.key


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"key": "k", "requests_per_second": 0}, "requests_per_second"),
        ({"key": "k", "requests_per_second": float("inf")}, "requests_per_second"),
        ({"key": "", "requests_per_second": 1}, "key"),
        ({"key": "k", "requests_per_second": 1, "timeout": 0}, "timeout"),
    ],
)
def test_bad_settings_are_configuration_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        RedisRequestPacer(Redis(), **kwargs)


# --- four processes, one fake limited to R requests a second ------------------------------

RATE = 20
WORKERS = 4
REQUESTS_PER_WORKER = 15


def _worker() -> None:
    """One worker process: `python -c` runs this with REDIS_URL, BASE_URL, TOKEN, N.

    It connects, says `ready`, waits for `go` on stdin, then makes N reads paced
    by the shared Redis pacer.
    """
    redis_url, base_url, token, count = sys.argv[1:5]

    async def run() -> None:
        async with (
            Redis.from_url(redis_url) as redis,
            TimelinesClient(
                token,
                base_url=base_url,
                max_retries=0,  # a 429 from the fake must show, not be retried away
                request_pacer=RedisRequestPacer.for_token(redis, token, requests_per_second=RATE),
            ) as tl,
        ):
            await redis.ping()
            print("ready", flush=True)
            await anyio.to_thread.run_sync(sys.stdin.readline)
            for _ in range(int(count)):
                await tl.quotas.get()

    asyncio.run(run())


def most_in_one_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t < start + 1.0) for i, start in enumerate(ordered))


@pytest.mark.slow
def test_four_processes_through_one_redis_pacer_stay_under_the_fakes_rate(
    redis_server: RedisServer,
) -> None:
    fake = FakeTimelines(seed=0, chats=5, token="fake-token", request_rate=RATE)
    with serve_http(fake) as base_url:
        args = [redis_server.url, base_url, fake.token, str(REQUESTS_PER_WORKER)]
        code = "from tests.test_redis_pacer import _worker; _worker()"
        run_in_step(code, [args] * WORKERS)

    reads = [r for r in fake.requests if r.path == "/workspace"]
    assert [r.status for r in reads] == [200] * WORKERS * REQUESTS_PER_WORKER
    times = [r.at for r in reads]
    busiest = most_in_one_second(times)
    assert busiest <= RATE + 1, f"{busiest} requests in one second"
    throughput = (len(times) - 1) / (max(times) - min(times))
    assert throughput >= 0.9 * RATE, f"{throughput:.1f} requests/s"
