"""MkDocs hook: `<!-- cli-help: COMMAND -->` becomes that command's `--help`, as argparse prints it.

The help is generated from the parser at build time, so the page never drifts
from the command line. An empty COMMAND gives the top-level help; an unknown
one fails the build.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

from timelines_async.cli import build_parser

_MARKER = re.compile(r"<!-- cli-help:(?P<command>[\w\- ]*)-->")
#: The width help is wrapped at, whatever the terminal the build runs in.
_COLUMNS = "88"


def on_page_markdown(markdown: str, **_: Any) -> str:
    if "<!-- cli-help:" not in markdown:
        return markdown
    parser = build_parser()
    return _MARKER.sub(lambda match: _block(parser, match["command"].strip()), markdown)


def _block(parser: argparse.ArgumentParser, command: str) -> str:
    target = _subparser(parser, command) if command else parser
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = _COLUMNS
    try:
        text = target.format_help()
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return f"```text\n{text.rstrip()}\n```"


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            found: argparse.ArgumentParser = action.choices[command]
            return found
    raise ValueError(f"cli-help: no command named {command!r}")
