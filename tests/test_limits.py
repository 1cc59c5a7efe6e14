"""`_limits` and pacing through the pipeline: concurrency, request pacing, send spacing."""

from __future__ import annotations

import asyncio
import functools
import itertools

import anyio
import httpx
import pytest

from timelines_async import InProcessSendLimiter, SendLimiter, TimelinesClient
from timelines_async._http import _Call
from timelines_async._limits import RequestPacer
from timelines_async.testing import FakeTimelines

from ._core_support import BASE, TOKEN, RecordingSleep, error, make_core, ok, router

pytestmark = pytest.mark.anyio


class FakeClock:
    """A monotonic clock that only moves when the injected sleep says so."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay


async def settle(ticks: int = 20) -> None:
    for _ in range(ticks):
        await asyncio.sleep(0)


# --- concurrency --------------------------------------------------------------------------


@pytest.mark.parametrize("max_concurrency", [1, 3])
async def test_max_concurrency_bounds_requests_in_flight(max_concurrency: int) -> None:
    release = anyio.Event()
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        return ok({"id": 1})

    core = make_core(httpx.MockTransport(handler), max_concurrency=max_concurrency)
    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(core.request, _Call("GET", "/chats/1"))
            await settle()
            assert in_flight == max_concurrency  # the rest wait for a slot
            release.set()
    assert peak == max_concurrency


async def test_the_concurrency_limit_is_shared_by_every_call_on_the_client() -> None:
    release = anyio.Event()
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        if request.url.path.endswith("/labels"):
            return ok({"labels": []})
        return ok({"id": 1})

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http,
        TimelinesClient(
            TOKEN, base_url=BASE, http_client=http, max_concurrency=2, requests_per_second=None
        ) as tl,
    ):
        with anyio.fail_after(2):
            async with anyio.create_task_group() as tg:
                for chat_id in range(1, 4):
                    tg.start_soon(tl.chats.get, chat_id)
                    tg.start_soon(tl.labels.list, chat_id)
                await settle()
                assert in_flight == 2
                release.set()
    assert peak == 2


# --- request pacing -------------------------------------------------------------------------


async def test_request_pacer_spaces_starts_by_one_over_the_rate() -> None:
    clock = FakeClock()
    pacer = RequestPacer(10.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(4):
        await pacer.wait()
        starts.append(clock.now)
    assert [round(b - a, 9) for a, b in itertools.pairwise(starts)] == [0.1] * 3


async def test_request_pacer_does_not_wait_after_idle_time() -> None:
    clock = FakeClock()
    pacer = RequestPacer(2.0, clock=clock, sleep=clock.sleep)
    await pacer.wait()
    clock.now += 10.0  # idle longer than the spacing
    await pacer.wait()
    assert clock.sleeps == []


async def test_request_pacer_halves_on_429_and_recovers_gradually() -> None:
    clock = FakeClock()
    pacer = RequestPacer(8.0, clock=clock, sleep=clock.sleep)
    await pacer.wait()
    pacer.on_throttled()
    assert pacer.rate == 4.0
    await pacer.wait()
    await pacer.wait()
    assert clock.sleeps[-1] == pytest.approx(1 / 4.0)  # slower spacing right away
    pacer.on_throttled()  # a request started after the cut: a new episode
    assert pacer.rate == 2.0
    rates = []
    for _ in range(1500):
        pacer.on_success()
        rates.append(pacer.rate)
    assert rates[0] == pytest.approx(2.0 + 8.0 / 200)  # one success adds a 200th
    assert all(a < b for a, b in itertools.pairwise(rates[:1000]))  # climbs step by step
    assert rates[-1] == 8.0  # and never beyond the configured rate


async def test_request_pacer_probes_gently_near_the_rate_that_drew_a_429() -> None:
    """Back to 90 % of where the server said no at a 200th of the rate a success,
    then ten times more slowly: it settles under the limit instead of running into it."""
    clock = FakeClock()
    pacer = RequestPacer(100.0, clock=clock, sleep=clock.sleep)
    await pacer.wait()
    pacer.on_throttled()  # refused at 100: now 50
    rates = []
    for _ in range(90):
        pacer.on_success()
        rates.append(pacer.rate)
    assert rates[79] == pytest.approx(90.0)  # 80 successes of 0.5 each
    assert rates[89] == pytest.approx(90.0 + 10 * 0.05)  # then 0.05 each


async def test_request_pacer_cuts_once_for_the_429s_of_requests_already_in_flight() -> None:
    clock = FakeClock()
    pacer = RequestPacer(8.0, clock=clock, sleep=clock.sleep)
    all_started = anyio.Event()
    started = 0

    async def request_answered_429() -> None:
        nonlocal started
        await pacer.wait()
        started += 1
        if started == 4:
            all_started.set()
        await all_started.wait()  # all four in flight when the first 429 comes back
        pacer.on_throttled()

    async with anyio.create_task_group() as tasks:
        for _ in range(4):
            tasks.start_soon(request_answered_429)
    assert pacer.rate == 4.0  # one episode, one cut

    await pacer.wait()  # started after the cut: its 429 is a new episode
    pacer.on_throttled()
    assert pacer.rate == 2.0


async def test_request_pacer_never_drops_below_a_32nd_of_the_rate() -> None:
    clock = FakeClock()
    pacer = RequestPacer(8.0, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        await pacer.wait()
        pacer.on_throttled()
    assert pacer.rate == pytest.approx(8.0 / 32)


async def test_request_pacer_with_no_rate_never_waits() -> None:
    clock = FakeClock()
    pacer = RequestPacer(None, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        await pacer.wait()
    pacer.on_throttled()
    assert clock.sleeps == []
    assert pacer.rate is None


@pytest.mark.parametrize("rate", [0, -1.0])
def test_request_pacer_rejects_a_non_positive_rate(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        RequestPacer(rate)


async def test_the_pipeline_paces_requests_through_the_injected_sleep() -> None:
    mock = router()
    mock.get("/chats/1").mock(return_value=ok({"id": 1}))
    sleep = RecordingSleep()
    core = make_core(mock, requests_per_second=10.0, sleep=sleep)
    for _ in range(4):
        await core.request(_Call("GET", "/chats/1"))
    # the recorded sleeps never pass real time, so each start is 0.1 s after the previous
    assert len(sleep.delays) == 3
    assert sleep.delays == pytest.approx([0.1, 0.2, 0.3], abs=0.02)


async def test_the_pipeline_slows_the_pacer_on_429() -> None:
    mock = router()
    mock.get("/chats/1").mock(side_effect=[error(429, "slow"), ok({"id": 1})])
    core = make_core(mock, requests_per_second=4.0)
    await core.request(_Call("GET", "/chats/1"))
    assert core.pacer.rate == pytest.approx(2.0 + 4.0 / 200)


# --- send spacing -----------------------------------------------------------------------------


async def test_in_process_send_limiter_spaces_slots_and_keeps_arrival_order() -> None:
    interval = 0.05
    limiter = InProcessSendLimiter(interval)
    granted: list[tuple[int, float]] = []
    loop = asyncio.get_running_loop()

    async def sender(index: int) -> None:
        await limiter.acquire()
        granted.append((index, loop.time()))

    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            for index in range(5):
                tg.start_soon(sender, index)
                await asyncio.sleep(0)  # arrive strictly one after another
    assert [index for index, _ in granted] == [0, 1, 2, 3, 4]
    times = [t for _, t in granted]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= interval * 0.95 for gap in gaps), gaps


async def test_in_process_send_limiter_with_zero_interval_never_suspends() -> None:
    limiter = InProcessSendLimiter(0)
    for _ in range(100):
        coroutine = limiter.acquire()
        with pytest.raises(StopIteration):
            coroutine.send(None)  # finishes without ever yielding to the loop


def test_in_process_send_limiter_rejects_a_negative_interval() -> None:
    with pytest.raises(ValueError, match="interval"):
        InProcessSendLimiter(-1)


def test_in_process_send_limiter_is_a_send_limiter() -> None:
    assert isinstance(InProcessSendLimiter(1.0), SendLimiter)


def _send_client(http: httpx.AsyncClient, **kwargs: object) -> TimelinesClient:
    return TimelinesClient(
        TOKEN,
        base_url=BASE,
        http_client=http,
        requests_per_second=None,
        max_retries=0,
        **kwargs,  # type: ignore[arg-type]
    )


async def send_one(tl: TimelinesClient, i: int) -> None:
    await tl.messages.send(chat_id=1, text=f"msg {i}")


async def test_client_send_interval_spaces_sends_in_order() -> None:
    interval = 0.05
    loop = asyncio.get_running_loop()
    arrivals: list[tuple[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        arrivals.append((request.content.decode(), loop.time()))
        return ok({"message_uid": "u"})

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http,
        _send_client(http, send_interval=interval) as tl,
    ):
        with anyio.fail_after(2):
            async with anyio.create_task_group() as tg:
                for i in range(4):
                    tg.start_soon(send_one, tl, i)
                    await asyncio.sleep(0)
    assert [f"msg {i}" in body for i, (body, _) in enumerate(arrivals)] == [True] * 4
    times = [t for _, t in arrivals]
    # measured at the transport, a little after each slot: allow for scheduling jitter
    # (unspaced, all four would arrive within a millisecond)
    assert times[-1] - times[0] >= 3 * interval * 0.95
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= interval / 2 for gap in gaps), gaps


async def test_send_interval_zero_turns_client_side_spacing_off() -> None:
    mock = router()
    route = mock.post("/chats/1/messages").mock(return_value=ok({"message_uid": "u"}))
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(mock.async_handler)) as http,
        _send_client(http, send_interval=0) as tl,
    ):
        with anyio.fail_after(1.0):  # 30 sends at the default 2 s would take a minute
            for i in range(30):
                await tl.messages.send(chat_id=1, text=f"msg {i}")
    assert route.call_count == 30


async def test_sends_reach_the_fake_send_interval_apart_with_other_requests_in_between() -> None:
    """The send slot is taken after the pacer's wait, so the spacing holds where sends arrive.

    A request just before a send (the quota check `send-bulk` makes, another
    task's read) delays that send by a pacer step; had its send slot been taken
    before that wait, the next send would arrive a step too soon and meet a 429.
    """
    interval = 0.1
    # The fake's spacing a little under the client's, as the README advises: what reaches
    # a server comes a few ms off the slots (the event loop runs other tasks in between).
    fake = FakeTimelines(seed=0, chats=3, send_interval=interval - 0.01)  # 429 to closer sends
    async with fake.client(send_interval=interval, requests_per_second=20, max_retries=0) as tl:
        chat_id = min(fake.chats)

        async def other_task_reads() -> None:
            for _ in range(3):
                await anyio.sleep(interval * 1.3)
                await tl.chats.get(chat_id)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(other_task_reads)
                await tl.quotas.get()
                for n in range(6):
                    await tl.messages.send(chat_id=chat_id, text=f"message {n}")
    assert [r.method for r in fake.requests].count("GET") == 4
    assert [r.status for r in fake.requests] == [200] * 10
    # When the fake took each send, on the clock its own 429 check reads.
    gaps = [b.at - a.at for a, b in itertools.pairwise(fake.sent)]
    assert min(gaps) >= interval - 0.005, gaps


async def test_sends_waiting_for_their_slot_leave_the_concurrency_slots_to_reads() -> None:
    """Sends queue before taking a concurrency slot: at most one holds a slot while it waits."""
    fake = FakeTimelines(seed=0, chats=3)
    async with fake.client(send_interval=1.0, max_concurrency=2) as tl:
        chat_id = min(fake.chats)
        async with anyio.create_task_group() as tg:
            for n in range(4):
                tg.start_soon(functools.partial(tl.messages.send, chat_id=chat_id, text=f"m{n}"))
            await settle()  # the first send went out, the others wait for the send limiter
            with anyio.fail_after(0.5):  # far below the next send slot
                await tl.chats.get(chat_id)
            tg.cancel_scope.cancel()
    assert len(fake.sent) == 1


class CountingLimiter:
    """A custom `SendLimiter`: counts the slots it hands out."""

    def __init__(self) -> None:
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1
        await anyio.lowlevel.checkpoint()


async def test_a_custom_send_limiter_is_used_for_every_send_attempt() -> None:
    limiter = CountingLimiter()
    assert isinstance(limiter, SendLimiter)
    mock = router()
    mock.post("/chats/1/messages").mock(
        side_effect=[
            ok({"message_uid": "a"}),
            error(429, "slow down", headers={"Retry-After": "0"}),
            ok({"message_uid": "b"}),
        ]
    )
    mock.get("/chats/1").mock(return_value=ok({"id": 1}))
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(mock.async_handler)) as http,
        TimelinesClient(
            TOKEN,
            base_url=BASE,
            http_client=http,
            requests_per_second=None,
            send_interval=60.0,  # would block the test if the in-process limiter were used
            send_limiter=limiter,
        ) as tl,
    ):
        with anyio.fail_after(1):
            await tl.messages.send(chat_id=1, text="one")
            await tl.messages.send(chat_id=1, text="two")  # 429 first: a second slot
            await tl.chats.get(1)  # reads never take a send slot
    assert limiter.acquired == 3


async def test_a_cancelled_sender_does_not_block_the_queue() -> None:
    """A send cancelled while waiting for its slot gives its turn to the next in line."""
    limiter = InProcessSendLimiter(0.05)
    granted: list[str] = []

    async def sender(name: str) -> None:
        await limiter.acquire()
        granted.append(name)

    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            tg.start_soon(sender, "first")
            await asyncio.sleep(0)
            async with anyio.create_task_group() as doomed:
                doomed.start_soon(sender, "cancelled")
                await asyncio.sleep(0)
                tg.start_soon(sender, "third")
                await asyncio.sleep(0)
                doomed.cancel_scope.cancel()
    assert granted == ["first", "third"]
