"""The workflow examples (`examples/*.py`), each run against a seeded fake and checked in its state.

Each example's work is an async function taking a client; the tests call it
with `fake.client()` and then look at what changed in the fake (assignments,
closed chats, labels, notes, sent messages, the CRM's SQLite file). Each
script's `--fake` command line is also run as a user would run it.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from timelines_async.events import MessageDetails, MessageEvent, parse_event
from timelines_async.testing import ChatRecord, FakeTimelines, serve_http

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# The examples import their siblings (`_common`, `webhook_receiver`), as when run as scripts.
sys.path.insert(0, str(EXAMPLES))
try:
    route_new_chats = importlib.import_module("route_new_chats")
    close_inactive_chats = importlib.import_module("close_inactive_chats")
    notify_with_invoice = importlib.import_module("notify_with_invoice")
    support_triage = importlib.import_module("support_triage")
    crm_sync = importlib.import_module("crm_sync")
finally:
    sys.path.remove(str(EXAMPLES))

pytestmark = pytest.mark.anyio

DAY = 86_400


def _snapshot(fake: FakeTimelines) -> dict[int, tuple[Any, ...]]:
    """What the examples may change in each chat."""
    return {
        chat.id: (chat.responsible_email, chat.closed, chat.labels, chat.read)
        for chat in fake.chats.values()
    }


def _new_notes(fake: FakeTimelines, chat_id: int) -> list[str]:
    """The notes left since the fake started (seeded history lies before 0)."""
    return [
        message.text or ""
        for message in fake.messages_of(chat_id)
        if message.message_type == "note" and message.at >= 0
    ]


def _writes(fake: FakeTimelines) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests if r.method != "GET"]


# -- route_new_chats ---------------------------------------------------------


async def test_route_assigns_each_open_unassigned_chat_by_its_labels() -> None:
    fake = FakeTimelines(seed=3, chats=90)
    waiting = [c for c in fake.chats.values() if not c.closed and c.responsible_email is None]
    assert len(waiting) > 10
    some_labels = [("enterprise",), ("VIP", "lead"), ("support",), ("billing",), ("lead",), ()]
    for chat, labels in zip(waiting, some_labels, strict=False):
        chat.labels = labels
    before = _snapshot(fake)
    teammates = fake.workspace.teammates
    senior = {t.email for t in teammates if t.role in ("owner", "admin")}
    support = {t.email for t in teammates if t.team == "Support"}
    sales = {t.email for t in teammates} - senior - support
    assert senior
    assert support
    assert sales

    async with fake.client() as tl:
        assigned = await route_new_chats.route(tl)

    assert set(assigned) == {chat.id for chat in waiting}
    given: dict[str, set[str]] = {"senior": set(), "support": set(), "sales": set()}
    for chat in waiting:
        assert fake.chats[chat.id].responsible_email == assigned[chat.id]
        folded = {label.lower() for label in chat.labels}
        if folded & {"enterprise", "vip"}:
            given["senior"].add(assigned[chat.id])
        elif folded & {"support", "billing"}:
            given["support"].add(assigned[chat.id])
        else:
            given["sales"].add(assigned[chat.id])
    assert given["senior"] == senior
    assert given["support"] == support  # dealt out in turn: both support teammates got chats
    assert given["sales"] == sales
    others = {chat_id: state for chat_id, state in before.items() if chat_id not in assigned}
    assert {chat_id: _snapshot(fake)[chat_id] for chat_id in others} == others

    async with fake.client() as tl:
        assert await route_new_chats.route(tl) == {}  # nothing left to assign


# -- close_inactive_chats ----------------------------------------------------


def _last_active(chat: ChatRecord) -> float:
    return chat.last_message_at if chat.last_message_at is not None else chat.created_at


@pytest.mark.parametrize("days", [30, 200])
async def test_close_inactive_closes_the_open_chats_quiet_for_longer_than_n_days(
    days: int,
) -> None:
    fake = FakeTimelines(seed=4, chats=120)
    stale = {
        chat.id
        for chat in fake.chats.values()
        if not chat.closed and _last_active(chat) < -days * DAY
    }
    fresh_open = {c.id for c in fake.chats.values() if not c.closed and c.id not in stale}
    assert stale
    assert fresh_open
    before = _snapshot(fake)
    now = fake.clock.start  # the fake's "now": its seeded history lies before it

    async with fake.client() as tl:
        found = await close_inactive_chats.close_inactive(tl, days=days, dry_run=True, now=now)
        assert {chat.id for chat in found} == stale
        assert _snapshot(fake) == before  # a dry run changes nothing
        assert _writes(fake) == []

        closed = await close_inactive_chats.close_inactive(tl, days=days, now=now)

    assert {chat.id for chat in closed} == stale
    after = _snapshot(fake)
    assert {chat_id for chat_id, state in after.items() if state != before[chat_id]} == stale
    assert all(fake.chats[chat_id].closed for chat_id in stale)
    assert not any(fake.chats[chat_id].closed for chat_id in fresh_open)


async def test_close_inactive_counts_a_chat_without_messages_from_its_creation() -> None:
    fake = FakeTimelines(seed=4, chats=120)
    empty = [c for c in fake.chats.values() if c.last_message_at is None and not c.closed]
    assert empty
    chat = empty[0]
    days = -chat.created_at / DAY
    async with fake.client() as tl:
        now = fake.clock.start
        older = await close_inactive_chats.close_inactive(tl, days=days - 1, dry_run=True, now=now)
        newer = await close_inactive_chats.close_inactive(tl, days=days + 1, dry_run=True, now=now)
    assert chat.id in {c.id for c in older}
    assert chat.id not in {c.id for c in newer}


# -- notify_with_invoice -----------------------------------------------------


def test_the_generated_pdf_is_well_formed() -> None:
    pdf = notify_with_invoice.tiny_pdf()
    assert pdf.startswith(b"%PDF-1.")
    assert pdf.endswith(b"%%EOF\n")
    startxref = int(re.findall(rb"startxref\n(\d+)\n", pdf)[-1])
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    entries = re.findall(rb"(\d{10}) 00000 n \n", pdf[startxref:])
    assert len(entries) == 5
    for number, offset in enumerate(entries, start=1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj\n" % number)
    stream = re.search(rb"<< /Length (\d+) >>\nstream\n(.*?)\nendstream", pdf, re.S)
    assert stream is not None
    assert int(stream[1]) == len(stream[2])
    assert b"(Invoice) Tj" in stream[2]


class FakeSleep:
    """Moves the fake's clock instead of sleeping, and records each wait."""

    def __init__(self, fake: FakeTimelines) -> None:
        self.fake = fake
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.fake.advance(seconds)


