"""`SQLiteStore`: the export in a SQLite database, upserted, resumable, incremental.

Tables (columns follow the models field by field, so a new model field becomes
a new column on the next run):

- `chats`: one row per chat id; `labels`, `group_members`, `last_message` as JSON;
- `messages`: one row per message uid; `reactions`, `data`, `failure_reason` as JSON;
- `sync_state`: per chat, the newest stored message uid and whether the history
  was read to the end (`complete`) while the chat showed `last_message_uid`;
- `meta`: the schema version, and the workspace the export came from: the base
  URL (`source`) and the token's fingerprint (`token_fingerprint`, a hash).

Timestamps are ISO 8601 text in UTC; booleans are 0/1.
"""

from __future__ import annotations

import sqlite3
import types
import typing
from collections.abc import Callable, Sequence
from contextlib import closing
from os import PathLike
from pathlib import Path
from typing import Any

import attrs

from .._validation import check_bool
from ..models import Chat, Message
from ._records import json_text, plain_values
from ._store import ChatRows, ExportSource, MessageRows, StoreError, SyncState, Write, output_path

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "read_source"]

SCHEMA_VERSION = 1


def _column_type(annotation: Any) -> str:
    """INTEGER for ints and booleans (optional or not); TEXT for text, timestamps and JSON."""
    if isinstance(annotation, types.UnionType):
        kinds = set(typing.get_args(annotation)) - {type(None)}
    else:
        kinds = {annotation}
    return "INTEGER" if kinds <= {bool, int} else "TEXT"


def _columns(cls: type[Any]) -> dict[str, str]:
    hints = typing.get_type_hints(cls)
    return {field.name: _column_type(hints[field.name]) for field in attrs.fields(cls)}


_TABLES: dict[str, tuple[type[Any], str]] = {"chats": (Chat, "id"), "messages": (Message, "uid")}


def _create(table: str) -> str:
    cls, key = _TABLES[table]
    columns = [
        f"{name} {kind}{' PRIMARY KEY' if name == key else ''}"
        for name, kind in _columns(cls).items()
    ]
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)})"


def _upsert(table: str) -> str:
    cls, key = _TABLES[table]
    names = list(_columns(cls))
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != key)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT({key}) DO UPDATE SET {updates}"
    )


_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    _create("chats"),
    _create("messages"),
    "CREATE INDEX IF NOT EXISTS messages_by_chat ON messages (chat_id, timestamp)",
    "CREATE TABLE IF NOT EXISTS sync_state (chat_id INTEGER PRIMARY KEY, "
    "newest_message_uid TEXT, last_message_uid TEXT, complete INTEGER NOT NULL)",
]
_UPSERT_CHAT = _upsert("chats")
_UPSERT_MESSAGE = _upsert("messages")
# A batch with no messages keeps the cursor it had (a changed chat with nothing new).
_UPSERT_STATE = (
    "INSERT INTO sync_state (chat_id, newest_message_uid, last_message_uid, complete) "
    "VALUES (?, ?, ?, ?) ON CONFLICT(chat_id) DO UPDATE SET "
    "newest_message_uid = COALESCE(excluded.newest_message_uid, sync_state.newest_message_uid), "
    "last_message_uid = excluded.last_message_uid, complete = excluded.complete"
)


#: What `plain_values` gives for lists, tuples, dicts and nested models: stored as JSON text.
_JSON_COLUMNS = (list, dict)


def _row(instance: Any) -> tuple[Any, ...]:
    return tuple(
        [
            json_text(value) if value.__class__ in _JSON_COLUMNS else value
            for value in plain_values(instance)
        ]
    )


def _row_without_lone_surrogates(instance: Any) -> tuple[Any, ...]:
    return tuple(
        value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        if isinstance(value, str)
        else value
        for value in _row(instance)
    )


