"""`_converter`: lenient structuring of the API's answers into the frozen models."""

from __future__ import annotations

import pickle
import subprocess
import sys
import weakref
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from timelines_async import (
    Chat,
    FileInfo,
    GroupMember,
    Message,
    MessageStatus,
    MessageType,
    Reactions,
    ReactionUser,
    StatusChange,
    Teammate,
    UnexpectedResponseError,
    Webhook,
    WebhookEventType,
    Workspace,
)
from timelines_async._converter import make_converter, parse_timestamp, structure
from timelines_async.models.events import ReactionDetails


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "2024-01-08 10:35:18 +0200",
            datetime(2024, 1, 8, 10, 35, 18, tzinfo=timezone(timedelta(hours=2))),
        ),
        (
            "2024-01-08 10:35:18 -0530",
            datetime(2024, 1, 8, 10, 35, 18, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
        ("2026-07-17T09:00:00Z", datetime(2026, 7, 17, 9, 0, tzinfo=UTC)),
        ("2026-07-17 09:00", datetime(2026, 7, 17, 9, 0, tzinfo=UTC)),  # no offset: UTC
        ("", None),
        (None, None),
    ],
)
def test_timestamps_become_aware_datetimes(raw: str | None, expected: datetime | None) -> None:
    parsed = parse_timestamp(raw)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None
        assert parsed.utcoffset() == expected.utcoffset()  # type: ignore[union-attr]


def test_model_timestamps_are_aware() -> None:
    chat = structure(
        {"id": 1, "created_timestamp": "2024-01-08 10:35:18 +0200"}, Chat, what="a chat"
    )
    assert chat.created_timestamp == datetime(2024, 1, 8, 8, 35, 18, tzinfo=UTC)
    assert chat.created_timestamp is not None
    assert chat.created_timestamp.tzinfo is not None


@pytest.mark.parametrize(("raw", "expected"), [("1000001", 1000001), (1000001, 1000001)])
def test_numeric_string_ids_become_int(raw: object, expected: int) -> None:
    assert structure({"id": raw}, Chat, what="a chat").id == expected
    message = structure({"uid": "m", "chat_id": raw}, Message, what="a message")
    assert message.chat_id == expected
    assert structure({"id": raw, "event_type": "chat:new", "url": "u"}, Webhook, what="w").id == (
        expected
    )


def test_unknown_fields_are_ignored() -> None:
    chat = structure(
        {"id": 5, "name": "A", "brand_new_field": {"x": 1}, "another": [1, 2]},
        Chat,
        what="a chat",
    )
    assert chat == Chat(id=5, name="A")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Delivered", MessageStatus.DELIVERED),
        ("delivered", MessageStatus.DELIVERED),
        ("READ", MessageStatus.READ),
        ("pending", MessageStatus.PENDING),
    ],
)
def test_known_enum_values_match_case_insensitively(raw: str, expected: MessageStatus) -> None:
    message = structure({"uid": "m", "status": raw}, Message, what="a message")
    assert message.status is expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("Note", MessageType.NOTE), ("WHATSAPP", MessageType.WHATSAPP)]
)
def test_message_types_match_case_insensitively(raw: str, expected: MessageType) -> None:
    assert structure({"uid": "m", "message_type": raw}, Message, what="m").message_type is expected


def test_unknown_enum_values_are_kept_as_strings() -> None:
    message = structure(
        {"uid": "m", "status": "Teleported", "message_type": "hologram"}, Message, what="m"
    )
    assert message.status == "Teleported"
    assert not isinstance(message.status, MessageStatus)
    assert message.message_type == "hologram"
    hook = structure(
        {"id": 1, "event_type": "waba:template:approved", "url": "u"}, Webhook, what="w"
    )
    assert hook.event_type == "waba:template:approved"
    known = structure({"id": 1, "event_type": "Chat:New", "url": "u"}, Webhook, what="w")
    assert known.event_type is WebhookEventType.CHAT_NEW
    change = structure({"status": "Bounced"}, StatusChange, what="s")
    assert change.status == "Bounced"


@pytest.mark.parametrize(
    "payload", [{"uid": "m"}, {"uid": "m", "text": None, "status": None, "timestamp": None}]
)
def test_null_and_absent_are_both_none(payload: dict[str, Any]) -> None:
    message = structure(payload, Message, what="a message")
    assert message.text is None
    assert message.status is None
    assert message.timestamp is None
    assert message.reactions is None


@pytest.mark.parametrize("value", [None, []])
def test_null_or_empty_collections_are_empty(value: object) -> None:
    chat = structure({"id": 1, "labels": value, "group_members": value}, Chat, what="a chat")
    assert chat.labels == ()
    assert chat.group_members == ()
    mate = structure({"user_id": 3, "whatsapp_accounts": value}, Teammate, what="a teammate")
    assert mate.whatsapp_accounts == ()


