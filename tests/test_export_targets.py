"""Where an export goes: pipes and streams written through, one workspace per database."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import threading
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from timelines_async import AuthenticationError, InvalidRequestError, TimelinesClient
from timelines_async.export import ExportSource, JSONLStore, SQLiteStore, StoreError
from timelines_async.export import export_workspace as export
from timelines_async.testing import FakeTimelines

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> FakeTimelines:
    return FakeTimelines(seed=3, chats=6)


@pytest.fixture
async def tl(fake: FakeTimelines) -> AsyncIterator[TimelinesClient]:
    async with fake.client() as client:
        yield client


def chat_ids(lines: bytes) -> list[int]:
    return [json.loads(line)["chat"]["id"] for line in lines.splitlines() if b'"chat"' in line]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
async def test_a_named_pipe_is_written_through_and_stays_a_pipe(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    fifo = tmp_path / "export.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()

    await export(tl, JSONLStore(fifo))

    reader.join(10)
    assert sorted(chat_ids(received[0])) == sorted(fake.chats)
    assert fifo.is_fifo()
    assert not (tmp_path / "export.fifo.partial").exists()


async def test_a_binary_stream_receives_the_lines_and_is_left_open(
    fake: FakeTimelines, tl: TimelinesClient
) -> None:
    stream = io.BytesIO()

    await export(tl, JSONLStore(stream))

    assert not stream.closed
    assert sorted(chat_ids(stream.getvalue())) == sorted(fake.chats)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
async def test_a_write_error_on_a_device_is_a_store_error(tl: TimelinesClient) -> None:
    with pytest.raises(StoreError, match="cannot write /dev/full"):
        await export(tl, JSONLStore("/dev/full"))
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_the_finished_export_never_replaces_what_became_a_non_regular_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "export.jsonl"
    store = JSONLStore(target)
    store.open(ExportSource("http://x", "f"))
    target.mkdir()  # the path changed under the running export

    with pytest.raises(StoreError, match="refusing to replace"):
        store.close(complete=True)
    assert target.is_dir()
    assert (tmp_path / "export.jsonl.partial").exists()


async def test_a_database_of_another_workspace_is_refused_in_one_line(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    out = tmp_path / "export.sqlite"
    await export(tl, SQLiteStore(out))
    other = FakeTimelines(seed=4, chats=3, token="another-token")

    async with other.client() as client:
        with pytest.raises(StoreError, match="another workspace") as caught:
            await export(client, SQLiteStore(out))
        assert "\n" not in str(caught.value)
        assert "another-token" not in str(caught.value)
        assert other.requests == []

        await export(client, SQLiteStore(out, force_merge=True))

    with closing(sqlite3.connect(out)) as db:
        chats = db.execute("SELECT COUNT(*) FROM chats").fetchone()[0]
        meta = dict(db.execute("SELECT key, value FROM meta"))
    assert chats == len(set(fake.chats) | set(other.chats))
    assert meta["token_fingerprint"] == client.token_fingerprint
    assert "another-token" not in json.dumps(meta)


async def test_a_database_from_another_base_url_is_refused(
    tl: TimelinesClient, tmp_path: Path
) -> None:
    out = tmp_path / "export.sqlite"
    store = SQLiteStore(out)
    store.open(ExportSource("https://elsewhere.example/api", tl.token_fingerprint))
    store.close(complete=True)

    with pytest.raises(StoreError, match=r"from https://elsewhere\.example/api"):
        await export(tl, SQLiteStore(out))


async def test_a_run_that_fails_before_storing_anything_leaves_no_database(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    out = tmp_path / "export.sqlite"
    async with fake.client(token="wrong-token") as client:
        with pytest.raises(AuthenticationError):
            await export(client, SQLiteStore(out))
    assert os.listdir(tmp_path) == []


async def test_a_failed_run_keeps_a_database_that_was_there_before(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    out = tmp_path / "export.sqlite"
    await export(tl, SQLiteStore(out))
    async with fake.client(token="wrong-token") as client:
        with pytest.raises(AuthenticationError):
            await export(client, SQLiteStore(out, force_merge=True))
    assert out.exists()


def test_a_jsonl_target_must_be_a_path_or_a_binary_stream() -> None:
    with pytest.raises(InvalidRequestError, match="target: expected a file path or a binary"):
        JSONLStore(42)  # type: ignore[arg-type]
    assert "BytesIO" in repr(JSONLStore(io.BytesIO()))


async def test_a_database_from_before_fingerprints_is_adopted_by_its_workspace(
    tl: TimelinesClient, tmp_path: Path
) -> None:
    out = tmp_path / "export.sqlite"
    await export(tl, SQLiteStore(out))
    with closing(sqlite3.connect(out)) as db, db:
        db.execute("DELETE FROM meta WHERE key = 'token_fingerprint'")

    await export(tl, SQLiteStore(out))

    with closing(sqlite3.connect(out)) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
    assert meta["token_fingerprint"] == tl.token_fingerprint