class SQLiteStore:
    """Export into a SQLite file (created if missing; an earlier export is updated in place).

    Refuses a database that something else wrote, so it never alters a user's
    unrelated file, and one that holds another workspace's export (another base
    URL or token), so two workspaces are never mixed, unless `force_merge`.
    A run that fails before storing anything leaves no database it created.
    """

    def __init__(self, path: str | PathLike[str], *, force_merge: bool = False) -> None:
        self.path = output_path(path)
        self.force_merge = check_bool("force_merge", force_merge)
        self._db: sqlite3.Connection | None = None
        self._created = False
        self._stored = False

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def open(self, source: ExportSource) -> dict[int, SyncState]:
        created = not self.path.exists()
        try:
            db = sqlite3.connect(self.path, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        try:
            state = self._prepare(db, source)
        except BaseException as exc:
            db.close()
            if created:
                self._remove()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{self.path} is not usable as an export database: {exc}") from exc
            raise
        self._db, self._created, self._stored = db, created, False
        return state

    def _prepare(self, db: sqlite3.Connection, source: ExportSource) -> dict[int, SyncState]:
        tables = {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if tables and "meta" not in tables:
            raise StoreError(
                f"{self.path} is a SQLite database that timelines-async did not write; "
                "choose another file"
            )
        if tables and not self.force_merge:
            self._check_source(db, source)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        with db:
            for statement in _SCHEMA:
                db.execute(statement)
            for table, (cls, _) in _TABLES.items():
                present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                for name, kind in _columns(cls).items():
                    if name not in present:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("source", source.base_url),
                    ("token_fingerprint", source.token_fingerprint),
                ],
            )
        rows = db.execute(
            "SELECT chat_id, newest_message_uid, last_message_uid, complete FROM sync_state"
        )
        return {
            chat_id: SyncState(newest, last, bool(complete))
            for chat_id, newest, last, complete in rows
        }

    def _check_source(self, db: sqlite3.Connection, source: ExportSource) -> None:
        """Refuse another workspace's database (one written before fingerprints were kept
        is taken as this workspace's when its base URL matches)."""
        meta = dict(db.execute("SELECT key, value FROM meta"))
        base_url = meta.get("source", source.base_url)
        fingerprint = meta.get("token_fingerprint", source.token_fingerprint)
        if base_url != source.base_url:
            other = f"from {base_url}"
        elif fingerprint != source.token_fingerprint:
            other = "read with another API token"
        else:
            return
        raise StoreError(
            f"{self.path} holds the export of another workspace ({other}); choose another "
            "file, or merge the two on purpose with --force-merge (force_merge=True)"
        )

    def write(self, batch: Sequence[Write]) -> None:
        try:
            self._write(batch, _row)
        except UnicodeEncodeError:
            # A lone surrogate (half an emoji, cut by some length limit) has no UTF-8
            # form; the transaction was rolled back: store the batch with U+FFFD there.
            self._write(batch, _row_without_lone_surrogates)

    def _write(self, batch: Sequence[Write], row: Callable[[Any], tuple[Any, ...]]) -> None:
        db = self._connection()
        with db:
            for item in batch:
                if isinstance(item, ChatRows):
                    db.executemany(_UPSERT_CHAT, [row(chat) for chat in item.chats])
                else:
                    self._write_messages(db, item, row)
        self._stored = self._stored or bool(batch)

    @staticmethod
    def _write_messages(
        db: sqlite3.Connection, item: MessageRows, row: Callable[[Any], tuple[Any, ...]]
    ) -> None:
        db.executemany(_UPSERT_MESSAGE, [row(message) for message in item.messages])
        state = item.state
        db.execute(
            _UPSERT_STATE,
            (item.chat_id, state.newest_message_uid, state.last_message_uid, state.complete),
        )

    def close(self, *, complete: bool) -> None:
        if self._db is None:
            return
        self._db.close()
        self._db = None
        if not complete and self._created and not self._stored:
            self._remove()

    def _remove(self) -> None:
        """Delete the database this run created (with SQLite's side files)."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"{self!r} is not open")
        return self._db


def read_source(path: str | PathLike[str]) -> str | None:
    """The base URL an existing export database came from.

    Args:
        path: The database file.

    Returns:
        The base URL, or `None` if the file is not an export database.
    """
    try:
        with closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'source'").fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])
