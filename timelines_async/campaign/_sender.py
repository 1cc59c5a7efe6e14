"""The one task that sends a campaign, in order, and keeps going through transient errors.

Each send is journaled (committed) before its request leaves. What comes back
decides what happens to the recipient:

- accepted: `sent`;
- a refusal of this recipient (invalid phone, unknown chat, ...): `failed`, and on;
- a transient refusal, where provably nothing was sent (a 429 beyond the
  client's retries, a connection that never carried the request, a 2xx
  `"status": "error"` that refuses nothing in particular): tried again later
  in the same run, after a growing, jittered wait;
- an unknown outcome: looked up in the chat once the attempt is `settle`
  seconds old, and sent again only if it went out nowhere;
- what would fail every send (a refused token, no permission, no quota left,
  or `BREAKER` sends in a row that failed): the run stops, the rest stays
  `pending` for the next run.

A recipient is sent to at most `max_attempts` times in one run.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

import anyio
import attrs

from .._client import TimelinesClient
from .._exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TimelinesError,
    TransportError,
    UnexpectedResponseError,
    UnprocessableEntityError,
)
from .._retry import backoff_delay
from .._send_attempt import SendOutcomeUnknown
from ._journal import Journal, JournalRow
from ._report import CampaignProgress, QuotaCheck, RecipientResult, result_of

__all__ = ["BREAKER", "Extras", "Pacing", "ProgressCallback", "Sender"]

logger = logging.getLogger("timelines_async.campaign")

T = TypeVar("T")

ProgressCallback = Callable[[CampaignProgress], None]

#: Sends in a row that failed (refused for a transient reason, or with an unknown
#: outcome) after which the run stops: the API is down for everyone, not one recipient.
BREAKER = 20

#: Errors that concern one recipient: it is marked failed and the campaign goes on.
_RECIPIENT_ERRORS = (
    BadRequestError,
    NotFoundError,
    ConflictError,
    PayloadTooLargeError,
    UnprocessableEntityError,
    InvalidRequestError,
)
#: Failures of the API itself, not refusals: a read that meets one is asked again.
_API_FAILURES = (TransportError, RateLimitError, ServerError, UnexpectedResponseError)
#: Errors that every following send would meet too: the run stops.
_FATAL_ERRORS = (
    AuthenticationError,
    PermissionDeniedError,
    QuotaExceededError,
    MethodNotAllowedError,
)


@attrs.frozen(kw_only=True)
class Pacing:
    """How long the sender waits: for an in-doubt send to settle, and before a retry."""

    settle: float
    max_attempts: int
    retry_base_delay: float
    retry_max_delay: float

    async def patiently(self, read: Callable[[], Awaitable[T]]) -> T:
        """A read made before the first send, tried again while the API fails transiently."""
        tries = 0
        while True:
            tries += 1
            try:
                return await read()
            except TimelinesError as exc:
                if tries >= self.max_attempts or not _api_failed(exc):
                    raise
            await anyio.sleep(self.retry_wait(tries))

    def retry_wait(self, refusals: int) -> float:
        """Full jitter over a doubling window: seconds at first, up to `retry_max_delay`."""
        return backoff_delay(
            refusals - 1,
            retry_base_delay=self.retry_base_delay,
            retry_max_delay=self.retry_max_delay,
        )


class _Due(Enum):
    CHECK = "check"  # an in-doubt send: look it up in the chat
    RETRY = "retry"  # a transient refusal: send again


@attrs.frozen(kw_only=True)
class Extras:
    """What every send carries besides the recipient's text."""

    label: str | None = None
    file_uid: str | None = None
    whatsapp_account_phone: str | None = None


