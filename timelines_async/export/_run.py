"""`export_workspace`: every chat and every message of a workspace into a store.

Three kinds of task share the work:

- the lister walks the chat listing (the chats pager reads ahead), hands each
  page of chats to the writer, and queues the chats whose history changed;
- a fixed set of workers, as many as the client's concurrency, reads those
  histories oldest first, after the newest message already stored;
- one writer applies batches to the store in a worker thread, one transaction
  per batch, so the blocking store never holds up the event loop.

A chat's sync state is written in the same transaction as its messages, so a
run stopped at any point resumes where it stopped and ends with the same data
as a run that never stopped.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable

import anyio
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._client import TimelinesClient
from .._exceptions import InvalidRequestError, NotFoundError
from ..models import Chat, Message
from ._store import ChatRows, ExportSource, MessageRows, Store, SyncState, Write

__all__ = ["ExportProgress", "ExportSummary", "ProgressCallback", "export_workspace"]

#: Batches waiting for the writer; beyond it, readers wait (memory stays flat).
_WRITE_BUFFER = 64
#: At most this many queued batches go into one transaction.
_MAX_BATCHES_PER_TRANSACTION = 32
_CHAT_BUFFER = 100


@attrs.frozen
class ExportProgress:
    """Where an export stands; `chats_listed` grows until `listing_done`."""

    chats_listed: int
    listing_done: bool
    #: Chats whose history is stored (unchanged ones count as soon as they are listed).
    chats_done: int
    #: Messages stored so far in this run.
    messages: int


ProgressCallback = Callable[[ExportProgress], None]


@attrs.frozen
class ExportSummary:
    """What a run did."""

    #: Chats in the workspace (every row refreshed).
    chats: int
    #: Chats whose history was read this run (new or changed since the last run).
    chats_updated: int
    #: Chats skipped because their last message did not change.
    chats_unchanged: int
    #: Messages stored this run.
    messages: int
    seconds: float


async def export_workspace(
    client: TimelinesClient, store: Store, *, progress: ProgressCallback | None = None
) -> ExportSummary:
    """Export every chat and message through `client` into `store`; incremental and resumable.

    A second run into the same SQLite store reads only the chats whose
    `last_message_uid` changed, and only their messages after the newest stored
    one. `progress` is called (on the event loop) after every stored batch.
    """
    if not isinstance(client, TimelinesClient):
        raise InvalidRequestError("client", f"expected a TimelinesClient, not {client!r:.80}")
    if not isinstance(store, Store):
        raise InvalidRequestError(
            "store", f"expected a store such as SQLiteStore(path), not {store!r:.80}"
        )
    if progress is not None and not callable(progress):
        raise InvalidRequestError("progress", f"expected a callable or None, not {progress!r:.80}")
    started = time.monotonic()
    source = ExportSource(client.base_url, client.token_fingerprint)
    state = await anyio.to_thread.run_sync(store.open, source)
    complete = False
    try:
        run = _Run(client, store, state, progress)
        try:
            await run.run()
        except BaseExceptionGroup as group:
            # The task groups' wrapping is ours, not the caller's business: raise
            # the error itself (a ServerError, a StoreError, ...).
            raise _first_error(group) from None
        complete = True
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(functools.partial(store.close, complete=complete))
    return ExportSummary(
        chats=run.chats_listed,
        chats_updated=run.chats_listed - run.chats_unchanged,
        chats_unchanged=run.chats_unchanged,
        messages=run.messages,
        seconds=time.monotonic() - started,
    )


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_error(first) if isinstance(first, BaseExceptionGroup) else first


class _Run:
    def __init__(
        self,
        client: TimelinesClient,
        store: Store,
        state: dict[int, SyncState],
        progress: ProgressCallback | None,
    ) -> None:
        self._client = client
        self._store = store
        self._state = state
        self._progress = progress
        self.chats_listed = 0
        self.chats_unchanged = 0
        self.listing_done = False
        self.chats_done = 0
        self.messages = 0

    async def run(self) -> None:
        writes_tx, writes_rx = anyio.create_memory_object_stream[Write](_WRITE_BUFFER)
        chats_tx, chats_rx = anyio.create_memory_object_stream[Chat](_CHAT_BUFFER)
        # Within the client's own limit: more workers would only queue for its slots.
        workers = self._client.max_concurrency
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._write, writes_rx)
            async with writes_tx, anyio.create_task_group() as readers:
                readers.start_soon(self._list_chats, chats_tx, writes_tx)
                with chats_rx:
                    for _ in range(workers):
                        readers.start_soon(self._read_histories, chats_rx.clone(), writes_tx)

    def _unchanged(self, chat: Chat) -> bool:
        """Read to the end before, and the same last message now.

        A chat the listing shows without `last_message_uid` (no messages yet, or
        an answer that leaves the optional field out) is always read again: one
        request that finds nothing is cheaper than a missed message.
        """
        saved = self._state.get(chat.id)
        return (
            saved is not None
            and saved.complete
            and chat.last_message_uid is not None
            and saved.last_message_uid == chat.last_message_uid
        )

    async def _list_chats(
        self, chats_tx: MemoryObjectSendStream[Chat], writes_tx: MemoryObjectSendStream[Write]
    ) -> None:
        async with chats_tx, contextlib.aclosing(self._client.chats.list().pages()) as pages:
            async for page in pages:
                changed = [chat for chat in page.items if not self._unchanged(chat)]
                unchanged = len(page.items) - len(changed)
                self.chats_listed += len(page.items)
                self.chats_unchanged += unchanged
                await writes_tx.send(ChatRows(page.items, unchanged=unchanged))
                for chat in changed:
                    await chats_tx.send(chat)
        self.listing_done = True
        self._report()

    async def _read_histories(
        self, chats_rx: MemoryObjectReceiveStream[Chat], writes_tx: MemoryObjectSendStream[Write]
    ) -> None:
        async with chats_rx:
            async for chat in chats_rx:
                await self._read_history(chat, writes_tx)

    async def _read_history(self, chat: Chat, writes_tx: MemoryObjectSendStream[Write]) -> None:
        saved = self._state.get(chat.id)
        cursor = saved.newest_message_uid if saved is not None else None
        try:
            await self._read_after(chat, cursor, writes_tx)
        except NotFoundError:
            if cursor is None:
                raise
            # The newest stored message is gone from the server (deleted): read
            # the whole history again; upserts keep every message once.
            await self._read_after(chat, None, writes_tx)

    async def _read_after(
        self, chat: Chat, newest: str | None, writes_tx: MemoryObjectSendStream[Write]
    ) -> None:
        """Messages after `newest` (all when `None`), oldest first, a page per batch.

        The last page is held back until the walk ends, so that it carries the
        completed sync state in its own transaction.
        """
        held: list[Message] = []
        pager = self._client.messages.list(chat.id, order="asc", after_message=newest)
        async with contextlib.aclosing(pager.pages()) as pages:
            async for page in pages:
                if held:
                    newest = held[-1].uid
                    partial = SyncState(newest, None, complete=False)
                    await writes_tx.send(MessageRows(chat.id, held, partial))
                held = page.items
        if held:
            newest = held[-1].uid
        done = SyncState(newest, chat.last_message_uid, complete=True)
        await writes_tx.send(MessageRows(chat.id, held, done))

    async def _write(self, writes_rx: MemoryObjectReceiveStream[Write]) -> None:
        async with writes_rx:
            async for first in writes_rx:
                batch = [first]
                with contextlib.suppress(anyio.WouldBlock, anyio.EndOfStream):
                    while len(batch) < _MAX_BATCHES_PER_TRANSACTION:
                        batch.append(writes_rx.receive_nowait())
                await anyio.to_thread.run_sync(self._store.write, batch)
                for item in batch:
                    if isinstance(item, ChatRows):
                        self.chats_done += item.unchanged
                    else:
                        self.messages += len(item.messages)
                        self.chats_done += item.state.complete
                self._report()

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(
                ExportProgress(
                    chats_listed=self.chats_listed,
                    listing_done=self.listing_done,
                    chats_done=self.chats_done,
                    messages=self.messages,
                )
            )
