"""P1: the workspace export against the physical limit and a seed-style sequential loop.

The fake serves 20,000 chats (400 pages of 50) over loopback (uvicorn, another
process) and waits `LATENCY` before every answer. The physical limit of a
walk of N requests at concurrency C is N x latency / C: no client can do
better without more concurrency. Measured in the same run:

- timelines_async's chat listing (`tl.chats.list().pages()`, the export's chat
  phase) at concurrency 1, 2, 4, 8, 16 with `requests_per_second=None`;
- the seed-style loop: plain httpx, `while has_more_pages: page += 1`;
- a raw httpx read-ahead window at concurrency 8 (C worker tasks pulling page
  numbers, `json.loads`, no models): what httpx alone reaches on this machine
  in this run, the reference for what the library adds;
- a bare aiohttp + orjson window, the same workers without httpx or models:
  the cheapest client, what this machine and this server allow at all;
- a full `export_workspace` (chats and every message into SQLite) of a smaller
  workspace at concurrency 8, against its own limit (requests counted by the
  fake's API-call quota).

A full export of 20,000 chats is ~900,000 messages and ~25,000 requests: over
a minute at the limit alone, so the 20,000-chat figure is the chat phase.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import httpx
import orjson

from timelines_async import TimelinesClient
from timelines_async.export import SQLiteStore, export_workspace

from ._results import Goal, Section, median, spread
from ._server import TOKEN, Server, fake_server

CHATS = 20_000
PAGES = CHATS // 50
LATENCY = 0.05
CONCURRENCIES = (1, 2, 4, 8, 16)
#: Concurrency levels timed in every round; the slow ones (C = 1, 2) once.
REPEATED = (4, 8, 16)
EXPORT_CHATS = 1_000


@attrs.frozen
class ExportCurve:
    """Median listing times for the plot: per concurrency, the sequential loop, the raw window."""

    seconds: dict[int, float]
    sequential: float
    raw_window: float
    pages: int
    latency: float


@attrs.frozen
class Run:
    """One timed walk: wall time, and the CPU the client and the server spent on it."""

    wall: float
    client_cpu: float
    server_cpu: float


def limit(requests: int, concurrency: int) -> float:
    return requests * LATENCY / concurrency


def timed(server: Server, walk: Callable[[], Coroutine[Any, Any, None]]) -> Run:
    server_before = server.cpu_seconds()
    cpu_before = time.process_time()
    started = time.perf_counter()
    asyncio.run(walk())
    wall = time.perf_counter() - started
    return Run(wall, time.process_time() - cpu_before, server.cpu_seconds() - server_before)


async def list_chats(base_url: str, concurrency: int) -> None:
    async with TimelinesClient(
        TOKEN, base_url=base_url, max_concurrency=concurrency, requests_per_second=None
    ) as tl:
        chats = 0
        async for page in tl.chats.list().pages():
            chats += len(page.items)
    assert chats == CHATS, chats


async def sequential_loop(base_url: str) -> None:
    """The seed's loop: one page after another with plain httpx."""
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        chats: list[dict[str, object]] = []
        page = 0
        has_more_pages = True
        while has_more_pages:
            page += 1
            response = await http.get(f"{base_url}/chats", params={"page": page})
            data = response.json()["data"]
            chats.extend(data["chats"])
            has_more_pages = data["has_more_pages"]
    assert len(chats) == CHATS, len(chats)


async def read_ahead(get_page: Callable[[int], Awaitable[Any]], concurrency: int) -> None:
    """`concurrency` long-lived workers take the next page number until a page is the last.

    `get_page(n)` returns page n's `data`; every chat must come back once.
    """
    next_page = 1
    last_page = PAGES + concurrency  # until a page says it is the last
    chats = 0

    async def worker() -> None:
        nonlocal next_page, last_page, chats
        while next_page <= last_page:
            page = next_page
            next_page += 1
            data = await get_page(page)
            chats += len(data["chats"])
            if not data["has_more_pages"]:
                last_page = min(last_page, page)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    assert chats == CHATS, chats


