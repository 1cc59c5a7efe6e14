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
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

import attrs

from ._converter import data_field, structure
from ._exceptions import InvalidRequestError

__all__ = ["Page", "Pager", "cursor_pages", "fan_in", "numbered_pages", "page_from"]

T = TypeVar("T")
C = TypeVar("C")


@attrs.frozen
class Page(Generic[T]):
    """One page of a list: its items and whether the API says more follow."""

    items: list[T]
    has_more: bool


def page_from(data: object, items_key: str, cls: type[T], *, what: str) -> Page[T]:
    """A `Page` from a list answer's `data`: `{"has_more_pages": ..., items_key: [...]}`."""
    items = structure(data_field(data, items_key, what=what), list[cls], what=what)  # type: ignore[valid-type]
    has_more = structure(data_field(data, "has_more_pages", what=what), bool, what=what)
    return Page(items, has_more)


class _SeenKeys:
    """The keys yielded so far: all of them, or only the most recent `window`.

    Chat ids are few and small, so all are kept. Message histories can run to
    hundreds of thousands; their cursors already move strictly forward, so a
    window of recent pages is enough to drop a repeated boundary item while
    keeping memory flat.
    """

    def __init__(self, window: int | None) -> None:
        self._keys: set[Hashable] = set()
        self._order: deque[Hashable] | None = deque() if window is not None else None
        self._window = window

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keys

    def add(self, key: Hashable) -> None:
        self._keys.add(key)
        if self._order is not None and self._window is not None:
            self._order.append(key)
            if len(self._order) > self._window:
                self._keys.discard(self._order.popleft())


async def _guarded(
    source: AsyncGenerator[Page[T]], key: Callable[[T], Hashable], window: int | None
) -> AsyncGenerator[Page[T]]:
    """Apply the stop rules and de-duplication to a raw page source."""
    seen = _SeenKeys(window)
    previous: list[Hashable] | None = None
    async with contextlib.aclosing(source):
        async for page in source:
            keys = [key(item) for item in page.items]
            if not keys or keys == previous:
                return
            fresh = [item for item, k in zip(page.items, keys, strict=True) if k not in seen]
            if not fresh:
                return
            for k in keys:
                seen.add(k)
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
    fetch: Callable[[int], Awaitable[Page[T]]], *, concurrency: int
) -> AsyncGenerator[Page[T]]:
    """Pages 1, 2, 3, ...; once page 1 says there is more, `concurrency` workers read ahead.

    The workers may run up to twice `concurrency` pages beyond the one the caller
    waits for: with a window only as wide as the workers, one slow page leaves
    the others idle (benchmark P1 in benchmarks/RESULTS.md).
    """
    first = await fetch(1)
    yield first
    if not first.has_more or not first.items:
        return
    loop = asyncio.get_running_loop()
    slots: dict[int, asyncio.Future[Page[T]]] = {}
    credits = asyncio.Semaphore(2 * concurrency)
    next_to_fetch = 2
    last_page: int | None = None

    def slot(number: int) -> asyncio.Future[Page[T]]:
        if number not in slots:
            slots[number] = loop.create_future()
        return slots[number]

    async def worker() -> None:
        nonlocal next_to_fetch, last_page
        while True:
            await credits.acquire()
            number = next_to_fetch
            if last_page is not None and number > last_page:
                credits.release()
                return
            next_to_fetch += 1
            future = slot(number)
            try:
                page = await fetch(number)
            except Exception as exc:
                future.set_exception(exc)
                return
            future.set_result(page)
            if not page.has_more or not page.items:
                last_page = number if last_page is None else min(last_page, number)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        number = 2
        while True:
            page = await slot(number)
            del slots[number]
            yield page
            if not page.has_more or not page.items:
                return
            credits.release()
            number += 1
    finally:
        # Everything synchronous first: when the reader was cancelled by an anyio
        # scope, the await below is cancelled again at once, and what follows it
        # would never run. Cancelled workers can no longer fill a slot.
        for task in workers:
            task.cancel()
        for future in slots.values():
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: a page nobody asked for must not warn
            future.cancel()
        await _cancel_all(workers)


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


async def fan_in(
    sources: Iterable[Callable[[], AsyncGenerator[T]]], *, concurrency: int, buffer: int = 500
) -> AsyncGenerator[T]:
    """Run up to `concurrency` sources at once and yield their items as they come.

    A bounded queue keeps memory flat when the consumer is slower than the
    sources; the first source error is raised to the consumer, and closing the
    iterator cancels whatever still runs.
    """
    pending = iter(sources)
    queue: asyncio.Queue[tuple[bool, object]] = asyncio.Queue(maxsize=buffer)
    done_marker = object()

    async def worker() -> None:
        try:
            for make_source in pending:
                async with contextlib.aclosing(make_source()) as items:
                    async for item in items:
                        await queue.put((True, item))
        except Exception as exc:
            await queue.put((False, exc))
        else:
            await queue.put((True, done_marker))

    workers = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    running = len(workers)
    try:
        while running:
            ok, value = await queue.get()
            if not ok:
                assert isinstance(value, Exception)
                raise value
            if value is done_marker:
                running -= 1
                continue
            yield value  # type: ignore[misc]
    finally:
        await _cancel_all(workers)


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
