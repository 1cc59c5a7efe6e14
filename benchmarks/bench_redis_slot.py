"""What one shared send slot costs: `RedisSendLimiter.reserve()` against a plain Redis PING.

    python benchmarks/bench_redis_slot.py [--n 2000] [--rounds 5]

Starts its own redis-server on 127.0.0.1 (a free port, a temporary directory),
then, in each round, times `n` PINGs, `n` slot reservations and `n`
`acquire()` calls at interval 0 (so nothing sleeps), taking turns in batches of
50, one call after another on one connection. Prints the median over the rounds
in µs per call and as a ratio to the PING round trip measured in the same run:
the ratio above 1 is what the reservation costs beyond one round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis as redis_py
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests._redis_server import RedisServer
from timelines_async.redis import RedisSendLimiter

BATCH = 50


async def batch(n: int, call: Callable[[], Awaitable[object]]) -> float:
    """Seconds spent on `n` sequential calls."""
    started = time.perf_counter()
    for _ in range(n):
        await call()
    return time.perf_counter() - started


async def measure(url: str, n: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each kind, one figure per round.

    The kinds take turns in batches of 50 so that a change in the machine's load
    during a round weighs on all of them alike (the machine is shared).
    """
    results: dict[str, list[float]] = {"ping": [], "reserve": [], "acquire": []}
    async with Redis.from_url(url) as redis:
        limiter = RedisSendLimiter(redis, key="bench:send-slot", interval=0)
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "ping": redis.ping,
            "reserve": limiter.reserve,
            "acquire": limiter.acquire,
        }
        for call in calls.values():  # warm up: connection, script cache
            await batch(200, call)
        size = min(BATCH, n)
        batches = max(1, n // size)
        for _ in range(rounds):
            spent = dict.fromkeys(calls, 0.0)
            for _ in range(batches):
                for kind, call in calls.items():
                    spent[kind] += await batch(size, call)
            for kind, seconds in spent.items():
                results[kind].append(seconds / (batches * size))
    return results


def run(n: int = 2000, rounds: int = 5) -> dict[str, float]:
    """Median seconds per call of each kind (`ping`, `reserve`, `acquire`), on a fresh server."""
    with RedisServer() as server:
        results = asyncio.run(measure(server.url, n, rounds))
    return {kind: statistics.median(figures) for kind, figures in results.items()}


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=positive, default=2000, help="calls per round (default 2000)")
    parser.add_argument("--rounds", type=positive, default=5, help="rounds (default 5)")
    args = parser.parse_args()
    medians = run(args.n, args.rounds)
    version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout.split()
    print(
        f"{' '.join(version[:3])}, redis-py {redis_py.__version__}, "
        f"Python {sys.version.split()[0]}; 127.0.0.1; {args.n} calls of each kind a round, "
        f"median of {args.rounds} rounds"
    )
    ping = medians["ping"]
    rows = [
        ("PING round trip (baseline)", ping),
        ("slot reservation, reserve()", medians["reserve"]),
        ("acquire() at interval 0", medians["acquire"]),
    ]
    for label, seconds in rows:
        print(f"{label:<30} {seconds * 1e6:8.1f} µs   {seconds / ping:5.2f} × PING")


if __name__ == "__main__":
    main()
