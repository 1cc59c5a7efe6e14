"""What the commands share: client options, one-line errors, progress bars, argument types.

The token is read from `TIMELINES_API_TOKEN` only (never a flag: flags show up
in process listings and shell history) and nothing here ever prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
from collections.abc import Iterator

import attrs
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .._client import TimelinesClient
from .._exceptions import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    TimelinesError,
    TransportError,
)
from .._options import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_REQUESTS_PER_SECOND,
    DEFAULT_TIMEOUT,
)
from .._validation import check_integer, check_number
from ..export import ExportProgress, ExportSummary, ProgressCallback

__all__ = [
    "ProgressBars",
    "add_client_options",
    "client_from_args",
    "describe",
    "export_progress",
    "fraction",
    "non_negative",
    "positive",
    "positive_int",
    "summary_line",
    "waiting_line",
]


def positive_int(text: str) -> int:
    return check_integer("value", _parsed(text, int), minimum=1, error=_argument_error)


def non_negative(text: str) -> float:
    return check_number("value", _parsed(text, float), minimum=0, error=_argument_error)


def positive(text: str) -> float:
    return check_number(
        "value", _parsed(text, float), minimum=0, exclusive=True, error=_argument_error
    )


def fraction(text: str) -> float:
    value = non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be a rate between 0 and 1, not {text!r}")
    return value


def _parsed(text: str, kind: type[int] | type[float]) -> object:
    """The number `text` spells, or `text` itself for the check to refuse."""
    try:
        return kind(text)
    except ValueError:
        return text


def _argument_error(field: str, message: str) -> argparse.ArgumentTypeError:
    """argparse names the option itself: the message says only what is wrong."""
    return argparse.ArgumentTypeError(message)


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """`--base-url` and the client's knobs; the token comes from TIMELINES_API_TOKEN."""
    group = parser.add_argument_group("API client (token from TIMELINES_API_TOKEN)")
    group.add_argument(
        "--base-url",
        metavar="URL",
        help="API base URL (default: TIMELINES_BASE_URL, else the production API)",
    )
    group.add_argument(
        "--max-concurrency",
        type=positive_int,
        metavar="N",
        default=DEFAULT_MAX_CONCURRENCY,
        help="requests in flight at once (default %(default)s)",
    )
    group.add_argument(
        "--requests-per-second",
        type=non_negative,
        metavar="R",
        default=DEFAULT_REQUESTS_PER_SECOND,
        help="pace all requests (default %(default)s; 0 turns pacing off)",
    )
    group.add_argument(
        "--max-retries",
        type=int,
        choices=range(11),
        metavar="N",
        default=DEFAULT_MAX_RETRIES,
        help="retries of a failed request, 0 to 10 (default %(default)s)",
    )
    group.add_argument(
        "--timeout",
        type=positive,
        metavar="SECONDS",
        default=DEFAULT_TIMEOUT,
        help="seconds per request (default %(default)s)",
    )


def client_from_args(args: argparse.Namespace) -> TimelinesClient:
    if not os.environ.get("TIMELINES_API_TOKEN", "").strip():
        raise ConfigurationError(
            "no API token: set TIMELINES_API_TOKEN (TimelinesAI app -> Integrations -> Public API)"
        )
    return TimelinesClient(
        base_url=args.base_url,
        max_concurrency=args.max_concurrency,
        requests_per_second=args.requests_per_second or None,
        max_retries=args.max_retries,
        timeout=args.timeout,
    )


def describe(error: TimelinesError, args: argparse.Namespace) -> str:
    """One line for the user: what went wrong and, where it helps, what to do.

    Errors never hold the token; should a server echo it back in a message, it
    is blanked here all the same.
    """
    where = getattr(args, "base_url", None) or os.environ.get("TIMELINES_BASE_URL")
    if isinstance(error, AuthenticationError):
        text = f"the API refused the token (401): {error.message}; check TIMELINES_API_TOKEN"
    elif isinstance(error, TransportError):
        text = f"cannot reach {where or 'the API'}: {error}"
    elif _missing_endpoint(error):
        # Not a missing chat or message: the endpoint itself is missing.
        text = (
            f"{error}; is the base URL right? It is {where or DEFAULT_BASE_URL} "
            "(--base-url, TIMELINES_BASE_URL)"
        )
    else:
        text = str(error) or type(error).__name__
    token = os.environ.get("TIMELINES_API_TOKEN", "").strip()
    if token:
        text = text.replace(token, "<token>")
    return " ".join(text.split())


class ProgressBars(Progress):
    """rich's progress bars, kept a few columns narrower than the terminal.

    A line that fills the terminal leaves the cursor in the last column: the
    `^C` the terminal echoes there then wraps to a new line, and the final
    redraw, one line off, prints the first bar twice.
    """

    def get_renderable(self) -> RenderableType:
        return _Narrower(super().get_renderable())


@attrs.frozen
class _Narrower:
    """Renders its content `margin` columns narrower than the space it is given."""

    content: RenderableType
    #: Room for the echoed `^C`, and a column to spare.
    margin: int = 3

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from console.render(
            self.content, options.update_width(max(options.max_width - self.margin, 1))
        )


def _missing_endpoint(error: TimelinesError) -> bool:
    """A 404 for a listing (no id in the path): the endpoint itself, not a chat, is missing."""
    return (
        isinstance(error, APIError)
        and error.status_code == 404
        and not any(c.isdigit() for c in error.path)
    )


@contextlib.contextmanager
def export_progress(console: Console) -> Iterator[ProgressCallback | None]:
    """Progress bars for chats and messages on a terminal; nothing (`None`) otherwise."""
    if not console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn())
    note = TextColumn("{task.fields[note]}")
    with ProgressBars(*columns, TimeElapsedColumn(), note, console=console) as bars:
        chats = bars.add_task("chats", total=None, note="")
        messages = bars.add_task("messages", total=None, note="")

        def update(progress: ExportProgress) -> None:
            # The total grows while the listing is read; it is final once listing_done.
            bars.update(chats, completed=progress.chats_done, total=progress.chats_listed or None)
            bars.update(messages, completed=progress.messages)
            bars.update(chats, note=waiting_line(progress))
            if progress.listing_done and progress.chats_done == progress.chats_listed:
                bars.update(messages, total=progress.messages)

        yield update


def waiting_line(progress: ExportProgress) -> str:
    """ "API unavailable (503), retrying in 12 s, 3 chats waiting" while a read waits; else ""."""
    if progress.retry_in is None or progress.problem is None:
        return ""
    waiting = (
        f", {_count(progress.chats_waiting, 'chat')} waiting" if progress.chats_waiting else ""
    )
    return f"{progress.problem}, retrying in {math.ceil(progress.retry_in)} s{waiting}"


def summary_line(summary: ExportSummary, where: str) -> str:
    return (
        f"Exported {_count(summary.chats, 'chat')} ({summary.chats_updated:,} read, "
        f"{summary.chats_unchanged:,} unchanged) and {_count(summary.messages, 'message')} "
        f"into {where} in {summary.seconds:.1f} s."
    )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
