"""Checks shared by the reliability tests: an export database against the fake's state."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path

from timelines_async.testing import FakeTimelines

__all__ = ["assert_export_matches", "expected_messages", "stored"]


def stored(db_path: Path) -> tuple[Counter[int], Counter[str], dict[str, tuple[int, str | None]]]:
    """Chat ids and message uids as stored (with their counts), and each message's chat and text."""
    with closing(sqlite3.connect(db_path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        chat_ids = Counter(row[0] for row in db.execute("SELECT id FROM chats"))
        rows = list(db.execute("SELECT uid, chat_id, text FROM messages"))
        incomplete = db.execute("SELECT COUNT(*) FROM sync_state WHERE complete = 0").fetchone()
    assert incomplete == (0,), "some chats' histories were left incomplete"
    uids = Counter(uid for uid, _, _ in rows)
    return chat_ids, uids, {uid: (chat_id, text) for uid, chat_id, text in rows}


def expected_messages(fake: FakeTimelines) -> dict[str, tuple[int, str | None]]:
    return {
        message.uid: (chat_id, message.text)
        for chat_id in fake.chats
        for message in fake.messages_of(chat_id)
    }


def assert_export_matches(fake: FakeTimelines, db_path: Path) -> int:
    """Every chat and message of the fake stored exactly once, and nothing else; the count."""
    chat_ids, uids, messages = stored(db_path)
    assert set(chat_ids) == set(fake.chats), "chats missing from or foreign to the export"
    assert max(chat_ids.values()) == 1
    assert [uid for uid, count in uids.items() if count > 1] == []
    want = expected_messages(fake)
    missing = want.keys() - messages.keys()
    extra = messages.keys() - want.keys()
    assert not missing, f"{len(missing)} messages missing, e.g. {sorted(missing)[:3]}"
    assert not extra, f"{len(extra)} messages the fake does not have, e.g. {sorted(extra)[:3]}"
    assert messages == want, "a stored message differs from the fake's (chat or text)"
    return len(messages)
