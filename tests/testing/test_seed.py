"""The seeded workspace: deterministic, realistic enough, fast at 20,000 chats, lazy histories."""

from __future__ import annotations

import sys
import time
import uuid

import pytest

from timelines_async.testing import FakeTimelines
from timelines_async.testing._seed import decode_seeded_uid, seeded_uid
from timelines_async.testing._state import clean_phone


def _traced() -> bool:
    """Under coverage (as in CI) every line costs several times its CPU: no timing holds."""
    return sys.gettrace() is not None or ("coverage" in sys.modules and _measuring())


def _measuring() -> bool:
    import coverage

    return coverage.Coverage.current() is not None


@pytest.mark.skipif(_traced(), reason="CPU time is not measurable under a tracer (coverage)")
def test_twenty_thousand_chats_are_generated_quickly_without_any_history() -> None:
    started = time.process_time()  # CPU time: a busy machine does not make it fail
    fake = FakeTimelines(seed=1, chats=20_000)
    elapsed = time.process_time() - started
    assert len(fake.chats) == 20_000
    assert elapsed < 2.0, f"{elapsed:.2f} s of CPU for 20,000 chats (about 0.4 s expected)"
    assert all(chat.history is None for chat in fake.chats.values())


def test_reading_one_history_generates_only_that_one() -> None:
    fake = FakeTimelines(seed=1, chats=50)
    chat_id = next(c.id for c in fake.chats.values() if c.seeded_length)
    fake.messages_of(chat_id)
    assert [c.id for c in fake.chats.values() if c.history is not None] == [chat_id]


def test_a_history_does_not_depend_on_the_order_histories_are_read_in() -> None:
    first, second = FakeTimelines(seed=8, chats=30), FakeTimelines(seed=8, chats=30)
    ids = [c.id for c in first.chats.values() if c.seeded_length][:5]
    forward = {chat_id: first.messages_of(chat_id) for chat_id in ids}
    backward = {chat_id: second.messages_of(chat_id) for chat_id in reversed(ids)}
    assert forward == backward


def test_the_last_message_fields_agree_with_the_generated_history() -> None:
    fake = FakeTimelines(seed=2, chats=40)
    for chat in fake.chats.values():
        history = fake.messages_of(chat.id)
        assert len(history) == chat.seeded_length
        if history:
            assert (history[-1].uid, history[-1].at) == (
                chat.last_message_uid,
                chat.last_message_at,
            )
            assert [m.at for m in history] == sorted(m.at for m in history)
            assert history[0].at > chat.created_at


def test_the_workspace_looks_like_a_real_one() -> None:
    fake = FakeTimelines(seed=0, chats=300)
    chats = list(fake.chats.values())
    groups = [c for c in chats if c.is_group]
    direct = [c for c in chats if not c.is_group]
    assert 10 <= len(groups) <= 60
    assert all(3 <= len(g.group_members) <= 8 and g.phone is None for g in groups)
    assert all(g.jid.endswith("@g.us") for g in groups)
    for chat in direct:
        assert chat.phone is not None
        assert clean_phone(chat.phone) == chat.phone
        assert chat.jid == chat.phone[1:] + "@s.whatsapp.net"
    assert len({c.name for c in chats}) == len(chats)
    assert any(c.seeded_length > 150 for c in chats), "some histories span several pages"
    assert {c.whatsapp_account_id for c in chats} == {a.id for a in fake.workspace.accounts}
    assert any(c.labels for c in chats)
    assert any(c.responsible_email for c in chats)
    assert len(fake.workspace.teammates) >= 3


@pytest.mark.parametrize(("chat_id", "index"), [(1_000_001, 0), (1_020_000, 319), (5, 16_000_000)])
def test_a_seeded_uid_is_a_uuid4_that_names_its_chat_and_position(chat_id: int, index: int) -> None:
    uid = seeded_uid(7, chat_id, index)
    assert uuid.UUID(uid).version == 4
    assert decode_seeded_uid(uid) == (chat_id, index)
    assert seeded_uid(8, chat_id, index) != uid


def test_a_string_that_is_not_a_uuid_decodes_to_nothing() -> None:
    assert decode_seeded_uid("not-a-uid") is None