async def test_notify_sends_the_pdf_and_follows_it_until_delivered() -> None:
    fake = FakeTimelines(seed=5, chats=5, status_delays=(1.0, 3.0, 10.0))
    sleep = FakeSleep(fake)
    async with fake.client() as tl:
        uid = await notify_with_invoice.send_invoice(tl, "+1 415 555 0123", "Your invoice", None)
        timeline = await notify_with_invoice.follow(tl, uid, 120.0, sleep)

    (message,) = fake.sent
    assert (message.uid, message.text) == (uid, "Your invoice")
    assert fake.chats[message.chat_id].phone == "+14155550123"
    assert message.attachment_filename == "invoice.pdf"
    assert message.file_uid is not None
    file = fake.workspace.files[message.file_uid]
    assert (file.mimetype, file.content) == ("application/pdf", notify_with_invoice.tiny_pdf())
    assert [step.status for step in timeline] == ["Pending", "Sent", "Delivered"]
    assert fake.status_of(uid) == "Delivered"
    assert sleep.waits == [2.0, 2.0]  # Sent after 2 s, Delivered after 4 s: no more polls


async def test_notify_stops_following_after_max_wait(tmp_path: Path) -> None:
    fake = FakeTimelines(seed=5, chats=5, status_delays=(1.0, 30.0, 60.0))
    pdf = tmp_path / "march.pdf"
    pdf.write_bytes(b"%PDF-1.4 not really\n%%EOF\n")
    sleep = FakeSleep(fake)
    async with fake.client() as tl:
        uid = await notify_with_invoice.send_invoice(tl, "+14155550123", "March", pdf)
        timeline = await notify_with_invoice.follow(tl, uid, 5.0, sleep)

    assert sleep.waits == [2.0, 2.0, 2.0]  # ceil(5 / 2) polls, then it gives up
    assert [step.status for step in timeline] == ["Pending", "Sent"]
    (message,) = fake.sent
    assert message.attachment_filename == "march.pdf"
    assert message.file_uid is not None
    assert fake.workspace.files[message.file_uid].content == pdf.read_bytes()


