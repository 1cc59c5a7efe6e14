"""`_pagination`: read-ahead in order, stop rules, de-duplication, clean early exits."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncGenerator, Callable, Coroutine

import anyio
import httpx
import pytest

from timelines_async import InvalidRequestError, NotFoundError, Page, Pager
from timelines_async._fan_in import fan_in
from timelines_async._pagination import cursor_pages, numbered_pages

from ._core_support import chat_json, error, make_core, ok, resources, router

pytestmark = pytest.mark.anyio

PAGE = 5  # items a page in these tests (the API's is 50; the logic does not care)


def chats_page(number: int, *, last: int, size: int = PAGE) -> httpx.Response:
    ids = range((number - 1) * size + 1, number * size + 1) if number <= last else range(0)
    return ok({"has_more_pages": number < last, "chats": [chat_json(i) for i in ids]})


def page_number(request: httpx.Request) -> int:
    return int(request.url.params["page"])


async def settle(predicate: Callable[[], bool], *, ticks: int = 50) -> None:
    """Let the event loop run (no real time) until `predicate` holds."""
    for _ in range(ticks):
        if predicate():
            return
        await asyncio.sleep(0)


class TaskWatch:
    """Tasks started after this point (read-ahead workers, finalizers) that still run."""

    def __init__(self) -> None:
        self.baseline = set(asyncio.all_tasks())

    def leftovers(self) -> set[asyncio.Task[object]]:
        return {
            t
            for t in asyncio.all_tasks()
            if t not in self.baseline and t is not asyncio.current_task() and not t.done()
        }


async def test_chats_pages_are_read_ahead_concurrently_and_yielded_in_order() -> None:
    """Pages 2.. are all in flight together; later ones even answer first; order holds."""
    last, concurrency = 8, 4
    arrived: list[int] = []
    enough = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        number = page_number(request)
        if number >= 2:
            arrived.append(number)
            if len(arrived) >= concurrency:
                enough.set()
            await enough.wait()  # blocks until `concurrency` page requests are in flight
            for _ in range(last - number):  # higher pages answer sooner
                await asyncio.sleep(0)
        return chats_page(number, last=last)

    chats, _, _ = resources(make_core(httpx.MockTransport(handler), max_concurrency=concurrency))
    with anyio.fail_after(2):
        ids = [chat.id async for chat in chats.list()]
    assert ids == list(range(1, last * PAGE + 1))
    assert sorted(arrived[:concurrency]) == [2, 3, 4, 5]
    assert set(range(2, last + 1)) <= set(arrived)
    assert max(arrived) <= last + concurrency  # overshoot bounded by the read-ahead window


async def test_read_ahead_never_exceeds_the_client_concurrency() -> None:
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1
        return chats_page(page_number(request), last=12)

    chats, _, _ = resources(make_core(httpx.MockTransport(handler), max_concurrency=3))
    assert len(await chats.list().collect()) == 12 * PAGE
    assert peak == 3


@pytest.mark.parametrize(
    ("stop_response", "expected_ids"),
    [
        ({"has_more_pages": False, "chats": [chat_json(11)]}, [*range(1, 11), 11]),
        ({"has_more_pages": True, "chats": []}, list(range(1, 11))),
    ],
    ids=["has-more-false", "empty-page"],
)
async def test_iteration_stops_at_the_stop_page_even_if_more_exist(
    stop_response: dict[str, object], expected_ids: list[int]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        number = page_number(request)
        if number == 3:
            return ok(stop_response)
        return chats_page(number, last=100)  # pages after 3 would go on and on

    chats, _, _ = resources(make_core(httpx.MockTransport(handler)))
    with anyio.fail_after(2):
        ids = [chat.id async for chat in chats.list()]
    assert ids == expected_ids


async def test_a_server_that_always_returns_the_same_page_cannot_loop_us() -> None:
    mock = router()
    route = mock.get("/chats").mock(
        return_value=ok({"has_more_pages": True, "chats": [chat_json(1), chat_json(2)]})
    )
    chats, _, _ = resources(make_core(mock, max_concurrency=2))
    with anyio.fail_after(2):
        ids = [chat.id async for chat in chats.list()]
    assert ids == [1, 2]
    assert route.call_count <= 1 + 2 * 2  # page 1 plus at most a window of read-ahead


async def test_each_id_is_yielded_once_when_pages_overlap() -> None:
    """A chat that moves between pages while we read (new message) shows up once."""
    responses = {
        1: [1, 2, 3],
        2: [3, 4, 5],  # 3 slid down a page
        3: [5, 6],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        number = page_number(request)
        return ok(
            {"has_more_pages": number < 3, "chats": [chat_json(i) for i in responses[number]]}
        )

    chats, _, _ = resources(make_core(httpx.MockTransport(handler)))
    assert [chat.id for chat in await chats.list().collect()] == [1, 2, 3, 4, 5, 6]


async def test_pages_exposes_items_and_has_more() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return chats_page(page_number(request), last=3)

    chats, _, _ = resources(make_core(httpx.MockTransport(handler)))
    async with contextlib.aclosing(chats.list().pages()) as pages:
        got = [(len(page.items), page.has_more) async for page in pages]
    assert got == [(PAGE, True), (PAGE, True), (PAGE, False)]


async def test_nothing_is_requested_until_the_pager_is_used() -> None:
    mock = router()
    route = mock.get("/chats").mock(return_value=chats_page(1, last=1))
    chats, _, _ = resources(make_core(mock))
    pager = chats.list(read=False)
    assert route.call_count == 0
    await pager.collect()
    assert route.call_count == 1
    await pager.collect()  # every iteration is a fresh walk
    assert route.call_count == 2


@pytest.mark.parametrize(("limit", "expected_ids", "requests"), [(3, [1, 2, 3], 1), (0, [], 0)])
async def test_collect_with_a_limit_stops_requesting(
    limit: int, expected_ids: list[int], requests: int
) -> None:
    mock = router()
    route = mock.get("/chats").mock(
        side_effect=lambda request: chats_page(page_number(request), last=9)
    )
    chats, _, _ = resources(make_core(mock))
    assert [chat.id for chat in await chats.list().collect(limit=limit)] == expected_ids
    assert route.call_count == requests


async def test_collect_rejects_a_negative_limit_with_a_typed_error() -> None:
    chats, _, _ = resources(make_core(router()))
    with pytest.raises(InvalidRequestError) as info:
        await chats.list().collect(limit=-1)
    assert isinstance(info.value, ValueError)
    assert info.value.field == "limit"


async def test_first_makes_one_request_and_gives_none_for_an_empty_list() -> None:
    mock = router()
    route = mock.get("/chats").mock(
        side_effect=[chats_page(1, last=5), ok({"has_more_pages": False, "chats": []})]
    )
    chats, _, _ = resources(make_core(mock))
    first = await chats.list().first()
    assert first is not None
    assert first.id == 1
    assert route.call_count == 1
    assert await chats.list().first() is None
    assert route.call_count == 2


async def test_a_failing_read_ahead_page_raises_in_its_turn_after_earlier_pages() -> None:
    watch = TaskWatch()

    def handler(request: httpx.Request) -> httpx.Response:
        number = page_number(request)
        if number == 3:
            return error(404, "gone")
        return chats_page(number, last=6)

    chats, _, _ = resources(make_core(httpx.MockTransport(handler)))
    seen: list[int] = []

    async def read_all() -> None:
        async for chat in chats.list():
            seen.append(chat.id)

    with pytest.raises(NotFoundError):
        await read_all()
    assert seen == list(range(1, 2 * PAGE + 1))
    await settle(lambda: not watch.leftovers())
    assert not watch.leftovers()


def blocking_chats_handler(
    started: list[int], cancelled: list[int]
) -> Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]:
    """Pages 1 and 2 answer; pages 3.. hang until cancelled (recorded)."""

    async def handler(request: httpx.Request) -> httpx.Response:
        number = page_number(request)
        if number >= 3:
            started.append(number)
            try:
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                cancelled.append(number)
                raise
        return chats_page(number, last=50)

    return handler


@pytest.mark.parametrize("concurrency", [2, 4])
async def test_leaving_early_cancels_outstanding_read_ahead_at_once(concurrency: int) -> None:
    watch = TaskWatch()
    started: list[int] = []
    cancelled: list[int] = []
    transport = httpx.MockTransport(blocking_chats_handler(started, cancelled))
    chats, _, _ = resources(make_core(transport, max_concurrency=concurrency))
    async with contextlib.aclosing(chats.list().__aiter__()) as items:
        async for chat in items:
            if chat.id == PAGE + 1:  # first item of page 2: later pages are in flight
                await settle(lambda: len(started) == concurrency - 1)
                break
    # closed at once by aclosing: nothing may be left running
    assert not watch.leftovers()
    assert started
    assert sorted(cancelled) == sorted(started)


async def test_a_plain_break_cleans_up_without_warnings_or_stray_tasks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`async for ...: break` leaves closing to the loop; it must still cancel everything."""
    watch = TaskWatch()
    started: list[int] = []
    cancelled: list[int] = []
    transport = httpx.MockTransport(blocking_chats_handler(started, cancelled))
    chats, _, _ = resources(make_core(transport, max_concurrency=3))
    with caplog.at_level(logging.DEBUG, logger="asyncio"):
        async for chat in chats.list():
            if chat.id == PAGE + 1:
                await settle(lambda: len(started) == 2)
                break
        await settle(lambda: not watch.leftovers())
    assert not watch.leftovers()
    assert started[:2] == [3, 4]
    assert set(started) <= set(range(3, 3 + 2 * 3)), "no page beyond the read-ahead window"
    assert sorted(cancelled) == sorted(started), "every page still in flight was cancelled"
    assert not [r for r in caplog.records if r.name == "asyncio"]


