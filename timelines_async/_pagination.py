"""`Pager` and `Page`: lazy, de-duplicated, guarded walks over the API's lists.

Two page sources feed one `Pager`:

- `numbered_pages` (chats): page 1 first; once it says `has_more_pages`, a fixed
  set of worker tasks reads the following pages ahead, a bounded window beyond
  what the caller has consumed, and pages are yielded strictly in order.
  Long-lived workers rather than a task per page: bursts of new tasks make
  httpcore's pool bookkeeping retry (docs/design/performance.md).
- `cursor_pages` (messages): each page asks for what comes after the last item
  of the previous one, so pages are read one after another.

Whatever the source, iteration stops on `has_more_pages: false`, on an empty
page, on a page that repeats the previous one or brings nothing new, and each
id is yielded once. Breaking out of `async for` closes the walk, which cancels
the read-ahead workers and waits for them: nothing is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

import attrs

from ._converter import data_field, structure
from ._exceptions import InvalidRequestError, UnexpectedResponseError

__all__ = [
    "Page",
    "Pager",
    "cancel_all",
    "cursor_pages",
    "numbered_pages",
    "page_from",
    "raw_page",
    "structured",
]

T = TypeVar("T")
C = TypeVar("C")


@attrs.frozen
class Page(Generic[T]):
    """One page of a list: its items and whether the API says more follow."""

    items: list[T]
    has_more: bool


def page_from(data: object, items_key: str, cls: type[T], *, what: str) -> Page[T]:
    """A `Page` from a list answer's `data`: `{"has_more_pages": ..., items_key: [...]}`."""
    return structured(raw_page(data, items_key, what=what), cls, what=what)


def raw_page(data: object, items_key: str, *, what: str) -> Page[Any]:
    """A list answer's page with its items still as they came: the envelope checked only."""
    items = data_field(data, items_key, what=what)
    if not isinstance(items, list):
        raise UnexpectedResponseError(
            f"the answer for {what} has a `{items_key}` that is not a list: {items!r:.200}",
            status_code=200,
        )
    has_more = structure(data_field(data, "has_more_pages", what=what), bool, what=what)
    return Page(items, has_more)


def structured(page: Page[Any], cls: type[T], *, what: str) -> Page[T]:
    """`page` with its items structured into `cls`."""
    return Page(structure(page.items, list[cls], what=what), page.has_more)  # type: ignore[valid-type]


class _SeenKeys:
    """The keys yielded so far: all of them, or only the most recent `window`.

    Chat ids are few and small, so all are kept. Message histories can run to
    hundreds of thousands; their cursors already move strictly forward, so a
    window of recent pages is enough to drop a repeated boundary item while
    keeping memory flat. A page's keys are checked and added at once (set
    operations, not a method call per key).
    """

    def __init__(self, window: int | None) -> None:
        self._keys: set[Hashable] = set()
        self._order: deque[Hashable] | None = deque() if window is not None else None
        self._window = window

    def fresh(self, items: list[T], keys: list[Hashable]) -> list[T]:
        """The items whose key has not been seen yet (`items` itself when none has)."""
        seen = self._keys
        if seen.isdisjoint(keys):
            return items
        return [item for item, key in zip(items, keys, strict=True) if key not in seen]

    def add(self, keys: list[Hashable]) -> None:
        self._keys.update(keys)
        if self._order is not None and self._window is not None:
            self._order.extend(keys)
            while len(self._order) > self._window:
                self._keys.discard(self._order.popleft())


async def _guarded(
    source: AsyncGenerator[Page[T]], key: Callable[[T], Hashable], window: int | None
) -> AsyncGenerator[Page[T]]:
    """Apply the stop rules and de-duplication to a raw page source."""
    seen = _SeenKeys(window)
    previous: list[Hashable] | None = None
    async with contextlib.aclosing(source):
        async for page in source:
            keys = list(map(key, page.items))
            if not keys or keys == previous:
                return
            fresh = seen.fresh(page.items, keys)
            if not fresh:
                return
            seen.add(keys)
            yield Page(fresh, page.has_more)
            if not page.has_more:
                return
            previous = keys


class Pager(Generic[T]):
    """A list that is read page by page as you iterate it. Nothing is requested until used.

    - `async for item in pager`: every item of every page, in order, each once;
    - `pager.pages()`: the pages themselves (`Page.items`, `Page.has_more`);
    - `await pager.collect(limit=None)`, `await pager.first()`.

    Each iteration starts a fresh walk from the first page.
    """

    def __init__(
        self,
        source: Callable[[], AsyncGenerator[Page[T]]],
        *,
        key: Callable[[T], Hashable],
        dedup_window: int | None = None,
    ) -> None:
        self._source = source
        self._key = key
        self._dedup_window = dedup_window

    def pages(self) -> AsyncGenerator[Page[T]]:
        """The pages themselves, guarded like the items: in order, each item once.

        Returns:
            An async iterator of `Page`s (`items`, `has_more`). Errors from a page's
            request (an `APIError`, a `TransportError`) are raised where it is reached.
        """
        return _guarded(self._source(), self._key, self._dedup_window)

    def __aiter__(self) -> AsyncGenerator[T]:
        return self._items()

    async def _items(self) -> AsyncGenerator[T]:
        async with contextlib.aclosing(self.pages()) as pages:
            async for page in pages:
                for item in page.items:
                    yield item

    async def collect(self, limit: int | None = None) -> list[T]:
        """All items, or the first `limit`, as a list; stops requesting once it has them.

        Args:
            limit: At most this many items; `None` for all of them.

        Returns:
            The items, in order.

        Raises:
            InvalidRequestError: `limit` is not an integer >= 0 or `None`.
        """
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise InvalidRequestError("limit", f"must be an integer >= 0 or None, not {limit!r}")
        collected: list[T] = []
        if limit == 0:
            return collected
        async with contextlib.aclosing(self._items()) as items:
            async for item in items:
                collected.append(item)
                if limit is not None and len(collected) >= limit:
                    break
        return collected

    async def first(self) -> T | None:
        """The first item, or `None` for an empty list (one request).

        Returns:
            The first item, or `None`.
        """
        found = await self.collect(limit=1)
        return found[0] if found else None