# -- support_triage ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category", "keywords"),
    [
        ("Could you send me the invoice for last month?", "billing", ["invoice"]),
        ("I want a REFUND and a new invoice", "billing", ["invoice", "refund"]),
        ("Is my order on its way?", "shipping", ["order"]),
        ("Can we move our call to tomorrow at 10?", "scheduling", ["call", "tomorrow"]),
        ("I'd like to reorder", "general", []),  # whole words only
        ("Good morning!", "general", []),
        ("", "general", []),
    ],
)
def test_categorize(text: str, category: str, keywords: list[str]) -> None:
    assert support_triage.categorize(text) == (category, keywords)


async def test_triage_labels_assigns_and_notes_each_new_incoming_message() -> None:
    fake = FakeTimelines(seed=6, chats=60)
    categories = {*support_triage.CATEGORIES, support_triage.GENERAL}
    candidates = [c for c in fake.chats.values() if not c.closed and not c.is_group]
    refund, parcel, hello, kept = candidates[:4]
    for chat in (refund, parcel, hello):
        chat.labels, chat.responsible_email, chat.responsible_name = ("lead",), None, None
    kept.labels = ()
    owner = kept.responsible_email = fake.workspace.teammates[0].email
    fake.receive_message(refund.id, "Hi, I was charged twice, I need a refund")
    fake.receive_message(parcel.id, "Where is my package? No tracking number yet")
    fake.receive_message(hello.id, "Hello there")
    fake.receive_message(kept.id, "Can we have a call?")
    expected = {
        chat.id
        for chat in fake.chats.values()
        if not chat.read
        and not chat.closed
        and not categories & set(chat.labels)
        and any(not m.from_me for m in fake.messages_of(chat.id))
    }
    before = _snapshot(fake)
    desk = {t.email for t in fake.workspace.teammates if t.team == "Support"}

    async with fake.client() as tl:
        triaged = await support_triage.triage(tl)

    assert set(triaged) == expected
    for chat, category, reason in [
        (refund, "billing", "matched refund"),
        (parcel, "shipping", "matched package, tracking"),
        (hello, "general", "no keyword matched"),
        (kept, "scheduling", "matched call"),
    ]:
        assert fake.chats[chat.id].labels == (*before[chat.id][2], category)
        (note,) = _new_notes(fake, chat.id)
        assert note.startswith(f"Triage: {category} ({reason}) in ")
        assert note == triaged[chat.id]
    assert {fake.chats[c.id].responsible_email for c in (refund, parcel, hello)} == desk
    assert fake.chats[kept.id].responsible_email == owner  # someone had it: kept
    assert "assigned" not in _new_notes(fake, kept.id)[0]
    untouched = set(before) - expected
    assert {i: s for i, s in _snapshot(fake).items() if i in untouched} == {
        i: before[i] for i in untouched
    }
    assert not any(_new_notes(fake, chat_id) for chat_id in untouched)

    async with fake.client() as tl:
        assert await support_triage.triage(tl) == {}  # already triaged: left alone


# -- crm_sync ----------------------------------------------------------------

SECRET = "crm-test-secret"


