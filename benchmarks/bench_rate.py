"""P5: throughput against a server that allows R requests/s and answers 429 beyond.

The fake (another process) keeps a token bucket of `RATE` requests/s (bursts
up to one second's worth) and answers 429 with `Retry-After` beyond it. The
client lists `PAGES` pages of chats at concurrency 8 through its own pacer,
configured at R (the goal) and, to see the adaptive pacer at work, at 2R.
Answers are counted by status with an httpx `response` event hook (the
client's `http_client`, pool sized to the concurrency as the client's own).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx

from timelines_async import TimelinesClient

from ._results import Goal, Section
from ._server import TOKEN, fake_server

RATE = 50.0
PAGES = 250
LATENCY = 0.05
CONCURRENCY = 8


async def list_paced(base_url: str, requests_per_second: float) -> tuple[float, Counter[int]]:
    """Seconds to list every page, and the answers by status."""
    statuses: Counter[int] = Counter()

    async def on_response(response: httpx.Response) -> None:
        statuses[response.status_code] += 1

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with (
        httpx.AsyncClient(limits=limits, event_hooks={"response": [on_response]}) as http,
        TimelinesClient(
            TOKEN, base_url=base_url, http_client=http, max_concurrency=CONCURRENCY,
            requests_per_second=requests_per_second,
        ) as tl,
    ):  # fmt: skip
        started = time.perf_counter()
        chats = 0
        async for page in tl.chats.list().pages():
            chats += len(page.items)
        elapsed = time.perf_counter() - started
    assert chats == PAGES * 50, chats
    return elapsed, statuses


def run() -> Section:
    results: dict[float, tuple[float, Counter[int]]] = {}
    for factor in (1.0, 2.0):
        # A fresh server each time: its bucket starts full, as after a quiet spell.
        with fake_server(chats=PAGES * 50, latency=LATENCY, request_rate=RATE) as server:
            results[factor] = asyncio.run(list_paced(server.base_url, RATE * factor))
    rows = []
    goals = []
    for factor, (elapsed, statuses) in results.items():
        answered = sum(statuses.values())
        throughput = statuses[200] / elapsed
        throttled = statuses[429] / answered
        rows.append(
            f"| {RATE * factor:g} /s | {elapsed:.2f} s | {statuses[200]} | {statuses[429]} "
            f"| {throughput:.1f} /s ({throughput / RATE:.1%} of R) | {throttled:.2%} |"
        )
        goals += [
            Goal(
                key="P5",
                what=f"throughput / R (client at {factor:g}R)",
                ratio=throughput / RATE,
                target=0.9,
                at_most=False,
                detail=f"{throughput:.1f} /s of {RATE:g} /s",
            ),
            Goal(
                key="P5",
                what=f"share of requests answered 429 (client at {factor:g}R)",
                ratio=throttled * 100,
                target=2.0,
                unit=" %",
                detail=f"{statuses[429]} of {answered}",
            ),
        ]
    body = f"""\
The fake allows R = {RATE:g} requests/s ({LATENCY * 1000:.0f} ms latency); the client lists
{PAGES} pages at concurrency {CONCURRENCY} with `requests_per_second` as below.

| client `requests_per_second` | time | 200 | 429 | throughput | 429 share |
|---|---|---|---|---|---|
{chr(10).join(rows)}
"""
    return Section(title="P5: throughput under a server rate limit", goals=goals, body=body)
