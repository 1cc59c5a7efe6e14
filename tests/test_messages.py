"""`tl.messages`: histories by cursor, concurrent histories, send safety and `reconcile`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

from timelines_async import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InvalidRequestError,
    Message,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    SendAttempt,
    SendOutcomeUnknown,
    SentMessage,
    ServerError,
    Target,
    TargetKind,
    TransportError,
)

from ._core_support import (
    RecordingSleep,
    chat_json,
    error,
    make_core,
    message_json,
    ok,
    resources,
    router,
)

pytestmark = pytest.mark.anyio

PHONE = "+14155551234"


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S %z")


def _page(messages: list[dict[str, Any]], has_more: bool) -> httpx.Response:
    return ok({"has_more_pages": has_more, "messages": messages})


# --- histories ------------------------------------------------------------------------------


async def test_desc_history_follows_before_message_cursors() -> None:
    mock = router()
    route = mock.get("/chats/7/messages").mock(
        side_effect=[
            _page([message_json("m5", 7), message_json("m4", 7)], True),
            _page([message_json("m3", 7), message_json("m2", 7)], True),
            _page([message_json("m1", 7)], False),
        ]
    )
    _, _, messages = resources(make_core(mock))
    uids = [m.uid async for m in messages.list(7)]
    assert uids == ["m5", "m4", "m3", "m2", "m1"]
    params = [dict(call.request.url.params) for call in route.calls]
    assert params == [
        {"sorting_order": "desc"},
        {"sorting_order": "desc", "before_message": "m4"},
        {"sorting_order": "desc", "before_message": "m2"},
    ]


async def test_asc_history_follows_after_message_cursors() -> None:
    mock = router()
    route = mock.get("/chats/7/messages").mock(
        side_effect=[
            _page([message_json("m1", 7), message_json("m2", 7)], True),
            _page([message_json("m3", 7)], False),
        ]
    )
    _, _, messages = resources(make_core(mock))
    uids = [m.uid async for m in messages.list(7, order="asc", from_me=False)]
    assert uids == ["m1", "m2", "m3"]
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"sorting_order": "asc", "from_me": "false"},
        {"sorting_order": "asc", "from_me": "false", "after_message": "m2"},
    ]


async def test_history_filters_are_sent_as_the_api_spells_them() -> None:
    mock = router()
    route = mock.get("/chats/7/messages").mock(return_value=_page([], False))
    _, _, messages = resources(make_core(mock))
    pager = messages.list(
        7,
        from_me=True,
        after=datetime(2026, 1, 17, 10, 35, tzinfo=UTC),
        before="2026-01-19 15:30",
        before_message="m9",
    )
    assert await pager.collect() == []
    assert dict(route.calls.last.request.url.params) == {
        "sorting_order": "desc",
        "from_me": "true",
        "after": "2026-01-17T10:35:00+00:00",
        "before": "2026-01-19 15:30",
        "before_message": "m9",
    }


async def test_history_stops_when_a_cursor_comes_round_again() -> None:
    """A server that ignores the cursor and always answers the same page cannot loop us."""
    mock = router()
    route = mock.get("/chats/7/messages").mock(
        return_value=_page([message_json("a", 7), message_json("b", 7)], True)
    )
    _, _, messages = resources(make_core(mock))
    with anyio.fail_after(2):
        assert [m.uid async for m in messages.list(7)] == ["a", "b"]
    assert route.call_count <= 3


async def test_get_and_status_history() -> None:
    mock = router()
    mock.get("/messages/m1").mock(return_value=ok(message_json("m1", 7, status="delivered")))
    mock.get("/messages/m1/status_history").mock(
        return_value=ok(
            [
                {"status": "Sent", "timestamp": "2026-01-08 10:35:18 +0000"},
                {"status": "Delivered", "timestamp": "2026-01-08 10:35:20 +0000"},
            ]
        )
    )
    _, _, messages = resources(make_core(mock))
    message = await messages.get("m1")
    assert (message.uid, message.chat_id, message.status) == ("m1", 7, "Delivered")
    history = await messages.status_history("m1")
    assert [h.status for h in history] == ["Sent", "Delivered"]


async def test_list_many_interleaves_chats_and_keeps_each_history_whole() -> None:
    """Chat 1's second page waits until chat 2 has been asked for: they must run together."""
    chat2_started = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        chat_id = int(request.url.path.split("/")[-2])
        cursor = request.url.params.get("before_message")
        if chat_id == 2:
            chat2_started.set()
        elif cursor is not None:
            await chat2_started.wait()
        step = {None: 0, f"c{chat_id}-1": 1, f"c{chat_id}-3": 2}[cursor]
        uids = [f"c{chat_id}-{2 * step}", f"c{chat_id}-{2 * step + 1}"]
        return _page([message_json(uid, chat_id) for uid in uids], step < 2)

    _, _, messages = resources(make_core(httpx.MockTransport(handler)))
    with anyio.fail_after(2):
        got = [m async for m in messages.list_many([1, 2])]
    for chat_id in (1, 2):
        assert [m.uid for m in got if m.chat_id == chat_id] == [f"c{chat_id}-{i}" for i in range(6)]
    order = [m.chat_id for m in got]
    switches = sum(1 for a, b in itertools.pairwise(order) if a != b)
    assert switches >= 2, order


