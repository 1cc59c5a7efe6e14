"""`_validation` through the resources: bad input is refused before any request leaves."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from timelines_async import ConfigurationError, InvalidRequestError, TimelinesError
from timelines_async._validation import (
    check_bool_param,
    check_integer,
    check_number,
    check_phone,
    option_error,
)
from timelines_async.resources.chats import Chats
from timelines_async.resources.labels import Labels
from timelines_async.resources.messages import Messages

from ._core_support import chat_json, make_core, ok, resources, router

pytestmark = pytest.mark.anyio

Case = Callable[[Chats, Labels, Messages], Any]
NUL = "\x00"


def catch_all() -> tuple[respx.MockRouter, respx.Route]:
    """Every request answers OK; the route's call count proves none was made."""
    mock = router()
    route = mock.route().mock(
        return_value=ok({"message_uid": "u", "labels": [], "has_more_pages": False, "chats": []})
    )
    return mock, route


BAD_INPUT: list[Any] = [
    # --- sends: the target
    pytest.param(lambda c, lb, m: m.send(text="hi"), "target", id="send-no-target"),
    pytest.param(
        lambda c, lb, m: m.send(phone="+14155551234", chat_id=1, text="hi"),
        "target",
        id="send-two-targets",
    ),
    pytest.param(
        lambda c, lb, m: m.send(jid="x@s.whatsapp.net", chat_id=1, text="hi"),
        "target",
        id="send-jid-and-chat-id",
    ),
    pytest.param(lambda c, lb, m: m.send(chat_id=1), "text", id="send-no-text-no-file"),
    pytest.param(lambda c, lb, m: m.send(chat_id=1, text="x" * 2001), "text", id="text-2001"),
    pytest.param(lambda c, lb, m: m.send(chat_id=1, text=""), "text", id="text-empty"),
    pytest.param(lambda c, lb, m: m.send(chat_id=1, text=f"hi{NUL}"), "text", id="text-nul"),
    pytest.param(lambda c, lb, m: m.send(chat_id=1, text=42), "text", id="text-not-str"),
    pytest.param(
        lambda c, lb, m: m.send(chat_id=1, text="hi", label="l" * 65), "label", id="label-65"
    ),
    pytest.param(
        lambda c, lb, m: m.send(chat_id=1, text="hi", label=f"a{NUL}"), "label", id="label-nul"
    ),
    pytest.param(
        lambda c, lb, m: m.send(chat_id=1, file_uid=f"f{NUL}"), "file_uid", id="file-uid-nul"
    ),
    pytest.param(
        lambda c, lb, m: m.send(chat_id=1, text="hi", reply_to="a/b"), "reply_to", id="reply-to"
    ),
    pytest.param(
        lambda c, lb, m: m.send(phone="+14155551234", text="hi", reply_to="m1"),
        "reply_to",
        id="reply-to-phone",
    ),
    pytest.param(
        lambda c, lb, m: m.send(chat_id=1, text="hi", whatsapp_account_phone="+14155550000"),
        "whatsapp_account_phone",
        id="account-phone-on-chat",
    ),
    pytest.param(
        lambda c, lb, m: m.send(phone="+14155551234", text="hi", whatsapp_account_phone="abc"),
        "whatsapp_account_phone",
        id="account-phone-bad",
    ),
    pytest.param(lambda c, lb, m: m.send(chat_id=0, text="hi"), "chat_id", id="chat-id-0"),
    pytest.param(lambda c, lb, m: m.send(chat_id=-3, text="hi"), "chat_id", id="chat-id-neg"),
    pytest.param(lambda c, lb, m: m.send(chat_id=True, text="hi"), "chat_id", id="chat-id-bool"),
    pytest.param(lambda c, lb, m: m.send(chat_id="12a", text="hi"), "chat_id", id="chat-id-str"),
    pytest.param(lambda c, lb, m: m.send(jid=f"x{NUL}@s", text="hi"), "jid", id="jid-nul"),
    pytest.param(lambda c, lb, m: m.send(jid="a b@s", text="hi"), "jid", id="jid-space"),
    pytest.param(
        lambda c, lb, m: m.send(chat_name="n" * 257, text="hi"), "chat_name", id="chat-name-257"
    ),
    pytest.param(
        lambda c, lb, m: m.send(chat_name=f"Bob{NUL}", text="hi"), "chat_name", id="chat-name-nul"
    ),
    # --- sends: the phone
    pytest.param(lambda c, lb, m: m.send(phone="415-555-1234", text="hi"), "phone", id="ph-dash"),
    pytest.param(
        lambda c, lb, m: m.send(phone="(415) 555-1234", text="hi"), "phone", id="ph-parens"
    ),
    pytest.param(lambda c, lb, m: m.send(phone="+1 415 CALL NOW", text="hi"), "phone", id="ph-abc"),
    pytest.param(lambda c, lb, m: m.send(phone="phone", text="hi"), "phone", id="ph-word"),
    pytest.param(lambda c, lb, m: m.send(phone="+0 415 555", text="hi"), "phone", id="ph-zero"),
    pytest.param(lambda c, lb, m: m.send(phone="+1234", text="hi"), "phone", id="ph-short"),
    pytest.param(lambda c, lb, m: m.send(phone="", text="hi"), "phone", id="ph-empty"),
    pytest.param(
        lambda c, lb, m: m.send(phone=f"+1415555{NUL}1234", text="hi"), "phone", id="ph-nul"
    ),
    pytest.param(lambda c, lb, m: m.send(phone=14155551234, text="hi"), "phone", id="ph-int"),
    # --- files
    pytest.param(lambda c, lb, m: m.send_file(1, 12345), "file", id="file-int"),
    pytest.param(
        lambda c, lb, m: m.send_file(1, "/nonexistent/file.pdf"), "file", id="file-missing"
    ),
    pytest.param(
        lambda c, lb, m: m.send_file(1, b"x", filename=f"a{NUL}.pdf"), "filename", id="fname-nul"
    ),
    pytest.param(
        lambda c, lb, m: m.send_file(1, b"x", caption="c" * 2001), "caption", id="caption-long"
    ),
    # --- chats
    pytest.param(lambda c, lb, m: c.update(1, name="n" * 257), "name", id="chat-name-long"),
    pytest.param(lambda c, lb, m: c.update(1, name=""), "name", id="chat-name-empty"),
    pytest.param(lambda c, lb, m: c.update(1, name=f"A{NUL}"), "name", id="chat-name-nul2"),
    pytest.param(lambda c, lb, m: c.update(1, closed="yes"), "closed", id="closed-not-bool"),
    pytest.param(lambda c, lb, m: c.update(1), "update", id="update-nothing"),
    pytest.param(lambda c, lb, m: c.get(0), "chat_id", id="get-chat-0"),
    pytest.param(lambda c, lb, m: c.add_note(1, "x" * 10_001), "text", id="note-10001"),
    pytest.param(lambda c, lb, m: c.add_note(1, ""), "text", id="note-empty"),
    pytest.param(lambda c, lb, m: c.add_note(1, f"a{NUL}b"), "text", id="note-nul"),
    pytest.param(lambda c, lb, m: c.list(label="l" * 5000), "label", id="filter-long"),
    pytest.param(lambda c, lb, m: c.list(label=[]), "label", id="filter-empty-list"),
    pytest.param(lambda c, lb, m: c.list(label=5), "label", id="filter-not-iterable"),
    pytest.param(lambda c, lb, m: c.list(name=["a", 7]), "name", id="filter-item-not-str"),
    pytest.param(lambda c, lb, m: c.list(read="no"), "read", id="filter-bool"),
    pytest.param(lambda c, lb, m: c.list(phone="call me"), "phone", id="filter-phone"),
    pytest.param(lambda c, lb, m: c.list(created_after=5), "created_after", id="filter-date"),
    pytest.param(
        lambda c, lb, m: c.list(created_after=datetime(2024, 1, 1)),
        "created_after",
        id="filter-naive-datetime",
    ),
    pytest.param(
        lambda c, lb, m: c.list(created_before=date(2024, 1, 1)),
        "created_before",
        id="filter-bare-date",
    ),
    pytest.param(lambda c, lb, m: c.list(responsible=f"a{NUL}"), "responsible", id="filter-nul"),
    # --- labels
    pytest.param(lambda c, lb, m: lb.add(1, ["ok", "l" * 65]), "labels", id="labels-65"),
    pytest.param(lambda c, lb, m: lb.replace(1, [f"a{NUL}"]), "labels", id="labels-nul"),
    pytest.param(lambda c, lb, m: lb.add(1, [""]), "labels", id="labels-empty-name"),
    pytest.param(lambda c, lb, m: lb.add(1, [3]), "labels", id="labels-not-str"),
    pytest.param(lambda c, lb, m: lb.add(1, None), "labels", id="labels-none"),
    pytest.param(lambda c, lb, m: lb.list("x"), "chat_id", id="labels-chat-id"),
    # --- message reads
    pytest.param(lambda c, lb, m: m.list(1, order="up"), "order", id="order"),
    pytest.param(lambda c, lb, m: m.list(1, from_me="yes"), "from_me", id="from-me"),
    pytest.param(lambda c, lb, m: m.list(0), "chat_id", id="list-chat-0"),
    pytest.param(lambda c, lb, m: m.list(1, before_message="a?b"), "before_message", id="cursor"),
    pytest.param(lambda c, lb, m: m.list_many([1, 0]), "chat_id", id="list-many-chat"),
    pytest.param(lambda c, lb, m: m.get(""), "uid", id="get-empty-uid"),
    pytest.param(lambda c, lb, m: m.get("../chats"), "uid", id="get-path-uid"),
    pytest.param(lambda c, lb, m: m.status_history(f"a{NUL}"), "uid", id="status-nul"),
]


