"""The `timelines-async` command line (optional extra `cli`).

Each command is one module of this package exposing `register(subparsers)`,
which adds its subparser and sets `run` to an async function `(args) -> int`.
Modules are found by name, so a new command is a new module and nothing else.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import pkgutil
import sys
from collections.abc import Sequence

import anyio

from .._exceptions import TimelinesError

__all__ = ["main"]

PROG = "timelines-async"
#: What `pip install timelines-async[cli]` adds.
_CLI_EXTRA = ("rich", "uvicorn")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Command line for the TimelinesAI Public API (WhatsApp team inbox)."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda found: found.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}").register(subparsers)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("timelines-async")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; the exit status (errors are one line on stderr, never a traceback)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, or a usage error already printed by argparse
            return exc.code if isinstance(exc.code, int) else 2
        from ._common import describe

        try:
            code: int = anyio.run(args.run, args)
        except TimelinesError as exc:
            print(f"{PROG}: error: {describe(exc, args)}", file=sys.stderr)
            return 1
        return code
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in _CLI_EXTRA:
            raise
        print(
            f"{PROG}: error: this needs the cli extra: pip install 'timelines-async[cli]'",
            file=sys.stderr,
        )
        return 2
