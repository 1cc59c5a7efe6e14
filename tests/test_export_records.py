"""How the stores turn models into plain values: `record`, `plain` and the SQLite row."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum, IntEnum, StrEnum

import attrs

from timelines_async.export._records import plain, record
from timelines_async.export._sqlite import _row
from timelines_async.models import Message, MessageStatus, Reactions, ReactionUser


class Color(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


class Shape(Enum):
    ROUND = ("round", 1)


class Tags(list[str]):
    pass


class Counts(dict[str, int]):
    pass


@attrs.frozen
class Single:
    only: datetime


@attrs.frozen
class Nested:
    name: str
    inner: Single
    items: tuple[Single, ...]


def test_plain_values_by_type_subclasses_included() -> None:
    berlin = timezone(timedelta(hours=2))
    assert plain(datetime(2026, 1, 2, 12, 0, tzinfo=berlin)) == "2026-01-02T10:00:00+00:00"
    assert plain(datetime(2026, 1, 2, 12, 0, tzinfo=UTC)) == "2026-01-02T12:00:00+00:00"
    assert plain(Color.RED) == "red"
    assert plain(Level.HIGH) == 3
    assert plain(Shape.ROUND) == ("round", 1)
    assert plain(Tags(["a", "b"])) == ["a", "b"]
    assert plain(Counts(x=1)) == {"x": 1}
    assert plain({1: (Color.RED,)}) == {"1": ["red"]}
    assert plain(None) is None
    assert plain(True) is True
    # Asked twice, from the converter chosen for the type the first time.
    assert plain(Color.RED) == plain(Color.RED) == "red"


def test_record_reads_every_field_in_order_even_of_a_one_field_class() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert record(Single(moment)) == {"only": "2026-03-04T05:06:07+00:00"}
    nested = Nested("n", Single(moment), (Single(moment),))
    assert record(nested) == {
        "name": "n",
        "inner": {"only": "2026-03-04T05:06:07+00:00"},
        "items": [{"only": "2026-03-04T05:06:07+00:00"}],
    }
    assert list(record(nested)) == ["name", "inner", "items"]


def test_a_message_row_keeps_scalars_and_stores_the_rest_as_json_text() -> None:
    message = Message(
        uid="m1",
        chat_id=7,
        timestamp=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        from_me=True,
        text="héllo 👋",
        status=MessageStatus.READ,
        reactions=Reactions(
            users=(ReactionUser(name="Zoë", phone="+1555", reaction="👍", current=False),),
            reactions={"👍": 1},
            total=1,
        ),
        data={"note": "ünïcode"},
    )
    row = dict(zip([field.name for field in attrs.fields(Message)], _row(message), strict=True))
    assert row["uid"] == "m1"
    assert row["chat_id"] == 7
    assert row["from_me"] is True
    assert row["timestamp"] == "2026-03-04T05:06:07+00:00"
    assert row["received_timestamp"] is None
    assert row["status"] == "Read"
    assert row["text"] == "héllo 👋"
    # JSON as `json.dumps(..., ensure_ascii=False)` writes it: readable, not \u-escaped.
    assert row["reactions"] == json.dumps(plain(message.reactions), ensure_ascii=False)
    assert "Zoë" in row["reactions"]
    assert row["data"] == '{"note": "ünïcode"}'
