"""`JSONLStore`: the export as JSON Lines, one object per line.

    {"chat": {...every Chat field...}}
    {"message": {...every Message field...}}

Always a full export: it keeps no sync state, so every run reads every chat and
message again. The lines go to `FILE.partial` and replace `FILE` only when the
run completes, so an interrupted run leaves the previous file as it was. Each
chat's line comes before its messages; a chat's messages are oldest first, and
different chats' messages may interleave.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from os import PathLike
from typing import IO, Any

from ._records import record
from ._store import ChatRows, StoreError, SyncState, Write, output_path

__all__ = ["JSONLStore"]


class JSONLStore:
    """Export into a JSON Lines file, replaced as a whole when the run completes."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = output_path(path)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._file: IO[bytes] | None = None

    def __repr__(self) -> str:
        return f"JSONLStore({str(self.path)!r})"

    def open(self, source: str) -> dict[int, SyncState]:
        if self.path.is_dir():
            raise StoreError(f"cannot write {self.path}: it is a directory")
        try:
            self._file = self._partial.open("wb")
        except OSError as exc:
            raise StoreError(f"cannot write {self._partial}: {exc}") from exc
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
        self._file.writelines(_encoded(line) for line in lines)

    def close(self, *, complete: bool) -> None:
        if self._file is None:
            return
        self._file.close()
        self._file = None
        if complete:
            try:
                os.replace(self._partial, self.path)
            except OSError as exc:
                raise StoreError(f"cannot replace {self.path}: {exc}") from exc
        else:
            self._partial.unlink(missing_ok=True)


def _encoded(line: dict[str, Any]) -> bytes:
    try:
        return json.dumps(line, ensure_ascii=False).encode() + b"\n"
    except UnicodeEncodeError:
        # A lone surrogate (half an emoji) has no UTF-8 form: \u escapes keep it exactly.
        return json.dumps(line).encode() + b"\n"
