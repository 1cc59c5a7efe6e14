"""The campaign journal: one SQLite row per recipient, committed before each send.

Every state change is its own transaction with `PRAGMA synchronous=FULL`, so
once a method returns the change survives a crash of the process (SIGKILL) or
of the machine. The order that makes the campaign safe:

1. `mark_sending` (state `sending`, attempted_at) is committed;
2. only then does the request leave;
3. the answer is recorded: `sent` with the message uid, `failed` with the
   reason, `unknown` when the outcome is unknown, or back to `pending` when the
   API provably did not take it.

A row found in `sending` or `unknown` by a later run may have gone out: it is
reconciled against the chat's outgoing messages before anything else is sent
to that recipient.

The journal is tied to its campaign by the CSV's sha256 and the template, and
locked (`flock` on `PATH.lock`, released by the OS even on SIGKILL) so two runs
never work on it at once.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self

import attrs

from .._send_attempt import SendAttempt, Target
from ._csv import Plan
from ._errors import CampaignError, JournalBusyError, JournalMismatchError
from ._settings import SendSettings

__all__ = ["Journal", "JournalRow", "State"]

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE campaign (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE recipients (
    position INTEGER PRIMARY KEY,
    line INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('phone', 'chat_id')),
    target TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    message_uid TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    attempted_at TEXT,
    reconciled INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
"""