async def raw_window(base_url: str, concurrency: int) -> None:
    """Plain httpx and `json.loads` under the read-ahead workers: no models, no pager."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(limits=limits, headers=headers) as http:

        async def get_page(page: int) -> Any:
            response = await http.get(f"{base_url}/chats", params={"page": page})
            return json.loads(response.content)["data"]

        await read_ahead(get_page, concurrency)


async def aiohttp_window(base_url: str, concurrency: int) -> None:
    """The cheapest client here: aiohttp itself and orjson under the same workers.

    No httpx and no models: what any client can reach against this server on
    this machine, so that the gap between it and the limit is the machine's.
    """
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def get_page(page: int) -> Any:
            async with session.get(f"{base_url}/chats", params={"page": page}) as response:
                return orjson.loads(await response.read())["data"]

        await read_ahead(get_page, concurrency)


@attrs.define
class ExportFigures:
    """One full export: its requests, its messages and its own seconds.

    The seconds are `export_workspace`'s alone: the quota reads around it that
    count the requests are two more latencies, which the limit does not count.
    """

    requests: int = 0
    messages: int = 0
    seconds: float = 0.0


async def full_export(base_url: str, concurrency: int, figures: ExportFigures) -> None:
    """`export_workspace` into a fresh SQLite file, its figures into `figures`."""
    async with TimelinesClient(
        TOKEN, base_url=base_url, max_concurrency=concurrency, requests_per_second=None
    ) as tl:
        before = await api_calls_used(tl)
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            summary = await export_workspace(tl, SQLiteStore(Path(tmp) / "export.sqlite"))
            figures.seconds = time.perf_counter() - started
        figures.requests = await api_calls_used(tl) - before - 1
    figures.messages = summary.messages
    assert summary.chats == EXPORT_CHATS, summary


async def api_calls_used(tl: TimelinesClient) -> int:
    quota = (await tl.quotas.get()).api_calls_quota
    assert quota is not None
    assert quota.used is not None
    return quota.used


async def warm_up(base_url: str, *, histories: bool = False) -> None:
    """Read what the walks will read once, untimed, so the fake has built it beforehand.

    The fake renders a chat's JSON on its first listing and generates a chat's
    history on its first read (about a millisecond a chat, on the request path),
    then keeps the JSON of what it rendered; a real server has its data already.
    With `histories`, every chat's history is read too, oldest first, page by
    page, as the export reads it.
    """
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as http:

        async def get(path: str, params: dict[str, Any]) -> Any:
            response = await http.get(f"{base_url}{path}", params=params)
            response.raise_for_status()
            return response.json()["data"]

        async def read_history(chat_id: int) -> None:
            params = {"sorting_order": "asc"}
            while True:
                data = await get(f"/chats/{chat_id}/messages", params)
                if not data["has_more_pages"] or not data["messages"]:
                    return
                params = {"sorting_order": "asc", "after_message": data["messages"][-1]["uid"]}

        chats: list[dict[str, Any]] = []
        first = 1
        while True:
            numbers = range(first, first + 16)
            batch = await asyncio.gather(*(get("/chats", {"page": n}) for n in numbers))
            chats += [chat for page in batch for chat in page["chats"]]
            if not all(page["has_more_pages"] for page in batch):
                break
            first += 16
        if histories:
            for start in range(0, len(chats), 16):
                group = chats[start : start + 16]
                await asyncio.gather(*(read_history(chat["id"]) for chat in group))


def cpu_text(runs: list[Run], requests: int) -> str:
    """Median CPU per request of the client and the server (ms), and the client's busy share."""
    client = median([r.client_cpu for r in runs]) / requests * 1e3
    server = median([r.server_cpu for r in runs]) / requests * 1e3
    busy = median([r.client_cpu / r.wall for r in runs])
    return f"{client:.2f} / {server:.2f} ms | {busy:.0%}"


