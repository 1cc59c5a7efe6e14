"""`timelines-async fake-server`: the seeded fake TimelinesAI API over HTTP."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import TYPE_CHECKING, Any

from ._common import fraction, non_negative, positive_int

if TYPE_CHECKING:
    from ..testing import FakeTimelines

__all__ = ["register"]

#: Fault flags and the `Faults` field each one sets.
_FAULTS = {
    "--fault-5xx": ("server_error", "rate of 5xx answers"),
    "--fault-429": ("rate_limited", "rate of 429 answers"),
    "--fault-drop": ("dropped", "rate of connections dropped before an answer"),
    "--fault-not-sent": ("not_sent", "rate of connections refused before the request"),
    "--fault-lost-answer": ("lost_answer", "rate of requests carried out whose answer is lost"),
    "--fault-truncate": ("truncated", "rate of answers cut short"),
    "--fault-status-error": ("status_error", 'rate of 200 answers saying "status": "error"'),
}


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "fake-server",
        help="serve a seeded fake TimelinesAI API over HTTP",
        description="Serve the in-memory fake of the TimelinesAI API (timelines_async.testing) "
        "over HTTP, with optional latency, rate limit and faults.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    parser.add_argument("--seed", type=int, default=0, help="workspace seed (default 0)")
    parser.add_argument("--chats", type=positive_int, default=120, help="chats (default 120)")
    parser.add_argument(
        "--latency", type=non_negative, default=0.0, help="seconds added to every answer"
    )
    parser.add_argument(
        "--send-interval",
        type=non_negative,
        default=2.0,
        help="seconds between two sends going out, like production (default 2.0)",
    )
    parser.add_argument(
        "--request-rate",
        type=non_negative,
        help="requests per second before answering 429 (default: no limit)",
    )
    faults = parser.add_argument_group("faults (rates between 0 and 1)")
    for flag, (_, text) in _FAULTS.items():
        faults.add_argument(flag, type=fraction, default=0.0, metavar="RATE", help=text)
    faults.add_argument(
        "--fault-retry-after",
        type=non_negative,
        default=1.0,
        metavar="SECONDS",
        help="Retry-After sent with injected 429s (default 1)",
    )
    faults.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draws")
    parser.set_defaults(run=run)


def build_fake(args: argparse.Namespace) -> FakeTimelines:
    from ..testing import FakeTimelines, Faults

    rates = {
        field: getattr(args, flag[2:].replace("-", "_")) for flag, (field, _) in _FAULTS.items()
    }
    return FakeTimelines(
        seed=args.seed,
        chats=args.chats,
        send_interval=args.send_interval,
        request_rate=args.request_rate or None,
        latency=args.latency,
        faults=Faults(seed=args.fault_seed, retry_after=args.fault_retry_after, **rates),
    )


async def run(args: argparse.Namespace) -> int:
    import uvicorn  # here: the other commands do not need it

    try:
        fake = build_fake(args)
    except ValueError as exc:  # fault rates adding up to more than 1
        print(f"timelines-async: error: {exc}", file=sys.stderr)
        return 2
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets that
    # say TCP, and without it Nagle's algorithm holds every keep-alive answer ~40 ms.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.host, args.port))
    except OSError as exc:
        listener.close()
        print(
            f"timelines-async: error: cannot listen on {args.host}:{args.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    port = listener.getsockname()[1]
    host = f"[{args.host}]" if family == socket.AF_INET6 else args.host
    print(f"Fake TimelinesAI API ({args.chats} chats, seed {args.seed}) at:", flush=True)
    print(f"  export TIMELINES_BASE_URL=http://{host}:{port}/integrations/api")
    print(f"  export TIMELINES_API_TOKEN={fake.token}")
    print("Press Ctrl+C to stop.", flush=True)
    server = uvicorn.Server(
        uvicorn.Config(fake, lifespan="off", ws="none", log_level="warning", access_log=False)
    )
    await server.serve(sockets=[listener])
    return 0