async def test_list_many_raises_the_first_error_and_cancels_the_rest() -> None:
    mock = router()
    mock.get("/chats/1/messages").mock(return_value=error(404, "chat 1 not found"))
    mock.get("/chats/2/messages").mock(return_value=_page([message_json("x", 2)], True))
    _, _, messages = resources(make_core(mock))
    with pytest.raises(NotFoundError):
        async for _ in messages.list_many([1, 2]):
            pass


# --- send safety ----------------------------------------------------------------------------

SEND_ROUTES = [
    pytest.param({"phone": PHONE}, "/messages", Target.phone(PHONE), id="phone"),
    pytest.param({"chat_id": 42}, "/chats/42/messages", Target.chat_id(42), id="chat_id"),
    pytest.param(
        {"jid": "14155551234@s.whatsapp.net"},
        "/messages/to_jid",
        Target.jid("14155551234@s.whatsapp.net"),
        id="jid",
    ),
]


@pytest.mark.parametrize(("kwargs", "path", "target"), SEND_ROUTES)
async def test_send_posts_the_message_and_returns_the_receipt(
    kwargs: dict[str, Any], path: str, target: Target
) -> None:
    mock = router()
    route = mock.post(path).mock(return_value=ok({"message_uid": "u-1"}))
    _, _, messages = resources(make_core(mock))
    assert await messages.send(**kwargs, text="Your order shipped") == SentMessage(
        message_uid="u-1"
    )
    body = json.loads(route.calls.last.request.content)
    assert body["text"] == "Your order shipped"
    if target.kind is not TargetKind.CHAT_ID:
        assert body[target.kind] == target.value


