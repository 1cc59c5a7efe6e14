"""`RedisSendLimiter`: send slots shared by every task, client and process, against a real Redis.

A redis-server is started on 127.0.0.1 on a free port (tests/_redis_server.py);
without the binary the tests skip, or fail when `CI=true`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import itertools
import os
import shutil
import sys
import time
import uuid
from typing import Any

import anyio
import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from timelines_async import (
    ConfigurationError,
    RateLimitError,
    SendLimiter,
    TimelinesClient,
    TimelinesError,
)
from timelines_async.redis import (
    DEFAULT_KEY_PREFIX,
    RedisSendLimiter,
    SendLimiterError,
    SendSlot,
    send_slot_key,
)
from timelines_async.testing import FakeTimelines, serve_http

from ._net import free_port
from ._redis_server import RedisServer, no_retries, require_redis_server
from ._workers import run_in_step

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

TOKEN = "4d2d0239-e28c-4f4a-8a4d-3a3ca40056b8"


@pytest.fixture
def key() -> str:
    return f"test:send-slot:{uuid.uuid4().hex}"


def gaps(times: list[float]) -> list[float]:
    ordered = sorted(times)
    return [later - earlier for earlier, later in itertools.pairwise(ordered)]


# --- spacing ---------------------------------------------------------------------------


async def test_concurrent_reservations_get_slots_exactly_interval_apart_in_call_order(
    redis: Redis, key: str
) -> None:
    limiter = RedisSendLimiter(redis, key=key, interval=0.5)
    slots: dict[int, SendSlot] = {}

    async def reserve(n: int) -> None:
        slots[n] = await limiter.reserve()

    async with anyio.create_task_group() as tg:
        for n in range(10):
            tg.start_soon(reserve, n)

    in_call_order = [slots[n] for n in range(10)]
    assert in_call_order[0].wait == 0
    # On Redis's clock, in whole microseconds: exact, no slack for this machine's load.
    for earlier, later in itertools.pairwise(in_call_order):
        assert later.at - earlier.at == pytest.approx(0.5, abs=1e-6)
        assert later.wait > earlier.wait


async def test_acquire_returns_no_earlier_than_its_slot(redis: Redis, key: str) -> None:
    """The k-th caller through waited at least k intervals: lateness is allowed, haste not."""
    limiter = RedisSendLimiter(redis, key=key, interval=0.05)
    returned: list[float] = []

    async def acquire() -> None:
        await limiter.acquire()
        returned.append(time.monotonic())

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(acquire)

    for k, at in enumerate(sorted(returned)):
        assert at - started >= k * 0.05 - 1e-4
    assert max(returned) - started < 5 * 0.05 + 0.1


async def test_clients_on_separate_connections_share_one_spacing(
    redis_server: RedisServer, key: str
) -> None:
    """Three clients (three connection pools, as in three processes) on one key."""
    async with (
        Redis.from_url(redis_server.url) as first,
        Redis.from_url(redis_server.url) as second,
        Redis.from_url(redis_server.url) as third,
    ):
        limiters = [
            RedisSendLimiter(client, key=key, interval=0.5) for client in (first, second, third)
        ]
        slots: list[SendSlot] = []

        async def reserve(limiter: RedisSendLimiter) -> None:
            slots.append(await limiter.reserve())

        async with anyio.create_task_group() as tg:
            for _ in range(3):
                for limiter in limiters:
                    tg.start_soon(reserve, limiter)

    assert len(slots) == 9
    assert gaps([slot.at for slot in slots]) == pytest.approx([0.5] * 8, abs=1e-6)


async def test_separate_keys_do_not_wait_for_each_other(redis: Redis) -> None:
    one = RedisSendLimiter(redis, key=f"test:{uuid.uuid4().hex}", interval=10.0)
    other = RedisSendLimiter(redis, key=f"test:{uuid.uuid4().hex}", interval=10.0)

    assert (await one.reserve()).wait == 0
    assert (await other.reserve()).wait == 0
    assert (await one.reserve()).wait == pytest.approx(10.0, abs=0.1)


async def test_after_idle_the_next_slot_is_immediate_and_no_burst_follows(
    redis: Redis, key: str
) -> None:
    limiter = RedisSendLimiter(redis, key=key, interval=0.05)
    await limiter.reserve()
    await anyio.sleep(0.08)

    immediate = await limiter.reserve()
    following = await limiter.reserve()

    assert immediate.wait == 0
    assert following.at - immediate.at == pytest.approx(0.05, abs=1e-6)
    assert 0 < following.wait <= 0.05


async def test_the_slot_key_expires_shortly_after_its_last_slot(redis: Redis, key: str) -> None:
    limiter = RedisSendLimiter(redis, key=key, interval=2.0)
    await limiter.reserve()
    second = await limiter.reserve()

    ttl_ms = await redis.pttl(key)
    # The slot is ~2 s away; the key outlives it by one interval plus a second, no more.
    assert 1000 * (second.wait + 2.0) < ttl_ms <= 1000 * (second.wait + 2.0 + 1.0) + 5


async def test_interval_zero_still_needs_redis_but_never_waits(redis: Redis, key: str) -> None:
    limiter = RedisSendLimiter(redis, key=key, interval=0)

    slots = [await limiter.reserve() for _ in range(5)]

    assert all(slot.wait == 0 for slot in slots)
    assert await redis.exists(key) == 1


@pytest.mark.parametrize(
    "options",
    [{"protocol": 2}, {"protocol": 3}, {"decode_responses": True}],
    ids=["resp2", "resp3", "decoded"],
)
async def test_the_reply_is_read_whatever_the_clients_protocol(
    redis_server: RedisServer, key: str, options: dict[str, Any]
) -> None:
    async with Redis.from_url(redis_server.url, **options) as client:
        limiter = RedisSendLimiter(client, key=key, interval=0.5)
        first, second = await limiter.reserve(), await limiter.reserve()

    assert second.at - first.at == pytest.approx(0.5, abs=1e-6)
    assert 0.4 < second.wait <= 0.5


async def test_it_is_a_send_limiter_for_the_client(redis: Redis, key: str) -> None:
    assert isinstance(RedisSendLimiter(redis, key=key), SendLimiter)


# --- the key and the token ----------------------------------------------------------------


def test_the_default_key_is_a_hash_of_the_token() -> None:
    expected = DEFAULT_KEY_PREFIX + hashlib.sha256(TOKEN.encode()).hexdigest()[:16]

    assert send_slot_key(TOKEN) == expected
    assert send_slot_key(f"  {TOKEN}\n") == expected
    assert send_slot_key(TOKEN, prefix="acme:") == "acme:" + expected.removeprefix(
        DEFAULT_KEY_PREFIX
    )
    assert send_slot_key("another-token") != expected


async def test_the_token_never_reaches_redis_nor_the_repr(redis: Redis) -> None:
    token = f"tla_{uuid.uuid4().hex}"
    limiter = RedisSendLimiter.for_token(redis, token, interval=0.05)

    await limiter.reserve()

    assert limiter.key == send_slot_key(token)
    assert token not in limiter.key
    assert token not in repr(limiter)
    assert repr(limiter) == f"RedisSendLimiter(key={limiter.key!r}, interval=0.05)"
    stored = [k.decode() async for k in redis.scan_iter(match="*")]
    assert limiter.key in stored
    assert not [k for k in stored if token in k]


async def test_without_a_key_the_token_comes_from_the_environment(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMELINES_API_TOKEN", TOKEN)

    assert RedisSendLimiter(redis).key == send_slot_key(TOKEN)

    monkeypatch.delenv("TIMELINES_API_TOKEN")
    with pytest.raises(ConfigurationError, match="for_token"):
        RedisSendLimiter(redis)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"interval": -1}, "interval"),
        ({"interval": float("nan")}, "interval"),
        ({"interval": True}, "interval"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"key": ""}, "key"),
    ],
)
async def test_bad_settings_are_configuration_errors(
    redis: Redis, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RedisSendLimiter(redis, **{"key": "k", **kwargs})  # type: ignore[arg-type]


def test_without_redis_py_the_import_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)  # what a missing package looks like
    monkeypatch.delitem(sys.modules, "timelines_async.redis")

    with pytest.raises(ImportError, match=r'pip install "timelines-async\[redis\]"'):
        importlib.import_module("timelines_async.redis")


# --- the redis-server helper ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_a_missing_redis_server_skips_locally_but_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", ci)

    with pytest.raises(outcome, match="redis-server is not installed"):
        require_redis_server()


# --- failing closed ------------------------------------------------------------------------


async def test_unreachable_redis_fails_closed_with_a_clear_error() -> None:
    async with Redis(host="127.0.0.1", port=free_port(), retry=no_retries()) as dead:
        limiter = RedisSendLimiter.for_token(dead, TOKEN, interval=0.05)
        with pytest.raises(SendLimiterError, match=r"no send slot.*not sent") as caught:
            await limiter.acquire()

    assert isinstance(caught.value, TimelinesError)
    assert isinstance(caught.value.__cause__, RedisConnectionError)
    assert caught.value.key == limiter.key
    assert TOKEN not in str(caught.value)


async def test_the_timeout_bounds_redis_py_reconnection_retries() -> None:
    """With redis-py's default retries a refused connection takes seconds; the limiter does not."""
    async with Redis(host="127.0.0.1", port=free_port()) as dead:
        limiter = RedisSendLimiter(dead, key="k", interval=0.05, timeout=0.2)
        started = time.monotonic()
        with pytest.raises(SendLimiterError, match="not sent"):
            await limiter.acquire()

    assert time.monotonic() - started < 1.0