@pytest.mark.parametrize(("last", "waiting", "past_last"), [(3, 0, 1), (12, 1, 2)])
async def test_a_long_walk_keeps_a_built_request_waiting_for_each_slot(
    last: int, waiting: int, past_last: int
) -> None:
    """Once the caller has taken `concurrency` pages, half as many workers again wait for
    the slots with their requests built; a short walk never starts them, so it asks for
    no more pages past the last than `concurrency - 1`, and a long one `// 2` more."""
    concurrency = 2
    requested: list[int] = []
    most_waiting = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal most_waiting
        requested.append(page_number(request))
        for _ in range(3):
            most_waiting = max(most_waiting, core._shared.slots.statistics().tasks_waiting)
            await asyncio.sleep(0)
        return chats_page(page_number(request), last=last)

    core = make_core(httpx.MockTransport(handler), max_concurrency=concurrency)
    chats, _, _ = resources(core)
    with anyio.fail_after(2):
        assert len(await chats.list().collect()) == last * PAGE
    assert most_waiting == waiting
    assert max(requested) <= last + past_last


# --- the page sources on their own ---------------------------------------------------------


async def test_numbered_pages_stops_reading_ahead_past_the_last_page() -> None:
    requested: list[int] = []

    async def fetch(number: int) -> Page[int]:
        requested.append(number)
        await asyncio.sleep(0)
        return Page([number], has_more=number < 3)

    pager = Pager(
        lambda: numbered_pages(fetch, concurrency=2, finish=lambda page: page), key=lambda i: i
    )
    assert await pager.collect() == [1, 2, 3]
    # read-ahead may overshoot by at most the concurrency window
    assert max(requested) <= 3 + 2