@pytest.mark.parametrize(("kwargs", "path", "target"), SEND_ROUTES)
@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ReadTimeout("no answer in time"), id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError("server disconnected"), id="dropped"),
        pytest.param(httpx.ReadError("connection reset"), id="reset"),
        pytest.param(httpx.WriteTimeout("half written"), id="write-timeout"),
    ],
)
async def test_a_send_is_never_retried_once_it_may_have_reached_the_server(
    kwargs: dict[str, Any], path: str, target: Target, failure: Exception
) -> None:
    mock = router()
    route = mock.post(path).mock(side_effect=failure)
    sleep = RecordingSleep()
    _, _, messages = resources(make_core(mock, max_retries=5, sleep=sleep))
    before = datetime.now(UTC)
    with pytest.raises(SendOutcomeUnknown) as info:
        await messages.send(**kwargs, text="hello")
    after = datetime.now(UTC)
    assert route.call_count == 1
    assert sleep.delays == []
    err = info.value
    assert err.target == target
    assert err.attempt == SendAttempt(target=target, text="hello", attempted_at=err.attempted_at)
    assert err.whatsapp_account_phone is None
    assert err.text == "hello"
    assert err.attempted_at.tzinfo is not None
    assert before <= err.attempted_at <= after
    assert err.__cause__ is failure
    assert "reconcile" in str(err)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_answer_to_a_send_is_an_unknown_outcome(status: int) -> None:
    mock = router()
    route = mock.post("/messages").mock(return_value=error(status, "upstream failed"))
    _, _, messages = resources(make_core(mock, max_retries=5))
    with pytest.raises(SendOutcomeUnknown) as info:
        await messages.send(phone=PHONE, text="hi")
    assert route.call_count == 1
    assert isinstance(info.value.__cause__, ServerError)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text='{"status": "ok", "data": {"message_u'),
        httpx.Response(200, html="<html>hello</html>"),
        httpx.Response(200, json={"status": "ok", "data": {}}),
        httpx.Response(200, json={"status": "ok", "data": {"message_uid": None}}),
        httpx.Response(200, json={"status": "ok", "data": ["u-1"]}),
    ],
    ids=["truncated", "html", "no-uid", "null-uid", "wrong-shape"],
)
async def test_an_unreadable_2xx_answer_to_a_send_is_an_unknown_outcome(
    response: httpx.Response,
) -> None:
    mock = router()
    route = mock.post("/chats/42/messages").mock(return_value=response)
    _, _, messages = resources(make_core(mock))
    with pytest.raises(SendOutcomeUnknown) as info:
        await messages.send(chat_id=42, text="hi")
    assert route.call_count == 1
    assert info.value.target == Target.chat_id(42)


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(error(429, "slow down"), id="429"),
        pytest.param(error(429, "slow down", headers={"Retry-After": "2"}), id="429-retry-after"),
        pytest.param(httpx.ConnectError("refused"), id="connect-error"),
        pytest.param(httpx.ConnectTimeout("no connection"), id="connect-timeout"),
    ],
)
async def test_a_send_is_retried_when_the_server_provably_did_not_take_it(
    failure: httpx.Response | Exception,
) -> None:
    mock = router()
    route = mock.post("/messages").mock(side_effect=[failure, ok({"message_uid": "u-2"})])
    sleep = RecordingSleep()
    _, _, messages = resources(make_core(mock, sleep=sleep))
    assert (await messages.send(phone=PHONE, text="hi")).message_uid == "u-2"
    assert route.call_count == 2
    assert len(sleep.delays) == 1


async def test_retry_after_on_a_send_429_is_honoured() -> None:
    mock = router()
    mock.post("/messages").mock(
        side_effect=[error(429, "wait", headers={"Retry-After": "4"}), ok({"message_uid": "u"})]
    )
    sleep = RecordingSleep()
    _, _, messages = resources(make_core(mock, sleep=sleep))
    await messages.send(phone=PHONE, text="hi")
    assert sleep.delays == [4.0]


async def test_a_send_that_never_connects_is_a_transport_error_after_its_retries() -> None:
    mock = router()
    route = mock.post("/messages").mock(side_effect=httpx.ConnectError("refused"))
    _, _, messages = resources(make_core(mock, max_retries=2))
    with pytest.raises(TransportError, match="nothing was sent"):
        await messages.send(phone=PHONE, text="hi")
    assert route.call_count == 3


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (error(400, "invalid phone", error_code="validation_error"), BadRequestError),
        (error(401, "bad token", error_code="invalid_token"), AuthenticationError),
        (error(403, "denied", error_code="permission_denied"), PermissionDeniedError),
        (error(404, "chat not found", error_code="not_found"), NotFoundError),
        (error(429, "quota", error_code="quota_exceeded"), QuotaExceededError),
        (error(403, "quota", error_code="quota_exceeded"), QuotaExceededError),
        (httpx.Response(200, json={"status": "error", "message": "no account"}), APIError),
    ],
    ids=["400", "401", "403", "404", "429-quota", "403-quota", "200-error"],
)
async def test_a_definite_error_answer_to_a_send_raises_its_api_error(
    response: httpx.Response, expected: type[APIError]
) -> None:
    mock = router()
    route = mock.post("/messages").mock(return_value=response)
    _, _, messages = resources(make_core(mock, max_retries=3))
    with pytest.raises(expected) as info:
        await messages.send(phone=PHONE, text="hi")
    assert type(info.value) is expected
    assert route.call_count == 1