def _contacts(db: Path) -> dict[str, tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as connection:
        rows = connection.execute(
            "SELECT phone, name, chat_id, messages, last_message FROM contacts"
        )
        return {row[0]: tuple(row[1:]) for row in rows}


async def test_crm_sync_upserts_assigns_and_labels_once_per_message(tmp_path: Path) -> None:
    fake = FakeTimelines(seed=7, chats=30)
    direct = [c for c in fake.chats.values() if not c.closed and not c.is_group]
    first, second = direct[:2]
    first.responsible_email = first.responsible_name = None
    assert second.responsible_email is not None
    kept, owner = second.responsible_email, fake.workspace.teammates[1].email
    events: list[dict[str, Any]] = []
    fake.on_event(events.append)
    fake.receive_message(first.id, "Hello, I'd like a quote")
    fake.advance(60)
    fake.receive_message(first.id, "For three seats, please")
    fake.receive_message(second.id, "Hi!")
    received = [e for e in events if e["event_type"] == "message:received:new"]
    echoes = [e for e in events if e["event_type"] == "message:new"]  # same messages: ignored
    assert len(received) == 3
    assert len(echoes) == 3
    db = tmp_path / "crm.sqlite"

    async with fake.client() as tl:
        app = crm_sync.create_app(SECRET, crm_sync.crm_handler(tl, db, owner))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://crm") as http,
        ):
            # every delivery repeated (the API retries), echoes in between
            for payload in [*received, *echoes, *received]:
                answer = await http.post(f"/timelines/webhook/{SECRET}", json=payload)
                assert answer.status_code == 200
        # leaving the lifespan waited for the background work

    assert _contacts(db) == {
        first.phone: (first.name, first.id, 2, "For three seats, please"),
        second.phone: (second.name, second.id, 1, "Hi!"),
    }
    assert fake.chats[first.id].responsible_email == owner
    assert fake.chats[second.id].responsible_email == kept
    for chat in (first, second):
        assert "crm-synced" in fake.chats[chat.id].labels
    writes = _writes(fake)
    assert writes.count(f"PUT /chats/{first.id}/labels") == 2  # once per message, not per delivery
    assert writes.count(f"PUT /chats/{second.id}/labels") == 1
    assert writes.count(f"PATCH /chats/{first.id}") == 2  # the payloads predate the assignment
    assert f"PATCH /chats/{second.id}" not in writes


async def test_crm_sync_keeps_the_newest_message_when_deliveries_come_out_of_order(
    tmp_path: Path,
) -> None:
    fake = FakeTimelines(seed=7, chats=30)
    chat = next(c for c in fake.chats.values() if not c.closed and not c.is_group)
    events: list[dict[str, Any]] = []
    fake.on_event(events.append)
    for text in ("first", "second", "third"):
        fake.receive_message(chat.id, text)
        fake.advance(60)
    first, second, third = [
        parse_event(e) for e in events if e["event_type"] == "message:received:new"
    ]
    db = tmp_path / "crm.sqlite"
    async with fake.client() as tl:
        sync = crm_sync.crm_handler(tl, db, fake.workspace.teammates[0].email)
        for event in (third, first, second):  # one at a time, the newest first
            await sync(event)
    assert _contacts(db) == {chat.phone: (chat.name, chat.id, 3, "third")}


async def test_crm_sync_ignores_events_without_a_chat(tmp_path: Path) -> None:
    fake = FakeTimelines(seed=7, chats=3)
    db = tmp_path / "crm.sqlite"
    async with fake.client() as tl:
        sync = crm_sync.crm_handler(tl, db, "nobody@example.com")
        event = MessageEvent(
            event_type="message:received:new",
            message=MessageDetails(message_uid="m-1", text="hi"),
        )
        await sync(event)
    assert not db.exists()
    assert _writes(fake) == []


# -- the command lines -------------------------------------------------------