async def test_a_worker_asks_for_its_next_page_before_the_last_one_is_finished() -> None:
    """Structuring a page (`finish`) happens as the caller takes it, after the worker
    that brought it has sent its next request: the request's wait is not held up."""
    events: list[str] = []

    async def fetch(number: int) -> Page[int]:
        events.append(f"fetch {number}")
        await asyncio.sleep(0)
        return Page([number], has_more=number < 4)

    def finish(page: Page[int]) -> Page[int]:
        events.append(f"finish {page.items[0]}")
        return page

    pager = Pager(lambda: numbered_pages(fetch, concurrency=1, finish=finish), key=lambda i: i)
    assert await pager.collect() == [1, 2, 3, 4]
    assert events.index("fetch 3") < events.index("finish 2")
    assert events.index("fetch 4") < events.index("finish 3")


async def test_cursor_pages_passes_the_last_items_cursor() -> None:
    cursors: list[str | None] = []

    async def fetch(cursor: str | None) -> Page[str]:
        cursors.append(cursor)
        start = 0 if cursor is None else int(cursor) + 1
        return Page([str(start), str(start + 1)], has_more=start < 4)

    pager = Pager(lambda: cursor_pages(fetch, cursor_of=lambda s: s), key=lambda s: s)
    assert await pager.collect() == ["0", "1", "2", "3", "4", "5"]
    assert cursors == [None, "1", "3"]