def run(rounds: int) -> tuple[Section, ExportCurve]:
    runs: dict[int, list[Run]] = {c: [] for c in CONCURRENCIES}
    raw: list[Run] = []
    floor: list[Run] = []
    with fake_server(chats=CHATS, latency=LATENCY) as server:
        asyncio.run(warm_up(server.base_url))
        for concurrency in CONCURRENCIES:
            if concurrency not in REPEATED:
                runs[concurrency].append(
                    timed(server, partial(list_chats, server.base_url, concurrency))
                )
        for _ in range(rounds):
            for concurrency in REPEATED:
                runs[concurrency].append(
                    timed(server, partial(list_chats, server.base_url, concurrency))
                )
            raw.append(timed(server, partial(raw_window, server.base_url, 8)))
            floor.append(timed(server, partial(aiohttp_window, server.base_url, 8)))
        sequential = [timed(server, partial(sequential_loop, server.base_url))]
    figures = ExportFigures()
    with fake_server(chats=EXPORT_CHATS, latency=LATENCY) as server:
        asyncio.run(warm_up(server.base_url, histories=True))
        export = timed(server, partial(full_export, server.base_url, 8, figures))

    walls = {c: [r.wall for r in rs] for c, rs in runs.items()}
    medians = {c: median(w) for c, w in walls.items()}
    seq = median([r.wall for r in sequential])
    at8 = medians[8]
    export_limit = limit(figures.requests, 8)
    rows = "\n".join(
        f"| {c} | {limit(PAGES, c):.2f} s | {spread(walls[c])} "
        f"| {medians[c] / limit(PAGES, c):.3f}x | {cpu_text(runs[c], PAGES)} |"
        for c in CONCURRENCIES
    )
    body = f"""\
Chat listing of {CHATS:,} chats ({PAGES} pages of 50) from the fake over loopback,
{LATENCY * 1000:.0f} ms latency per request; limit = pages x latency / concurrency.
CPU is per request, client (this process) / server (the uvicorn process); "client busy"
is the client's CPU time over the wall time of the walk.

| concurrency | limit | timelines_async | / limit | CPU client / server | client busy |
|---|---|---|---|---|---|
{rows}

Raw httpx read-ahead window at concurrency 8 (no models, no pager), same server:
{spread([r.wall for r in raw])},
**{median([r.wall for r in raw]) / limit(PAGES, 8):.3f}x** the limit;
CPU {cpu_text(raw, PAGES)} busy. timelines_async at 8 / raw window:
**{at8 / median([r.wall for r in raw]):.3f}x**.

Bare aiohttp + orjson read-ahead window at concurrency 8 (the cheapest client here: no
httpx, no models, pages 1 to 8 asked for at once), same server:
{spread([r.wall for r in floor])},
**{median([r.wall for r in floor]) / limit(PAGES, 8):.3f}x** the limit;
CPU {cpu_text(floor, PAGES)} busy. What it lacks of the limit is this machine's (the
fake's timer and CPU, two processes waking on two cores), not the client's.

Seed-style sequential loop (plain httpx, `while has_more_pages: page += 1`):
{spread([r.wall for r in sequential])}, {seq / limit(PAGES, 1):.3f}x its own limit of
{limit(PAGES, 1):.0f} s; CPU {cpu_text(sequential, PAGES)}.

Full `export_workspace` into SQLite of a {EXPORT_CHATS:,}-chat workspace (chats and all
{figures.messages:,} messages, {figures.requests:,} requests) at concurrency 8:
{figures.seconds:.2f} s against a limit of {export_limit:.2f} s
(**{figures.seconds / export_limit:.3f}x**, one run; the seconds of `export_workspace`
alone, without the quota reads that count its requests); CPU
{cpu_text([export], figures.requests)} busy.
"""
    goals = [
        Goal(
            key="P1",
            what=f"export chat phase ({PAGES} pages, 50 ms) at C = 8 / physical limit",
            ratio=at8 / limit(PAGES, 8),
            target=1.10,
            detail=f"{at8:.3f} s vs {limit(PAGES, 8):.3f} s",
        ),
        Goal(
            key="P1",
            what="speed-up over the seed-style sequential loop",
            ratio=seq / at8,
            target=7.0,
            at_most=False,
            detail=f"{seq:.2f} s vs {at8:.3f} s",
        ),
        Goal(
            key="P1",
            what=f"full export ({EXPORT_CHATS:,} chats + messages) at C = 8 / limit",
            ratio=figures.seconds / export_limit,
            target=1.10,
            detail=f"{figures.seconds:.2f} s vs {export_limit:.2f} s",
        ),
    ]
    curve = ExportCurve(medians, seq, median([r.wall for r in raw]), PAGES, LATENCY)
    section = Section(title="P1: export against the physical limit", goals=goals, body=body)
    return section, curve