async def test_a_redis_that_never_answers_times_out_and_fails_closed() -> None:
    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            pass
        writer.close()

    silent = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        async with Redis(host="127.0.0.1", port=port, retry=no_retries()) as mute:
            limiter = RedisSendLimiter(mute, key="k", interval=0.05, timeout=0.2)
            started = time.monotonic()
            with pytest.raises(SendLimiterError, match=r"no answer within 0\.2 s") as caught:
                await limiter.acquire()
            elapsed = time.monotonic() - started
    finally:
        silent.close()
        await silent.wait_closed()

    assert 0.2 - 1e-3 <= elapsed < 1.0
    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_a_redis_error_reply_fails_closed(redis: Redis, key: str) -> None:
    await redis.hset(key, "not", "a slot")
    limiter = RedisSendLimiter(redis, key=key, interval=0.05)

    with pytest.raises(SendLimiterError, match="WRONGTYPE") as caught:
        await limiter.acquire()

    assert isinstance(caught.value.__cause__, ResponseError)


async def test_the_client_sends_nothing_without_a_slot() -> None:
    requests: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"status": "ok", "data": {"message_uid": "m-1"}})

    async with (
        Redis(host="127.0.0.1", port=free_port(), retry=no_retries()) as dead,
        httpx.AsyncClient(transport=httpx.MockTransport(api)) as http,
        TimelinesClient(
            TOKEN,
            base_url="http://api.test/integrations/api",
            http_client=http,
            send_limiter=RedisSendLimiter.for_token(dead, TOKEN, interval=0.05),
        ) as tl,
    ):
        with pytest.raises(SendLimiterError):
            await tl.messages.send(phone="+14155551234", text="hello")

    assert requests == []