@pytest.mark.parametrize("kind", ["file", "voice"])
async def test_file_and_voice_sends_are_never_retried_after_a_read_timeout(kind: str) -> None:
    mock = router()
    path = "/chats/42/file_message" if kind == "file" else "/chats/42/voice_message"
    route = mock.post(path).mock(side_effect=httpx.ReadTimeout("no answer"))
    _, _, messages = resources(make_core(mock))
    send = (
        messages.send_file(42, b"%PDF-1.4", filename="a.pdf", caption="invoice")
        if kind == "file"
        else messages.send_voice(42, b"OggS")
    )
    with pytest.raises(SendOutcomeUnknown) as info:
        await send
    assert route.call_count == 1
    assert info.value.target == Target.chat_id(42)
    assert info.value.text == ("invoice" if kind == "file" else None)


# --- reconcile --------------------------------------------------------------------------------


async def _unknown_send(**kwargs: Any) -> SendOutcomeUnknown:
    """A real `SendOutcomeUnknown`, produced by a send whose answer never came."""
    mock = router()
    mock.post(path__regex=r"/messages.*|/chats/\d+/messages").mock(
        side_effect=httpx.ReadTimeout("lost")
    )
    _, _, messages = resources(make_core(mock))
    with pytest.raises(SendOutcomeUnknown) as info:
        await messages.send(**kwargs)
    return info.value


def _sent(uid: str, chat_id: int, when: datetime, text: str) -> dict[str, Any]:
    return message_json(uid, chat_id, timestamp=_stamp(when), text=text, from_me=True)


async def test_reconcile_by_chat_id_finds_the_message_that_went_out() -> None:
    err = await _unknown_send(chat_id=42, text="Your order shipped")
    t = err.attempted_at
    mock = router()
    route = mock.get("/chats/42/messages").mock(
        return_value=_page(
            [
                _sent("later", 42, t + timedelta(minutes=3), "something else"),
                _sent("ours", 42, t + timedelta(seconds=2), "Your order shipped"),
                _sent("old", 42, t - timedelta(hours=2), "Your order shipped"),
            ],
            True,
        )
    )
    _, _, messages = resources(make_core(mock))
    found = await messages.reconcile(err)
    assert isinstance(found, Message)
    assert found.uid == "ours"
    assert route.calls.last.request.url.params["from_me"] == "true"
    assert route.call_count == 1  # stopped at the message older than the attempt


async def test_reconcile_prefers_the_match_closest_to_the_attempt() -> None:
    """The same text sent again an hour later is not the message this attempt produced."""
    err = await _unknown_send(chat_id=42, text="Reminder")
    t = err.attempted_at
    mock = router()
    mock.get("/chats/42/messages").mock(
        return_value=_page(
            [
                _sent("resent-later", 42, t + timedelta(hours=1), "Reminder"),
                _sent("ours", 42, t + timedelta(seconds=1), "Reminder"),
            ],
            False,
        )
    )
    _, _, messages = resources(make_core(mock))
    found = await messages.reconcile(err)
    assert found is not None
    assert found.uid == "ours"


async def test_reconcile_by_phone_uses_the_chats_phone_filter() -> None:
    err = await _unknown_send(phone="+1 415 555 1234", text="hi there")
    assert err.target == Target.phone(PHONE)
    t = err.attempted_at
    mock = router()
    chats_route = mock.get("/chats").mock(
        return_value=ok({"has_more_pages": False, "chats": [chat_json(77, phone=PHONE)]})
    )
    mock.get("/chats/77/messages").mock(
        return_value=_page([_sent("ours", 77, t + timedelta(seconds=3), "hi there")], False)
    )
    _, _, messages = resources(make_core(mock))
    found = await messages.reconcile(err)
    assert found is not None
    assert found.uid == "ours"
    assert chats_route.calls.last.request.url.params["phone"] == PHONE