async def test_fan_in_yields_everything_and_cancels_on_close() -> None:
    watch = TaskWatch()

    def source(name: str, count: int) -> Callable[[], AsyncGenerator[str]]:
        async def items() -> AsyncGenerator[str]:
            for i in range(count):
                await asyncio.sleep(0)
                yield f"{name}{i}"

        return items

    got = [x async for x in fan_in([source("a", 3), source("b", 2)], concurrency=2)]
    assert sorted(got) == ["a0", "a1", "a2", "b0", "b1"]

    endless = fan_in([source("c", 10**9), source("d", 10**9)], concurrency=2)
    async with contextlib.aclosing(endless) as items:
        async for _ in items:
            break
    assert not watch.leftovers()


async def test_a_page_of_only_already_seen_items_ends_the_walk() -> None:
    """Pages A, B, A again: not a repeat of the previous page, but nothing new either."""
    pages = {1: [1, 2], 2: [3, 4], 3: [1, 2], 4: [5, 6]}

    def handler(request: httpx.Request) -> httpx.Response:
        number = page_number(request)
        return ok({"has_more_pages": number < 4, "chats": [chat_json(i) for i in pages[number]]})

    chats, _, _ = resources(make_core(httpx.MockTransport(handler), max_concurrency=1))
    with anyio.fail_after(2):
        assert [chat.id for chat in await chats.list().collect()] == [1, 2, 3, 4]


async def test_cursor_pages_stop_when_a_cursor_comes_round_again() -> None:
    """A server that cycles between two pages is caught by the cursor guard alone."""
    calls: list[str | None] = []

    async def fetch(cursor: str | None) -> Page[str]:
        calls.append(cursor)
        return Page(["a", "b"] if cursor in (None, "d") else ["c", "d"], has_more=True)

    with anyio.fail_after(2):
        pages = [page.items async for page in cursor_pages(fetch, cursor_of=lambda s: s)]
    assert pages == [["a", "b"], ["c", "d"], ["a", "b"]]
    assert calls == [None, "b", "d"]


async def test_a_bounded_dedup_window_forgets_old_ids_to_keep_memory_flat() -> None:
    """Message histories remember only recent ids: an id far back may come again."""

    async def fetch(cursor: int | None) -> Page[int]:
        start = 0 if cursor is None else cursor + 1
        items = [start, start + 1] if start < 6 else [0, 99]  # 0 comes back much later
        return Page(items, has_more=start < 6)

    pager = Pager(
        lambda: cursor_pages(fetch, cursor_of=lambda i: i), key=lambda i: i, dedup_window=3
    )
    assert await pager.collect() == [0, 1, 2, 3, 4, 5, 0, 99]
    unbounded = Pager(lambda: cursor_pages(fetch, cursor_of=lambda i: i), key=lambda i: i)
    assert await unbounded.collect() == [0, 1, 2, 3, 4, 5, 99]


async def test_cancelling_the_reader_mid_read_ahead_leaves_no_unretrieved_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Page 3 fails while the reader, still waiting for page 2, is cancelled by its scope."""
    watch = TaskWatch()
    page3_failed = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        number = page_number(request)
        if number == 2:
            await anyio.sleep_forever()
        if number == 3:
            page3_failed.set()
            return error(404, "gone")
        return chats_page(number, last=10)

    chats, _, _ = resources(make_core(httpx.MockTransport(handler), max_concurrency=3))

    async def read_all() -> None:
        async for _ in chats.list():
            pass

    with caplog.at_level(logging.DEBUG, logger="asyncio"):
        with anyio.fail_after(2):
            async with anyio.create_task_group() as tg:
                tg.start_soon(read_all)
                await page3_failed.wait()
                await settle(lambda: False, ticks=5)  # let page 3's error reach its slot
                tg.cancel_scope.cancel()
        await settle(lambda: not watch.leftovers())
        gc.collect()
        await asyncio.sleep(0)
    assert not watch.leftovers()
    assert not [r for r in caplog.records if r.name == "asyncio"], caplog.text
