"""`fan_in`: several async sources read at once, their items yielded as they come.

`messages.list_many` reads several chats' histories through it. Like the
chat read-ahead, it runs plain asyncio tasks that must outlive each `yield`
(see `_pagination._ReadAhead`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import TypeVar

from ._pagination import cancel_all

__all__ = ["fan_in"]

T = TypeVar("T")


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
        await cancel_all(workers)