async def test_reconcile_by_jid_finds_the_chat_with_that_jid() -> None:
    jid = "14155551234@s.whatsapp.net"
    err = await _unknown_send(jid=jid, text="hi jid")
    t = err.attempted_at
    mock = router()
    mock.get("/chats").mock(
        side_effect=[
            ok({"has_more_pages": True, "chats": [chat_json(1, jid="x@s.whatsapp.net")]}),
            ok({"has_more_pages": False, "chats": [chat_json(2, jid=jid)]}),
        ]
    )
    mock.get("/chats/2/messages").mock(
        return_value=_page([_sent("ours", 2, t + timedelta(seconds=1), "hi jid")], False)
    )
    _, _, messages = resources(make_core(mock))
    found = await messages.reconcile(err)
    assert found is not None
    assert found.uid == "ours"


async def test_reconcile_returns_none_when_the_message_did_not_go_out() -> None:
    err = await _unknown_send(chat_id=42, text="never arrived")
    t = err.attempted_at
    mock = router()
    route = mock.get("/chats/42/messages").mock(
        side_effect=[
            _page([_sent("a", 42, t + timedelta(seconds=5), "other text")], True),
            _page([_sent("b", 42, t - timedelta(hours=1), "never arrived")], True),
            _page([_sent("c", 42, t - timedelta(hours=2), "x")], False),
        ]
    )
    _, _, messages = resources(make_core(mock))
    assert await messages.reconcile(err) is None
    assert route.call_count == 2  # the walk stops once it is older than the attempt


async def test_reconcile_returns_none_when_no_chat_has_the_phone() -> None:
    err = await _unknown_send(phone=PHONE, text="first contact")
    mock = router()
    mock.get("/chats").mock(return_value=ok({"has_more_pages": False, "chats": []}))
    _, _, messages = resources(make_core(mock))
    assert await messages.reconcile(err) is None


async def _unknown_voice_send() -> SendOutcomeUnknown:
    mock = router()
    mock.post("/chats/42/voice_message").mock(side_effect=httpx.ReadTimeout("lost"))
    _, _, messages = resources(make_core(mock))
    with pytest.raises(SendOutcomeUnknown) as info:
        await messages.send_voice(42, b"OggS")
    return info.value


@pytest.mark.parametrize(
    ("has_attachment", "found"), [(False, False), (True, True)], ids=["text-only", "voice"]
)
async def test_reconcile_of_a_file_send_only_matches_a_message_with_an_attachment(
    has_attachment: bool, found: bool
) -> None:
    """A voice note has no text: any outgoing text message must not pass for it."""
    err = await _unknown_voice_send()
    assert err.attempt.attachment
    assert err.text is None
    mock = router()
    mock.get("/chats/42/messages").mock(
        return_value=_page(
            [
                message_json(
                    "m",
                    42,
                    timestamp=_stamp(err.attempted_at + timedelta(seconds=1)),
                    text=None,
                    has_attachment=has_attachment,
                )
            ],
            False,
        )
    )
    _, _, messages = resources(make_core(mock))
    result = await messages.reconcile(err)
    assert (result is not None) is found


async def test_reconcile_does_not_mistake_an_internal_note_for_the_send() -> None:
    err = await _unknown_send(chat_id=42, text="Call me back")
    t = err.attempted_at
    mock = router()
    mock.get("/chats/42/messages").mock(
        return_value=_page(
            [
                message_json(
                    "note",
                    42,
                    timestamp=_stamp(t + timedelta(seconds=1)),
                    text="Call me back",
                    from_me=True,
                    message_type="note",
                )
            ],
            False,
        )
    )
    _, _, messages = resources(make_core(mock))
    assert await messages.reconcile(err) is None


async def test_leaving_list_many_early_cancels_the_histories_still_being_read() -> None:
    baseline = set(asyncio.all_tasks())
    cancelled: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        chat_id = int(request.url.path.split("/")[-2])
        if chat_id != 1:
            try:
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                cancelled.append(chat_id)
                raise
        return _page([message_json("first", 1)], True)

    _, _, messages = resources(make_core(httpx.MockTransport(handler), max_concurrency=3))
    async with contextlib.aclosing(messages.list_many([1, 2, 3])) as stream:
        async for message in stream:
            assert message.uid == "first"
            break
    leftovers = {
        t
        for t in asyncio.all_tasks() - baseline
        if t is not asyncio.current_task() and not t.done()
    }
    assert leftovers == set()
    assert sorted(cancelled) == [2, 3]