async def numbered_pages(
    fetch: Callable[[int], Awaitable[Page[Any]]],
    *,
    concurrency: int,
    finish: Callable[[Page[Any]], Page[T]],
) -> AsyncGenerator[Page[T]]:
    """Pages 1, 2, 3, ...; once page 1 says there is more, `concurrency` workers read ahead.

    The workers only `fetch`; a page is `finish`ed (its items structured) as the
    caller takes it. A worker's next request is then on its way while the page
    it brought is structured, instead of waiting for it (about 2 % of a walk at
    50 ms a request, benchmarks P1). `fetch` must wait for one of `concurrency`
    slots, as `HTTPCore.request` does: a long walk has more workers than that
    (see `_ReadAhead`), never more requests in flight.
    """
    first = await fetch(1)
    yield finish(first)
    if not first.has_more or not first.items:
        return
    ahead = _ReadAhead(fetch, concurrency)
    try:
        number = 2
        while True:
            page = await ahead.take(number)
            yield finish(page)
            if not page.has_more or not page.items:
                return
            ahead.consumed()
            number += 1
    finally:
        await ahead.close()


class _ReadAhead(Generic[T]):
    """Pages from 2 on, read by long-lived workers up to a window beyond the reader.

    The workers may run up to twice `concurrency` pages beyond the one the caller
    waits for: with a window only as wide as the workers, one slow page leaves
    the others idle (measured: 1.29x the latency limit at concurrency 8 over
    loopback, 1.19x with the wider window, benchmarks P1).

    Once the caller has taken `concurrency` pages, the walk is a long one and
    half as many workers again join: each waits for a concurrency slot with
    its request built, and sends it as soon as a slot is free, while the
    worker that freed it decodes its answer (`HTTPCore.request` hands the
    slot on first). The slots stay busy between answers: at concurrency 8,
    about 2 % of a long walk. The price is at most `concurrency // 2` more
    requests past the last page than the `concurrency - 1` of a short walk.

    This is the one place that uses asyncio directly rather than anyio: the
    workers must outlive each `yield` of the async generator that reads them,
    and an anyio task group held open across a `yield` would leak its cancel
    scope into the caller's code. Plain tasks and futures, cancelled and
    awaited when the walk closes, do not; and the package runs on asyncio
    only (aiolimiter).
    """

    def __init__(self, fetch: Callable[[int], Awaitable[Page[T]]], concurrency: int) -> None:
        self._fetch = fetch
        self._loop = asyncio.get_running_loop()
        self._slots: dict[int, asyncio.Future[Page[T]]] = {}
        self._credits = asyncio.Semaphore(2 * concurrency)
        self._next_to_fetch = 2
        self._last_page: int | None = None
        self._concurrency = concurrency
        self._consumed = 0
        self._workers: list[asyncio.Task[None]] = []
        self._add_workers(concurrency)

    async def take(self, number: int) -> Page[T]:
        """Page `number`, once a worker has read it (its error, if reading it failed)."""
        page = await self._slot(number)
        del self._slots[number]
        return page

    def consumed(self) -> None:
        """The caller is done with a page: the window moves on by one."""
        self._credits.release()
        self._consumed += 1
        if self._consumed == self._concurrency:  # a long walk: a built request for each slot
            self._add_workers(self._concurrency // 2)

    def _add_workers(self, count: int) -> None:
        self._workers += [asyncio.create_task(self._work()) for _ in range(count)]

    async def close(self) -> None:
        """Cancel the workers and wait for them; pages nobody asked for are dropped."""
        # Everything synchronous first: when the reader was cancelled by an anyio
        # scope, the await below is cancelled again at once, and what follows it
        # would never run. Cancelled workers can no longer fill a slot.
        for task in self._workers:
            task.cancel()
        for future in self._slots.values():
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: a page nobody asked for must not warn
            future.cancel()
        await cancel_all(self._workers)

    def _slot(self, number: int) -> asyncio.Future[Page[T]]:
        if number not in self._slots:
            self._slots[number] = self._loop.create_future()
        return self._slots[number]

    async def _work(self) -> None:
        while True:
            await self._credits.acquire()
            number = self._next_to_fetch
            if self._last_page is not None and number > self._last_page:
                self._credits.release()
                return
            self._next_to_fetch += 1
            future = self._slot(number)
            try:
                page = await self._fetch(number)
            except Exception as exc:
                future.set_exception(exc)
                return
            future.set_result(page)
            if not page.has_more or not page.items:
                last = self._last_page
                self._last_page = number if last is None else min(last, number)


async def cursor_pages(
    fetch: Callable[[C | None], Awaitable[Page[T]]], *, cursor_of: Callable[[T], C]
) -> AsyncGenerator[Page[T]]:
    """Pages that follow each other by cursor; stops if a cursor comes round again."""
    cursor: C | None = None
    used: set[C] = set()
    while True:
        page = await fetch(cursor)
        yield page
        if not page.has_more or not page.items:
            return
        cursor = cursor_of(page.items[-1])
        if cursor in used:
            return
        used.add(cursor)


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel `tasks` and wait until every one has ended."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