# --- many processes, one fake server over HTTP -------------------------------------------

SEND_INTERVAL = 0.2
#: As the many-workers guide advises, the limiter's interval sits a little above
#: the API's spacing: what reaches the API can come closer than the slots (each
#: worker's wake-up and request path differ). 10 ms of headroom failed about one
#: quiet run in eight on a 2-core box, where a worker or the fake's thread is
#: sometimes descheduled for 10-20 ms; 30 ms covers that.
HEADROOM = 0.03
WORKERS = 4
SENDS_PER_WORKER = 10


def send_statuses(fake: FakeTimelines) -> list[int]:
    return [r.status for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]


def _worker() -> None:
    """One worker process: `python -c` runs this with REDIS_URL, BASE_URL, TOKEN, N, WORKER.

    It connects, says `ready`, waits for `go` on stdin, then sends N messages one
    after another through a client whose send limiter is the shared Redis one.
    """
    redis_url, base_url, token, count, worker = sys.argv[1:6]

    async def run() -> None:
        async with (
            Redis.from_url(redis_url) as redis,
            TimelinesClient(
                token,
                base_url=base_url,
                requests_per_second=None,
                max_retries=0,  # a 429 from the fake must not be retried away
                send_limiter=RedisSendLimiter.for_token(
                    redis, token, interval=SEND_INTERVAL + HEADROOM
                ),
            ) as tl,
        ):
            await redis.ping()
            await tl.chats.list().first()  # warm the HTTP connection
            print("ready", flush=True)
            await anyio.to_thread.run_sync(sys.stdin.readline)
            for n in range(int(count)):
                # A 429 is in the fake's log, where the test reports every one.
                with contextlib.suppress(RateLimitError):
                    await tl.messages.send(phone=f"+1415555{worker}{n:03d}", text="hello")

    asyncio.run(run())