async def test_a_send_throttled_every_time_gives_up_after_max_retries_with_rate_limit_error() -> (
    None
):
    mock = router()
    route = mock.post("/messages").mock(return_value=error(429, "slow down"))
    sleep = RecordingSleep()
    _, _, messages = resources(make_core(mock, max_retries=2, sleep=sleep))
    with pytest.raises(RateLimitError):
        await messages.send(phone=PHONE, text="hi")
    assert route.call_count == 3
    assert len(sleep.delays) == 2


# --- send parameters ----------------------------------------------------------------------------


async def test_a_send_can_carry_an_attachment_template_and_name_the_chat_it_creates() -> None:
    mock = router()
    route = mock.post("/messages").mock(side_effect=httpx.ReadTimeout("lost"))
    _, _, messages = resources(make_core(mock))
    with pytest.raises(SendOutcomeUnknown) as info:
        await messages.send(
            phone=PHONE,
            chat_name="Ann (web shop)",
            attachment_template_id=12,
            whatsapp_account_phone="+1 415 555 0000",
        )
    body = json.loads(route.calls.last.request.content)
    assert body == {
        "attachment_template_id": 12,
        "chat_name": "Ann (web shop)",
        "whatsapp_account_phone": "+14155550000",
        "phone": PHONE,
    }
    attempt = info.value.attempt
    assert (attempt.target, attempt.whatsapp_account_phone) == (Target.phone(PHONE), "+14155550000")
    assert attempt.attachment
    assert "from +14155550000" in str(info.value)


@pytest.mark.parametrize("bad", [0, -1, "twelve", True, 1.5])
async def test_a_bad_attachment_template_id_is_refused(bad: object) -> None:
    mock = router()
    route = mock.post("/chats/42/messages")
    _, _, messages = resources(make_core(mock))
    with pytest.raises(InvalidRequestError, match="attachment_template_id"):
        await messages.send(chat_id=42, attachment_template_id=bad)  # type: ignore[arg-type]
    assert route.call_count == 0


async def test_a_send_to_a_target_value_goes_where_it_names() -> None:
    mock = router()
    route = mock.post("/chats/42/messages").mock(return_value=ok({"message_uid": "u-1"}))
    _, _, messages = resources(make_core(mock))
    await messages.send(to=Target.chat_id(42), text="hi", chat_name="Team")
    assert json.loads(route.calls.last.request.content) == {"text": "hi", "chat_name": "Team"}
    with pytest.raises(InvalidRequestError, match="to: must be a Target"):
        await messages.send(to={"chat_id": 42}, text="hi")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="exactly one"):
        await messages.send(to=Target.chat_id(42), phone=PHONE, text="hi")


async def test_send_voice_names_the_part_like_send_file() -> None:
    mock = router()
    route = mock.post("/chats/42/voice_message").mock(return_value=ok({"message_uid": "u-1"}))
    _, _, messages = resources(make_core(mock))
    await messages.send_voice(42, b"ID3 voice", filename="note.mp3", content_type="audio/mpeg")
    content = route.calls.last.request.content
    assert b'filename="note.mp3"' in content
    assert b"Content-Type: audio/mpeg" in content


@pytest.mark.parametrize(
    "value",
    [datetime(2026, 1, 1, 12, 0), datetime(2026, 1, 1).date()],
    ids=["naive-datetime", "bare-date"],
)
@pytest.mark.parametrize("field", ["after", "before"])
async def test_history_bounds_need_an_aware_datetime(field: str, value: object) -> None:
    mock = router()
    route = mock.get("/chats/7/messages")
    _, _, messages = resources(make_core(mock))
    with pytest.raises(InvalidRequestError, match=f"{field}: .*aware datetime"):
        messages.list(7, **{field: value})  # type: ignore[arg-type]
    assert route.call_count == 0
