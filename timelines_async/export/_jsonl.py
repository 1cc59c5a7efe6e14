"""`JSONLStore`: the export as JSON Lines, one object per line.

    {"chat": {...every Chat field...}}
    {"message": {...every Message field...}}

Always a full export: it keeps no sync state, so every run reads every chat and
message again. Into a regular file (or a path that does not exist yet) the
lines go to `FILE.partial`, which replaces `FILE` only when the run completes,
so an interrupted run leaves the previous file as it was. Anything else (a
named pipe, a device, a binary stream such as `sys.stdout.buffer`) is written
through as the run goes: it is never replaced. Each chat's line comes before
its messages; a chat's messages are oldest first, and different chats'
messages may interleave.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import IO, Any

from .._exceptions import InvalidRequestError
from ._records import json_text, record
from ._store import ChatRows, ExportSource, StoreError, SyncState, Write, output_path

__all__ = ["JSONLStore"]


class JSONLStore:
    """Export into a JSON Lines file (replaced when the run completes) or a stream.

    `target` is a path, or a binary file object open for writing (left open).
    """

    def __init__(self, target: str | PathLike[str] | IO[bytes]) -> None:
        self._stream: IO[bytes] | None = None
        if isinstance(target, str | PathLike):
            self.path: Path | None = output_path(target)
        elif callable(getattr(target, "write", None)):
            self.path, self._stream = None, target
        else:
            raise InvalidRequestError(
                "target", f"expected a file path or a binary stream, not {target!r:.80}"
            )
        self._file: IO[bytes] | None = None
        self._partial: Path | None = None

    def __repr__(self) -> str:
        return f"JSONLStore({str(self.path) if self.path else self._stream!r})"

    @property
    def _name(self) -> str:
        return str(self.path) if self.path else getattr(self._stream, "name", "the stream")

    def open(self, source: ExportSource) -> dict[int, SyncState]:
        if self.path is None:
            self._file = self._stream
            return {}
        target = self.path.resolve()
        if target.is_dir():
            raise StoreError(f"cannot write {self.path}: it is a directory")
        if target.exists() and not target.is_file():
            # A pipe or a device: write through, never replace it with a file.
            self._file = _opened(target, target)
        else:
            self._partial = target.with_name(target.name + ".partial")
            self._file = _opened(self._partial, target)
        return {}

    def write(self, batch: Sequence[Write]) -> None:
        if self._file is None:
            raise StoreError(f"{self!r} is not open")
        lines = []
        for item in batch:
            if isinstance(item, ChatRows):
                lines += [{"chat": record(chat)} for chat in item.chats]
            else:
                lines += [{"message": record(message)} for message in item.messages]
        try:
            self._file.writelines(_encoded(line) for line in lines)
            self._file.flush()
        except OSError as exc:
            raise StoreError(f"cannot write {self._name}: {exc.strerror or exc}") from exc

    def close(self, *, complete: bool) -> None:
        file, self._file = self._file, None
        partial, self._partial = self._partial, None
        if file is None or file is self._stream:
            return
        try:
            file.close()
        except OSError as exc:
            # Unwritten lines (a full disk); after a failed run its own error tells more.
            if complete:
                raise StoreError(f"cannot write {self._name}: {exc.strerror or exc}") from exc
        if partial is None:
            return
        if complete:
            _replace(partial, partial.with_name(partial.name.removesuffix(".partial")))
        else:
            partial.unlink(missing_ok=True)


def _opened(path: Path, target: Path) -> IO[bytes]:
    try:
        return path.open("wb")
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _replace(partial: Path, target: Path) -> None:
    """Rename the finished export over `target`, unless `target` became something else."""
    if target.exists() and not target.is_file():
        raise StoreError(
            f"refusing to replace {target}: it is no longer a regular file "
            f"(the export is in {partial})"
        )
    try:
        os.replace(partial, target)
    except OSError as exc:
        raise StoreError(f"cannot replace {target}: {exc.strerror or exc}") from exc


def _encoded(line: dict[str, Any]) -> bytes:
    try:
        return json_text(line).encode() + b"\n"
    except UnicodeEncodeError:
        # A lone surrogate (half an emoji) has no UTF-8 form: \u escapes keep it exactly.
        return json.dumps(line).encode() + b"\n"
