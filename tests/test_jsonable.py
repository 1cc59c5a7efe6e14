"""`to_jsonable`: every model as plain JSON-ready data, and read back as the same model."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

import timelines_async.models as models
import timelines_async.models.events as events
from timelines_async import Chat, Message, MessageStatus, to_jsonable
from timelines_async._converter import structure

WHEN = "2024-01-08 10:35:18 +0200"
PARTY = {"full_name": "Ann", "phone": "+1"}
#: One answer-like sample per model, with a timestamp, an enum or a nested part where it has one.
SAMPLES: dict[type[Any], dict[str, Any]] = {
    models.Chat: {
        "id": 1, "labels": ["vip"], "created_timestamp": WHEN,
        "group_members": [{"name": "Bo", "chat_id": 2}],
        "last_message": {"uid": "m1", "status": "Read", "reactions": {"👍": "2"}},
    },
    models.GroupMember: {"name": "Bo", "chat_id": 2},
    models.Message: {
        "uid": "m1", "timestamp": WHEN, "message_type": "note", "status": "NewStatus",
        "data": {"any": ["json", 1]},
    },
    models.Reactions: {"users": [{"name": "Ann", "reaction": "👍"}], "reactions": {"👍": 1}},
    models.ReactionUser: {"name": "Ann", "reaction": "👍", "current": True},
    models.SentMessage: {"message_uid": "m2"},
    models.StatusChange: {"status": "Delivered", "timestamp": WHEN},
    models.FileInfo: {"uid": "f1", "size": 3, "uploaded_at": WHEN},
    models.Webhook: {"id": 7, "event_type": "message:new", "url": "https://h.example/x"},
    models.WhatsAppAccount: {"id": "1@s.whatsapp.net", "connected_on": WHEN},
    models.Team: {"title": "Default"},
    models.Teammate: {"user_id": 3, "whatsapp_accounts": [{"id": "1@s.whatsapp.net"}]},
    models.Quota: {"total": 10, "used": None, "period_start": WHEN},
    models.NonRecurringQuota: {"remaining_balance": 5},
    models.Workspace: {"plan": "pro", "seats": {"total": 5, "used": 2}},
    events.Party: PARTY,
    events.Attachment: {"filename": "a.pdf", "size": 3},
    events.ChatRef: {"chat_id": 1, "is_group": False},
    events.AccountRef: {"phone": "+1"},
    events.ChatInfo: {"id": 1, "labels": ["a"], "created_timestamp": WHEN},
    events.AccountInfo: {"id": "1@s.whatsapp.net", "connected_on": WHEN},
    events.MessageDetails: {"message_uid": "m1", "sender": PARTY, "attachments": [{"size": 1}]},
    events.CallDetails: {"message_uid": "c1", "caller": PARTY, "timestamp": WHEN},
    events.ReactionDetails: {"message_uid": "m1", "reactions": {"👍": 2}, "reactor": PARTY},
    events.MessageEvent: {"event_type": "message:new", "message": {"message_uid": "m1"}},
    events.ReactionEvent: {"event_type": "message:reaction", "reaction": {"emoji": "👍"}},
    events.CallEvent: {"event_type": "call:incoming:missed", "call_details": {"duration": 3}},
    events.ChatEvent: {"event_type": "chat:new", "chat": {"id": 1}},
    events.AccountEvent: {"event_type": "whatsapp:account:connected", "whatsapp_account": {}},
    events.UnknownEvent: {"event_type": "waba:new", "payload": {"event_type": "waba:new"}},
}  # fmt: skip


def test_every_model_has_a_sample() -> None:
    classes = {
        value
        for module in (models, events)
        for value in vars(module).values()
        if isinstance(value, type) and attrs.has(value)
    }
    assert classes == set(SAMPLES)


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda cls: cls.__name__)
def test_every_model_becomes_plain_json_and_reads_back_the_same(cls: type[Any]) -> None:
    model = structure(SAMPLES[cls], cls, what="a sample")
    plain = to_jsonable(model)
    assert json.loads(json.dumps(plain)) == plain  # nothing but JSON's own types
    assert structure(plain, cls, what="its JSON") == model


def test_timestamps_keep_their_offset_and_enums_become_their_strings() -> None:
    chat = structure(SAMPLES[Chat], Chat, what="a chat")
    plain = to_jsonable(chat)
    assert plain["created_timestamp"] == "2024-01-08T10:35:18+02:00"
    assert plain["labels"] == ["vip"]
    assert plain["last_message"]["status"] == "Read"
    assert type(plain["last_message"]["status"]) is str
    assert plain["last_message"]["reactions"] == {"users": [], "reactions": {"👍": 2}, "total": 2}


def test_lists_and_dicts_of_models_are_converted_item_by_item() -> None:
    when = datetime(2024, 1, 8, 8, 35, 18, tzinfo=UTC)
    messages = [Message(uid="a", timestamp=when), Message(uid="b", status=MessageStatus.SENT)]
    plain = to_jsonable({"history": messages, "at": when.astimezone(timezone(timedelta(hours=1)))})
    assert plain["history"][0]["timestamp"] == "2024-01-08T08:35:18+00:00"
    assert plain["history"][1]["status"] == "Sent"
    assert plain["at"] == "2024-01-08T09:35:18+01:00"
