"""The workspace export (`timelines_async.export`) end to end against the fake server."""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import anyio
import attrs
import httpx
import pytest

from timelines_async import (
    AuthenticationError,
    Chat,
    InvalidRequestError,
    Message,
    TimelinesClient,
)
from timelines_async.export import (
    ExportProgress,
    GaveUpError,
    JSONLStore,
    SQLiteStore,
    StoreError,
    export_workspace,
)
from timelines_async.export._run import _MAX_BATCHES_PER_TRANSACTION
from timelines_async.testing import FakeTimelines, Faults

pytestmark = pytest.mark.anyio

TABLES = ("chats", "messages", "sync_state", "meta")


def contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order: two equal results mean two equal databases."""
    with closing(sqlite3.connect(path)) as db:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in TABLES
        }


def rows(path: Path, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(query, params).fetchall()


def message_requests(fake: FakeTimelines, since: int = 0) -> list[Any]:
    return [r for r in fake.requests[since:] if r.path.endswith("/messages")]


def total_messages(fake: FakeTimelines) -> int:
    return sum(len(fake.messages_of(chat_id)) for chat_id in fake.chats)


@pytest.fixture
def fake() -> FakeTimelines:
    return FakeTimelines(seed=1, chats=20)  # histories of 0 to 253 messages


@pytest.fixture
async def tl(fake: FakeTimelines) -> AsyncIterator[TimelinesClient]:
    async with fake.client() as client:
        yield client


async def test_export_stores_every_chat_and_message_of_the_workspace_once(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    out = tmp_path / "export.sqlite"
    summary = await export_workspace(tl, SQLiteStore(out))

    assert (summary.chats, summary.chats_updated, summary.chats_unchanged) == (20, 20, 0)
    assert summary.messages == total_messages(fake)
    stored_chats = dict(rows(out, "SELECT id, name FROM chats"))
    assert stored_chats == {chat_id: chat.name for chat_id, chat in fake.chats.items()}
    for chat_id in fake.chats:
        stored = rows(
            out, "SELECT uid, text FROM messages WHERE chat_id = ? ORDER BY rowid", chat_id
        )
        assert stored == [(m.uid, m.text) for m in fake.messages_of(chat_id)]
    assert rows(out, "SELECT COUNT(*) FROM sync_state WHERE complete = 1") == [(20,)]


async def test_stored_rows_hold_every_field_of_the_models_as_the_api_serves_them(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    out = tmp_path / "export.sqlite"
    await export_workspace(tl, SQLiteStore(out))
    chat = await tl.chats.get(next(iter(fake.chats)))
    history = await tl.messages.list(chat.id, order="asc").collect()

    with closing(sqlite3.connect(out)) as db:
        db.row_factory = sqlite3.Row
        chat_row = dict(db.execute("SELECT * FROM chats WHERE id = ?", (chat.id,)).fetchone())
        message_rows = [
            dict(row)
            for row in db.execute(
                "SELECT * FROM messages WHERE chat_id = ? ORDER BY rowid", (chat.id,)
            )
        ]

    assert list(chat_row) == [field.name for field in attrs.fields(Chat)]
    assert json.loads(chat_row["labels"]) == list(chat.labels)
    assert chat_row["name"] == chat.name
    assert chat_row["created_timestamp"] == chat.created_timestamp.isoformat()  # type: ignore[union-attr]
    assert [list(row) for row in message_rows] == [[f.name for f in attrs.fields(Message)]] * len(
        history
    )
    assert [row["uid"] for row in message_rows] == [message.uid for message in history]
    assert [row["from_me"] for row in message_rows] == [int(bool(m.from_me)) for m in history]


async def test_second_run_reads_only_new_messages_of_changed_chats(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    out = tmp_path / "export.sqlite"
    await export_workspace(tl, SQLiteStore(out))
    changed = sorted(fake.chats)[3:5]
    newest_before = {chat_id: fake.messages_of(chat_id)[-1].uid for chat_id in changed}
    for chat_id in changed:
        fake.receive_message(chat_id, f"new in {chat_id}")
    before = len(fake.requests)

    summary = await export_workspace(tl, SQLiteStore(out))

    assert (summary.chats_updated, summary.chats_unchanged, summary.messages) == (3, 17, 2)
    reads = message_requests(fake, before)
    expected: dict[int, str | None] = {chat_id: newest_before[chat_id] for chat_id in changed}
    expected |= {
        chat_id: None for chat_id, chat in fake.chats.items() if chat.last_message_uid is None
    }
    assert sorted((r.path, r.query.get("after_message")) for r in reads) == sorted(
        (f"/chats/{chat_id}/messages", after) for chat_id, after in expected.items()
    )
    assert {r.query.get("sorting_order") for r in reads} == {"asc"}
    for chat_id in changed:
        assert rows(
            out, "SELECT text FROM messages WHERE uid = ?", fake.messages_of(chat_id)[-1].uid
        ) == [(f"new in {chat_id}",)]
    assert rows(out, "SELECT COUNT(*) FROM messages") == [(total_messages(fake),)]


async def test_run_without_changes_reads_only_chats_without_a_last_message(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    """A chat listed without `last_message_uid` may have messages the listing does not show."""
    out = tmp_path / "export.sqlite"
    await export_workspace(tl, SQLiteStore(out))
    before = len(fake.requests)
    first = contents(out)
    blank = {chat_id for chat_id, chat in fake.chats.items() if chat.last_message_uid is None}
    assert len(blank) == 1

    summary = await export_workspace(tl, SQLiteStore(out))

    assert (summary.chats_updated, summary.chats_unchanged, summary.messages) == (1, 19, 0)
    assert {r.path for r in message_requests(fake, before)} == {
        f"/chats/{chat_id}/messages" for chat_id in blank
    }
    assert {r.path for r in fake.requests[before:] if not r.path.endswith("/messages")} == {
        "/chats"
    }
    assert contents(out) == first


def cancel_when(
    condition: Callable[[ExportProgress], bool], scope: anyio.CancelScope
) -> Callable[[ExportProgress], None]:
    def progress(state: ExportProgress) -> None:
        if condition(state):
            scope.cancel()

    return progress


async def test_cancelled_run_resumes_to_the_same_database_as_a_clean_run(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    """Cancelled after its first transaction with messages, which holds at most
    `_MAX_BATCHES_PER_TRANSACTION` pages: with more pages than that, the cut is partial."""
    pages = sum(max(1, math.ceil(len(fake.messages_of(c)) / 50)) for c in fake.chats)
    assert pages > _MAX_BATCHES_PER_TRANSACTION
    clean, resumed = tmp_path / "clean.sqlite", tmp_path / "resumed.sqlite"
    await export_workspace(tl, SQLiteStore(clean))

    with anyio.CancelScope() as scope:
        await export_workspace(
            tl, SQLiteStore(resumed), progress=cancel_when(lambda p: p.messages > 0, scope)
        )
    assert scope.cancelled_caught
    interrupted = contents(resumed)
    assert 0 < len(interrupted["messages"]) < len(contents(clean)["messages"])
    before = len(fake.requests)
    summary = await export_workspace(tl, SQLiteStore(resumed))

    assert contents(resumed) == contents(clean)
    assert summary.messages == len(contents(clean)["messages"]) - len(interrupted["messages"])
    complete_before = {row[0] for row in interrupted["sync_state"] if row[3]}
    read_again = {int(r.path.split("/")[-2]) for r in message_requests(fake, before)}
    assert read_again.isdisjoint(complete_before)


async def test_run_stopped_inside_a_history_reads_on_after_its_last_committed_page(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    """The state a run leaves when stopped after committing two pages of a long history."""
    out = tmp_path / "export.sqlite"
    await export_workspace(tl, SQLiteStore(out))
    clean = contents(out)
    chat_id = max(fake.chats, key=lambda chat_id: len(fake.messages_of(chat_id)))
    history = fake.messages_of(chat_id)
    assert len(history) > 150
    with closing(sqlite3.connect(out)) as db, db:
        db.executemany("DELETE FROM messages WHERE uid = ?", [(m.uid,) for m in history[100:]])
        db.execute(
            "UPDATE sync_state SET newest_message_uid = ?, last_message_uid = NULL, complete = 0 "
            "WHERE chat_id = ?",
            (history[99].uid, chat_id),
        )
    before = len(fake.requests)

    summary = await export_workspace(tl, SQLiteStore(out))

    assert contents(out) == clean
    assert summary.messages == len(history) - 100
    path = f"/chats/{chat_id}/messages"
    reads = [r for r in message_requests(fake, before) if r.path == path]
    assert [r.query.get("after_message") for r in reads][:1] == [history[99].uid]


async def test_a_stored_cursor_the_server_no_longer_knows_rereads_that_chat(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    """The newest stored message was deleted on the server: its uid answers 404."""
    out = tmp_path / "export.sqlite"
    await export_workspace(tl, SQLiteStore(out))
    clean = contents(out)
    chat_id = max(fake.chats, key=lambda chat_id: len(fake.messages_of(chat_id)))
    with closing(sqlite3.connect(out)) as db, db:
        db.execute(
            "UPDATE sync_state SET newest_message_uid = ?, complete = 0 WHERE chat_id = ?",
            ("00000000-0000-4000-8000-000000000000", chat_id),
        )
    before = len(fake.requests)

    summary = await export_workspace(tl, SQLiteStore(out))

    assert contents(out) == clean
    assert summary.messages == len(fake.messages_of(chat_id))
    statuses = [r.status for r in message_requests(fake, before)]
    assert statuses[0] == 404
    assert statuses[1:] == [200] * (len(statuses) - 1)


class FailAfter(httpx.AsyncBaseTransport):
    """The network goes down after `n` requests."""

    def __init__(self, inner: httpx.AsyncBaseTransport, n: int) -> None:
        self.inner, self.left = inner, n

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.left -= 1
        if self.left < 0:
            raise httpx.ConnectError("network down", request=request)
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("failing_request", [2, 15, 30])
async def test_run_failed_by_the_network_resumes_to_the_same_database(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path, failing_request: int
) -> None:
    clean, resumed = tmp_path / "clean.sqlite", tmp_path / "resumed.sqlite"
    await export_workspace(tl, SQLiteStore(clean))
    transport = FailAfter(httpx.ASGITransport(app=fake), failing_request)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        TimelinesClient(
            fake.token,
            base_url=tl.base_url,
            http_client=http,
            max_retries=0,
            requests_per_second=None,
        ) as broken,
    ):
        with pytest.raises(
            GaveUpError, match=r"nothing succeeded for 0\.2 s; last error: .*network down"
        ):
            await export_workspace(
                broken,
                SQLiteStore(resumed),
                give_up_after=0.2,
                retry_wait=0.01,
                max_retry_wait=0.05,
            )

    await export_workspace(tl, SQLiteStore(resumed))

    assert contents(resumed) == contents(clean)


@pytest.mark.parametrize(
    "faults",
    [
        Faults(seed=1, server_error=0.15),
        Faults(seed=2, rate_limited=0.15, retry_after=0.0),
        Faults(seed=3, dropped=0.1, not_sent=0.05),
        Faults(seed=4, truncated=0.1),
    ],
    ids=["5xx", "429", "dropped", "truncated"],
)
async def test_export_completes_through_faults_by_retrying(
    tmp_path: Path, faults: Faults, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTimelines(seed=1, chats=20, faults=faults)
    out = tmp_path / "export.sqlite"
    with caplog.at_level(logging.DEBUG, logger="timelines_async"):
        async with fake.client(max_retries=10, retry_base_delay=0, retry_max_delay=0) as tl:
            summary = await export_workspace(tl, SQLiteStore(out))

    retries = [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert len(retries) == sum(fake.faults_injected.values()) > 0, "one retry per fault"
    assert summary.chats == 20
    assert summary.messages == total_messages(fake)
    assert rows(out, "SELECT COUNT(*) FROM messages") == [(total_messages(fake),)]


async def test_an_api_error_is_raised_as_itself_not_wrapped_in_a_group(tmp_path: Path) -> None:
    fake = FakeTimelines(seed=1, chats=20)
    async with fake.client(token="wrong-token") as tl:
        with pytest.raises(AuthenticationError, match=r"GET /chats\S* -> 401"):
            await export_workspace(tl, SQLiteStore(tmp_path / "export.sqlite"))


async def test_progress_reports_growing_totals_and_ends_complete(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    seen: list[ExportProgress] = []
    await export_workspace(tl, SQLiteStore(tmp_path / "export.sqlite"), progress=seen.append)

    assert seen[-1] == ExportProgress(
        chats_listed=20, listing_done=True, chats_done=20, messages=total_messages(fake)
    )
    for earlier, later in itertools.pairwise(seen):
        assert later.chats_done >= earlier.chats_done
        assert later.messages >= earlier.messages
        assert later.chats_done <= later.chats_listed


async def test_jsonl_export_writes_each_chat_then_its_messages_once(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path
) -> None:
    out = tmp_path / "export.jsonl"
    for _ in range(2):  # a second run replaces the file: JSON Lines is always a full export
        summary = await export_workspace(tl, JSONLStore(out))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]

    assert summary.chats_updated == 20
    chats = [line["chat"] for line in lines if "chat" in line]
    messages = [line["message"] for line in lines if "message" in line]
    assert len(chats) + len(messages) == len(lines)
    assert sorted(chat["id"] for chat in chats) == sorted(fake.chats)
    assert len(messages) == total_messages(fake) == len({m["uid"] for m in messages})
    position = {("chat", c["id"]): i for i, line in enumerate(lines) if (c := line.get("chat"))}
    for i, line in enumerate(lines):
        if "message" in line:
            assert position[("chat", line["message"]["chat_id"])] < i
    assert os.listdir(tmp_path) == [out.name]


async def test_interrupted_jsonl_export_keeps_the_previous_file(
    tl: TimelinesClient, tmp_path: Path
) -> None:
    out = tmp_path / "export.jsonl"
    out.write_text("previous export\n", encoding="utf-8")

    with anyio.CancelScope() as scope:
        await export_workspace(
            tl, JSONLStore(out), progress=cancel_when(lambda p: p.messages > 0, scope)
        )

    assert scope.cancelled_caught
    assert out.read_text(encoding="utf-8") == "previous export\n"
    assert os.listdir(tmp_path) == [out.name]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"store": "export.sqlite"}, "store"),
        ({"client": "not a client"}, "client"),
        ({"progress": 42}, "progress"),
    ],
)
async def test_bad_arguments_are_invalid_request_errors_before_any_request(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path, arguments: dict[str, Any], field: str
) -> None:
    call: dict[str, Any] = {"client": tl, "store": SQLiteStore(tmp_path / "x.sqlite"), **arguments}
    with pytest.raises(InvalidRequestError) as caught:
        await export_workspace(call.pop("client"), call.pop("store"), **call)
    assert caught.value.field == field
    assert fake.requests == []
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("path", [None, 3, ""])
@pytest.mark.parametrize("store", [SQLiteStore, JSONLStore])
def test_a_store_needs_a_file_path(store: Any, path: Any) -> None:
    with pytest.raises(InvalidRequestError, match="path"):
        store(path)


@pytest.mark.parametrize("store", [SQLiteStore, JSONLStore])
async def test_an_output_that_cannot_be_written_is_a_store_error_before_any_request(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path, store: type[SQLiteStore | JSONLStore]
) -> None:
    with pytest.raises(StoreError, match="cannot"):
        await export_workspace(tl, store(tmp_path / "missing-directory" / "export"))
    with pytest.raises(StoreError, match="cannot"):
        await export_workspace(tl, store(tmp_path))  # a directory
    assert fake.requests == []


async def test_an_empty_workspace_exports_empty_tables(tmp_path: Path) -> None:
    out = tmp_path / "export.sqlite"
    async with FakeTimelines(chats=0).client() as tl:
        summary = await export_workspace(tl, SQLiteStore(out))

    assert (summary.chats, summary.messages) == (0, 0)
    assert [len(contents(out)[table]) for table in TABLES] == [0, 0, 0, 3]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a database at all, just text" * 10, "not usable as an export database"),
        (None, "did not write"),
    ],
    ids=["not-sqlite", "someone-elses-sqlite"],
)
async def test_store_refuses_files_it_did_not_write_before_any_request(
    fake: FakeTimelines, tl: TimelinesClient, tmp_path: Path, content: bytes | None, message: str
) -> None:
    out = tmp_path / "theirs.sqlite"
    if content is None:
        with closing(sqlite3.connect(out)) as db:
            db.execute("CREATE TABLE chats (whatever TEXT)")
    else:
        out.write_bytes(content)
    original = out.read_bytes()

    with pytest.raises(StoreError, match=message):
        await export_workspace(tl, SQLiteStore(out))

    assert fake.requests == []
    assert out.read_bytes() == original


def one_chat_api(text_json: str) -> httpx.MockTransport:
    """A workspace of one chat with one message whose text is `text_json` (raw JSON)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/chats"):
            body = '{"status":"ok","data":{"has_more_pages":false,"chats":[{"id":1,"name":"A"}]}}'
        else:
            body = (
                '{"status":"ok","data":{"has_more_pages":false,"messages":'
                f'[{{"uid":"m1","chat_id":1,"text":{text_json}}}]}}}}'
            )
        return httpx.Response(200, content=body.encode())

    return httpx.MockTransport(answer)


