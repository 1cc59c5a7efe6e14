"""What the export run hands to a store, and what a store must do with it.

A store receives batches from a single writer and applies each call to `write`
atomically (one transaction): a chat's messages travel together with that
chat's sync state, which is what lets an interrupted run resume exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from .._exceptions import InvalidRequestError, TimelinesError
from ..models import Chat, Message

__all__ = [
    "ChatRows",
    "ExportSource",
    "MessageRows",
    "Store",
    "StoreError",
    "SyncState",
    "Write",
    "output_path",
]


class StoreError(TimelinesError):
    """The export's output cannot be used (not a database of ours, unwritable, ...)."""


@attrs.frozen
class ExportSource:
    """The workspace an export reads: its API base URL and its token's fingerprint.

    Two exports of one workspace have the same source; a store that keeps data
    across runs records it, so that another workspace's data is never mixed in.
    The fingerprint is `TimelinesClient.token_fingerprint`, never the token.
    """

    base_url: str
    token_fingerprint: str


@attrs.frozen
class SyncState:
    """How far a chat's history was stored.

    `newest_message_uid` is the cursor a later run reads after; `complete` and
    `last_message_uid` say that the history was read to the end while the chat
    listing showed that last message, so an unchanged chat can be skipped.
    """

    newest_message_uid: str | None
    last_message_uid: str | None
    complete: bool


@attrs.frozen
class ChatRows:
    """A page of the chat listing, stored as is (every run refreshes every chat row)."""

    chats: list[Chat]
    #: How many of them are unchanged since the last complete run (their history is skipped).
    unchanged: int


@attrs.frozen
class MessageRows:
    """Messages of one chat, oldest first, and the chat's sync state after them."""

    chat_id: int
    messages: list[Message]
    state: SyncState


Write = ChatRows | MessageRows


@runtime_checkable
class Store(Protocol):
    """Where an export goes. Blocking methods: the run calls them from a worker thread."""

    def open(self, source: ExportSource) -> dict[int, SyncState]:
        """Prepare the output for an export from `source`.

        Args:
            source: The workspace the export reads (base URL and token fingerprint);
                a store that keeps data across runs records it.

        Returns:
            The saved sync state by chat id (empty for a store that keeps none).

        Raises:
            StoreError: The output cannot be used.
        """
        ...

    def write(self, batch: Sequence[Write]) -> None:
        """Store the batch in one transaction.

        Args:
            batch: `ChatRows`, `MessageRows` and `SyncState` updates, in order.

        Raises:
            StoreError: The output cannot be written.
        """
        ...

    def close(self, *, complete: bool) -> None:
        """Release the output.

        Args:
            complete: Whether the run finished (a JSON Lines file replaces the
                previous one only then).
        """
        ...


def output_path(path: str | PathLike[str]) -> Path:
    """A store's file as a `Path`; anything else is an `InvalidRequestError`."""
    if not isinstance(path, str | PathLike) or not str(path).strip():
        raise InvalidRequestError("path", f"expected a file path, not {path!r}")
    return Path(path)