def _run(
    script: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINES_")}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        env={**clean, **(env or {}), "PYTHONWARNINGS": "error"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("script", "args", "last_line"),
    [
        ("route_new_chats.py", [], r"\d+ chats assigned"),
        ("close_inactive_chats.py", ["--days", "365", "--dry-run"], r"\d+ chats to close"),
        ("close_inactive_chats.py", ["--days", "365"], r"\d+ chats closed"),
        ("notify_with_invoice.py", [], r"  Delivered .*UTC"),
        ("support_triage.py", [], r"\d+ chats triaged"),
        ("crm_sync.py", [], r"\('\+\d+', .*\)"),
    ],
)
def test_each_script_runs_with_fake(
    script: str, args: list[str], last_line: str, tmp_path: Path
) -> None:
    done = _run(script, "--fake", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert re.fullmatch(last_line, done.stdout.splitlines()[-1])


def test_without_fake_a_script_uses_the_api_named_by_the_environment(tmp_path: Path) -> None:
    """The real path: token and base URL from the environment (a fake served on 127.0.0.1)."""
    fake = FakeTimelines(seed=2, chats=4)  # few chats: the client paces requests at 2/s
    waiting = [c.id for c in fake.chats.values() if not c.closed and c.responsible_email is None]
    assert waiting
    with serve_http(fake) as base_url:
        env = {"TIMELINES_API_TOKEN": fake.token, "TIMELINES_BASE_URL": base_url}
        done = _run("route_new_chats.py", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"{len(waiting)} chats assigned"
    assert all(fake.chats[chat_id].responsible_email for chat_id in waiting)


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _eventually(check: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_crm_sync_serves_webhooks_for_the_real_api(tmp_path: Path) -> None:
    """`crm_sync.py` without `--fake`: uvicorn on 127.0.0.1:$PORT, the API from the environment."""
    fake = FakeTimelines(seed=7, chats=10)
    chat = next(c for c in fake.chats.values() if not c.closed and not c.is_group)
    chat.responsible_email = chat.responsible_name = None
    events: list[dict[str, Any]] = []
    fake.on_event(events.append)
    fake.receive_message(chat.id, "Hello from the real path")
    (payload,) = [e for e in events if e["event_type"] == "message:received:new"]
    port = _free_port()
    url = f"http://127.0.0.1:{port}/timelines/webhook/{SECRET}"
    with serve_http(fake) as base_url:
        env = {
            "TIMELINES_API_TOKEN": fake.token,
            "TIMELINES_BASE_URL": base_url,
            "TIMELINES_WEBHOOK_SECRET": SECRET,
            "PORT": str(port),
        }
        clean = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINES_")}
        server = subprocess.Popen(
            [sys.executable, str(EXAMPLES / "crm_sync.py"), "--db", "crm.sqlite"],
            cwd=tmp_path,
            env={**clean, **env, "PYTHONWARNINGS": "error"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:

            def answered() -> bool:
                try:
                    return httpx.post(url, json=payload).status_code == 200
                except httpx.TransportError:
                    return False

            _eventually(answered, "the receiver to answer")
            assert httpx.post(url, json=payload).status_code == 200  # a repeat: dropped
            assert httpx.post(url.replace(SECRET, "wrong"), json=payload).status_code == 404
            _eventually(lambda: "crm-synced" in fake.chats[chat.id].labels, "the label")
        finally:
            server.send_signal(signal.SIGINT)  # shutdown waits for the background work
            _, stderr = server.communicate(timeout=15)
    assert server.returncode == 0, stderr
    assert fake.chats[chat.id].responsible_email == fake.workspace.me.email
    assert _contacts(tmp_path / "crm.sqlite") == {
        chat.phone: (chat.name, chat.id, 1, "Hello from the real path")
    }


def test_the_crm_demo_counts_a_repeated_delivery_once(tmp_path: Path) -> None:
    done = _run("crm_sync.py", "--fake", "--db", "demo.sqlite", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    contacts = _contacts(tmp_path / "demo.sqlite")
    assert len(contacts) == 3
    assert [row[2] for row in contacts.values()] == [1, 1, 1]


@pytest.mark.parametrize("script", ["route_new_chats.py", "support_triage.py"])
def test_without_a_token_or_fake_a_script_says_what_to_do(script: str, tmp_path: Path) -> None:
    done = _run(script, cwd=tmp_path)
    assert done.returncode != 0
    assert "TIMELINES_API_TOKEN" in done.stderr
    assert "--fake" in done.stderr


def test_notify_needs_a_phone_for_the_real_api(tmp_path: Path) -> None:
    done = _run("notify_with_invoice.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "--phone is required" in done.stderr
