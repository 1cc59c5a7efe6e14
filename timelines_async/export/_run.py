"""`export_workspace`: every chat and every message of a workspace into a store.

Three kinds of task share the work:

- the lister walks the chat listing (the chats pager reads ahead), hands each
  page of chats to the writer, and queues the chats whose history changed;
- a fixed set of workers, half as many again as the client's concurrency,
  reads those histories oldest first, after the newest message already stored;
- one writer applies batches to the store in a worker thread, one transaction
  per batch, so the blocking store never holds up the event loop.

A chat's sync state is written in the same transaction as its messages, so a
run stopped at any point resumes where it stopped and ends with the same data
as a run that never stopped.

An export runs for hours, longer than any outage of the API: a chat whose read
still fails after the client's retries goes back into the queue and is read
again after a growing wait, as is the listing; the other chats go on meanwhile.
The run gives up (`GaveUpError`) only when nothing at all succeeded for
`give_up_after` seconds.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable

import anyio
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._client import TimelinesClient
from .._exceptions import InvalidRequestError, NotFoundError, TimelinesError
from .._job_retry import (
    DEFAULT_GIVE_UP_AFTER,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_RETRY_WAIT,
    GaveUpError,
    GrowingWait,
    Patience,
    RetryQueue,
    describe_failure,
    is_transient,
)
from ..models import Chat, Message
from ._store import ChatRows, ExportSource, MessageRows, Store, SyncState, Write

__all__ = ["ExportProgress", "ExportSummary", "ProgressCallback", "export_workspace"]

#: Batches waiting for the writer; beyond it, readers wait (memory stays flat).
_WRITE_BUFFER = 64
#: At most this many queued batches go into one transaction.
_MAX_BATCHES_PER_TRANSACTION = 32
_CHAT_BUFFER = 100
#: While chats wait for another try, the progress is reported this often (a countdown).
_WAITING_REPORT_INTERVAL = 1.0


@attrs.frozen
class ExportProgress:
    """Where an export stands; `chats_listed` grows until `listing_done`."""

    chats_listed: int
    listing_done: bool
    #: Chats whose history is stored (unchanged ones count as soon as they are listed).
    chats_done: int
    #: Messages stored so far in this run.
    messages: int
    #: Chats whose read failed, waiting to be tried again.
    chats_waiting: int = 0
    #: Seconds until the next try of a chat (or of the listing) that failed; `None` if none waits.
    retry_in: float | None = None
    #: What the latest failure was ("API unavailable (503)") while anything waits, else `None`.
    problem: str | None = None


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
    #: Chats deleted while the run read them (their history answered 404): skipped.
    chats_gone: int = 0


async def export_workspace(
    client: TimelinesClient,
    store: Store,
    *,
    progress: ProgressCallback | None = None,
    give_up_after: float = DEFAULT_GIVE_UP_AFTER,
    retry_wait: float = DEFAULT_RETRY_WAIT,
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
) -> ExportSummary:
    """Export every chat and message through `client` into `store`; incremental and resumable.

    A second run into the same SQLite store reads only the chats whose
    `last_message_uid` changed, and only their messages after the newest stored
    one. A chat (or the listing) whose read still fails after the client's
    retries (a 5xx, a 429, a dropped connection) is tried again later in the
    same run, while the others go on.

    Args:
        client: The client to read through; its `max_concurrency` sets how many
            histories are read at once.
        store: Where to write: `SQLiteStore` (incremental) or `JSONLStore`
            (always a full export), or any `Store`.
        progress: Called on the event loop with an `ExportProgress` after every
            stored batch, and every second while chats wait for another try.
        give_up_after: Seconds without a single success before the run gives up.
        retry_wait: The first wait before a failed chat is tried again, in
            seconds; it doubles with each failure of that chat.
        max_retry_wait: The longest such wait.

    Returns:
        The `ExportSummary`: chats listed, read and unchanged, messages stored,
        seconds taken.

    Raises:
        GaveUpError: Nothing succeeded for `give_up_after` seconds; what was
            stored is kept, and the next run resumes.
        InvalidRequestError: A bad argument.
        APIError: An error no wait can mend (a refused token, a used-up quota).
        StoreError: The store cannot be used (a file another tool wrote, say).
    """
    _check_arguments(client, store, progress, give_up_after, retry_wait, max_retry_wait)
    started = time.monotonic()
    source = ExportSource(client.base_url, client.token_fingerprint)
    state = await anyio.to_thread.run_sync(store.open, source)
    complete = False
    try:
        waits = GrowingWait(retry_wait, max_retry_wait)
        run = _Run(client, store, state, progress, waits, Patience(give_up_after))
        try:
            await run.run()
        except BaseExceptionGroup as group:
            # The task groups' wrapping is ours, not the caller's business: raise
            # the error itself (a GaveUpError, a StoreError, ...).
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
        chats_gone=run.chats_gone,
    )


def _check_arguments(
    client: object,
    store: object,
    progress: object,
    give_up_after: float,
    retry_wait: float,
    max_retry_wait: float,
) -> None:
    if not isinstance(client, TimelinesClient):
        raise InvalidRequestError("client", f"expected a TimelinesClient, not {client!r:.80}")
    if not isinstance(store, Store):
        raise InvalidRequestError(
            "store", f"expected a store such as SQLiteStore(path), not {store!r:.80}"
        )
    if progress is not None and not callable(progress):
        raise InvalidRequestError("progress", f"expected a callable or None, not {progress!r:.80}")
    for name, value in (("give_up_after", give_up_after), ("retry_wait", retry_wait)):
        if not _seconds(value) or value == 0:
            raise InvalidRequestError(name, f"expected a number of seconds > 0, not {value!r:.80}")
    if not _seconds(max_retry_wait) or max_retry_wait < retry_wait:
        raise InvalidRequestError(
            "max_retry_wait", f"expected seconds >= retry_wait, not {max_retry_wait!r:.80}"
        )


def _seconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
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
        waits: GrowingWait,
        patience: Patience,
    ) -> None:
        self._client = client
        self._store = store
        self._state = state
        self._progress = progress
        self._waits = waits
        self._patience = patience
        self._queue = RetryQueue[Chat](waits, key=lambda chat: chat.id, limit=_CHAT_BUFFER)
        #: Chats listed so far: a listing read again after a failure skips them.
        self._listed: set[int] = set()
        #: When the listing is tried again after a failure (monotonic clock), else `None`.
        self._listing_due: float | None = None
        self._last_error: BaseException | None = None
        self.chats_listed = 0
        self.chats_unchanged = 0
        self.listing_done = False
        self.chats_done = 0
        self.chats_gone = 0
        self.messages = 0

    async def run(self) -> None:
        writes_tx, writes_rx = anyio.create_memory_object_stream[Write](_WRITE_BUFFER)
        # Half as many again as the client's slots: a worker waiting for a slot has
        # its request built and sends it the moment one is free (1.17x -> 1.14x the
        # latency limit, benchmarks P1); many more would only queue.
        workers = self._client.max_concurrency * 3 // 2
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._write, writes_rx)
            async with writes_tx, anyio.create_task_group() as watched:
                watched.start_soon(self._watch)
                async with anyio.create_task_group() as readers:
                    readers.start_soon(self._list_chats, writes_tx)
                    for _ in range(workers):
                        readers.start_soon(self._read_histories, writes_tx)
                watched.cancel_scope.cancel()

    async def _watch(self) -> None:
        """Give up once nothing has succeeded for `give_up_after`; meanwhile show the waiting."""
        while (remaining := self._patience.remaining()) > 0:
            await anyio.sleep(min(remaining, _WAITING_REPORT_INTERVAL))
            if self._queue.waiting or self._listing_due is not None:
                self._report()
        done = (
            f"{self.chats_done:,} of {self.chats_listed:,} chats listed so far "
            f"and {self.messages:,} messages stored"
        )
        raise GaveUpError(self._patience.give_up_after, self._last_error, done)

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

    async def _list_chats(self, writes_tx: MemoryObjectSendStream[Write]) -> None:
        """The whole listing; read again from the top after a failure that a wait may mend."""
        failures = 0
        try:
            while True:
                try:
                    await self._list_once(writes_tx)
                    break
                except TimelinesError as error:
                    if not is_transient(error):
                        raise
                    failures += 1
                    await self._wait_for_listing(error, self._waits.after(failures))
        finally:
            self._queue.close()
        self.listing_done = True
        self._report()

    async def _wait_for_listing(self, error: TimelinesError, wait: float) -> None:
        self._last_error = error
        self._listing_due = time.monotonic() + wait
        self._report()
        await anyio.sleep(wait)
        self._listing_due = None

    async def _list_once(self, writes_tx: MemoryObjectSendStream[Write]) -> None:
        async with contextlib.aclosing(self._client.chats.list().pages()) as pages:
            async for page in pages:
                self._patience.succeeded()
                new = [chat for chat in page.items if chat.id not in self._listed]
                if not new:
                    continue
                self._listed.update(chat.id for chat in new)
                changed = [chat for chat in new if not self._unchanged(chat)]
                unchanged = len(new) - len(changed)
                self.chats_listed += len(new)
                self.chats_unchanged += unchanged
                await writes_tx.send(ChatRows(new, unchanged=unchanged))
                for chat in changed:
                    await self._queue.put(chat)

    async def _read_histories(self, writes_tx: MemoryObjectSendStream[Write]) -> None:
        while (chat := await self._queue.get()) is not None:
            try:
                await self._read_history(chat, writes_tx)
            except TimelinesError as error:
                if not is_transient(error):
                    raise
                self._last_error = error
                self._queue.retry_later(chat)
                self._report()
            else:
                self._queue.done(chat)

    async def _read_history(self, chat: Chat, writes_tx: MemoryObjectSendStream[Write]) -> None:
        saved = self._state.get(chat.id)
        cursor = saved.newest_message_uid if saved is not None else None
        try:
            if cursor is not None:
                try:
                    await self._read_after(chat, cursor, writes_tx)
                    return
                except NotFoundError:
                    # The newest stored message is gone from the server (deleted): read
                    # the whole history again; upserts keep every message once.
                    pass
            await self._read_after(chat, None, writes_tx)
        except NotFoundError:
            # The chat itself is gone (deleted while the export runs): nothing to read.
            self.chats_gone += 1
            self.chats_done += 1
            self._report()

    async def _read_after(
        self, chat: Chat, newest: str | None, writes_tx: MemoryObjectSendStream[Write]
    ) -> None:
        """Messages after `newest` (all when `None`), oldest first, a page per batch.

        The last page is held back until the walk ends, so that it carries the
        completed sync state in its own transaction. Each page handed on moves
        the chat's cursor, so a walk tried again after a failure reads on from there.
        """
        held: list[Message] = []
        pager = self._client.messages.list(chat.id, order="asc", after_message=newest)
        async with contextlib.aclosing(pager.pages()) as pages:
            async for page in pages:
                self._patience.succeeded()
                if held:
                    newest = held[-1].uid
                    partial = SyncState(newest, None, complete=False)
                    self._state[chat.id] = partial
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

    def _next_retry_in(self) -> float | None:
        """Seconds until the next try of whatever waits (a chat, the listing); `None` if none."""
        waits = [self._queue.next_retry_in()]
        if self._listing_due is not None:
            waits.append(max(0.0, self._listing_due - time.monotonic()))
        return min((wait for wait in waits if wait is not None), default=None)

    def _report(self) -> None:
        if self._progress is not None:
            retry_in = self._next_retry_in()
            problem = None
            if retry_in is not None and self._last_error is not None:
                problem = describe_failure(self._last_error)
            self._progress(
                ExportProgress(
                    chats_listed=self.chats_listed,
                    listing_done=self.listing_done,
                    chats_done=self.chats_done,
                    messages=self.messages,
                    chats_waiting=self._queue.waiting,
                    retry_in=retry_in,
                    problem=problem,
                )
            )