async def invoke(call: Case, chats: Chats, labels: Labels, messages: Messages) -> None:
    """Call a case; await it when it is a coroutine (`list()` raises synchronously)."""
    result = call(chats, labels, messages)
    if inspect.isawaitable(result):
        await result


@pytest.mark.parametrize(("call", "field"), BAD_INPUT)
async def test_bad_input_is_refused_before_any_request(call: Case, field: str) -> None:
    mock, route = catch_all()
    chats, labels, messages = resources(make_core(mock))
    with pytest.raises(InvalidRequestError) as info:
        await invoke(call, chats, labels, messages)
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, TimelinesError)
    assert err.field == field
    assert str(err).startswith(f"{field}:")
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("phone", "sent"),
    [
        ("+1 415 555 1234", "+14155551234"),
        ("14155551234", "+14155551234"),  # one spelling per number, as the spec shows it
        ("+44 (20) 7946.0958", "+442079460958"),
        ("+972-50-111-1111", "+972501111111"),
        ("+1\u00a0415\u2009555 1234", "+14155551234"),  # no-break and thin spaces
        ("+١ ٤١٥ ٥٥٥ ١٢٣٤", "+14155551234"),  # Arabic-Indic digits are sent as ASCII
    ],
)
async def test_good_phones_are_accepted_and_sent_compact(phone: str, sent: str) -> None:
    mock = router()
    route = mock.post("/messages").mock(return_value=ok({"message_uid": "u"}))
    _, _, messages = resources(make_core(mock))
    await messages.send(phone=phone, text="hi")
    assert json.loads(route.calls.last.request.content)["phone"] == sent


