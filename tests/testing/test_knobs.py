"""Every knob of `FakeTimelines` and `Faults`: what it changes, seen in raw HTTP."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from timelines_async.testing import FakeTimelines, FakeTransport, Faults, Outage
from timelines_async.testing._acting import ACTS
from timelines_async.testing._faults import FAULT_KINDS, Fault

pytestmark = pytest.mark.anyio


def raw(fake: FakeTimelines, token: str | None = "fake-token") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.AsyncClient(transport=FakeTransport(fake), base_url=fake.base_url, headers=headers)


async def send(http: httpx.AsyncClient, fake: FakeTimelines, text: str = "hi") -> httpx.Response:
    return await http.post(f"/chats/{min(fake.chats)}/messages", json={"text": text})


# -- token ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "error_code"), [("wrong", "invalid_token"), (None, "missing_credentials")]
)
async def test_a_wrong_or_missing_token_is_a_json_401(token: str | None, error_code: str) -> None:
    fake = FakeTimelines(chats=3, token="sesame")
    async with raw(fake, token) as http:
        answer = await http.get("/chats")
    assert answer.status_code == 401
    assert answer.json()["error_code"] == error_code


async def test_the_configured_token_is_accepted() -> None:
    fake = FakeTimelines(chats=3, token="sesame")
    async with raw(fake, "sesame") as http:
        assert (await http.get("/chats")).status_code == 200


async def test_plain_text_401_answers_unauthorized_as_text() -> None:
    fake = FakeTimelines(chats=3, plain_text_401=True)
    async with raw(fake, "wrong") as http:
        answer = await http.get("/chats")
    assert (answer.status_code, answer.text) == (401, "Unauthorized")
    assert answer.headers["content-type"].startswith("text/plain")


# -- pacing, latency, credits --------------------------------------------------


async def test_sends_closer_than_send_interval_get_429_with_retry_after() -> None:
    fake = FakeTimelines(chats=3, send_interval=2.0, clock=lambda: 0.0)
    async with raw(fake) as http:
        assert (await send(http, fake)).status_code == 200
        refused = await send(http, fake, "too soon")
        fake.advance(2.0)
        accepted = await send(http, fake, "in time")
    assert refused.status_code == 429
    assert refused.json()["error_code"] == "rate_limit_exceeded"
    assert 0 < float(refused.headers["retry-after"]) <= 2.0
    assert accepted.status_code == 200
    assert [m.text for m in fake.sent] == ["hi", "in time"]


async def test_send_interval_zero_does_not_space_sends() -> None:
    fake = FakeTimelines(chats=3, clock=lambda: 0.0)
    async with raw(fake) as http:
        answers = [await send(http, fake) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5


async def test_request_rate_limits_every_request_and_refills_over_the_clock() -> None:
    fake = FakeTimelines(chats=3, request_rate=2.0, clock=lambda: 0.0)
    async with raw(fake) as http:
        statuses = [(await http.get("/workspace")).status_code for _ in range(3)]
        refused = await http.get("/workspace")
        fake.advance(0.5)
        again = await http.get("/workspace")
    assert statuses == [200, 200, 429]
    assert refused.json()["error_code"] == "rate_limit_exceeded"
    assert float(refused.headers["retry-after"]) == 0.5
    assert again.status_code == 200


async def test_a_request_rate_below_one_still_lets_the_first_request_through() -> None:
    fake = FakeTimelines(chats=3, request_rate=0.5, clock=lambda: 0.0)
    async with raw(fake) as http:
        first, second = [(await http.get("/workspace")).status_code for _ in range(2)]
        fake.advance(2.0)
        third = (await http.get("/workspace")).status_code
    assert (first, second, third) == (200, 429, 200)


async def test_latency_delays_every_answer() -> None:
    fake = FakeTimelines(chats=3, latency=0.03)
    async with raw(fake) as http:
        started = anyio.current_time()
        await http.get("/workspace")
        elapsed = anyio.current_time() - started
    assert elapsed >= 0.03


async def test_a_request_takes_effect_on_arrival_and_its_answer_waits_out_the_latency() -> None:
    fake = FakeTimelines(chats=3, latency=3600.0)
    async with raw(fake) as http, anyio.create_task_group() as tasks:
        tasks.start_soon(send, http, fake, "given up on")
        for _ in range(100):  # a few loop turns: the send is handled as it arrives
            if fake.sent:
                break
            await anyio.lowlevel.checkpoint()
        tasks.cancel_scope.cancel()  # the caller gives up long before the answer
    assert [m.text for m in fake.sent] == ["given up on"]


async def test_an_answer_later_than_the_read_timeout_is_a_read_timeout() -> None:
    fake = FakeTimelines(chats=3, latency=1.0)
    async with raw(fake) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/workspace", timeout=httpx.Timeout(None, read=0.01))
    assert [entry.path for entry in fake.requests] == ["/workspace"]


async def test_credits_run_out_with_quota_exceeded_and_quotas_show_the_use() -> None:
    fake = FakeTimelines(chats=3, credits=3)
    async with raw(fake) as http:
        upload = await http.post("/files_upload", files={"file": ("a.png", b"x", "image/png")})
        file_uid = upload.json()["data"]["uid"]
        chat_path = f"/chats/{min(fake.chats)}/messages"
        assert (await http.post(chat_path, json={"text": "one credit"})).status_code == 200
        both = await http.post(chat_path, json={"text": "two credits", "file_uid": file_uid})
        assert both.status_code == 200
        refused = await http.post(chat_path, json={"text": "none left"})
        quota = (await http.get("/workspace")).json()["data"]["messaging_quota"]
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "quota_exceeded"
    assert (quota["total"], quota["used"]) == (3, 3)
    assert len(fake.sent) == 2


async def test_max_upload_size_answers_413() -> None:
    fake = FakeTimelines(chats=3, max_upload_size=1024)
    async with raw(fake) as http:
        small = await http.post("/files_upload", files={"file": ("a.bin", b"x" * 100)})
        big = await http.post("/files_upload", files={"file": ("b.bin", b"x" * 2048)})
        voice = await http.post(
            f"/chats/{min(fake.chats)}/voice_message", files={"file": ("v.ogg", b"x" * 2048)}
        )
    assert small.status_code == 200
    assert big.status_code == 413
    assert voice.status_code == 413
    assert fake.sent == []


async def test_status_delays_move_a_sent_message_from_pending_to_read() -> None:
    fake = FakeTimelines(chats=3, status_delays=(1.0, 2.0, 5.0), clock=lambda: 0.0)
    async with raw(fake) as http:
        uid = (await send(http, fake)).json()["data"]["message_uid"]
        seen = []
        for step in (0.0, 1.0, 1.0, 3.0):
            fake.advance(step)
            seen.append((await http.get(f"/messages/{uid}")).json()["data"]["status"])
        history = (await http.get(f"/messages/{uid}/status_history")).json()["data"]
    assert seen == ["Pending", "Sent", "Delivered", "Read"]
    assert [step["status"] for step in history] == ["Pending", "Sent", "Delivered", "Read"]


async def test_sends_to_failing_phones_turn_failed_and_their_credits_come_back() -> None:
    fake = FakeTimelines(
        chats=3, failing_phones=["+1 415 555 0100"], status_delays=(1.0, 2.0, 5.0),
        clock=lambda: 0.0,
    )  # fmt: skip
    async with raw(fake) as http:
        failing = await http.post("/messages", json={"phone": "+14155550100", "text": "x"})
        working = await http.post("/messages", json={"phone": "+14155550101", "text": "y"})
        uid = failing.json()["data"]["message_uid"]
        before = (fake.status_of(uid), fake.credits_used)
        fake.advance(10)
        history = (await http.get(f"/messages/{uid}/status_history")).json()["data"]
    assert working.status_code == failing.status_code == 200
    assert before == ("Pending", 2)
    assert (fake.status_of(uid), fake.credits_used) == ("Failed", 1)
    assert fake.status_of(working.json()["data"]["message_uid"]) == "Read"
    assert [step["status"] for step in history] == ["Pending", "Failed"]


def test_failing_phones_must_be_phone_numbers() -> None:
    with pytest.raises(ValueError, match="failing_phones"):
        FakeTimelines(chats=1, failing_phones=["not a phone"])


async def test_start_anchors_every_timestamp() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    fake = FakeTimelines(chats=5, start=start, clock=lambda: 0.0)
    async with raw(fake) as http:
        chats = (await http.get("/chats")).json()["data"]["chats"]
        await send(http, fake)
    assert all(chat["created_timestamp"] < "2025-01-01 00:00:00 +0000" for chat in chats)
    assert fake.timestamp(fake.sent[0].at) == "2025-01-01 00:00:00 +0000"


def test_bad_knob_values_are_refused_at_construction() -> None:
    for options in (
        {"chats": -1},
        {"send_interval": -1.0},
        {"request_rate": 0.0},
        {"token": "two words"},
        {"status_delays": (3.0, 2.0, 1.0)},
    ):
        with pytest.raises(ValueError, match=r"."):
            FakeTimelines(**options)


# -- seed ----------------------------------------------------------------------


async def _snapshot(fake: FakeTimelines) -> list[Any]:
    async with raw(fake) as http:
        chats = (await http.get("/chats")).json()["data"]["chats"]
        longest = max(fake.chats.values(), key=lambda chat: chat.seeded_length)
        messages = (await http.get(f"/chats/{longest.id}/messages")).json()["data"]
    return [chats, messages]


async def test_the_same_seed_gives_the_same_workspace_and_another_seed_another() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    first = await _snapshot(FakeTimelines(seed=5, chats=40, start=start))
    again = await _snapshot(FakeTimelines(seed=5, chats=40, start=start))
    other = await _snapshot(FakeTimelines(seed=6, chats=40, start=start))
    assert json.dumps(first) == json.dumps(again)
    assert first[0] != other[0]


async def test_the_chats_knob_sets_the_number_of_seeded_chats() -> None:
    assert len(FakeTimelines(chats=0).chats) == 0
    assert len(FakeTimelines(chats=77).chats) == 77


# -- faults --------------------------------------------------------------------


def test_faults_must_be_probabilities_that_fit_in_one_draw() -> None:
    with pytest.raises(ValueError, match="probability"):
        Faults(dropped=1.5)
    with pytest.raises(ValueError, match="add up"):
        Faults(dropped=0.6, server_error=0.6)


async def test_server_error_fault_is_a_503_envelope_and_nothing_is_done() -> None:
    fake = FakeTimelines(chats=3, faults=Faults(server_error=1.0))
    async with raw(fake) as http:
        answer = await send(http, fake)
    assert answer.status_code == 503
    assert answer.json()["error_code"] == "internal_error"
    assert fake.sent == []
    assert fake.faults_injected == {"server_error": 1}


async def test_rate_limited_fault_is_a_429_with_the_configured_retry_after() -> None:
    fake = FakeTimelines(chats=3, faults=Faults(rate_limited=1.0, retry_after=7.0))
    async with raw(fake) as http:
        answer = await http.get("/chats")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "7"
    assert answer.json()["error_code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("faults", "exception", "was_sent"),
    [
        (Faults(dropped=1.0), httpx.RemoteProtocolError, False),
        (Faults(not_sent=1.0), httpx.ConnectError, False),
        (Faults(lost_answer=1.0), httpx.ReadTimeout, True),
    ],
)
async def test_connection_faults_raise_what_httpx_raises_on_a_network(
    faults: Faults, exception: type[Exception], was_sent: bool
) -> None:
    fake = FakeTimelines(chats=3, faults=faults)
    [kind] = [name for name in FAULT_KINDS if getattr(faults, name)]
    async with raw(fake) as http:
        with pytest.raises(exception):
            await send(http, fake)
    assert len(fake.sent) == (1 if was_sent else 0)
    assert fake.faults_injected[kind] == 1
    assert fake.requests[-1].status == 0
    assert fake.requests[-1].fault == kind


async def test_lost_answer_only_hits_sends() -> None:
    fake = FakeTimelines(chats=3, faults=Faults(lost_answer=1.0))
    async with raw(fake) as http:
        assert (await http.get("/chats")).status_code == 200
    assert fake.faults_injected["lost_answer"] == 0


async def test_truncated_fault_cuts_the_json_after_handling_the_request() -> None:
    fake = FakeTimelines(chats=3, faults=Faults(truncated=1.0))
    async with raw(fake) as http:
        answer = await send(http, fake)
    assert answer.status_code == 200
    with pytest.raises(ValueError, match=r"."):
        json.loads(answer.content)
    assert answer.content.startswith(b'{"status":"ok"')
    assert len(fake.sent) == 1


async def test_status_error_fault_is_a_200_saying_error_and_nothing_is_done() -> None:
    fake = FakeTimelines(chats=3, faults=Faults(status_error=1.0))
    async with raw(fake) as http:
        answer = await send(http, fake)
    assert answer.status_code == 200
    assert answer.json()["status"] == "error"
    assert fake.sent == []


async def _fault_sequence(faults: Faults) -> list[str | None]:
    fake = FakeTimelines(chats=3, faults=faults)
    async with raw(fake) as http:
        for _ in range(40):
            with contextlib.suppress(httpx.HTTPError):
                await http.get("/workspace")
    return [entry.fault for entry in fake.requests]


async def test_faults_are_deterministic_for_a_seed_and_counted_by_kind() -> None:
    faults = Faults(seed=9, server_error=0.2, dropped=0.2, truncated=0.2)
    first = await _fault_sequence(faults)
    assert first == await _fault_sequence(faults)
    assert first != await _fault_sequence(
        Faults(seed=10, server_error=0.2, dropped=0.2, truncated=0.2)
    )
    assert {kind for kind in first if kind} == {"server_error", "dropped", "truncated"}


async def test_the_request_log_records_method_path_query_status_and_time() -> None:
    fake = FakeTimelines(chats=3, clock=lambda: 0.0)
    async with raw(fake) as http:
        fake.advance(4.0)
        await http.get("/chats", params={"label": "vip", "page": "2"})
        await http.get("/chats/")
    entry, slash = fake.requests
    assert (entry.method, entry.path, entry.query, entry.status, entry.at) == (
        "GET",
        "/chats",
        {"label": "vip", "page": "2"},
        200,
        4.0,
    )
    assert slash.status == 404


# -- outages, rate changes, the workspaces' own bookkeeping -------------------------------


async def test_an_outage_answers_503_to_every_request_for_its_seconds() -> None:
    fake = FakeTimelines(chats=3, clock=lambda: 0.0, outage=Outage(after_requests=2, seconds=20))
    async with raw(fake) as http:
        before = [(await http.get("/workspace")).status_code for _ in range(2)]
        during = [await http.get(path) for path in ("/workspace", "/chats", "/nowhere")]
        fake.advance(19.9)
        last = await send(http, fake)
        fake.advance(0.1)
        after = await send(http, fake)
    assert before == [200, 200]
    assert [answer.status_code for answer in during] == [503, 503, 503]
    assert during[0].json()["error_code"] == "internal_error"
    assert (last.status_code, after.status_code) == (503, 200)
    assert [m.text for m in fake.sent] == ["hi"]
    assert [entry.fault for entry in fake.requests].count("outage") == 4


async def test_set_outage_starts_one_mid_run_and_none_ends_it() -> None:
    fake = FakeTimelines(chats=3, clock=lambda: 0.0)
    async with raw(fake) as http:
        await http.get("/workspace")
        fake.set_outage(Outage(seconds=60))
        down = (await http.get("/workspace")).status_code
        fake.set_outage(None)
        up = (await http.get("/workspace")).status_code
    assert (down, up) == (503, 200)


def test_an_outage_must_last_some_time() -> None:
    with pytest.raises(ValueError, match="seconds"):
        Outage(seconds=0)
    with pytest.raises(ValueError, match="after_requests"):
        Outage(after_requests=-1, seconds=1)


async def test_the_request_rate_can_change_while_the_fake_runs() -> None:
    fake = FakeTimelines(chats=3, clock=lambda: 0.0)
    fake.request_rate = 1.0
    async with raw(fake) as http:
        limited = [(await http.get("/workspace")).status_code for _ in range(2)]
        fake.request_rate = None
        free = [(await http.get("/workspace")).status_code for _ in range(3)]
    assert (limited, free) == ([200, 429], [200, 200, 200])
    assert fake.request_rate is None


async def test_a_change_in_one_workspace_leaves_the_others_caches_alone() -> None:
    first, second = FakeTimelines(seed=1, chats=5), FakeTimelines(seed=1, chats=5)
    async with raw(first) as http:
        await http.get("/chats")
        stamp = first.workspace.chat_changes.value
        second.chats[min(second.chats)].labels = ("changed",)
        assert first.workspace.chat_changes.value == stamp
        first.chats[min(first.chats)].labels = ("vip",)
        labels = [c["labels"] for c in (await http.get("/chats")).json()["data"]["chats"]]
    assert first.workspace.chat_changes.value == stamp + 1
    assert ["vip"] in labels


def test_every_fault_kind_is_acted_out_by_the_one_table() -> None:
    assert set(ACTS) == set(Fault)
    withheld = {kind for kind, act in ACTS.items() if act.withheld}
    assert withheld == {Fault.NOT_SENT, Fault.DROPPED, Fault.LOST_ANSWER}
