"""`timelines-async fake-server`: the seeded fake TimelinesAI API over HTTP.

SIGTERM and Ctrl+C stop it cleanly (exit 0); a connection it drops on
purpose is logged in one line.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._common import fraction, non_negative, positive_int

if TYPE_CHECKING:
    import uvicorn

    from ..testing import FakeTimelines

__all__ = ["register"]

#: Fault flags and the `Faults` field each one sets (names, not `Fault`: importing the
#: fake when the command line starts would slow down every command).
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
        "--latency",
        type=non_negative,
        default=0.0,
        help="seconds from a request's arrival to its answer",
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
    _add_fault_options(parser)
    parser.set_defaults(run=run)


def _add_fault_options(parser: argparse.ArgumentParser) -> None:
    """Injected failures: a rate per kind, the 429s' Retry-After, the draws' seed, an outage."""
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
    faults.add_argument(
        "--outage",
        type=non_negative,
        default=0.0,
        metavar="SECONDS",
        help="an outage: every request answered 503 for SECONDS (default: none)",
    )
    faults.add_argument(
        "--outage-after",
        type=int,
        default=0,
        metavar="REQUESTS",
        help="requests answered before the outage begins (default 0)",
    )


def build_fake(args: argparse.Namespace) -> FakeTimelines:
    from ..testing import FakeTimelines, Faults, Outage

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
        outage=Outage(after_requests=args.outage_after, seconds=args.outage)
        if args.outage
        else None,
    )


async def run(args: argparse.Namespace) -> int:
    import uvicorn  # here: the other commands do not need it

    from ..testing._asgi import note_dropped_connections

    try:
        fake = build_fake(args)
    except ValueError as exc:  # fault rates adding up to more than 1, a negative outage
        print(f"timelines-async: error: {exc}", file=sys.stderr)
        return 2
    listener = _listen(args.host, args.port)
    if listener is None:
        return 1
    server = uvicorn.Server(
        uvicorn.Config(fake, lifespan="off", ws="none", log_level="warning", access_log=False)
    )
    note_dropped_connections()
    with _stopped_by_signals(server):
        _announce(args, fake, listener)
        await server.serve(sockets=[listener])
    return 0


def _listen(host: str, port: int) -> socket.socket | None:
    """The listening socket; `None` (the reason said on stderr) when it cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets that
    # say TCP, and without it Nagle's algorithm holds every keep-alive answer ~40 ms.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        # Listening before the address is announced: a client that connects while the
        # server is still starting waits in the backlog instead of being refused.
        listener.listen()
    except OSError as exc:
        listener.close()
        print(
            f"timelines-async: error: cannot listen on {host}:{port}: {exc.strerror}",
            file=sys.stderr,
        )
        return None
    return listener


def _announce(args: argparse.Namespace, fake: FakeTimelines, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    shown = f"[{args.host}]" if listener.family == socket.AF_INET6 else args.host
    print(f"Fake TimelinesAI API ({args.chats} chats, seed {args.seed}) at:", flush=True)
    print(f"  export TIMELINES_BASE_URL=http://{shown}:{port}/integrations/api")
    print(f"  export TIMELINES_API_TOKEN={fake.token}")
    print("Press Ctrl+C to stop.", flush=True)


@contextmanager
def _stopped_by_signals(server: uvicorn.Server) -> Iterator[None]:
    """SIGINT and SIGTERM stop the server, and the command then ends normally (exit 0).

    uvicorn puts back the handlers it found when it stops, and raises the
    signal again so that it reaches them: these ones, which only ask the
    server to stop (also when the signal comes before it has started).
    """

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