@pytest.mark.parametrize(
    ("text", "label"), [("x" * 2000, "l" * 64), ("👍" * 2000, "é" * 64)], ids=["ascii", "unicode"]
)
async def test_limits_are_inclusive(text: str, label: str) -> None:
    mock = router()
    route = mock.post("/chats/1/messages").mock(return_value=ok({"message_uid": "u"}))
    _, _, messages = resources(make_core(mock))
    await messages.send(chat_id=1, text=text, label=label)
    assert route.call_count == 1


async def test_a_numeric_string_chat_id_is_accepted() -> None:
    mock = router()
    route = mock.get("/chats/42").mock(return_value=ok(chat_json(42)))
    chats, _, _ = resources(make_core(mock))
    assert (await chats.get("42")).id == 42  # type: ignore[arg-type]
    assert route.call_count == 1


async def test_sending_by_chat_name_warns_that_the_api_deprecated_it() -> None:
    mock = router()
    mock.post("/messages/to_chat_name").mock(return_value=ok({"message_uid": "u"}))
    _, _, messages = resources(make_core(mock))
    with pytest.warns(DeprecationWarning, match="to_chat_name"):
        await messages.send(chat_name="Bob", text="hi")


def test_invalid_request_error_keeps_field_and_message() -> None:
    err = InvalidRequestError("phone", "is not a phone number")
    assert (err.field, err.message) == ("phone", "is not a phone number")
    assert str(err) == "phone: is not a phone number"
    with pytest.raises(ValueError, match="phone"):
        raise err


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+1 (415) 555-1234", "+14155551234"), (" +44 20 7946 0958 ", "+442079460958")],
)
def test_check_phone_strips_separators(raw: str, expected: str) -> None:
    """The checks are plain functions: usable without a client or a loop."""
    assert check_phone("phone", raw) == expected


PHONE_LIKE = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="+ -.()0123456789١٢٣٤٥٦٧٨٩٠٤\u00a0x", max_size=24),
)


@given(raw=PHONE_LIKE)
def test_check_phone_either_returns_a_compact_number_or_raises_invalid_request(
    raw: str,
) -> None:
    """Whatever the input: an ASCII international number, or `InvalidRequestError("phone")`."""
    try:
        phone: str | None = check_phone("phone", raw)
        field = None
    except InvalidRequestError as err:
        phone, field = None, err.field
    if phone is None:
        assert field == "phone"
        return
    digits = phone.removeprefix("+")
    assert digits.isascii()
    assert digits.isdigit()
    assert 7 <= len(digits) <= 15


@pytest.mark.parametrize(
    ("value", "exclusive"),
    [
        (-0.5, False),
        (0, True),
        (float("nan"), False),
        (float("inf"), False),
        (True, False),
        ("1", False),
    ],
)
def test_check_number_refuses_what_is_not_a_finite_number_in_range(
    value: object, exclusive: bool
) -> None:
    with pytest.raises(InvalidRequestError, match="interval: must be a number"):
        check_number("interval", value, minimum=0, exclusive=exclusive)


@pytest.mark.parametrize(("value", "exclusive"), [(0, False), (0.001, True), (7, True)])
def test_check_number_returns_the_number(value: float, exclusive: bool) -> None:
    assert check_number("interval", value, minimum=0, exclusive=exclusive) == value


@pytest.mark.parametrize("value", [0, 2.0, False, None])
def test_check_integer_refuses_floats_bools_and_values_below_the_minimum(value: object) -> None:
    with pytest.raises(ConfigurationError, match=r"^workers must be an integer >= 1, not"):
        check_integer("workers", value, minimum=1, error=option_error)


def test_a_flag_is_sent_as_the_query_string_spells_it() -> None:
    assert (check_bool_param("read", True), check_bool_param("read", False)) == ("true", "false")
    with pytest.raises(InvalidRequestError, match="read: must be True or False"):
        check_bool_param("read", "false")
