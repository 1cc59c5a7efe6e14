"""The fake used the way a user would: through `fake.client()`, a `TimelinesClient` in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from timelines_async import SendOutcomeUnknown
from timelines_async.events import MessageEvent, parse_event
from timelines_async.testing import FakeClient, FakeTimelines, Faults

pytestmark = pytest.mark.anyio


async def test_paging_every_chat_and_a_filtered_listing() -> None:
    fake = FakeTimelines(seed=1, chats=130)
    async with fake.client() as tl:
        everything = await tl.chats.list().collect()
        unread_vip = await tl.chats.list(label=["vip", "lead"], read=False).collect()
    assert sorted(chat.id for chat in everything) == sorted(fake.chats)
    want = {c.id for c in fake.chats.values() if not c.read and ({"vip", "lead"} & set(c.labels))}
    assert {chat.id for chat in unread_vip} == want


async def test_reading_a_history_of_several_pages() -> None:
    fake = FakeTimelines(seed=1, chats=60)
    chat = next(c for c in fake.chats.values() if c.seeded_length > 150)
    async with fake.client() as tl:
        newest_first = await tl.messages.list(chat.id).collect()
        oldest_first = await tl.messages.list(chat.id, order="asc").collect()
    history = fake.messages_of(chat.id)
    assert [m.uid for m in newest_first] == [m.uid for m in reversed(history)]
    assert [m.uid for m in oldest_first] == [m.uid for m in history]
    pages = [entry for entry in fake.requests if entry.path == f"/chats/{chat.id}/messages"]
    assert len(pages) >= 2 * 4  # each direction took several 50-message pages


async def test_sends_by_phone_chat_and_jid_and_statuses_over_the_fake_clock() -> None:
    fake = FakeTimelines(seed=1, chats=10, clock=lambda: 0.0)
    chat = next(c for c in fake.chats.values() if not c.is_group)
    async with fake.client() as tl:
        by_phone = await tl.messages.send(phone="+44 20 7946 0958", text="Your order shipped")
        by_chat = await tl.messages.send(chat_id=chat.id, text="Hello")
        by_jid = await tl.messages.send(jid=chat.jid, text="Again")
        pending = await tl.messages.get(by_chat.message_uid)
        fake.advance(60)
        read = await tl.messages.get(by_chat.message_uid)
        history = await tl.messages.status_history(by_chat.message_uid)
    assert [m.uid for m in fake.sent] == [
        by_phone.message_uid,
        by_chat.message_uid,
        by_jid.message_uid,
    ]
    assert fake.chats[fake.sent[0].chat_id].phone == "+442079460958"
    assert (pending.status, read.status) == ("Pending", "Read")
    assert [step.status for step in history] == ["Pending", "Sent", "Delivered", "Read"]


async def test_webhook_events_reach_an_in_process_callback() -> None:
    fake = FakeTimelines(seed=1, chats=10)
    payloads: list[dict[str, Any]] = []
    fake.on_event(payloads.append)
    chat = next(c for c in fake.chats.values() if not c.is_group)
    async with fake.client() as tl:
        sent = await tl.messages.send(chat_id=chat.id, text="Out")
    received = fake.receive_message(chat.id, "In")
    types = [payload["event_type"] for payload in payloads]
    assert types == ["message:sent:new", "message:new", "message:received:new", "message:new"]
    events = [parse_event(payload) for payload in payloads]
    assert all(isinstance(event, MessageEvent) for event in events)
    assert payloads[0]["message"]["message_uid"] == sent.message_uid
    assert payloads[2]["message"]["message_uid"] == received.uid
    assert payloads[2]["message"]["direction"] == "received"
    assert fake.chats[chat.id].read is False


async def test_a_lost_answer_is_an_unknown_outcome_that_reconcile_resolves() -> None:
    fake = FakeTimelines(seed=1, chats=10, faults=Faults(lost_answer=1.0))
    chat_id = min(fake.chats)
    async with fake.client() as tl:
        with pytest.raises(SendOutcomeUnknown) as caught:
            await tl.messages.send(chat_id=chat_id, text="Did it go?")
        found = await tl.messages.reconcile(caught.value)
    [accepted] = fake.sent
    assert found is not None
    assert found.uid == accepted.uid
    assert fake.faults_injected["lost_answer"] == 1


async def test_a_send_timed_out_during_the_latency_was_made_and_is_found() -> None:
    fake = FakeTimelines(seed=1, chats=10, latency=1.0)
    async with fake.client(timeout=0.01) as tl:
        with pytest.raises(SendOutcomeUnknown) as caught:
            await tl.messages.send(chat_id=min(fake.chats), text="Too slow to say")
        fake.latency = 0.0
        found = await tl.messages.reconcile(caught.value)
    [made] = fake.sent
    assert found is not None
    assert found.uid == made.uid


async def test_the_client_retries_reads_through_rate_limit_faults() -> None:
    fake = FakeTimelines(
        seed=1, chats=120, faults=Faults(seed=2, rate_limited=0.3, retry_after=0.0)
    )
    async with fake.client(max_retries=10) as tl:
        chats = await tl.chats.list().collect()
    assert len(chats) == 120
    assert fake.faults_injected["rate_limited"] > 0


async def test_client_defaults_follow_the_fake_and_options_override_them() -> None:
    fake = FakeTimelines(chats=3, token="sesame", send_interval=0.5)
    async with fake.client() as tl:
        assert tl.send_interval == 0.5
        assert tl.base_url == fake.base_url
        assert len(await tl.chats.list().collect()) == 3
    async with fake.client(send_interval=0, token="other") as wrong:
        assert wrong.send_interval == 0
        with pytest.raises(Exception, match="token"):
            await wrong.chats.list().collect()


async def test_closing_the_client_closes_its_in_process_http_client() -> None:
    fake = FakeTimelines(chats=3)
    tl = fake.client()
    assert isinstance(tl, FakeClient)
    await tl.chats.list().collect()
    await tl.aclose()
    assert tl.transport_client is not None
    assert tl.transport_client.is_closed


async def test_a_caller_supplied_http_client_is_used_and_left_open() -> None:
    fake = FakeTimelines(chats=3)
    seen: list[str] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(
            200, json={"status": "ok", "data": {"has_more_pages": False, "chats": []}}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as mine:
        async with fake.client(http_client=mine) as tl:
            assert await tl.chats.list().collect() == []
        assert not mine.is_closed
    assert seen == ["/integrations/api/chats"]


async def test_files_round_trip_through_the_client_with_an_unusual_name(tmp_path: Path) -> None:
    fake = FakeTimelines(chats=3)
    name = 'Müller "Q3" report.pdf'
    async with fake.client() as tl:
        uploaded = await tl.files.upload(b"%PDF-1.7 data", filename=name)
        info = await tl.files.get(uploaded.uid)
        await tl.files.download(uploaded.uid, tmp_path / "copy.pdf")
        listed = await tl.files.list(filename="müller")
    assert (uploaded.filename, info.size) == (name, 13)
    assert (tmp_path / "copy.pdf").read_bytes() == b"%PDF-1.7 data"
    assert [f.uid for f in listed] == [uploaded.uid]


async def test_every_resource_of_the_client_works_against_the_fake() -> None:
    """A smoke run of each resource: the fake and the client agree on every shape."""
    fake = FakeTimelines(seed=3, chats=20, clock=lambda: 0.0)
    chat = next(c for c in fake.chats.values() if not c.is_group and c.seeded_length)
    uid = fake.messages_of(chat.id)[-1].uid
    async with fake.client() as tl:
        assert (await tl.chats.get(chat.id)).id == chat.id
        renamed = await tl.chats.update(chat.id, name="Renamed", closed=True)
        assert (renamed.name, renamed.closed) == ("Renamed", True)
        note = await tl.chats.add_note(chat.id, "internal")
        assert note is not None
        assert fake.message(note).message_type == "note"
        assert await tl.labels.replace(chat.id, ["a"]) == ["a"]
        assert await tl.labels.add(chat.id, ["b"]) == ["a", "b"]
        assert await tl.labels.list(chat.id) == ["a", "b"]
        assert (await tl.messages.get(uid)).uid == uid
        await tl.reactions.set(uid, "👍")
        assert (await tl.reactions.get(uid)).total >= 1
        await tl.reactions.clear(uid)
        document = await tl.messages.send_file(chat.id, b"%PDF", filename="a.pdf", caption="c")
        voice = await tl.messages.send_voice(chat.id, b"OggS")
        assert [m.uid for m in fake.sent] == [document.message_uid, voice.message_uid]
        from_url = await tl.files.upload_from_url("https://example.com/report.csv")
        assert [f.uid for f in await tl.files.list()] == [from_url.uid]
        await tl.files.delete(from_url.uid)
        assert await tl.files.list() == []
        accounts = await tl.whatsapp_accounts.list()
        assert {a.id for a in accounts} == {a.id for a in fake.workspace.accounts}
        assert (await tl.teammates.me()).role == "owner"
        assert len(await tl.teammates.list()) == len(fake.workspace.teammates)
        invited = await tl.teammates.invite("new@acme.example", role="agent")
        await tl.teammates.revoke_invitation(invited.user_id)
        workspace = await tl.quotas.get()
        assert workspace.messaging_quota is not None
        assert workspace.messaging_quota.used == 3
        hook = await tl.webhooks.create("chat:new", "https://hooks.example/x")
        assert (await tl.webhooks.update(hook.id, enabled=False)).enabled is False
        assert [w.id for w in await tl.webhooks.list()] == [hook.id]
        await tl.webhooks.delete(hook.id)
        assert await tl.webhooks.list() == []


async def test_text_with_half_an_emoji_is_served_as_an_escape_not_a_crash() -> None:
    """A lone surrogate (left by a length limit) cannot be UTF-8: the fake escapes it in JSON."""
    fake = FakeTimelines(seed=1, chats=3)
    chat_id = min(fake.chats)
    fake.receive_message(chat_id, "half \ud83d emoji")
    async with fake.client() as tl:
        newest = await tl.messages.list(chat_id).first()
        chat = await tl.chats.get(chat_id)
    assert newest is not None
    assert newest.text == "half \ud83d emoji"
    assert chat.last_message_uid == newest.uid