class Sender:
    """Sends in order; in-doubt and refused sends wait in a queue of due times."""

    def __init__(
        self,
        client: TimelinesClient,
        journal: Journal,
        extras: Extras,
        pacing: Pacing,
        *,
        in_doubt: list[JournalRow],
        fresh: list[JournalRow],
        done: int,
        total: int,
        quota: QuotaCheck | None,
        progress: ProgressCallback | None,
    ) -> None:
        self._client = client
        self._journal = journal
        self._in_doubt = in_doubt
        self._fresh = fresh
        self._extras = extras
        self._pacing = pacing
        self._progress = progress
        self._quota = quota
        self._done = done
        self._total = total
        self._queue: list[tuple[float, int, int, _Due, bool]] = []
        self._order = itertools.count()
        self._tries: dict[int, int] = {}  # sends to each recipient in this run
        self._lookups: dict[int, int] = {}  # failed lookups of each in-doubt send
        self._failures_in_a_row = 0
        self.stopped: str | None = None

    async def run(self, skipped: set[int]) -> None:
        """Settle what an earlier run left in doubt, send the rest, then wait out the queue.

        `skipped`: recipients the quota leaves out (in doubt, they are not sent again).
        """
        self._tell(None)
        for row in self._in_doubt:
            self._check_later(row, may_resend=row.position not in skipped)
        for row in self._fresh:
            if row.position not in skipped:
                await self._run_due(wait=False)
                if self.stopped:
                    return
                await self._attempt(row)
        await self._run_due(wait=True)

    async def _run_due(self, *, wait: bool) -> None:
        """Handle the queued recipients that are due; with `wait`, every one of them."""
        while self._queue and not self.stopped:
            due, _, position, what, may_resend = self._queue[0]
            delay = due - time.monotonic()
            if delay > 0:
                if not wait:
                    return
                self._tell(None, waiting=delay)
                await anyio.sleep(delay)
            heapq.heappop(self._queue)
            row = self._journal.row(position)
            await (self._check(row, may_resend) if what is _Due.CHECK else self._attempt(row))

    async def _attempt(self, row: JournalRow) -> None:
        """Journal the attempt (committed), then send; record what came back."""
        position = row.position
        self._tries[position] = self._tries.get(position, 0) + 1
        self._journal.mark_sending(position, datetime.now(UTC))
        try:
            sent = await self._client.messages.send(
                to=row.target,
                text=row.text,
                file_uid=self._extras.file_uid,
                label=self._extras.label,
                whatsapp_account_phone=self._extras.whatsapp_account_phone,
            )
        except SendOutcomeUnknown as exc:
            logger.info("line %d: the outcome of the send is unknown (%s)", row.line, exc.reason)
            self._journal.mark_unknown(position, f"outcome unknown: {exc.reason}")
            self._check_later(self._journal.row(position), may_resend=True)
            self._failed_again(exc)
        except _RECIPIENT_ERRORS as exc:
            self._journal.mark_failed(position, _reason(exc))
            self._failures_in_a_row = 0
            self._emit(position, final=True)
        except _FATAL_ERRORS as exc:
            self._journal.mark_pending(position, _reason(exc))
            self.stopped = _reason(exc)
            self._emit(position)
        except TimelinesError as exc:  # provably not taken, and perhaps better later
            self._refused(row, exc)
        except BaseException:
            # Cancelled, interrupted, or a bug: the request may have left.
            self._journal.mark_unknown(position, "interrupted while sending")
            raise
        else:
            self._journal.mark_sent(position, sent.message_uid)
            self._failures_in_a_row = 0
            self._emit(position, final=True)

    def _refused(self, row: JournalRow, exc: TimelinesError) -> None:
        """A transient refusal: try again later, unless this recipient has had its tries."""
        position = row.position
        if self._tries[position] >= self._pacing.max_attempts:
            self._journal.mark_failed(
                position, f"not sent after {self._tries[position]} tries: {_reason(exc)}"
            )
            self._emit(position, final=True)
        else:
            wait = self._pacing.retry_wait(self._tries[position])
            logger.info("line %d: %s; trying again in %.1f s", row.line, _reason(exc), wait)
            self._journal.mark_pending(position, _reason(exc))
            self._queue_up(time.monotonic() + wait, position, _Due.RETRY)
            self._emit(position)
        self._failed_again(exc)

    def _failed_again(self, exc: TimelinesError) -> None:
        self._failures_in_a_row += 1
        if self._failures_in_a_row >= BREAKER:
            self.stopped = f"{BREAKER} sends in a row failed; the last: {_reason(exc)}"

    async def _check(self, row: JournalRow, may_resend: bool) -> None:
        """Look an in-doubt send up; mark it sent if found, else send it again."""
        position = row.position
        try:
            found = await self._client.messages.reconcile(row.attempt) if row.attempt else None
        except TimelinesError as exc:  # a read: ask again later
            self._journal.mark_unknown(position, f"could not check whether it went out: {exc}")
            self._lookups[position] = self._lookups.get(position, 0) + 1
            if self._lookups[position] < self._pacing.max_attempts:  # else the next run asks
                wait = self._pacing.retry_wait(self._lookups[position])
                self._queue_up(time.monotonic() + wait, position, _Due.CHECK, may_resend)
            self._emit(position)
            return
        if found is not None:
            logger.info("line %d: found the message %s in the chat", row.line, found.uid)
            self._journal.mark_sent(position, found.uid, reconciled=True)
            self._emit(position, final=True)
        elif not may_resend:
            self._journal.mark_pending(position, "did not go out; no quota left to send it again")
        elif self._tries.get(position, 0) >= self._pacing.max_attempts:
            self._journal.mark_failed(
                position,
                f"not sent: {self._tries[position]} attempts had an unknown outcome "
                "and none went out",
            )
            self._emit(position, final=True)
        else:
            await self._attempt(row)

    def _check_later(self, row: JournalRow, *, may_resend: bool) -> None:
        """Queue an in-doubt send for when "not in the chat" can be trusted."""
        age = 0.0 if row.attempted_at is None else _age(row.attempted_at)
        delay = max(self._pacing.settle - age, 0.0)
        self._queue_up(time.monotonic() + delay, row.position, _Due.CHECK, may_resend)

    def _queue_up(self, due: float, position: int, what: _Due, may_resend: bool = True) -> None:
        heapq.heappush(self._queue, (due, next(self._order), position, what, may_resend))

    def _emit(self, position: int, *, final: bool = False) -> None:
        if final:
            self._done += 1
        if self._progress is not None:
            self._tell(result_of(self._journal.row(position)))

    def _tell(self, last: RecipientResult | None, *, waiting: float | None = None) -> None:
        if self._progress is None:
            return
        checks = [due for due, _, _, what, _ in self._queue if what is _Due.CHECK]
        now = time.monotonic()
        self._progress(
            CampaignProgress(
                done=self._done,
                total=self._total,
                last=last,
                in_doubt=len(checks),
                retrying=len(self._queue) - len(checks),
                waiting=None if waiting is None else _tenths(waiting),
                checks_due_in=_tenths(max(max(checks) - now, 0.0)) if checks else None,
                quota=self._quota,
            )
        )


def _tenths(seconds: float) -> float:
    return math.ceil(seconds * 10) / 10


def _api_failed(exc: TimelinesError) -> bool:
    """Whether the API failed rather than refused (an error code we do not know counts)."""
    return type(exc) is APIError or isinstance(exc, _API_FAILURES)


def _age(attempted_at: datetime) -> float:
    return (datetime.now(UTC) - attempted_at).total_seconds()


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