def test_reactions_in_the_old_emoji_to_count_shape() -> None:
    message = structure({"uid": "m", "reactions": {"👍": "2", "❤️": "1"}}, Message, what="a message")
    assert message.reactions == Reactions(reactions={"👍": 2, "❤️": 1}, total=3)


def test_reactions_in_the_new_users_reactions_total_shape() -> None:
    payload = {
        "users": [
            {"name": "Ann", "phone": "+1555", "reaction": "👍", "current": False},
            {"name": "Me", "phone": "+1666", "reaction": "👍", "current": True},
        ],
        "reactions": {"👍": 2},
        "total": 2,
    }
    reactions = structure(payload, Reactions, what="reactions")
    assert reactions.total == 2
    assert reactions.reactions == {"👍": 2}
    assert reactions.users == (
        ReactionUser(name="Ann", phone="+1555", reaction="👍", current=False),
        ReactionUser(name="Me", phone="+1666", reaction="👍", current=True),
    )
    message = structure({"uid": "m", "reactions": payload}, Message, what="m")
    assert message.reactions == reactions


def test_new_reactions_shape_without_total_sums_the_counts() -> None:
    reactions = structure({"users": [], "reactions": {"👍": "3", "🎉": 1}}, Reactions, what="r")
    assert reactions.total == 4


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["vip", "enterprise"], ("vip", "enterprise")),
        ([{"name": "vip"}, {"name": "enterprise", "color": "red"}], ("vip", "enterprise")),
        (["vip", {"name": "enterprise"}], ("vip", "enterprise")),
    ],
)
def test_labels_as_strings_or_name_objects(labels: list[object], expected: tuple[str, ...]) -> None:
    assert structure({"id": 1, "labels": labels}, Chat, what="a chat").labels == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [(True, True), ("true", True), ("False", False), (0, False), (1, True)]
)
def test_booleans_accept_the_api_spellings(raw: object, expected: bool) -> None:
    assert structure({"id": 1, "closed": raw}, Chat, what="a chat").closed is expected


def test_workspace_quotas_read_as_nested_models() -> None:
    workspace = structure(
        {
            "plan": "business",
            "messaging_quota": {
                "total": "500",
                "used": 120,
                "period_start": "2026-01-01 00:00:00 +0000",
                "period_end": "2026-02-01 00:00:00 +0000",
            },
            "seats": {"total": 5, "used": 5},
        },
        Workspace,
        what="the workspace",
    )
    assert workspace.plan == "business"
    assert workspace.messaging_quota is not None
    assert workspace.messaging_quota.total == 500
    assert workspace.messaging_quota.remaining == 380
    assert workspace.seats is not None
    assert workspace.seats.remaining == 0
    assert workspace.api_calls_quota is None


def test_file_info_reads_uploaded_at() -> None:
    info = structure(
        {"uid": "f", "size": "1024", "uploaded_at": "2026-01-01 10:00:00 +0100"},
        FileInfo,
        what="a file",
    )
    assert info.size == 1024
    assert info.uploaded_at == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "cls"),
    [
        ({"name": "no id"}, Chat),
        ({"id": "abc"}, Chat),
        ({"id": 1.5}, Chat),
        ({"id": True}, Chat),
        ({"id": 1, "closed": "yes"}, Chat),
        ({"id": 1, "created_timestamp": "yesterday"}, Chat),
        ({"id": 1, "created_timestamp": 1700000000}, Chat),
        ({"id": 1, "labels": "vip"}, Chat),
        ({"id": 1, "name": {"first": "A"}}, Chat),
        ({"uid": "m", "reactions": ["👍"]}, Message),
        ({"uid": "m", "reactions": {"👍": "many"}}, Message),
        ([{"id": 1}], Chat),
        ("a chat", Chat),
        (None, Chat),
        (42, Message),
    ],
)
def test_a_wrong_shape_is_an_unexpected_response_error(payload: object, cls: type[Any]) -> None:
    with pytest.raises(UnexpectedResponseError) as info:
        structure(payload, cls, what="the thing")
    assert "the thing" in str(info.value)


def test_a_wrong_shape_inside_a_list_is_an_unexpected_response_error() -> None:
    with pytest.raises(UnexpectedResponseError):
        structure([{"id": 1}, {"id": "x"}], list[Chat], what="a chats page")