@pytest.mark.slow
def test_four_processes_sending_through_one_redis_never_crowd_the_fake(
    redis_server: RedisServer,
) -> None:
    """Four worker processes, ten sends each, one token: the fake sees every send spaced.

    The slots are exact on Redis's clock; what the fake sees adds each worker's
    wake-up and request path, which differ by a few ms (more on a loaded machine):
    the limiter gets `HEADROOM` over the fake's spacing, as the README advises,
    and every arrival gap must still be at least the spacing minus 5 ms with no
    429 from the fake. It measures real spacing, not a mock's.
    """
    fake = FakeTimelines(seed=0, chats=20, token="fake-token", send_interval=SEND_INTERVAL)
    with serve_http(fake) as base_url:
        args = [redis_server.url, base_url, fake.token, str(SENDS_PER_WORKER)]
        code = "from tests.test_redis_limiter import _worker; _worker()"
        run_in_step(code, [[*args, str(n)] for n in range(WORKERS)])

    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    statuses = send_statuses(fake)
    assert statuses.count(429) == 0, (
        f"the fake answered 429 to {statuses.count(429)} sends ({load})"
    )
    assert statuses == [200] * WORKERS * SENDS_PER_WORKER
    # `at`: when the fake took the send (its clock runs at real time), as its 429 check sees it.
    short = [
        round(gap, 4) for gap in gaps([m.at for m in fake.sent]) if gap < SEND_INTERVAL - 0.005
    ]
    assert short == [], f"{len(short)} of {len(fake.sent) - 1} gaps under interval - 5 ms ({load})"


async def test_redis_stopping_mid_run_stops_the_sends_with_a_clear_error() -> None:
    # Spacing is the other test's business: this fake takes sends at any pace.
    fake = FakeTimelines(seed=0, chats=20, token="fake-token")
    accepted: list[str] = []
    with RedisServer(require_redis_server()) as server, serve_http(fake) as base_url:
        async with (
            Redis.from_url(server.url, retry=no_retries()) as redis,
            TimelinesClient(
                fake.token,
                base_url=base_url,
                requests_per_second=None,
                send_limiter=RedisSendLimiter.for_token(redis, fake.token, interval=0.05),
            ) as tl,
        ):
            with pytest.raises(SendLimiterError, match="not sent"):  # noqa: PT012
                for n in range(20):
                    sent = await tl.messages.send(phone=f"+141555590{n:02d}", text="hi")
                    accepted.append(sent.message_uid)
                    if len(accepted) == 3:
                        await anyio.to_thread.run_sync(server.stop)
            await anyio.sleep(0.1)  # anything still on its way would arrive now

    assert len(accepted) == 3
    assert [message.uid for message in fake.sent] == accepted
    assert len(send_statuses(fake)) == len(accepted)
