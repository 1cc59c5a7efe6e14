"""What the examples share: the `--fake` switch, and a client for the real API or for a fake.

Without `--fake` the client talks to TimelinesAI with the token in
`TIMELINES_API_TOKEN` (and `TIMELINES_BASE_URL`, if set). With `--fake` it talks
to a seeded `FakeTimelines` in this process, so anyone can try an example
without an account; the fake comes back too, for examples that act it out.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

import anyio

from timelines_async import ConfigurationError, TimelinesClient
from timelines_async.testing import FakeTimelines

Sleep = Callable[[float], Awaitable[None]]
#: The fake workspace's seed: the same chats, teammates and messages on every run.
FAKE_SEED = 8


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A command line with `--fake`, its help text taken from the example's docstring."""
    cli = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_argument(
        "--fake", action="store_true", help="run against a seeded in-process fake workspace"
    )
    return cli


def client_from_args(args: argparse.Namespace) -> tuple[TimelinesClient, FakeTimelines | None]:
    """The client to use, and the fake behind it when `--fake` was given."""
    if args.fake:
        fake = FakeTimelines(seed=FAKE_SEED)
        return fake.client(), fake
    try:
        return TimelinesClient(), None
    except ConfigurationError as exc:
        raise SystemExit(f"{exc}\nOr try the example on a fake workspace: add --fake") from None


def sleep_for(fake: FakeTimelines | None) -> Sleep:
    """`anyio.sleep`, or with a fake: move the fake's clock on at once (statuses progress)."""
    if fake is None:
        return anyio.sleep

    async def advance(seconds: float) -> None:
        fake.advance(seconds)

    return advance
