"""P3: send pacing against the fake over loopback, both spacing sends `INTERVAL` apart.

20 sends through `tl.messages.send` with `send_interval=INTERVAL`, after a
quota check (as `send-bulk` does) and with another task reading chats all the
while, so that other requests go out between the sends; the fake
(another process) answers 429 to a send that arrives sooner than its own
`send_interval` after the previous one. The gaps are taken where the client
hands each send to httpx (an httpx `request` event hook on the client's
`http_client`); 429s are counted by a `response` hook.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from timelines_async import TimelinesClient
from timelines_async._limits import InProcessSendLimiter

from ._results import Goal, Section
from ._server import TOKEN, fake_server

SENDS = 20
INTERVAL = 0.25
#: The request pacer's rate: the interleaved reads keep it busy, so sends also wait
#: for it (the send slot must be taken after that wait to keep the spacing).
READ_RATE = 20.0
#: The fake's first seeded chat.
CHAT_ID = 1_000_001


class RecordingLimiter:
    """The client's own in-process send limiter, noting when it grants each slot."""

    def __init__(self, interval: float) -> None:
        self._limiter = InProcessSendLimiter(interval)
        self.granted_at: list[float] = []

    async def acquire(self) -> None:
        await self._limiter.acquire()
        self.granted_at.append(time.perf_counter())


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def send_all(base_url: str, limiter: RecordingLimiter) -> tuple[list[float], int]:
    """The times the sends went out, and how many answers were 429."""
    sent_at: list[float] = []
    throttled = 0

    async def on_request(request: httpx.Request) -> None:
        if request.method == "POST":
            sent_at.append(time.perf_counter())

    async def on_response(response: httpx.Response) -> None:
        nonlocal throttled
        throttled += response.status_code == 429

    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [on_request],
        "response": [on_response],
    }
    async with (
        httpx.AsyncClient(event_hooks=hooks) as http,
        TimelinesClient(
            TOKEN, base_url=base_url, http_client=http, send_limiter=limiter,
            requests_per_second=READ_RATE,
        ) as tl,
    ):  # fmt: skip
        await tl.quotas.get()
        reader = asyncio.create_task(read_all_the_while(tl))
        try:
            for number in range(SENDS):
                await tl.messages.send(chat_id=CHAT_ID, text=f"benchmark message {number}")
        finally:
            reader.cancel()
    return sent_at, throttled


async def read_all_the_while(tl: TimelinesClient) -> None:
    """Reads interleaved with the sends: a send must still keep its spacing at the wire."""
    while True:
        await tl.chats.get(CHAT_ID)
        await asyncio.sleep(INTERVAL / 5)


def run() -> Section:
    with fake_server(send_interval=INTERVAL) as server:
        limiter = RecordingLimiter(INTERVAL)
        sent_at, throttled = asyncio.run(send_all(server.base_url, limiter))
    wire, granted = gaps(sent_at), gaps(limiter.granted_at)
    smallest, mean = min(wire), statistics.fmean(wire)
    rows = "\n".join(
        f"| {what} | {min(g) * 1e3:.2f} ms | {statistics.fmean(g) * 1e3:.2f} ms "
        f"| {max(g) * 1e3:.2f} ms |"
        for what, g in (
            ("requests handed to httpx (the goal)", wire),
            ("the limiter's grants", granted),
        )
    )
    body = f"""\
{SENDS} sends with the client's in-process send limiter at {INTERVAL} s to the fake (its
`send_interval` {INTERVAL} s too), after a quota check and with chat reads from another
task interleaved; {len(sent_at)} sends, {throttled} answers 429.

| gaps between | smallest | mean | largest |
|---|---|---|---|
{rows}
"""
    goals = [
        Goal(
            key="P3",
            what="smallest gap between two sends / interval",
            ratio=smallest / INTERVAL,
            target=1.0,
            at_most=False,
            detail=f"{smallest * 1e3:.2f} ms",
        ),
        Goal(
            key="P3",
            what="mean gap between two sends / interval",
            ratio=mean / INTERVAL,
            target=1.005,
            detail=f"{mean * 1e3:.2f} ms",
        ),
        Goal(
            key="P3",
            what="spacing 429s from the fake",
            ratio=throttled,
            target=0,
            unit="",
            detail=f"{throttled} of {len(sent_at)}",
        ),
    ]
    return Section(title="P3: send pacing", goals=goals, body=body)