@pytest.mark.parametrize("store", ["sqlite", "jsonl"])
async def test_text_with_half_an_emoji_is_stored_not_a_crash(tmp_path: Path, store: str) -> None:
    """A lone surrogate (an emoji cut by a length limit) has no UTF-8 form."""
    out = tmp_path / f"export.{store}"
    async with (
        httpx.AsyncClient(transport=one_chat_api('"cut \\ud83d here \\ud83d\\ude00"')) as http,
        TimelinesClient(
            "t", base_url="http://api.test", http_client=http, requests_per_second=None
        ) as tl,
    ):
        await export_workspace(tl, SQLiteStore(out) if store == "sqlite" else JSONLStore(out))

    if store == "sqlite":
        assert rows(out, "SELECT text FROM messages") == [("cut \ufffd here \U0001f600",)]
    else:
        message = json.loads(out.read_text(encoding="utf-8").splitlines()[1])["message"]
        assert message["text"] == "cut \ud83d here \U0001f600"


def test_the_export_package_exports_exactly_its_public_names() -> None:
    import timelines_async.export as package

    # (pytest's assertion rewriting adds non-identifier names: the package hosts a plugin)
    public = {name for name in vars(package) if name.isidentifier() and not name.startswith("_")}
    assert public == set(package.__all__)
    assert package.__all__ == sorted(package.__all__)