@pytest.mark.parametrize(
    ("data", "cls", "names"),
    [
        ([{"id": 1}, {"id": 2, "labels": 5}], list[Chat], ["item 1", "Chat.labels"]),
        ({"name": "no id"}, Chat, ["Chat.id is missing"]),
        (
            {"id": 1, "last_message": {"uid": "u", "timestamp": "not a time"}},
            Chat,
            ["Chat.last_message: Message.timestamp", "not a time"],
        ),
        (
            {"id": 1, "group_members": [{}, {"chat_id": "x"}]},
            Chat,
            ["Chat.group_members: item 1: GroupMember.chat_id"],
        ),
        ([{"uid": "a"}, "not an object"], list[Message], ["item 1", "Message: expected an object"]),
    ],
)
def test_a_shape_error_names_the_item_and_the_field(
    data: object, cls: type[Any], names: list[str]
) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        structure(data, cls, what="GET /chats")
    for name in names:
        assert name in str(caught.value)


def test_null_gives_every_field_its_default() -> None:
    chat = structure(
        {"id": 1, "labels": None, "group_members": None, "last_message": None}, Chat, what="a chat"
    )
    assert (chat.labels, chat.group_members, chat.last_message) == ((), (), None)
    reaction = structure({"reactions": None}, ReactionDetails, what="an event part")
    assert reaction.reactions == {}


def test_every_hook_is_registered_by_make_converter_itself() -> None:
    """How an event part structures does not depend on what else was imported:
    a fresh interpreter that never imports `timelines_async.events` refuses a list."""
    code = (
        "from timelines_async._converter import make_converter\n"
        "from timelines_async.models.events import ChatRef\n"
        "import sys\n"
        "assert 'timelines_async.events' not in sys.modules\n"
        "try:\n"
        "    make_converter().structure([1], ChatRef)\n"
        "except TypeError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "ChatRef: expected an object, got list" in result.stdout


def test_converters_do_not_share_hooks() -> None:
    first, second = make_converter(), make_converter()
    first.register_structure_hook(Chat, lambda value, _: "replaced")
    replaced: object = first.structure({"id": 1}, Chat)
    assert replaced == "replaced"
    assert second.structure({"id": 1}, Chat) == Chat(id=1)


def test_structured_models_are_ordinary_frozen_instances() -> None:
    """The hook fills a twin class and retypes it: what comes out must be the model itself."""
    raw = {"id": "7", "name": "Ann", "labels": ["vip"], "group_members": [{"name": "Bo"}]}
    chat = structure(raw, Chat, what="a chat")
    built = Chat(id=7, name="Ann", labels=("vip",), group_members=(GroupMember(name="Bo"),))
    assert type(chat) is Chat
    assert type(chat.group_members[0]) is GroupMember
    assert chat == built
    assert hash(chat) == hash(built)
    assert repr(chat) == repr(built)
    assert weakref.ref(chat)() is chat
    assert pickle.loads(pickle.dumps(chat)) == built
    assert attrs.evolve(chat, name="Bea").name == "Bea"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        chat.name = "Eve"  # type: ignore[misc]


def test_a_model_whose_init_runs_code_is_refused() -> None:
    """Nothing of `__init__` runs when a model is filled, so such a model must not be."""

    @attrs.frozen
    class Checked:
        count: int = attrs.field(validator=attrs.validators.ge(0))

    with pytest.raises(TypeError, match="Checked: a model whose __init__ runs code"):
        make_converter().structure({"count": 1}, Checked)


def test_reactions_with_null_users_and_refused_users() -> None:
    assert structure({"users": None, "total": 0}, Reactions, what="r") == Reactions()
    with pytest.raises(UnexpectedResponseError, match="expected a list, got str"):
        structure({"users": "Ann", "total": 1}, Reactions, what="r")


def test_reactions_of_a_message_nobody_reacted_to_are_each_their_own() -> None:
    first = structure({"users": [], "reactions": {}, "total": 0}, Reactions, what="r")
    second = structure({"users": [], "reactions": {}, "total": 0}, Reactions, what="r")
    assert first == second == Reactions(users=(), reactions={}, total=0)
    first.reactions["👍"] = 1  # a caller may change one message's counts dict ...
    assert second.reactions == {}  # ... and no other message's


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"users": [], "reactions": {}, "total": "0"}, Reactions()),
        ({"users": [], "reactions": {}}, Reactions()),
        ({"reactions": {}, "total": 0}, Reactions()),
        ({"users": [], "reactions": {"👍": 0}, "total": 0}, Reactions(reactions={"👍": 0})),
    ],
)
def test_reactions_close_to_the_empty_answer_are_read_in_full(
    payload: dict[str, object], expected: Reactions
) -> None:
    assert structure(payload, Reactions, what="r") == expected


def test_reactions_total_of_false_is_not_taken_for_zero() -> None:
    with pytest.raises(UnexpectedResponseError, match="expected an integer, got False"):
        structure({"users": [], "reactions": {}, "total": False}, Reactions, what="r")
