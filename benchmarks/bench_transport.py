"""P6: client CPU per listed page over loopback, by transport, against bare httpx.

The fake (uvicorn, another process) serves 10,000 chats (200 pages of 50) on
127.0.0.1 without latency. Each walk lists every page at concurrency 8, and
only this process's CPU (`time.process_time`) is counted:

- bare httpx with its default transport and `json.loads`, no models: the
  reference (what a hand-written client costs);
- bare httpx on httpx-aiohttp's transport, with `json.loads`, then with orjson;
- timelines_async (`tl.chats.list().pages()`: models, pager, retries, pacing
  bookkeeping) with `transport="httpx"`, and with the `speedups` extra as
  installed (`transport="auto"`: aiohttp's transport and orjson).

The bare walks use the library's own shape of work: 8 long-lived workers
pulling page numbers. Each walk is timed the second time through one client
(built, its connections open: the steady state of a long-lived backend), so
that building a client (an SSL context alone costs tens of ms) is not spread
over the pages. Walks alternate round by round; other processes only ever
add CPU time, so each walk is judged on its best round.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

import httpx
import orjson
from httpx_aiohttp import AiohttpTransport

from timelines_async import TimelinesClient
from timelines_async._transport import TransportName

from ._results import Goal, Section, median
from ._server import TOKEN, fake_server

CHATS = 10_000
PAGES = CHATS // 50
CONCURRENCY = 8
Walk = Callable[[], Awaitable[None]]


@asynccontextmanager
async def bare(
    base_url: str, *, aiohttp: bool, loads: Callable[[bytes], Any]
) -> AsyncIterator[Walk]:
    """A hand-written walk: 8 workers, `loads`, no models."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    transport = AiohttpTransport(limits=limits) if aiohttp else None
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def walk() -> None:
        next_page, last_page, chats = 1, PAGES + CONCURRENCY, 0

        async def worker() -> None:
            nonlocal next_page, last_page, chats
            while next_page <= last_page:
                page = next_page
                next_page += 1
                response = await http.get(f"{base_url}/chats", params={"page": page})
                data = loads(response.content)["data"]
                chats += len(data["chats"])
                if not data["has_more_pages"]:
                    last_page = min(last_page, page)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        assert chats == CHATS, chats

    async with httpx.AsyncClient(limits=limits, headers=headers, transport=transport) as http:
        yield walk


@asynccontextmanager
async def library(base_url: str, *, transport: TransportName) -> AsyncIterator[Walk]:
    async with TimelinesClient(
        TOKEN,
        base_url=base_url,
        max_concurrency=CONCURRENCY,
        requests_per_second=None,
        transport=transport,
    ) as tl:

        async def walk() -> None:
            chats = 0
            async for page in tl.chats.list().pages():
                chats += len(page.items)
            assert chats == CHATS, chats

        yield walk


Walker = Callable[[str], AbstractAsyncContextManager[Walk]]
WALKERS: dict[str, Walker] = {
    "bare httpx, default transport, `json.loads` (reference)": partial(
        bare, aiohttp=False, loads=json.loads
    ),
    "bare httpx, httpx-aiohttp transport, `json.loads`": partial(
        bare, aiohttp=True, loads=json.loads
    ),
    "bare httpx, httpx-aiohttp transport, orjson": partial(bare, aiohttp=True, loads=orjson.loads),
    'timelines_async, `transport="httpx"` (models built)': partial(library, transport="httpx"),
    "timelines_async with `speedups` (models built)": partial(library, transport="auto"),
}
REFERENCE, *_, LIBRARY = WALKERS


def cpu_per_page(
    walker: Callable[[str], AbstractAsyncContextManager[Walk]], base_url: str
) -> float:
    """A second walk's CPU per page: the client built and its connections open (steady state)."""

    async def measure() -> float:
        async with walker(base_url) as walk:
            await walk()
            started = time.process_time()
            await walk()
            return (time.process_time() - started) / PAGES

    return asyncio.run(measure())


def run(rounds: int) -> Section:
    cpu: dict[str, list[float]] = {name: [] for name in WALKERS}
    with fake_server(chats=CHATS) as server:
        for walker in WALKERS.values():  # warm up: the fake's listing, imports, generated hooks
            cpu_per_page(walker, server.base_url)
        for _ in range(rounds):
            for name, walker in WALKERS.items():
                cpu[name].append(cpu_per_page(walker, server.base_url))
    best = {name: min(values) for name, values in cpu.items()}
    rows = "\n".join(
        f"| {name} | {best[name] * 1e6:,.0f} µs | {best[name] / 50 * 1e6:.1f} µs "
        f"| {best[name] / best[REFERENCE]:.2f}x | {median(cpu[name]) * 1e6:,.0f} µs |"
        for name in WALKERS
    )
    body = f"""\
{CHATS:,} chats ({PAGES} pages of 50) from the fake over loopback, concurrency
{CONCURRENCY}, client CPU per page of a second walk through the same client; best
and median of {rounds} alternating rounds. "Per chat" is P2's measure (CPU per
listed chat) over a real socket, on each transport; P2 itself runs in-process
through `httpx.MockTransport`, where no transport takes part.

| walk | CPU per page (best) | per chat | / reference | median |
|---|---|---|---|---|
{rows}
"""
    goal = Goal(
        key="P6",
        what="client CPU per listed page, timelines_async with speedups / bare httpx + json",
        ratio=best[LIBRARY] / best[REFERENCE],
        target=0.75,
        detail=f"{best[LIBRARY] * 1e6:,.0f} µs vs {best[REFERENCE] * 1e6:,.0f} µs",
    )
    return Section(title="P6: client CPU per page by transport", goals=[goal], body=body)