class State(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class JournalRow:
    position: int
    line: int
    target: Target
    text: str
    state: State
    message_uid: str | None
    reason: str | None
    attempts: int
    #: The latest send to this recipient as it left; None when none was attempted.
    attempt: SendAttempt | None
    reconciled: bool

    @property
    def attempted_at(self) -> datetime | None:
        return None if self.attempt is None else self.attempt.attempted_at


def default_journal_path(csv_path: Path) -> Path:
    """Where a campaign's journal goes by default: beside the CSV.

    Args:
        csv_path: The campaign's CSV.

    Returns:
        `<csv>.journal.sqlite` in the CSV's folder.
    """
    return csv_path.with_name(csv_path.name + ".journal.sqlite")


class Journal:
    """An open, locked journal. Use `Journal.open(path, plan)` as a context manager."""

    def __init__(
        self, path: Path, connection: sqlite3.Connection, lock: _Lock, *, created: bool = False
    ) -> None:
        self.path = path
        self._db = connection
        self._lock = lock
        self._meta: dict[str, str] = {}
        #: This run created the file: it is removed again if the run sent nothing.
        self._created = created

    @classmethod
    def open(cls, path: Path, plan: Plan) -> Self:
        """Lock the journal, create it for `plan` or check that it belongs to `plan`."""
        lock = _acquire_lock(path)
        try:
            created = not path.exists()
            try:
                db = _connect(path)
            except sqlite3.Error as exc:
                raise CampaignError(f"cannot open the journal {path}: {exc}") from exc
            try:
                journal = cls(path, db, lock, created=created)
                with _sqlite_errors(path):
                    journal._open(plan)
                return journal
            except BaseException:
                db.close()
                raise
        except BaseException:
            lock.close()
            raise

    def _open(self, plan: Plan) -> None:
        if self._is_new():
            self._create(plan)
            return
        try:
            self._check(plan)
        except JournalMismatchError:
            if self._ever_attempted():
                raise
            # No send was ever journaled (each one is committed before its request),
            # so nobody was messaged under it: start it afresh.
            self._create(plan, replace=True)

    @classmethod
    def peek(cls, path: Path, plan: Plan) -> list[JournalRow] | None:
        """The rows of an existing journal for `plan`, read-only (for dry runs); None if none."""
        if not path.exists():
            return None
        # A plain connection, so that a journal a killed run left mid-commit is rolled
        # back (a read-only one cannot); nothing is written.
        with _sqlite_errors(path):
            db = _connect(path)
            try:
                journal = cls(path, db, _NoLock())
                if journal._is_new():
                    return None
                try:
                    journal._check(plan)
                except JournalMismatchError:
                    if journal._ever_attempted():
                        raise
                    return None  # `open` would start it afresh
                return journal.rows()
            finally:
                db.close()

    def close(self) -> None:
        """Release the journal; one this run created and sent nothing under is removed."""
        discard = self._created and not self._ever_attempted()
        self._db.close()
        if discard:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self._lock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------

    def rows(self) -> list[JournalRow]:
        """Every recipient, in send order."""
        return [self._row(values) for values in self._db.execute(_SELECT + " ORDER BY position")]

    def row(self, position: int) -> JournalRow:
        found = self._db.execute(_SELECT + " WHERE position = ?", (position,)).fetchone()
        if found is None:
            raise LookupError(f"journal {self.path} has no recipient at position {position}")
        return self._row(found)

    @property
    def file_uid(self) -> str | None:
        """The campaign's file as uploaded (once, before the first send), if it has one."""
        return self._meta.get("file_uid")

    def record_file_uid(self, file_uid: str) -> None:
        """Keep the uploaded file's uid, so that a resumed run sends the same file."""
        with _sqlite_errors(self.path), self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO campaign (key, value) VALUES ('file_uid', ?)", (file_uid,)
            )
        self._meta["file_uid"] = file_uid

    def _row(self, values: tuple[Any, ...]) -> JournalRow:
        position, line, kind, target, text, state, uid, reason, attempts, at, reconciled = values
        recipient = Target.phone(target) if kind == "phone" else Target.chat_id(int(target))
        attempt = None
        if at:
            attempt = SendAttempt(
                target=recipient,
                whatsapp_account_phone=self._meta.get("whatsapp_account_phone"),
                text=text,
                file_uid=self.file_uid,
                attachment="file_sha256" in self._meta,
                attempted_at=datetime.fromisoformat(at),
            )
        return JournalRow(
            position=position,
            line=line,
            target=recipient,
            text=text,
            state=State(state),
            message_uid=uid,
            reason=reason,
            attempts=attempts,
            attempt=attempt,
            reconciled=bool(reconciled),
        )

    # -- state changes (each one committed and fsync'd before it returns) ---------------------

    def mark_sending(self, position: int, attempted_at: datetime) -> None:
        """Record an attempt that is about to leave; call before the request is made."""
        self._update(
            position,
            "state = 'sending', attempts = attempts + 1, attempted_at = ?, reason = NULL",
            attempted_at.isoformat(),
        )

    def mark_sent(self, position: int, message_uid: str, *, reconciled: bool = False) -> None:
        self._update(
            position,
            "state = 'sent', message_uid = ?, reason = NULL, reconciled = ?",
            message_uid,
            int(reconciled),
        )

    def mark_failed(self, position: int, reason: str) -> None:
        self._update(position, "state = 'failed', reason = ?", reason)

    def mark_unknown(self, position: int, reason: str) -> None:
        self._update(position, "state = 'unknown', reason = ?", reason)

    def mark_pending(self, position: int, reason: str | None = None) -> None:
        """The attempt provably did not reach the API: the recipient can be sent to later."""
        self._update(position, "state = 'pending', reason = ?", reason)

    def _update(self, position: int, assignments: str, *values: object) -> None:
        try:
            with self._transaction():
                changed = self._db.execute(
                    f"UPDATE recipients SET {assignments}, updated_at = ? WHERE position = ?",
                    (*values, _now(), position),
                ).rowcount
        except sqlite3.Error as exc:
            raise CampaignError(
                f"cannot write the journal {self.path} ({exc}); the campaign stopped, and "
                "the next run reconciles the recipient it was at"
            ) from exc
        if changed != 1:
            raise LookupError(f"journal {self.path} has no recipient at position {position}")

    # -- creation and identity ---------------------------------------------------------------

    def _is_new(self) -> bool:
        tables = {
            name
            for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not tables:
            return True
        if not {"campaign", "recipients"} <= tables:
            raise JournalMismatchError(f"{self.path} is not a campaign journal")
        return False

    def _ever_attempted(self) -> bool:
        try:
            found = self._db.execute("SELECT 1 FROM recipients WHERE attempts > 0 LIMIT 1")
        except sqlite3.Error:  # not even our schema: never touch it
            return True
        return found.fetchone() is not None

    def _create(self, plan: Plan, *, replace: bool = False) -> None:
        now = _now()
        settings = plan.settings
        optional = {
            "label": settings.label,
            "file_name": settings.file.name if settings.file is not None else None,
            "file_sha256": settings.file_sha256,
            "whatsapp_account_phone": settings.whatsapp_account_phone,
        }
        meta = {
            "schema_version": SCHEMA_VERSION,
            "source": plan.source,
            "fingerprint": plan.fingerprint,
            "template": plan.template,
            "kind": plan.kind,
            "created_at": now,
            **{key: value for key, value in optional.items() if value is not None},
        }
        with self._transaction():
            if replace:
                self._db.execute("DROP TABLE recipients")
                self._db.execute("DROP TABLE campaign")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.executemany("INSERT INTO campaign (key, value) VALUES (?, ?)", meta.items())
            self._db.executemany(
                "INSERT INTO recipients (position, line, kind, target, text, state, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                [
                    (r.position, r.line, plan.kind, str(r.target.value), r.text, now)
                    for r in plan.recipients
                ],
            )
        self._meta = meta

    def _check(self, plan: Plan) -> None:
        meta = dict(self._db.execute("SELECT key, value FROM campaign").fetchall())
        self._meta = meta
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise JournalMismatchError(
                f"{self.path} was written by another version of timelines-async "
                f"(journal schema {meta.get('schema_version')!r}, this one reads {SCHEMA_VERSION})"
            )
        hint = (
            "; put new recipients in a CSV of their own (a new journal for this file "
            "would message everyone in it again)"
        )
        if meta.get("fingerprint") != plan.fingerprint:
            raise JournalMismatchError(
                f"{self.path} belongs to another campaign: {meta.get('source')} had sha256 "
                f"{str(meta.get('fingerprint'))[:12]}..., {plan.source} has "
                f"{plan.fingerprint[:12]}... (the recipients changed since the journal was "
                f"written){hint}"
            )
        if meta.get("template") != plan.template:
            raise JournalMismatchError(
                f"{self.path} belongs to another campaign: its template was "
                f"{meta.get('template')!r}, not {plan.template!r}{hint}"
            )
        _check_settings(self.path, meta, plan.settings, hint)
        stored = {(row.position, row.target, row.text) for row in self.rows()}
        planned = {(r.position, r.target, r.text) for r in plan.recipients}
        if stored != planned:
            raise JournalMismatchError(
                f"{self.path} lists other recipients or texts than {plan.source} gives now "
                f"(was it written with another --skip-invalid setting?){hint}"
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _check_settings(path: Path, meta: dict[str, str], settings: SendSettings, hint: str) -> None:
    """A resumed run must send the same label, file and sending number as the first."""
    file_name = settings.file.name if settings.file is not None else None
    for key, option, now, then in (
        ("label", "--label", settings.label, meta.get("label")),
        ("file_sha256", "--file", file_name, meta.get("file_name")),
        (
            "whatsapp_account_phone",
            "--from",
            settings.whatsapp_account_phone,
            meta.get("whatsapp_account_phone"),
        ),
    ):
        if meta.get(key) == getattr(settings, key):
            continue
        changed = " (its content changed)" if then == now else ""
        raise JournalMismatchError(
            f"{path} belongs to another campaign: its {option} was {then or 'not given'}, "
            f"not {now or 'none'}{changed}{hint}"
        )


_SELECT = (
    "SELECT position, line, kind, target, text, state, message_uid, reason, attempts,"
    " attempted_at, reconciled FROM recipients"
)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; `_transaction` makes each one explicit.
    db = sqlite3.connect(path, isolation_level=None)
    try:
        # A rollback journal with synchronous=FULL: COMMIT returns only once the change
        # is on disk, so the `sending` row exists before the request can leave.
        db.execute("PRAGMA journal_mode = DELETE")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA busy_timeout = 5000")
    except BaseException:
        db.close()  # a file that is not a database: leave no connection behind
        raise
    return db


@contextmanager
def _sqlite_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise CampaignError(f"cannot use the journal {path}: {exc}") from exc


class _Lock(Protocol):
    def close(self) -> None: ...


class _NoLock:
    def close(self) -> None:
        pass


class _FileLock:
    """The journal's `PATH.lock`, removed when released so no stray file is left behind."""

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path = path
        self._handle = handle

    def close(self) -> None:
        # Removed while still held: a run that opened it meanwhile sees, once it holds
        # the lock, that the file is gone, and takes the lock anew (`_acquire_lock`).
        with suppress(OSError):
            self.path.unlink()
        self._handle.close()


def _acquire_lock(path: Path) -> _Lock:
    lock_path = path.with_name(path.name + ".lock")
    while True:
        try:
            handle = open(lock_path, "a+b")  # noqa: SIM115 (held for the journal's lifetime)
        except OSError as exc:
            raise CampaignError(f"cannot open the journal {path}: {exc}") from exc
        if sys.platform == "win32":
            return _FileLock(lock_path, handle)
        import fcntl

        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise JournalBusyError(
                f"{path} is in use by another run of this campaign; wait for it to finish"
            ) from None
        if _same_file(handle, lock_path):
            return _FileLock(lock_path, handle)
        handle.close()  # the run that held it removed it: lock the new file


def _same_file(handle: IO[bytes], path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(handle.fileno()), path.stat())
    except FileNotFoundError:
        return False


def _now() -> str:
    return datetime.now(UTC).isoformat()
